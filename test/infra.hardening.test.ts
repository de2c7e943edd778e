// What the template does for issue 11 (secrets in Key Vault; the deployment package out of reach of the identity
// that reads captures) and issue 12 (scale-out limit within Flex Consumption's range, the deployer's data roles, the
// Durable Task Scheduler backend beside Azure Storage), checked on the dry run of test/infraArm.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, SAMPLE_ENV, type SimResource, type Simulator, type Value, type ValueObject, appSettingsOf, simulateAlertcap, str } from "./infraArm.js";

const DEPLOYER = "00000000-0000-4000-8000-0000000000aa";
const ROLE = {
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  durableTaskDataContributor: "0ad04412-c4d5-4796-b79c-f76d14c8d402",
  durableTaskDataReader: "d6a5505f-6ebb-45a4-896e-ac8274cfc0ac",
};

const byType = (sim: Simulator, type: string): SimResource[] => sim.resources.filter((r) => r.type === type);
const props = (r: SimResource): ValueObject => r.evaluated.properties as ValueObject;
const roleOf = (a: SimResource): string => str(props(a).roleDefinitionId ?? null).split("/").at(-1)!;
const principalOf = (a: SimResource): string => str(props(a).principalId ?? null);
const assignments = (sim: Simulator): SimResource[] => byType(sim, "Microsoft.Authorization/roleAssignments");
const settingsOf = (sim: Simulator): Record<string, string> => Object.fromEntries(Object.entries(appSettingsOf(sim)).map(([k, v]: [string, Value]) => [k, str(v)]));
const appIdentity = (sim: Simulator): SimResource => byType(sim, "Microsoft.ManagedIdentity/userAssignedIdentities").find((r) => !r.name.includes("-deploy-"))!;
const appPrincipal = (sim: Simulator): string => `«reference(${appIdentity(sim).id}).principalId»`;

describe("secrets in Key Vault (issue 11.10)", () => {
  it("one RBAC-only vault that only alertcap's identity can read, and only that vault", () => {
    const { sim } = simulateAlertcap();
    const vaults = byType(sim, "Microsoft.KeyVault/vaults");
    expect(vaults.length).toBe(1);
    expect(props(vaults[0]!)).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true });
    expect(props(vaults[0]!)).not.toHaveProperty("accessPolicies");
    const onVault = assignments(sim).filter((a) => a.appliesTo.toLowerCase().includes("/microsoft.keyvault/"));
    expect(onVault.map((a) => [a.appliesTo, roleOf(a), principalOf(a)])).toEqual([[vaults[0]!.id, ROLE.keyVaultSecretsUser, appPrincipal(sim)]]);
  });

  it("nothing to notify: no secret written, the settings stay empty (no unresolvable reference)", () => {
    const { sim } = simulateAlertcap();
    expect(byType(sim, "Microsoft.KeyVault/vaults/secrets")).toEqual([]);
    expect(settingsOf(sim)).toMatchObject({ ALERTCAP_NOTIFY_URLS: "", ALERTCAP_NOTIFY_SECRET: "" });
  });

  it("secrets set in the vault by hand: referenced, and never overwritten by a provision without them", () => {
    const { sim } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_NOTIFY_FROM_VAULT: "true" });
    const vault = byType(sim, "Microsoft.KeyVault/vaults")[0]!;
    expect(byType(sim, "Microsoft.KeyVault/vaults/secrets")).toEqual([]);
    expect(settingsOf(sim)).toMatchObject({
      ALERTCAP_NOTIFY_URLS: `@Microsoft.KeyVault(VaultName=${vault.name};SecretName=alertcap-notify-urls)`,
      ALERTCAP_NOTIFY_SECRET: `@Microsoft.KeyVault(VaultName=${vault.name};SecretName=alertcap-notify-secret)`,
    });
    const site = byType(sim, "Microsoft.Web/sites")[0]!;
    expect(props(site).keyVaultReferenceIdentity).toBe(appIdentity(sim).id);
    // The site waits for the identity's vault role, so the references resolve on first start.
    const vaultRole = assignments(sim).find((a) => a.appliesTo === vault.id)!;
    expect(site.dependsOn).toContain(vaultRole.id);
  });
});

describe("the deployment package is out of reach of the identity that reads captures (issue 11.11)", () => {
  const { sim } = simulateAlertcap();
  const packageAccount = byType(sim, "Microsoft.Storage/storageAccounts").find((a) => a.name.startsWith("stpkg"))!;

  it("lives on its own account, which alertcap's identity has no role on", () => {
    expect(packageAccount).toBeDefined();
    const onPackage = assignments(sim).filter((a) => a.appliesTo.startsWith(packageAccount.id));
    expect(onPackage.map(principalOf).filter((p) => p === appPrincipal(sim))).toEqual([]);
    expect(onPackage.map(roleOf)).toEqual([ROLE.storageBlobDataContributor]);
  });

  it("the account the Function App runs its package from is one alertcap's identity has no role on", () => {
    const site = byType(sim, "Microsoft.Web/sites")[0]!;
    const storage = ((props(site).functionAppConfig as ValueObject).deployment as ValueObject).storage as ValueObject;
    const account = /^«reference\((\/subscriptions\/[^)]+)\)\.primaryEndpoints\.blob»/.exec(str(storage.value ?? null))![1]!;
    const appRoles = assignments(sim).filter((a) => principalOf(a) === appPrincipal(sim));
    expect(appRoles.filter((a) => a.appliesTo === account || a.appliesTo.startsWith(`${account}/`)).map((a) => a.appliesTo)).toEqual([]);
    expect(str((storage.authentication as ValueObject).userAssignedIdentityResourceId ?? null)).not.toBe(appIdentity(sim).id);
  });

  it("keeps public network access and shared keys where Network Watcher needs them only: the capture accounts", () => {
    for (const account of byType(sim, "Microsoft.Storage/storageAccounts")) {
      expect(props(account).allowSharedKeyAccess, account.name).toBe(account.name.startsWith("stcap"));
    }
    const template = readFileSync(join(REPO_ROOT, "infra/main.json"), "utf8");
    expect(template).toMatch(/Public network access ON because the Network Watcher agent uploads the file from inside the VM/);
  });
});

