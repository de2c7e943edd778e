// Regression (review2): the emulator was kinder than Network Watcher for AzureVMSS captures. The Az.Network
// reference (Azure/azure-powershell src/Network/Network/help/New-AzNetworkWatcherPacketCaptureV2.md, example 2, the
// service's answer printed by the cmdlet) shows, for a scale-set capture created with instance scope:
//   StoragePath: https://contosostorage123.blob.core.windows.net/network-watcher-logs/subscriptions/…/resourcegroups/
//                contosoResourceGroup/providers/microsoft.compute/virtualmachinescalesets/SampleVMSS/2022/07/21/
//                packetcapture_09_20_07_166.cap          ← ends in .cap, and keeps the caller's case
//   Scope: { "Include": [ "/subscriptions/…/virtualMachineScaleSets/SampleVMSS/virtualMachines/0",
//                         "/subscriptions/…/virtualMachineScaleSets/SampleVMSS/virtualMachines/1" ], "Exclude": [] }
//                                                           ← instance IDs echoed back as full resource IDs
// The emulator echoed `include: ["0"]` and a folder path without `.cap`, so alertcap's tests never met either shape:
// - azure/captureFiles.ts listCaptureFiles treats a `.cap` path as one blob (see captureFiles.scaleSet.test.ts);
// - azure/packetCaptures.ts validateCaptureTarget joins a running capture only when
//   `(c.scope?.include ?? []).join(",") === ["0"].join(",")`, which a full-ID echo never equals, so a still-running
//   capture of the instance is not re-joined and a second one is started beside it.
import { fileURLToPath } from "node:url";
import type { NetworkManagementClient } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const VMSS = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;

let emulator: ArmEmulator;
let network: NetworkManagementClient;

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, speedFactor: 50, packetSource: "synthetic", log: () => {} });
  network = networkClient(emulator, SUB);
});

afterAll(async () => {
  await emulator?.close();
});

describe("an AzureVMSS capture as Network Watcher answers it", () => {
  it("echoes scope.include as full instance IDs and a storagePath ending in .cap", async () => {
    await network.packetCaptures.create(
      RG,
      NW,
      "review2-vmss-echo",
      { target: VMSS, targetType: "AzureVMSS", scope: { include: ["0"] }, timeLimitInSeconds: 60, storageLocation: { storageId: STORAGE } },
      { updateIntervalInMs: 20 },
    );
    const got = await network.packetCaptures.get(RG, NW, "review2-vmss-echo");
    expect({ include: got.scope?.include, storagePathEndsInCap: /\.cap$/.test(got.storageLocation?.storagePath ?? "") }).toEqual({
      include: [`${VMSS}/virtualMachines/0`],
      storagePathEndsInCap: true,
    });
  });
});
