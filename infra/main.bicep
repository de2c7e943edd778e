// GENERATED from main.json by test/infraBicep.ts: do not edit. Regenerate with
//   ALERTCAP_WRITE_BICEP_SHIM=1 npx vitest run dist/test/infra.template
// azd compiles a .bicep entry point; everything alertcap deploys is in main.json (validated offline in CI, see
// README.md), which this file deploys as a module with the same parameters and outputs.
targetScope = 'subscription'

@description('azd environment name: names the resource group (rg-<name>) and seeds every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Region of the resource group, the Function App (pick one that offers Flex Consumption) and, unless captureRegions says otherwise, the capture storage account.')
@metadata({
  azd: {
    type: 'location'
  }
})
@minLength(1)
param location string

@description('Comma-separated subscriptions or resource groups (/subscriptions/<id>[/resourceGroups/<rg>]) alertcap may capture in. Becomes ALERTCAP_ALLOWED_SCOPES, and the capture operator role is assigned at exactly these scopes.')
@minLength(1)
param allowedScopes string

@description('Comma-separated resource groups holding the Network Watchers of the allowlisted subscriptions (usually /subscriptions/<id>/resourceGroups/NetworkWatcherRG). Needed only when an allowedScopes entry is a resource group: captures are created under the watcher, outside that group.')
param networkWatcherResourceGroups string = ''

@description('Comma-separated regions of the VMs to capture (e.g. westeurope,northeurope). Network Watcher writes only to a storage account in the target\'s region, so one capture account is created per region. Empty: location only.')
param captureRegions string = ''

@description('Let alertcap install the Network Watcher agent extension when it is missing (ALERTCAP_INSTALL_AGENT). Adds the extension write actions to the role; false keeps the role read-only on compute.')
param installAgent bool = false

@description('ALERTCAP_CAPTURE_SECONDS: capture time limit.')
@minValue(1)
@maxValue(18000)
param captureSeconds int = 600

@description('ALERTCAP_POLL_SECONDS: longest pause between status polls.')
@minValue(1)
@maxValue(3600)
param pollSeconds int = 30

@description('ALERTCAP_BYTES_PER_PACKET: bytes kept per packet, 0 for whole packets.')
@minValue(0)
@maxValue(4294967295)
param bytesPerPacket int = 0

@description('ALERTCAP_TOTAL_BYTES: the session ends at this many bytes.')
@minValue(0)
@maxValue(4294967295)
param totalBytes int = 1073741824

@description('ALERTCAP_CAPTURE_FILTERS: JSON array of Network Watcher filters, empty for none.')
param captureFilters string = ''

@description('ALERTCAP_STOP_GRACE_SECONDS: after time limit plus grace alertcap stops the capture itself.')
@minValue(0)
@maxValue(3600)
param stopGraceSeconds int = 120

@description('ALERTCAP_FILE_WAIT_SECONDS: how long to wait for the capture file after the capture stops.')
@minValue(0)
@maxValue(7200)
param fileWaitSeconds int = 600

@description('ALERTCAP_MAX_CAPTURES_PER_REGION: refuse to start at this many running captures in a region.')
@minValue(1)
@maxValue(10000)
param maxCapturesPerRegion int = 10000

@description('ALERTCAP_COOLDOWN_SECONDS: no new capture on a target this soon after its last one.')
@minValue(0)
@maxValue(86400)
param cooldownSeconds int = 900

@description('ALERTCAP_RECORDER_FILE_COUNT: files in a flight recorder\'s ring (captureSettings.fileCount).')
@minValue(2)
@maxValue(10000)
param recorderFileCount int = 20

@description('ALERTCAP_RECORDER_FILE_BYTES: size at which a ring file rotates (captureSettings.fileSizeInBytes).')
@minValue(1048576)
@maxValue(4294967295)
param recorderFileBytes int = 52428800

@description('ALERTCAP_RECORDER_SESSION_SECONDS: a recorder session\'s time limit; it is renewed before it (captureSettings.sessionTimeLimitInSeconds).')
@minValue(600)
@maxValue(604800)
param recorderSessionSeconds int = 604800

