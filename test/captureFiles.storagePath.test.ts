// Issue 11.2: storagePath comes from ARM, and anyone who may create packet captures can pre-create one named like
// alertcap's with a storagePath of their choosing. alertcap reads it with the managed identity's storage token, so a
// path is read only when it lies in the network-watcher-logs container of a configured capture account, at that
// account's blob endpoint in the configured cloud. Everything else is refused before any connection: the listeners
// here must see nothing, and the identity endpoint is not even asked for a storage token.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { analyseCaptureFile } from "../activities/analyseCapture.js";
import { captureFileProperties, StoragePathRefusedError } from "../azure/captureFiles.js";
import { type AzureHosts, startAzureHosts, startSilentListener, tokenFor } from "./support/azureHosts.js";

const CLIENT_ID = "11111111-2222-3333-4444-555555555555";
const STORAGE_IDS = [
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures",
  "northeurope=/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-eu/providers/Microsoft.Storage/storageAccounts/eucaptures",
].join(",");
const BLOB = "network-watcher-logs/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1/2026/12/02/packetcapture_05_00_00_000.cap";

const EMPTY_LISTING = '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="network-watcher-logs"><Blobs /><NextMarker /></EnumerationResults>';
/** The blob's HEAD, then the listings by its stem (`stem/`, `stem_`) that find a scale set's instance files. */
const readsOf = (host: string) => [
  { method: "HEAD", host, path: `/${BLOB}` },
  { method: "GET", host, path: "/network-watcher-logs" },
  { method: "GET", host, path: "/network-watcher-logs" },
];

let hosts: AzureHosts;
let listener: Awaited<ReturnType<typeof startSilentListener>>;
const saved = { ...process.env };

beforeAll(async () => {
  hosts = await startAzureHosts();
  listener = await startSilentListener();
  for (const name of ["ALERTCAP_ARM_ENDPOINT", "ALERTCAP_ARM_CA_CERT", "ALERTCAP_CAPTURE_BLOB_CONNECTION", "ALERTCAP_CLOUD"]) delete process.env[name];
  Object.assign(process.env, hosts.env, { WEBSITE_SITE_NAME: "alertcap-test", AZURE_CLIENT_ID: CLIENT_ID, ALERTCAP_CAPTURE_STORAGE_ID: STORAGE_IDS });
  // No blob, and (for the listing a scale set's `.cap` storagePath leads to) an empty container listing.
  hosts.answer = (request) =>
    request.path.includes("comp=list")
      ? { status: 200, body: EMPTY_LISTING, headers: { "content-type": "application/xml" } }
      : { status: 404, headers: { "x-ms-error-code": "BlobNotFound" } };
});

afterEach(() => {
  delete process.env.ALERTCAP_CLOUD;
  hosts.requests.length = 0;
  hosts.tunnels.length = 0;
  hosts.tokenRequests.length = 0;
});

afterAll(async () => {
  process.env = saved;
  await listener.close();
  await hosts.close();
});

const REFUSED: Array<[string, () => string]> = [
  ["a host of the capture creator's choosing", () => `${listener.url}/${BLOB}`],
  ["another host name", () => `https://evil.example/${BLOB}`],
  ["a host that only starts like the account's", () => `https://alertcapcaptures.blob.core.windows.net.evil.example/${BLOB}`],
  ["the account's name as user info before another host", () => `https://alertcapcaptures.blob.core.windows.net@127.0.0.1:${listener.port}/${BLOB}`],
  ["plain http", () => `http://alertcapcaptures.blob.core.windows.net/${BLOB}`],
  ["another port", () => `https://alertcapcaptures.blob.core.windows.net:8443/${BLOB}`],
  ["an account alertcap is not configured with", () => `https://deployments1.blob.core.windows.net/${BLOB}`],
  ["another container of a capture account", () => "https://alertcapcaptures.blob.core.windows.net/app-package/released.zip"],
  ["a path that climbs out of the container", () => "https://alertcapcaptures.blob.core.windows.net/network-watcher-logs/x%2F..%2F..%2Fapp-package%2Freleased.zip"],
  ["the container itself", () => "https://alertcapcaptures.blob.core.windows.net/network-watcher-logs/"],
  ["the account in another cloud", () => `https://alertcapcaptures.blob.core.usgovcloudapi.net/${BLOB}`],
  ["no URL at all", () => "packetcapture_05_00_00_000.cap"],
];

describe("a storagePath outside the configured capture accounts", () => {
  for (const [what, path] of REFUSED) {
    it(`is refused with its reason and nothing sent: ${what}`, async () => {
      const error = await captureFileProperties(path()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoragePathRefusedError);
      expect((error as Error).message).toMatch(/so alertcap does not read it\.$/);
      // The analyse activity reports it as a finding instead of failing (a retry would not change the path).
      const output = await analyseCaptureFile({ storagePath: path() });
      expect(output).toEqual({ summary: null, findings: [`The capture file could not be analysed: ${(error as Error).message}`], reportPath: null });

      expect(listener.connections()).toBe(0);
      expect(hosts.tunnels).toEqual([]);
      expect(hosts.tokenRequests).toEqual([]);
    });
  }

  it("names the accepted endpoints in the reason", async () => {
    await expect(captureFileProperties(`https://evil.example/${BLOB}`)).rejects.toThrow(
      `The capture's storagePath https://evil.example/${BLOB} is not in a capture storage account alertcap is configured with (https://alertcapcaptures.blob.core.windows.net, https://eucaptures.blob.core.windows.net; ALERTCAP_CAPTURE_STORAGE_ID), so alertcap does not read it.`,
    );
  });
});

describe("a storagePath in a configured capture account", () => {
  it("is read from that account's blob endpoint with a storage token of the managed identity", async () => {
    for (const account of ["alertcapcaptures", "eucaptures"]) {
      expect(await captureFileProperties(`https://${account}.blob.core.windows.net/${BLOB}?sv=ignored`)).toBeNull();
    }
    expect(hosts.requests.map((r) => ({ method: r.method, host: r.host, sni: r.sni, path: r.path.split("?")[0], authorization: r.authorization }))).toEqual(
      ["alertcapcaptures", "eucaptures"].flatMap((account) =>
        readsOf(`${account}.blob.core.windows.net`).map((read) => ({
          ...read,
          sni: `${account}.blob.core.windows.net`,
          authorization: `Bearer ${tokenFor("https://storage.azure.com", CLIENT_ID)}`,
        })),
      ),
    );
    expect(listener.connections()).toBe(0);
  });

  it("is at the cloud's storage suffix: AzureUSGovernment reads *.blob.core.usgovcloudapi.net and refuses *.core.windows.net", async () => {
    process.env.ALERTCAP_CLOUD = "AzureUSGovernment";
    expect(await captureFileProperties(`https://alertcapcaptures.blob.core.usgovcloudapi.net/${BLOB}`)).toBeNull();
    expect(hosts.requests.map((r) => [r.host, r.authorization])).toEqual(
      readsOf("").map(() => ["alertcapcaptures.blob.core.usgovcloudapi.net", `Bearer ${tokenFor("https://storage.azure.com", CLIENT_ID)}`]),
    );
    await expect(captureFileProperties(`https://alertcapcaptures.blob.core.windows.net/${BLOB}`)).rejects.toThrow(StoragePathRefusedError);
    expect(hosts.requests).toHaveLength(readsOf("").length);
  });
});
