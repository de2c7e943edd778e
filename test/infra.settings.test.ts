// What the Function App gets: every app setting docs/configuration.md documents, read back through the app's own parsers; no
// connection string or key anywhere; identity-only task-hub storage; capture storage that Network Watcher can use.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllowedScopes } from "../domain/alerts/scopes.js";
import { parseCaptureSettings } from "../domain/capture/settings.js";
import {
  INFRA_DIR,
  type JsonObject,
  REPO_ROOT,
  SAMPLE_ENV,
  type SimResource,
  TEST_TENANT,
  type Value,
  type ValueObject,
  appSettingsOf,
  mainTemplate,
  simulateAlertcap,
  str,
  toJson,
} from "./infraArm.js";

/** Settings docs/configuration.md lists that only the local stack sets (emulator endpoints, Azurite's connection string). */
const LOCAL_ONLY = ["ALERTCAP_ARM_ENDPOINT", "ALERTCAP_EMULATOR_SPEED", "ALERTCAP_ARM_CA_CERT", "ALERTCAP_CAPTURE_BLOB_CONNECTION", "ALERTCAP_EMULATOR_INVENTORY", "ALERTCAP_EMULATOR_FAULTS", "ALERTCAP_ARM_PORT"];
/** Never in Azure: the local stack's open allowlist, and the JWKS override meant for tests and sovereign clouds. */
const NEVER_IN_AZURE = [...LOCAL_ONLY, "ALERTCAP_ALLOW_ANY_SCOPE", "ALERTCAP_AAD_JWKS_URL", "ALERTCAP_FUNCTION_KEY"];