@description('ALERTCAP_RECORDER_POLL_SECONDS: longest pause between two looks at a recorder\'s session.')
@minValue(10)
@maxValue(86400)
param recorderPollSeconds int = 300

@description('ALERTCAP_LOOKBACK_SECONDS: how far before an alert a flight recorder\'s files are secured.')
@minValue(0)
@maxValue(86400)
param lookbackSeconds int = 600

@description('ALERTCAP_MAX_RECORDERS: flight recorders armed at once at most (each keeps a Network Watcher session and a ring in storage).')
@minValue(1)
@maxValue(10000)
param maxRecorders int = 100

@description('ALERTCAP_REPORT_LINK_HOURS: how long the read-only report links in notifications and the status stay valid (at most 7 days, a user delegation key\'s limit).')
@minValue(1)
@maxValue(168)
param reportLinkHours int = 72

@description('ALERTCAP_BASELINE: what a capture is compared with to say what changed: the recorder\'s quiet window, the last completed capture on the same target, auto (the first of those that exists) or none.')
@allowed([
  'auto'
  'recorder'
  'last-capture'
  'none'
])
param baseline string = 'auto'

@description('ALERTCAP_DELETE_CAPTURE: delete the capture resource when done (the file stays).')
param deleteCapture bool = true

@description('ALERTCAP_MAX_ALERT_BYTES: largest webhook body accepted (action groups send at most 256 KiB).')
@minValue(1)
@maxValue(104857600)
param maxAlertBytes int = 262144

@description('ALERTCAP_MAX_TARGETS_PER_ALERT: targets one alert may act on; the rest are reported as skipped.')
@minValue(1)
@maxValue(100)
param maxTargetsPerAlert int = 10

@description('ALERTCAP_NOTIFY_URLS: comma-separated notification targets (their URLs carry signatures). Stored as the secret alertcap-notify-urls in the template\'s Key Vault; the app setting is a Key Vault reference. Empty: the secret is left as it is (set it with az keyvault secret set and notifyFromVault).')
@secure()
param notifyUrls string = ''

@description('ALERTCAP_NOTIFY_SECRET: whsec_… key that signs generic notifications. Stored as the secret alertcap-notify-secret in the Key Vault, like notifyUrls.')
@secure()
param notifySecret string = ''

@description('Reference the notification secrets in the Key Vault even when notifyUrls and notifySecret are empty: you set them in the vault yourself (az keyvault secret set), so they never pass through the azd environment.')
param notifyFromVault bool = false

@description('ALERTCAP_TASK_HUB: the durable task hub name (letters and digits, starting with a letter).')
@minLength(3)
@maxLength(45)
param taskHubName string = 'alertcap'

@description('ALERTCAP_AAD_TENANT_ID: tenant of the app registration the action group\'s Secure Webhook gets tokens for. Empty (and webhookAadAudiences empty): Entra ID checking is off, the function key alone protects the webhook.')
param webhookAadTenantId string = ''

@description('ALERTCAP_AAD_AUDIENCES: comma-separated audiences accepted (the app registration\'s client ID and/or Application ID URI).')
param webhookAadAudiences string = ''

@description('Flex Consumption scale-out limit: 1 to 1000, 100 by default (learn.microsoft.com/azure/azure-functions/event-driven-scaling#limit-scale-out).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Flex Consumption instance size.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Log Analytics retention (30 days are included in the ingestion price).')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Capture files and reports older than this are deleted by a lifecycle rule on each capture account.')
@minValue(1)
@maxValue(3650)
param captureRetentionDays int = 30

@description('Where orchestration state lives: AzureStorage (queues and tables in the task-hub account, what the local stack runs; default) or DurableTaskScheduler (a Durable Task Scheduler and task hub, watched in its dashboard). See docs/deploy.md.')
@allowed([
  'AzureStorage'
  'DurableTaskScheduler'
])
param durableBackend string = 'AzureStorage'

@description('Durable Task Scheduler SKU when durableBackend is DurableTaskScheduler: Consumption (pay per action) or Dedicated (capacity units).')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSku string = 'Consumption'

