// Fault injection seen through the real SDK: throttling honoured via Retry-After, 5xx and dropped connections
// retried, failed long-running operations surfacing as errors, sessions ending in Error, and seeded repeatability.

import { fileURLToPath } from "node:url";
import type { PacketCapture } from "@azure/arm-network";
import { afterEach, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import type { FaultPlanDocument } from "../local/arm-emulator/faults.js";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { computeClient, networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const WATCHER_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/${NW}`;
const CAPTURE: PacketCapture = {
  target: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`,
  storageLocation: { storageId: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures` },
};

const running: ArmEmulator[] = [];

async function emulatorWith(faults: FaultPlanDocument | string): Promise<ArmEmulator> {
  const emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, faults, speedFactor: 50, packetSource: "synthetic", log: () => {} });
  running.push(emulator);
  return emulator;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()));
});

function outcomes(emulator: ArmEmulator, operationId: string): string[] {
  return emulator
    .requests()
    .filter((entry) => entry.operationId === operationId)
    .map((entry) => `${entry.status}${entry.fault ? ` ${entry.fault}` : ""}`);
}

function waitForSession(emulator: ArmEmulator, name: string, wanted: string[]): Promise<void> {
  return until(() => wanted.includes(emulator.capture(name)?.packetCaptureStatus ?? ""), `${name} to be ${wanted.join(" or ")}`);
}

describe("request faults", () => {
  it("answers 429 with Retry-After, which the SDK waits out and retries", async () => {
    const emulator = await emulatorWith({
      seed: 1,
      rules: [
        { kind: "throttle", operation: "NetworkWatchers_Get", times: 1, retryAfterSeconds: 1 },
        { kind: "throttle", operation: "NetworkWatchers_ListAll", times: 1, retryAfterSeconds: 7 },
      ],
    });
    const started = Date.now();
    const watcher = await networkClient(emulator, SUB).networkWatchers.get(RG, NW);
    expect(watcher.name).toBe(NW);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(outcomes(emulator, "NetworkWatchers_Get")).toEqual(["429 throttle", "200"]);

    const raw = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01` });
    expect(raw.status).toBe(429);
    expect(raw.headers["retry-after"]).toBe("7");
    expect(raw.json).toMatchObject({ error: { code: "SubscriptionRequestsThrottled" } });
    expect((raw.json as { error: { message: string } }).error.message).toContain(`Number of 'read' requests for subscription '${SUB}'`);
  });

  it("answers 503s that the SDK retries, and surfaces them once retries run out", async () => {
    const emulator = await emulatorWith({
      rules: [
        { kind: "serverError", status: 503, operation: "VirtualMachines_Get", times: 2 },
        { kind: "serverError", status: 503, operation: "VirtualMachines_InstanceView" },
      ],
    });
    const compute = computeClient(emulator, SUB);
    expect((await compute.virtualMachines.get("rg-app", "vm-web-1")).name).toBe("vm-web-1");
    expect(outcomes(emulator, "VirtualMachines_Get")).toEqual(["503 serverError", "503 serverError", "200"]);
    await expect(compute.virtualMachines.instanceView("rg-app", "vm-web-1")).rejects.toMatchObject({ statusCode: 503, code: "ServiceUnavailable" });
    // One try plus the three retries the test clients allow.
    expect(outcomes(emulator, "VirtualMachines_InstanceView")).toHaveLength(4);
  });

  it("drops connections and slows answers", async () => {
    const emulator = await emulatorWith({
      rules: [
        { kind: "reset", operation: "NetworkWatchers_List", times: 1 },
        { kind: "delay", operation: "PacketCaptures_List", delayMs: 300 },
      ],
    });
    const network = networkClient(emulator, SUB);
    const watchers = [];
    for await (const watcher of network.networkWatchers.list(RG)) watchers.push(watcher.name);
    expect(watchers).toHaveLength(2);
    expect(outcomes(emulator, "NetworkWatchers_List")).toEqual(["-1 reset", "200"]);
    const started = Date.now();
    for await (const capture of network.packetCaptures.list(RG, NW)) expect(capture.name).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("long-running operation faults", () => {
  it("fails a create operation: the poller rejects and the capture is left Failed", async () => {
    const emulator = await emulatorWith({ rules: [{ kind: "lroFailure", operation: "PacketCaptures_Create", times: 1 }] });
    const network = networkClient(emulator, SUB);
    await expect(network.packetCaptures.create(RG, NW, "doomed", CAPTURE, { updateIntervalInMs: 20 })).rejects.toThrow(
      "The long-running operation has failed. InternalServerError. An error occurred.",
    );
    expect(emulator.capture("doomed")).toMatchObject({ provisioningState: "Failed", packetCaptureStatus: "Stopped", packetCaptureError: ["InternalError"] });
    const next = await network.packetCaptures.create(RG, NW, "fine", CAPTURE, { updateIntervalInMs: 20 });
    expect(next.provisioningState).toBe("Succeeded");
  });

  it("fails a stop operation with the given error; the session keeps running", async () => {
    const emulator = await emulatorWith({
      rules: [{ kind: "lroFailure", operation: "PacketCaptures_Stop", error: { code: "InternalServerError", message: "An error occurred." } }],
    });
    const network = networkClient(emulator, SUB);
    await network.packetCaptures.create(RG, NW, "unstoppable", { ...CAPTURE, timeLimitInSeconds: 18000 }, { updateIntervalInMs: 20 });
    await waitForSession(emulator, "unstoppable", ["Running"]);
    await expect(network.packetCaptures.stop(RG, NW, "unstoppable", { updateIntervalInMs: 20 })).rejects.toThrow(/InternalServerError/);
    const status = await network.packetCaptures.getStatus(RG, NW, "unstoppable", { updateIntervalInMs: 20 });
    expect(status.packetCaptureStatus).toBe("Running");
  });

  it("fails a queryStatus operation: its Location answers 500", async () => {
    const emulator = await emulatorWith({ rules: [{ kind: "lroFailure", operation: "PacketCaptures_GetStatus", times: 1 }] });
    const network = networkClient(emulator, SUB);
    await network.packetCaptures.create(RG, NW, "query-me", { ...CAPTURE, timeLimitInSeconds: 18000 }, { updateIntervalInMs: 20 });
    await waitForSession(emulator, "query-me", ["Running"]);
    await expect(network.packetCaptures.getStatus(RG, NW, "query-me", { updateIntervalInMs: 20 })).rejects.toMatchObject({ statusCode: 500 });
    expect((await network.packetCaptures.getStatus(RG, NW, "query-me", { updateIntervalInMs: 20 })).packetCaptureStatus).toBe("Running");
  });

  it("ends a session in Error with packetCaptureError after a while", async () => {
    const emulator = await emulatorWith({ rules: [{ kind: "captureError", afterSeconds: 10, captureStatus: "Error", errors: ["CaptureFailed", "StorageFailed"] }] });
    const network = networkClient(emulator, SUB);
    await network.packetCaptures.create(RG, NW, "flaky", { ...CAPTURE, timeLimitInSeconds: 18000 }, { updateIntervalInMs: 20 });
    await waitForSession(emulator, "flaky", ["Running"]);
    await waitForSession(emulator, "flaky", ["Error"]);
    expect(await network.packetCaptures.getStatus(RG, NW, "flaky")).toMatchObject({
      packetCaptureStatus: "Error",
      packetCaptureError: ["CaptureFailed", "StorageFailed"],
    });
    await expect(emulator.whenCaptureFileStored(emulator.capture("flaky")?.id ?? "")).rejects.toThrow(/no file/);
  });
});

describe("seeded repeatability", () => {
  const plan = (seed: number): FaultPlanDocument => ({
    seed,
    rules: [{ kind: "serverError", status: 500, operation: "NetworkWatchers_Get", probability: 0.4 }],
  });

  async function statusSequence(seed: number): Promise<number[]> {
    const emulator = await emulatorWith(plan(seed));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await rawArmRequest(emulator, { path: `${WATCHER_PATH}?api-version=2026-01-01` })).status);
    return statuses;
  }

  it("repeats the same faults for the same seed, and others for another seed", async () => {
    const first = await statusSequence(1234);
    expect(first).toContain(200);
    expect(first).toContain(500);
    expect(await statusSequence(1234)).toEqual(first);
    expect(await statusSequence(4321)).not.toEqual(first);
  });

  it("reads the plan from the same JSON text the environment variable carries", async () => {
    const emulator = await emulatorWith(JSON.stringify(plan(1234)));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await rawArmRequest(emulator, { path: `${WATCHER_PATH}?api-version=2026-01-01` })).status);
    expect(statuses).toEqual(await statusSequence(1234));
  });
});