function readmeSettings(): string[] {
  const readme = readFileSync(join(REPO_ROOT, "docs", "configuration.md"), "utf8");
  const start = readme.search(/^#+ Configuration \(app settings\)/m);
  expect(start, "docs/configuration.md has a Configuration (app settings) table").toBeGreaterThanOrEqual(0);
  const section = readme.slice(start).split(/\n#+ /)[0]!;
  const rows = section.split("\n").filter((line) => /^\|\s*`/.test(line));
  return rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!));
}

const stringSettings = (settings: Record<string, Value>): Record<string, string> => Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, str(v)]));
const byType = (resources: SimResource[], type: string) => resources.filter((r) => r.type === type);
const props = (r: SimResource) => r.evaluated.properties as ValueObject;

describe("app settings", () => {
  const { sim } = simulateAlertcap();
  const settings = appSettingsOf(sim);

  it("cover every setting of docs/configuration.md's table, except those never set in Azure", () => {
    const documented = readmeSettings();
    expect(documented.length).toBeGreaterThan(15);
    expect(documented.filter((s) => !NEVER_IN_AZURE.includes(s) && !(s in settings))).toEqual([]);
    expect(Object.keys(settings).filter((s) => NEVER_IN_AZURE.includes(s))).toEqual([]);
  });

  it("are accepted by the app's own parsers, with one capture account per capture region", () => {
    const env = stringSettings(settings);
    const parsed = parseCaptureSettings(env);
    expect(parsed).toMatchObject({ ok: true });
    if (!parsed.ok) return;
    expect(parsed.settings.storageAccounts.map((a) => a.region)).toEqual(["westeurope", "northeurope"]);
    const accounts = byType(sim.resources, "Microsoft.Storage/storageAccounts");
    for (const { region, id } of parsed.settings.storageAccounts) {
      const account = accounts.find((a) => a.id === id);
      expect(account, id).toBeDefined();
      expect(str(account!.evaluated.location ?? null)).toBe(region);
    }
    const scopes = parseAllowedScopes(env.ALERTCAP_ALLOWED_SCOPES);
    expect(scopes.errors).toEqual([]);
    expect(scopes.scopes).toEqual(SAMPLE_ENV.ALERTCAP_ALLOWED_SCOPES!.split(",").map((s) => s.trim()));
  });

  it("are accepted by the app at every bound the template allows", () => {
    const template = mainTemplate();
    const parameters = template.parameters as Record<string, JsonObject>;
    const file = JSON.parse(readFileSync(join(INFRA_DIR, "main.parameters.json"), "utf8")) as { parameters: Record<string, { value: string }> };
    const envVar = (name: string) => /\$\{(\w+)/.exec(file.parameters[name]?.value ?? "")?.[1] ?? "";
    const bounded = Object.entries(parameters).filter(([name, spec]) => spec.type === "int" && typeof spec.minValue === "number" && envVar(name).startsWith("ALERTCAP_"));
    expect(bounded.length).toBeGreaterThanOrEqual(9);
    for (const [name, spec] of bounded) {
      for (const bound of [spec.minValue, spec.maxValue] as number[]) {
        const { sim: s } = simulateAlertcap({ ...SAMPLE_ENV, [envVar(name)]: String(bound) });
        expect(s.problems, `${name}=${bound}`).toEqual([]);
        expect(parseCaptureSettings(stringSettings(appSettingsOf(s))), `${name}=${bound}`).toMatchObject({ ok: true });
      }
    }
  });

  it("connect to storage and telemetry with the one identity: no connection string, key or SAS anywhere", () => {
    const text = readFileSync(join(INFRA_DIR, "main.json"), "utf8");
    expect(text).not.toMatch(/\blist[A-Za-z]*\(/); // listKeys(), listAccountSas(), …: no key is ever read
    const identity = byType(sim.resources, "Microsoft.ManagedIdentity/userAssignedIdentities")[0]!;
    const clientId = `«reference(${identity.id}).clientId»`;
    const taskHub = byType(sim.resources, "Microsoft.Storage/storageAccounts").find((a) => /^st(?!cap|pkg)/.test(a.name))!;
    expect(stringSettings(settings)).toMatchObject({
      AzureWebJobsStorage__accountName: taskHub.name,
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: clientId,
      AZURE_CLIENT_ID: clientId,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${clientId};Authorization=AAD`,
    });
    expect(settings).not.toHaveProperty("AzureWebJobsStorage");
    for (const [name, value] of Object.entries(stringSettings(settings))) {
      expect(value, name).not.toMatch(/AccountKey=|SharedAccessSignature=|[?&]sig=|DefaultEndpointsProtocol=|UseDevelopmentStorage/i);
    }
    // Application Insights' endpoint and instrumentation key send nothing on their own: the component accepts only
    // Entra ID (identity) ingestion. The durable ones name a connection, or (scheduler backend) an endpoint and the
    // identity's client ID; with Azure Storage the scheduler's is empty.
    expect(Object.keys(settings).filter((k) => /connection/i.test(k))).toEqual([
      "APPLICATIONINSIGHTS_CONNECTION_STRING",
      "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName",
      "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    ]);
    expect(settings.AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName).toBe("AzureWebJobsStorage");
    expect(settings.DURABLE_TASK_SCHEDULER_CONNECTION_STRING).toBe("");
    const appInsights = byType(sim.resources, "Microsoft.Insights/components")[0]!;
    expect(str(settings.APPLICATIONINSIGHTS_CONNECTION_STRING!)).toBe(`«reference(${appInsights.id}).ConnectionString»`);
    expect(props(appInsights).DisableLocalAuth).toBe(true);
    const site = byType(sim.resources, "Microsoft.Web/sites")[0]!;
    expect(props(site).siteConfig).not.toHaveProperty("connectionStrings");
  });

  it("keep the secure parameters out of everything but the Key Vault secrets that hold them", () => {
    const secret = "https://hooks.slack.com/services/T000/B000/MARKER-of-a-secret";
    const signing = "whsec_MARKERsigningkey";
    const { sim: s, main } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_NOTIFY_URLS: secret, ALERTCAP_NOTIFY_SECRET: signing });
    const vault = byType(s.resources, "Microsoft.KeyVault/vaults")[0]!;
    expect(appSettingsOf(s)).toMatchObject({
      ALERTCAP_NOTIFY_URLS: `@Microsoft.KeyVault(VaultName=${vault.name};SecretName=alertcap-notify-urls)`,
      ALERTCAP_NOTIFY_SECRET: `@Microsoft.KeyVault(VaultName=${vault.name};SecretName=alertcap-notify-secret)`,
    });
    const secrets = byType(s.resources, "Microsoft.KeyVault/vaults/secrets");
    expect(secrets.map((r) => [r.name, str(props(r).value ?? null)])).toEqual([
      [`${vault.name}/alertcap-notify-urls`, secret],
      [`${vault.name}/alertcap-notify-secret`, signing],
    ]);
    const leaks: string[] = [];
    for (const r of s.resources) {
      const copy = structuredClone(toJson(r.evaluated)) as JsonObject;
      if (r.type === "Microsoft.KeyVault/vaults/secrets") delete (copy.properties as JsonObject).value;
      if (r.type === "Microsoft.Resources/deployments") {
        // passed on only as securestring parameters of the nested template
        const inner = ((r.raw.properties as JsonObject).template as JsonObject).parameters as Record<string, JsonObject>;
        for (const [name, p] of Object.entries((copy.properties as JsonObject).parameters as Record<string, JsonObject>)) {
          if (JSON.stringify(p).match(/MARKER/) && inner[name]?.type !== "securestring") leaks.push(`${r.path} parameter ${name}`);
        }
        delete (copy.properties as JsonObject).parameters;
      }
      if (/MARKER/.test(JSON.stringify(copy))) leaks.push(r.path);
    }
    if (/MARKER/.test(JSON.stringify(toJson(main.outputs as Value)))) leaks.push("outputs");
    expect(leaks).toEqual([]);
  });

  it("turn the secure webhook on only when asked, and never point it at a test JWKS", () => {
    expect(settings.ALERTCAP_AAD_TENANT_ID).toBe("");
    expect(settings.ALERTCAP_AAD_AUDIENCES).toBe("");
    const { sim: s } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_AAD_TENANT_ID: TEST_TENANT, ALERTCAP_AAD_AUDIENCES: "api://alertcap, 0f0e0d0c-0000-4000-8000-000000000001" });
    expect(appSettingsOf(s)).toMatchObject({ ALERTCAP_AAD_TENANT_ID: TEST_TENANT, ALERTCAP_AAD_AUDIENCES: "api://alertcap,0f0e0d0c-0000-4000-8000-000000000001" });
  });
});