describe("scale-out limit and the deployer's data roles (issue 12.3)", () => {
  it("maximumInstanceCount takes Flex Consumption's whole range, 1 to 1000, and nothing outside it", () => {
    for (const n of ["1", "1000"]) expect(simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_MAXIMUM_INSTANCE_COUNT: n }).sim.problems, n).toEqual([]);
    expect(simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_MAXIMUM_INSTANCE_COUNT: "0" }).sim.problems.join("\n")).toMatch(/maximumInstanceCount must be at least 1/);
    expect(simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_MAXIMUM_INSTANCE_COUNT: "1001" }).sim.problems.join("\n")).toMatch(/maximumInstanceCount must be at most 1000/);
  });

  it("the deployer azd knows reads every capture container (to open reports), and nothing else", () => {
    const { sim } = simulateAlertcap({ ...SAMPLE_ENV, AZURE_PRINCIPAL_ID: DEPLOYER });
    const mine = assignments(sim).filter((a) => principalOf(a) === DEPLOYER);
    const containers = byType(sim, "Microsoft.Storage/storageAccounts/blobServices/containers").filter((c) => c.name.startsWith("stcap"));
    expect(mine.map((a) => [a.appliesTo, roleOf(a), props(a).principalType])).toEqual(containers.map((c) => [c.id, ROLE.storageBlobDataReader, "User"]));
  });

  it("no data role for the deployer when turned off or when azd does not say who deploys", () => {
    for (const env of [{ ...SAMPLE_ENV, AZURE_PRINCIPAL_ID: DEPLOYER, ALERTCAP_DEPLOYER_DATA_ACCESS: "false" }, SAMPLE_ENV]) {
      const { sim } = simulateAlertcap(env);
      expect(assignments(sim).filter((a) => principalOf(a) === DEPLOYER || principalOf(a) === "")).toEqual([]);
    }
  });
});

describe("durable backend: Azure Storage (default) or Durable Task Scheduler (issue 12.4)", () => {
  const storageProvider = "AzureFunctionsJobHost__extensions__durableTask__storageProvider__";

  it("Azure Storage by default: queues and tables on the task-hub account, no scheduler", () => {
    const { sim } = simulateAlertcap();
    expect(byType(sim, "Microsoft.DurableTask/schedulers")).toEqual([]);
    expect(settingsOf(sim)).toMatchObject({ [`${storageProvider}type`]: "AzureStorage", [`${storageProvider}connectionName`]: "AzureWebJobsStorage" });
    const roles = assignments(sim).filter((a) => principalOf(a) === appPrincipal(sim)).map(roleOf);
    expect(roles).toEqual(expect.arrayContaining([ROLE.storageQueueDataContributor, ROLE.storageTableDataContributor]));
  });

  it("the scheduler: scheduler and task hub, the identity's Durable Task Data Contributor on that hub, the connection setting", () => {
    const { sim } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_DURABLE_BACKEND: "DurableTaskScheduler", ALERTCAP_TASK_HUB: "alertcapprod", AZURE_PRINCIPAL_ID: DEPLOYER });
    const [scheduler] = byType(sim, "Microsoft.DurableTask/schedulers");
    const hubs = byType(sim, "Microsoft.DurableTask/schedulers/taskHubs");
    expect(props(scheduler!).sku).toEqual({ name: "Consumption" });
    expect(hubs.map((h) => h.name)).toEqual([`${scheduler!.name}/alertcapprod`]);
    const onHub = assignments(sim).filter((a) => a.appliesTo === hubs[0]!.id);
    expect(onHub.map((a) => [roleOf(a), principalOf(a)])).toEqual([
      [ROLE.durableTaskDataContributor, appPrincipal(sim)],
      [ROLE.durableTaskDataReader, DEPLOYER],
    ]);
    const settings = settingsOf(sim);
    expect(settings).toMatchObject({
      [`${storageProvider}type`]: "azureManaged",
      [`${storageProvider}connectionStringName`]: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: `Endpoint=«reference(${scheduler!.id}).endpoint»;Authentication=ManagedIdentity;ClientID=«reference(${appIdentity(sim).id}).clientId»`,
      ALERTCAP_TASK_HUB: "alertcapprod",
    });
    expect(settings).not.toHaveProperty(`${storageProvider}connectionName`);
    // Queues and tables are the Azure Storage backend's; the host still keeps its blobs (locks, keys) there.
    const roles = assignments(sim).filter((a) => principalOf(a) === appPrincipal(sim)).map(roleOf);
    expect(roles).not.toContain(ROLE.storageQueueDataContributor);
    expect(roles).not.toContain(ROLE.storageTableDataContributor);
  });

  it("overrides the very host.json settings the Functions host reads (extensions.durableTask.storageProvider)", () => {
    const host = JSON.parse(readFileSync(join(REPO_ROOT, "host.json"), "utf8")) as { extensions: { durableTask: { storageProvider: Record<string, unknown> } } };
    expect(host.extensions.durableTask.storageProvider.type).toBe("AzureStorage");
  });
});
