// The emulator is as unkind as Azure where the recordings show it: `Retry-After` on every long-running answer
// (scaled by the speed setting), the pending Location poll's shape, capture bodies with `type` and an etag from the
// create on, defaults filled in, backslashed file paths accepted, unsupported api-versions refused as ARM refuses
// them, and injected session failures in the recorded free-text shape.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { Scheduler } from "../local/arm-emulator/scheduler.js";
import { rawArmRequest, type RawArmResponse } from "../local/arm-emulator/testing/rawArmRequest.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const WATCHER_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/${NW}`;
const vm = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/${name}`;
const VMSS = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;
const capturePath = (name: string, apiVersion = "2026-01-01") => `${WATCHER_PATH}/packetCaptures/${name}?api-version=${apiVersion}`;

type Properties = Record<string, unknown>;

/** PUT of a capture (by default on vm-web-1, stored in the sample account), as raw HTTP to read every header. */
function putCapture(emulator: ArmEmulator, name: string, properties: Properties = { target: vm("vm-web-1"), storageLocation: { storageId: STORAGE } }) {
  return rawArmRequest(emulator, { method: "PUT", path: capturePath(name), body: { properties } });
}
const propertiesOf = (response: RawArmResponse) => (response.json as { properties: Properties }).properties;

describe("at the real service's pace (speed 1)", () => {
  let emulator: ArmEmulator;
  beforeAll(async () => {
    emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, packetSource: "synthetic", log: () => {} });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("answers every long-running request with Retry-After: 10, and the pending Location with null, both URLs and Retry-After", async () => {
    const created = await putCapture(emulator, "paced");
    expect(created.status).toBe(201);
    expect(created.headers["retry-after"]).toBe("10");
    expect(created.headers["azure-asyncoperation"]).toBeDefined();

    await until(() => emulator.capture("paced")?.packetCaptureStatus === "Running", "the session to run");
    const query = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/paced/queryStatus?api-version=2026-01-01` });
    expect(query.status).toBe(202);
    expect(query.headers["retry-after"]).toBe("10");
    // The 202 already carries the status (R2, R3).
    expect(query.json).toMatchObject({ packetCaptureStatus: "Running", packetCaptureError: [] });

    const pending = await rawArmRequest(emulator, { path: String(query.headers["location"]) });
    expect(pending.status).toBe(202);
    expect(pending.text).toBe("null");
    expect(pending.headers["retry-after"]).toBe("10");
    expect(pending.headers["azure-asyncoperation"]).toMatch(/\/providers\/Microsoft\.Network\/locations\/westus2\/operations\//);
    expect(pending.headers["location"]).toBe(query.headers["location"]);

    const stop = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/paced/stop?api-version=2026-01-01` });
    expect(stop.status).toBe(202);
    expect(stop.headers["retry-after"]).toBe("10");
    const removed = await rawArmRequest(emulator, { method: "DELETE", path: capturePath("paced") });
    expect(removed.status).toBe(202);
    expect(removed.headers["retry-after"]).toBe("10");
  });
});

describe("scaled by the speed setting", () => {
  it("divides Retry-After by the speed, in whole seconds (0 below half a second: the client's own interval)", () => {
    expect([1, 2, 5, 10, 20, 21, 50].map((speed) => new Scheduler(speed).retryAfterSeconds(10))).toEqual([10, 5, 2, 1, 1, 0, 0]);
  });

  it("paces the SDK's polling of a status query: it waits the scaled Retry-After, not its own 20 ms", async () => {
    const emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, speedFactor: 10, packetSource: "synthetic", log: () => {} });
    try {
      const network = networkClient(emulator, SUB);
      await network.packetCaptures.create(RG, NW, "paced-sdk", { target: vm("vm-web-1"), storageLocation: { storageId: STORAGE } }, { updateIntervalInMs: 20 });
      await until(() => emulator.capture("paced-sdk")?.packetCaptureStatus === "Running", "the session to run");
      const before = emulator.requests().length;
      const status = await network.packetCaptures.getStatus(RG, NW, "paced-sdk", { updateIntervalInMs: 20 });
      expect(status.packetCaptureStatus).toBe("Running");
      const polls = emulator.requests().slice(before).filter((entry) => entry.operationId === "Network_OperationResult");
      // 10 service seconds of query at speed 10 is 1 s; Retry-After: 1 allows an immediate poll and one or two more.
      // Polling every 20 ms, as the client asked, would take about 50.
      expect(polls.length).toBeGreaterThanOrEqual(2);
      expect(polls.length).toBeLessThanOrEqual(4);
    } finally {
      await emulator.close();
    }
  });
});

describe("capture bodies and requests as recorded", () => {
  let emulator: ArmEmulator;
  beforeAll(async () => {
    emulator = await startArmEmulator({
      inventory: SAMPLE_INVENTORY,
      speedFactor: 50,
      packetSource: "synthetic",
      faults: { rules: [{ kind: "captureError", operation: "PacketCaptures_Create", skip: 3, times: 1 }] },
      log: () => {},
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("gives the create 201 an etag and every capture its type; fills in targetType and scope", async () => {
    const created = await putCapture(emulator, "shaped");
    expect(created.status).toBe(201);
    const body = created.json as Properties;
    expect(body["type"]).toBe("Microsoft.Network/networkWatchers/packetCaptures");
    expect(body["etag"]).toMatch(/^W\/"[0-9a-f-]{36}"$/);
    expect(propertiesOf(created)).toMatchObject({ provisioningState: "Updating", targetType: "AzureVM", scope: { include: [], exclude: [] } });

    const got = await rawArmRequest(emulator, { path: capturePath("shaped") });
    expect((got.json as Properties)["type"]).toBe("Microsoft.Network/networkWatchers/packetCaptures");
    const listed = await rawArmRequest(emulator, { path: `${WATCHER_PATH}/packetCaptures?api-version=2026-01-01` });
    for (const item of (listed.json as { value: Properties[] }).value) expect(item["type"]).toBe("Microsoft.Network/networkWatchers/packetCaptures");

    const scaleSet = await putCapture(emulator, "shaped-vmss", { target: VMSS, storageLocation: { storageId: STORAGE } });
    expect(propertiesOf(scaleSet)).toMatchObject({ targetType: "AzureVMSS", scope: { include: [], exclude: [] } });
  });

  it("accepts a backslashed relative filePath on a Linux VM, as the service did (R1)", async () => {
    const created = await putCapture(emulator, "backslashed", { target: vm("vm-web-1"), targetType: "AzureVM", storageLocation: { filePath: "capture\\capture.cap" } });
    expect(created.status).toBe(201);
    expect(propertiesOf(created)["storageLocation"]).toMatchObject({ storagePath: "", filePath: "capture\\capture.cap" });
  });

  it("refuses an api-version the Network provider does not have with ARM's NoRegisteredProviderFound", async () => {
    for (const apiVersion of ["2019-01-01", "2031-01-01"]) {
      const refused = await rawArmRequest(emulator, { path: capturePath("shaped", apiVersion) });
      expect(refused.status).toBe(400);
      const { error } = refused.json as { error: { code: string; message: string } };
      expect(error.code).toBe("NoRegisteredProviderFound");
      expect(error.message).toMatch(
        new RegExp(`^No registered resource provider found for location 'westus2' and API version '${apiVersion}' for type 'networkWatchers/packetCaptures'\\. The supported api-versions are '2014-12-01-preview, .*2026-01-01'\\. The supported locations are '.*westus2.*'\\.$`),
      );
    }
    expect((await rawArmRequest(emulator, { path: capturePath("shaped", "2022-01-01") })).status).toBe(200);
  });

  it("ends an injected session failure Stopped with the recorded free text by default", async () => {
    const created = await putCapture(emulator, "fails");
    expect(created.status).toBe(201);
    expect(emulator.firedFaults().map((fault) => fault.kind)).toEqual(["captureError"]);
    await until(() => emulator.capture("fails")?.packetCaptureStatus !== "NotStarted", "the session to end");
    const status = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/fails/queryStatus?api-version=2026-01-01` });
    expect(status.status).toBe(200);
    expect(status.json).toEqual({
      name: "fails",
      id: `${WATCHER_PATH}/packetCaptures/fails`,
      packetCaptureStatus: "Stopped",
      packetCaptureError: [`${vm("vm-web-1")} does not exist or is in stopped state.`],
    });
  });

  it("answers a missing capture with the recorded 404 body", async () => {
    const missing = await rawArmRequest(emulator, { path: capturePath("never-created") });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: { code: "NotFound", message: `Resource ${WATCHER_PATH}/packetCaptures/never-created not found.`, details: [] },
    });
  });
});
