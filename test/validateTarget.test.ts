// validateCaptureTarget (azure/packetCaptures.ts) against the ARM emulator, through the product's own SDK clients:
// - a running instance capture is re-joined although Network Watcher echoes its scope as full instance IDs;
// - a Flexible scale set is refused (virtualMachineScaleSetVMs serves Uniform ones only);
// - past alertcap captures that stay listed (ALERTCAP_DELETE_CAPTURE=false) are not asked for their status.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { NetworkManagementClient } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateCaptureTarget } from "../azure/packetCaptures.js";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { captureName, type CaptureTargetRef } from "../domain/capture/plan.js";
import { type CaptureSettings, parseCaptureSettings } from "../domain/capture/settings.js";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import type { InventoryDocument } from "../local/arm-emulator/inventory.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";

const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const compute = (type: string, name: string) => `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/${type}/${name}`;
const VMSS = compute("virtualMachineScaleSets", "vmss-api");
const FLEXIBLE = compute("virtualMachineScaleSets", "vmss-flex");
const VM = compute("virtualMachines", "vm-web-1");

const sample = JSON.parse(readFileSync(fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url)), "utf8")) as InventoryDocument;
const inventory = {
  ...sample,
  virtualMachineScaleSets: [
    ...(sample.virtualMachineScaleSets ?? []),
    { id: FLEXIBLE, location: "westus2", instances: ["0"], networkWatcherExtension: true, orchestrationMode: "Flexible" },
  ],
} as InventoryDocument;

let emulator: ArmEmulator;
let network: NetworkManagementClient;
const saved = { ...process.env };

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory, speedFactor: 50, packetSource: "synthetic", log: () => {} });
  network = networkClient(emulator, SUB);
  Object.assign(process.env, { ALERTCAP_ARM_ENDPOINT: emulator.url, ALERTCAP_ARM_CA_CERT: emulator.caCertPath });
});

afterAll(async () => {
  process.env = saved;
  await emulator?.close();
});

function targetOf(id: string): CaptureTargetRef {
  const parsed = parseCaptureTarget(id);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.target;
}

function settingsWith(env: Record<string, string> = {}): CaptureSettings {
  const parsed = parseCaptureSettings({ ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID, ALERTCAP_CAPTURE_SECONDS: "60", ...env });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.settings;
}

/** Creates a capture as alertcap would have (its name for `target` at `startedAt`), with the given scope. */
async function createCapture(name: string, target: string, include?: string[]): Promise<void> {
  await network.packetCaptures.create(
    RG,
    NW,
    name,
    {
      target,
      targetType: target.includes("virtualMachineScaleSets") ? "AzureVMSS" : "AzureVM",
      ...(include && { scope: { include } }),
      timeLimitInSeconds: 60,
      storageLocation: { storageId: SAMPLE_STORAGE_ID },
    },
    { updateIntervalInMs: 20 },
  );
}

const queryStatusCount = () => emulator.requests().filter((r) => r.method === "POST" && /\/queryStatus$/i.test(r.path)).length;

describe("validating a capture target", () => {
  it("re-joins a running capture of a scale-set instance whose scope Network Watcher echoes as a full instance ID", async () => {
    const instance = targetOf(`${VMSS}/virtualMachines/0`);
    const name = captureName(instance, new Date());
    await createCapture(name, VMSS, ["0"]);
    const echoed = await network.packetCaptures.get(RG, NW, name);
    expect(echoed.scope?.include).toEqual([`${VMSS}/virtualMachines/0`]);

    const validation = await validateCaptureTarget(instance, settingsWith());
    expect(validation).toMatchObject({ ok: true, runningCaptureName: name });
  });

  it("refuses a Flexible scale set: its instances are VMs", async () => {
    const validation = await validateCaptureTarget(targetOf(FLEXIBLE), settingsWith());
    expect(validation).toEqual({
      ok: false,
      reason: "The scale set vmss-flex uses Flexible orchestration: its instances are VMs: alert on them as VMs (alertcap captures Uniform scale sets only).",
    });
  });

  it("asks no status of past alertcap captures left listed, even at the region limit", async () => {
    const vm = targetOf(VM);
    const hour = 3600_000;
    for (const hoursAgo of [2, 3, 4]) {
      const name = captureName(vm, new Date(Date.now() - hoursAgo * hour));
      await createCapture(name, VM);
      // Stopped, as hours-old captures are; listed still (ALERTCAP_DELETE_CAPTURE=false deletes nothing).
      await network.packetCaptures.beginStopAndWait(RG, NW, name, { updateIntervalInMs: 20 });
    }
    let listed = 0;
    for await (const _ of network.packetCaptures.list(RG, NW)) listed++;

    const before = queryStatusCount();
    // Deleting nothing (ALERTCAP_DELETE_CAPTURE=false) and the region's list at the limit.
    const validation = await validateCaptureTarget(vm, settingsWith({ ALERTCAP_DELETE_CAPTURE: "false", ALERTCAP_MAX_CAPTURES_PER_REGION: String(listed) }));
    expect(validation).toMatchObject({ ok: true, runningCaptureName: null });
    // Asked: the sample inventory's two foreign captures (named by others: they may be running) and the instance
    // capture of the first test (named now). Not the three past ones, for this target or for the region count.
    expect(queryStatusCount() - before).toBe(3);
  });
});