@description('Object ID of whoever runs azd (azd sets AZURE_PRINCIPAL_ID): with grantDeployerDataAccess, gets read access to capture files and reports (and the scheduler dashboard).')
param deployerPrincipalId string = ''

@description('What deployerPrincipalId is (AZURE_PRINCIPAL_TYPE).')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Give deployerPrincipalId Storage Blob Data Reader on each capture container (to open reports) and, with the scheduler backend, Durable Task Data Reader on the scheduler. False: no data role for the deployer.')
param grantDeployerDataAccess bool = true

module alertcap 'main.json' = {
  name: take('alertcap-${environmentName}', 64)
  params: {
    environmentName: environmentName
    location: location
    allowedScopes: allowedScopes
    networkWatcherResourceGroups: networkWatcherResourceGroups
    captureRegions: captureRegions
    installAgent: installAgent
    captureSeconds: captureSeconds
    pollSeconds: pollSeconds
    bytesPerPacket: bytesPerPacket
    totalBytes: totalBytes
    captureFilters: captureFilters
    stopGraceSeconds: stopGraceSeconds
    fileWaitSeconds: fileWaitSeconds
    maxCapturesPerRegion: maxCapturesPerRegion
    cooldownSeconds: cooldownSeconds
    recorderFileCount: recorderFileCount
    recorderFileBytes: recorderFileBytes
    recorderSessionSeconds: recorderSessionSeconds
    recorderPollSeconds: recorderPollSeconds
    lookbackSeconds: lookbackSeconds
    maxRecorders: maxRecorders
    reportLinkHours: reportLinkHours
    baseline: baseline
    deleteCapture: deleteCapture
    maxAlertBytes: maxAlertBytes
    maxTargetsPerAlert: maxTargetsPerAlert
    notifyUrls: notifyUrls
    notifySecret: notifySecret
    notifyFromVault: notifyFromVault
    taskHubName: taskHubName
    webhookAadTenantId: webhookAadTenantId
    webhookAadAudiences: webhookAadAudiences
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    logRetentionDays: logRetentionDays
    captureRetentionDays: captureRetentionDays
    durableBackend: durableBackend
    durableTaskSchedulerSku: durableTaskSchedulerSku
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
    grantDeployerDataAccess: grantDeployerDataAccess
  }
}

output AZURE_LOCATION string = alertcap.outputs.AZURE_LOCATION
output AZURE_TENANT_ID string = alertcap.outputs.AZURE_TENANT_ID
output AZURE_RESOURCE_GROUP string = alertcap.outputs.AZURE_RESOURCE_GROUP
output AZURE_FUNCTION_NAME string = alertcap.outputs.AZURE_FUNCTION_NAME
output SERVICE_API_NAME string = alertcap.outputs.SERVICE_API_NAME
output SERVICE_API_URI string = alertcap.outputs.SERVICE_API_URI
output ALERTCAP_WEBHOOK_URL string = alertcap.outputs.ALERTCAP_WEBHOOK_URL
output ALERTCAP_IDENTITY_CLIENT_ID string = alertcap.outputs.ALERTCAP_IDENTITY_CLIENT_ID
output ALERTCAP_IDENTITY_PRINCIPAL_ID string = alertcap.outputs.ALERTCAP_IDENTITY_PRINCIPAL_ID
output ALERTCAP_CAPTURE_STORAGE_ID string = alertcap.outputs.ALERTCAP_CAPTURE_STORAGE_ID
output ALERTCAP_OPERATOR_ROLE_ID string = alertcap.outputs.ALERTCAP_OPERATOR_ROLE_ID
output ALERTCAP_STORAGE_ROLE_ID string = alertcap.outputs.ALERTCAP_STORAGE_ROLE_ID
output ALERTCAP_VAULT_NAME string = alertcap.outputs.ALERTCAP_VAULT_NAME
output ALERTCAP_DURABLE_BACKEND string = alertcap.outputs.ALERTCAP_DURABLE_BACKEND
output ALERTCAP_SCHEDULER_ENDPOINT string = alertcap.outputs.ALERTCAP_SCHEDULER_ENDPOINT
