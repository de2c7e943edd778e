// Regression (review2): a scale-set capture whose storagePath ends in `.cap`, as Network Watcher reports
// it for an AzureVMSS target in the Az.Network reference (New-AzNetworkWatcherPacketCaptureV2.md, example 2 output):
//   "StoragePath": "https://contosostorage123.blob.core.windows.net/network-watcher-logs/subscriptions/…/resourcegroups/
//    contosoResourceGroup/providers/microsoft.compute/virtualmachinescalesets/SampleVMSS/2022/07/21/packetcapture_09_20_07_166.cap"
// The instance files are per instance, not one blob with that exact name (kevoreilly/CAPEv2#2229: a `.cap` storagePath
// on a scale set gave `…/Packet_Capture_{id}/{machine}_Packet_Capture_{id}`). listCaptureFiles decides "one file vs
// folder" by the `.cap` suffix alone, so it only ever HEADs the exact name and never finds the instance files: the
// capture is reported as "never appeared" in Azure, while the emulator (folder path without `.cap`) passes.
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureFileProperties } from "../azure/captureFiles.js";
import { azuriteConnectionString, type Service, startAzurite } from "../local/services.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";

const HTTP = readFileSync(new URL("../../test/fixtures/pcaps/dpkt-http.pcap", import.meta.url));
const ACCOUNT_URL = "https://alertcapcaptures.blob.core.windows.net";
const FOLDER = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachinescalesets/vmss-api/2026/12/02/packetcapture_09_20_07_166";

let azurite: Service;
let dataDir: string;
let container: ContainerClient;
const saved = { ...process.env };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "alertcap-review2-"));
  azurite = await startAzurite(dataDir);
  const connection = azuriteConnectionString(azurite.ready[0]!);
  Object.assign(process.env, { ALERTCAP_CAPTURE_BLOB_CONNECTION: connection, ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID });
  delete process.env.ALERTCAP_CLOUD;
  container = BlobServiceClient.fromConnectionString(connection).getContainerClient("network-watcher-logs");
  await container.createIfNotExists();
});

afterAll(async () => {
  process.env = saved;
  await azurite?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a scale-set capture whose storagePath ends in .cap (the shape Azure reports for AzureVMSS)", () => {
  it("finds the instance files written under the session's name", async () => {
    await container.getBlockBlobClient(`${FOLDER}/vmss-api_0_packetcapture_09_20_07_166.cap`).uploadData(HTTP);
    await container.getBlockBlobClient(`${FOLDER}/vmss-api_1_packetcapture_09_20_07_166.cap`).uploadData(HTTP);
    const storagePath = `${ACCOUNT_URL}/network-watcher-logs/${FOLDER}.cap`;
    // Failed before the fix: null (alertcap HEADed `${FOLDER}.cap` only).
    expect(await captureFileProperties(storagePath)).toEqual({ sizeBytes: 2 * HTTP.length, files: 2 });
  });
});
