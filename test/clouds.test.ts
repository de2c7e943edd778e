// ALERTCAP_CLOUD: the ARM clients alertcap builds go to the cloud's Resource Manager with a token for that cloud's
// scope, fetched by a real ManagedIdentityCredential for the configured client ID (App Service's identity endpoint,
// served locally), as a Function App in that cloud would. The SDK clients would ask for the public cloud's scope on
// their own (@azure/arm-network: `credentials.scopes ?? ["https://management.azure.com/.default"]`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { armClients, monitorClient } from "../azure/armClients.js";
import { configurationProblems } from "../config/appSettings.js";
import { startFunctionsHost } from "../local/services.js";
import { type AzureHosts, startAzureHosts, tokenFor } from "./support/azureHosts.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SUBSCRIPTION = "00000000-0000-0000-0000-0000000000c1";
const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const LOCAL_SETTINGS = ["ALERTCAP_ARM_ENDPOINT", "ALERTCAP_ARM_CA_CERT", "ALERTCAP_CAPTURE_BLOB_CONNECTION", "ALERTCAP_CLOUD"];

let hosts: AzureHosts;
const saved = { ...process.env };

beforeAll(async () => {
  hosts = await startAzureHosts();
  for (const name of LOCAL_SETTINGS) delete process.env[name];
  // A Function App in Azure with a user-assigned identity: what App Service and infra/main.bicep set.
  Object.assign(process.env, hosts.env, { WEBSITE_SITE_NAME: "alertcap-test", AZURE_CLIENT_ID: CLIENT_ID });
  hosts.answer = () => ({ status: 200, body: { value: [] } });
});

afterEach(() => {
  hosts.requests.length = 0;
  delete process.env.ALERTCAP_CLOUD;
});

afterAll(async () => {
  process.env = saved;
  await hosts.close();
});

const CLOUDS = [
  { cloud: undefined, arm: "management.azure.com" },
  { cloud: "AzurePublicCloud", arm: "management.azure.com" },
  // Bicep's environment().name and the Azure CLI's name for the public cloud, so infra can pass it through.
  { cloud: "AzureCloud", arm: "management.azure.com" },
  { cloud: "AzureUSGovernment", arm: "management.usgovcloudapi.net" },
  { cloud: "AzureChinaCloud", arm: "management.chinacloudapi.cn" },
];

describe("the credential in Azure", () => {
  it("is the managed identity of AZURE_CLIENT_ID even when a client secret is also in the environment", async () => {
    // DefaultAzureCredential would try EnvironmentCredential first and sign in to Entra ID with the secret.
    Object.assign(process.env, { AZURE_TENANT_ID: "99999999-0000-0000-0000-000000000000", AZURE_CLIENT_SECRET: "left-over-secret" });
    try {
      for await (const _ of armClients(SUBSCRIPTION).network.networkWatchers.listAll()) void _;
    } finally {
      delete process.env.AZURE_TENANT_ID;
      delete process.env.AZURE_CLIENT_SECRET;
    }
    expect(hosts.requests.map((r) => r.authorization)).toEqual([`Bearer ${tokenFor("https://management.azure.com", CLIENT_ID)}`]);
    expect(hosts.tunnels.filter((t) => !t.startsWith("management."))).toEqual([]);
  });
});

describe("ALERTCAP_CLOUD", () => {
  for (const { cloud, arm } of CLOUDS) {
    it(`${cloud ?? "unset"}: network, compute and monitor calls go to ${arm} with a managed-identity token for https://${arm}`, async () => {
      if (cloud) process.env.ALERTCAP_CLOUD = cloud;
      const { network, compute } = armClients(SUBSCRIPTION);
      for await (const _ of network.networkWatchers.listAll()) void _;
      for await (const _ of compute.virtualMachines.listAll()) void _;
      for await (const _ of monitorClient(SUBSCRIPTION).actionGroups.listBySubscriptionId()) void _;

      expect(hosts.requests.map((r) => r.path.split("?")[0])).toEqual([
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Network/networkWatchers`,
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines`,
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Insights/actionGroups`,
      ]);
      for (const request of hosts.requests) {
        expect({ host: request.host, sni: request.sni }).toEqual({ host: arm, sni: arm });
        expect(request.authorization).toBe(`Bearer ${tokenFor(`https://${arm}`, CLIENT_ID)}`);
      }
      expect(hosts.tunnels).toContain(`${arm}:443`);
      // The identity endpoint saw App Service's secret header: the token came from ManagedIdentityCredential.
      expect(hosts.tokenRequests.filter((t) => t.resource === `https://${arm}`)).toContainEqual({
        resource: `https://${arm}`,
        clientId: CLIENT_ID,
        secretHeader: hosts.env.IDENTITY_HEADER,
      });
    });
  }

  it("an unknown cloud is one line naming the known ones, and no ARM client is built for it", () => {
    process.env.ALERTCAP_CLOUD = "AzureGermanCloud";
    const problems = configurationProblems();
    expect(problems).toEqual([
      'ALERTCAP_CLOUD is "AzureGermanCloud", which is not a cloud alertcap knows: use AzurePublicCloud, AzureUSGovernment, AzureChinaCloud.',
    ]);
    expect(() => armClients(SUBSCRIPTION)).toThrow(problems[0]);
    expect(hosts.requests).toEqual([]);
  });

  it("an unknown cloud is said in one line when the app starts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alertcap-cloud-"));
    const env = { ...process.env, ALERTCAP_CLOUD: "Mars", WEBSITE_SITE_NAME: "" };
    const host = await startFunctionsHost({ dataDir, env });
    try {
      const lines = host.output().split("\n").filter((line) => line.includes("ALERTCAP_CLOUD"));
      expect(lines).toEqual([
        'alertcap: ALERTCAP_CLOUD is "Mars", which is not a cloud alertcap knows: use AzurePublicCloud, AzureUSGovernment, AzureChinaCloud. No capture starts until it is fixed.',
      ]);
    } finally {
      await host.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