describe("storage", () => {
  const { sim } = simulateAlertcap();
  const accounts = byType(sim.resources, "Microsoft.Storage/storageAccounts");
  const taskHub = accounts.filter((a) => /^st(?!cap|pkg)/.test(a.name));
  const packageAccount = accounts.filter((a) => a.name.startsWith("stpkg"));
  const capture = accounts.filter((a) => a.name.startsWith("stcap"));

  it("for the task hub and the deployment package: shared keys off, Entra ID only", () => {
    expect(taskHub.length).toBe(1);
    expect(packageAccount.length).toBe(1);
    for (const account of [...taskHub, ...packageAccount]) {
      expect(props(account)).toMatchObject({ allowSharedKeyAccess: false, defaultToOAuthAuthentication: true, allowBlobPublicAccess: false, supportsHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2" });
    }
  });

  it("for captures: what Network Watcher needs (Standard, keys on for its SAS, in the targets' regions), HTTPS and TLS 1.2 only", () => {
    expect(capture.map((a) => str(a.evaluated.location ?? null))).toEqual(["westeurope", "northeurope"]);
    for (const account of capture) {
      expect(str((account.evaluated.sku as ValueObject).name ?? null)).toMatch(/^Standard_/);
      expect(account.evaluated.kind).toBe("StorageV2");
      expect(props(account)).toMatchObject({ allowSharedKeyAccess: true, allowBlobPublicAccess: false, supportsHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2" });
    }
  });

  it("deletes old captures, and the deployment package lives on its own identity-only account", () => {
    const policies = byType(sim.resources, "Microsoft.Storage/storageAccounts/managementPolicies");
    expect(policies.map((p) => p.name.split("/")[0]).sort()).toEqual(capture.map((a) => a.name).sort());
    expect(JSON.stringify(toJson(policies[0]!.evaluated))).toMatch(/"daysAfterModificationGreaterThan":30/);
    const site = byType(sim.resources, "Microsoft.Web/sites")[0]!;
    const deployment = ((props(site).functionAppConfig as ValueObject).deployment as ValueObject).storage as ValueObject;
    expect(str(deployment.value ?? null)).toBe(`«reference(${packageAccount[0]!.id}).primaryEndpoints.blob»app-package`);
    expect(deployment.authentication).toMatchObject({ type: "UserAssignedIdentity" });
  });
});

describe("the Function App", () => {
  const { sim } = simulateAlertcap();
  const site = byType(sim.resources, "Microsoft.Web/sites")[0]!;
  const settings = appSettingsOf(sim);

  it("runs Node 22 on Flex Consumption, HTTPS only, tagged for azd", () => {
    const plan = byType(sim.resources, "Microsoft.Web/serverfarms")[0]!;
    expect(plan.evaluated.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(site.evaluated.kind).toBe("functionapp,linux");
    expect((props(site).functionAppConfig as ValueObject).runtime).toEqual({ name: "node", version: "22" });
    expect(props(site).httpsOnly).toBe(true);
    expect(props(site).serverFarmId).toBe(plan.id);
    expect(site.evaluated.tags).toMatchObject({ "azd-service-name": "api" });
    // Flex Consumption takes these from functionAppConfig and refuses them as app settings.
    for (const s of ["FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"]) expect(settings).not.toHaveProperty(s);
  });

  it("names its task hub the way host.json reads it", () => {
    const host = JSON.parse(readFileSync(join(REPO_ROOT, "host.json"), "utf8")) as { extensions: { durableTask: { hubName: string } } };
    const setting = /^%(\w+)%$/.exec(host.extensions.durableTask.hubName)?.[1];
    expect(setting).toBe("ALERTCAP_TASK_HUB");
    expect(str(settings.ALERTCAP_TASK_HUB!)).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  });

  it("turns off basic-auth publishing credentials", () => {
    const policies = byType(sim.resources, "Microsoft.Web/sites/basicPublishingCredentialsPolicies");
    expect(policies.map((p) => [p.name.split("/")[1], props(p).allow]).sort()).toEqual([["ftp", false], ["scm", false]]);
  });
});
