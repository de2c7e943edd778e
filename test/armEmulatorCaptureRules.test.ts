// What the emulated Network RP accepts and refuses, and the exact wire shapes of the long-running packet-capture
// operations (status codes, polling headers, bodies) as recorded from the real service.

import { fileURLToPath } from "node:url";
import type { NetworkManagementClient, PacketCapture } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { rawArmRequest, type RawArmResponse } from "../local/arm-emulator/testing/rawArmRequest.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { rejectionOf as sdkRejection, until } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const WATCHER_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/${NW}`;
const vm = (name: string, rg = "rg-app") => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const storage = (name: string, rg = "rg-app") => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`;
const SPEED = 50;

let emulator: ArmEmulator;
let network: NetworkManagementClient;

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, speedFactor: SPEED, packetSource: "synthetic", log: () => {} });
  network = networkClient(emulator, SUB);
});

afterAll(async () => {
  await emulator.close();
});

function capture(name: string, body: unknown, watcherPath = WATCHER_PATH): Promise<RawArmResponse> {
  return rawArmRequest(emulator, { method: "PUT", path: `${watcherPath}/packetCaptures/${name}?api-version=2026-01-01`, body });
}

function errorOf(response: RawArmResponse): { code: string; message: string; target?: string; details?: unknown[] } {
  return (response.json as { error: { code: string; message: string; target?: string; details?: unknown[] } }).error;
}

async function pollRaw(url: string, done: (response: RawArmResponse) => boolean, timeoutMs = 10_000): Promise<RawArmResponse[]> {
  const seen: RawArmResponse[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await rawArmRequest(emulator, { path: url });
    seen.push(response);
    if (done(response)) return seen;
    if (Date.now() > deadline) throw new Error(`polling ${url} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const validBody = (target = vm("vm-web-1"), extra: Record<string, unknown> = {}) => ({
  properties: { target, targetType: "AzureVM", storageLocation: { storageId: storage("alertcapcaptures") }, ...extra },
});

function waitForSession(name: string, wanted: string[]): Promise<void> {
  return until(() => wanted.includes(emulator.capture(name)?.packetCaptureStatus ?? ""), `${name} to be ${wanted.join(" or ")}`);
}

describe("wire shapes of the long-running operations", () => {
  it("create: 201 + Updating + etag + type, Azure-AsyncOperation and Retry-After (no Location), then Succeeded", async () => {
    const created = await capture("wire-1", validBody(undefined, { timeLimitInSeconds: 18000 }));
    expect(created.status).toBe(201);
    expect(created.headers["azure-asyncoperation"]).toMatch(
      new RegExp(`^${emulator.url}/subscriptions/${SUB}/providers/Microsoft\\.Network/locations/westus2/operations/[0-9a-f-]{36}\\?api-version=2026-01-01$`),
    );
    expect(created.headers["location"]).toBeUndefined();
    // 10 s (R3) at speed 50 is 0.2 s: 0 in whole seconds, so the client polls at its own interval.
    expect(created.headers["retry-after"]).toBe("0");
    const body = created.json as { name: string; id: string; etag?: string; properties: Record<string, unknown> };
    expect(body).toMatchObject({
      name: "wire-1",
      id: `${WATCHER_PATH}/packetCaptures/wire-1`,
      type: "Microsoft.Network/networkWatchers/packetCaptures",
      properties: { provisioningState: "Updating" },
    });
    expect(body.etag).toMatch(/^W\/"/);
    const polls = await pollRaw(String(created.headers["azure-asyncoperation"]), (r) => (r.json as { status: string }).status !== "InProgress");
    // InProgress for as long as the operation runs (how many polls see it depends on the machine's load), then Succeeded.
    for (const poll of polls.slice(0, -1)) expect(poll.json).toEqual({ status: "InProgress" });
    expect(polls.at(-1)?.json).toEqual({ status: "Succeeded" });
    const fetched = await rawArmRequest(emulator, { path: `${WATCHER_PATH}/packetCaptures/wire-1?api-version=2026-01-01` });
    expect(fetched.json).toMatchObject({ properties: { provisioningState: "Succeeded" } });
    const watcher = await rawArmRequest(emulator, { path: `${WATCHER_PATH}?api-version=2026-01-01` });
    // The capture's etag is its watcher's (R1).
    expect((fetched.json as { etag: string }).etag).toBe((watcher.json as { etag: string }).etag);
  });

  it("queryStatus: 202 + Location + a Running body while running; the Location ends in 200 with the status", async () => {
    await waitForSession("wire-1", ["Running"]);
    const query = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/wire-1/queryStatus?api-version=2026-01-01` });
    expect(query.status).toBe(202);
    expect(query.json).toMatchObject({ name: "wire-1", packetCaptureStatus: "Running", packetCaptureError: [] });
    expect((query.json as Record<string, unknown>)["stopReason"]).toBeUndefined();
    expect((query.json as { captureStartTime: string }).captureStartTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const location = String(query.headers["location"]);
    expect(location).toMatch(/\/providers\/Microsoft\.Network\/locations\/westus2\/operationResults\//);
    const polls = await pollRaw(location, (r) => r.status !== 202);
    expect(polls.at(-1)?.status).toBe(200);
    expect(polls.at(-1)?.json).toMatchObject({ packetCaptureStatus: "Running" });
  });

  it("stop: 202 with no body and both polling headers; Location answers 200 null; AsyncOp adds properties {}", async () => {
    const stop = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/wire-1/stop?api-version=2026-01-01` });
    expect(stop.status).toBe(202);
    expect(stop.text).toBe("");
    const asyncOperation = String(stop.headers["azure-asyncoperation"]);
    const location = String(stop.headers["location"]);
    expect(asyncOperation).toContain("/operations/");
    expect(location).toContain("/operationResults/");
    const statuses = await pollRaw(asyncOperation, (r) => (r.json as { status: string }).status !== "InProgress");
    expect(statuses.at(-1)?.json).toEqual({ status: "Succeeded", properties: {} });
    const result = await rawArmRequest(emulator, { path: location });
    expect(result.status).toBe(200);
    expect(result.text).toBe("null");
    const query = await rawArmRequest(emulator, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/wire-1/queryStatus?api-version=2026-01-01` });
    expect(query.status).toBe(200);
    expect(query.json).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "Manual", packetCaptureError: [] });
  });

  it("delete: 202 with both headers, Location ends in 204; then 404 NotFound with the recorded message", async () => {
    const removal = await rawArmRequest(emulator, { method: "DELETE", path: `${WATCHER_PATH}/packetCaptures/wire-1?api-version=2026-01-01` });
    expect(removal.status).toBe(202);
    const during = await rawArmRequest(emulator, { path: `${WATCHER_PATH}/packetCaptures/wire-1?api-version=2026-01-01` });
    expect(during.json).toMatchObject({ properties: { provisioningState: "Deleting" } });
    const results = await pollRaw(String(removal.headers["location"]), (r) => r.status !== 202);
    expect(results.at(-1)?.status).toBe(204);
    const gone = await rawArmRequest(emulator, { path: `${WATCHER_PATH}/packetCaptures/wire-1?api-version=2026-01-01` });
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: { code: "NotFound", message: `Resource ${WATCHER_PATH}/packetCaptures/wire-1 not found.`, details: [] } });
    const again = await rawArmRequest(emulator, { method: "DELETE", path: `${WATCHER_PATH}/packetCaptures/wire-1?api-version=2026-01-01` });
    expect(again.status).toBe(204);
  });
});

describe("request validation against the spec schema", () => {
  it("rejects an out-of-range value through the SDK, naming the property", async () => {
    const error = await sdkRejection(
      network.packetCaptures.create(RG, NW, "too-long", { target: vm("vm-web-1"), timeLimitInSeconds: 18001, storageLocation: { storageId: storage("alertcapcaptures") } }),
    );
    expect(error).toMatchObject({ statusCode: 400, code: "InvalidRequestFormat" });
    expect(error.message).toBe("Cannot parse the request. 'properties.timeLimitInSeconds' must be <= 18000.");
    expect(emulator.capture("too-long")).toBeUndefined();
  });

  it("names missing, mistyped and out-of-enum properties, listing every violation in details", async () => {
    const missing = await capture("bad-1", { properties: { target: vm("vm-web-1") } });
    expect(missing.status).toBe(400);
    expect(errorOf(missing)).toMatchObject({ code: "InvalidRequestFormat", target: "properties.storageLocation" });
    const several = await capture("bad-2", validBody(undefined, { targetType: "AzureVm", bytesToCapturePerPacket: -1, filters: [{ protocol: "ICMP" }] }));
    const error = errorOf(several);
    expect(error.message).toContain("'properties.targetType' must be one of 'AzureVM', 'AzureVMSS'.");
    expect((error.details as Array<{ target: string }>).map((detail) => detail.target).sort()).toEqual([
      "properties.bytesToCapturePerPacket",
      "properties.filters[0].protocol",
      "properties.targetType",
    ]);
    const wrongType = await capture("bad-3", validBody(undefined, { timeLimitInSeconds: "60" }));
    expect(errorOf(wrongType).message).toBe("Cannot parse the request. 'properties.timeLimitInSeconds' must be of type integer.");
    const noBody = await capture("bad-4", undefined);
    expect(errorOf(noBody)).toMatchObject({ target: "(body)", message: "Cannot parse the request. '(body)' must be of type object." });
    const notAnObject = await capture("bad-6", { properties: "target=vm" });
    expect(errorOf(notAnObject).target).toBe("properties");
    const notJson = await capture("bad-5", "{not json");
    expect(errorOf(notJson).code).toBe("InvalidRequestContent");
  });

  it("accepts protocol in any case and echoes it normalised, with empty strings for missing filter fields", async () => {
    const created = await capture("normalised", validBody(undefined, { filters: [{ protocol: "tcp", remotePort: "443" }, {}], continuousCapture: null }));
    expect(created.status).toBe(201);
    expect((created.json as { properties: { filters: unknown[] } }).properties.filters).toEqual([
      { protocol: "TCP", localIPAddress: "", remoteIPAddress: "", localPort: "", remotePort: "443" },
      { protocol: "Any", localIPAddress: "", remoteIPAddress: "", localPort: "", remotePort: "" },
    ]);
  });
});

describe("semantic checks", () => {
  const cases: Array<[string, unknown, number, string, string?]> = [
    ["filter notation", validBody(undefined, { filters: [{ localPort: "80-85;90" }] }), 400, "InvalidRequestFormat", "properties.filters[0].localPort"],
    ["missing target", validBody(vm("vm-ghost")), 400, "TargetResourceNotFound", "properties.target"],
    ["scale-set instance as target", validBody(`/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api/virtualMachines/0`), 400, "UnsupportedTargetResourceId"],
    ["storage account as target", validBody(storage("alertcapcaptures")), 400, "UnsupportedTargetResourceId"],
    ["targetType of the other kind", { properties: { target: vm("vm-web-1"), targetType: "AzureVMSS", storageLocation: { storageId: storage("alertcapcaptures") } } }, 400, "InvalidTargetType"],
    ["target in another region", validBody(vm("vm-eu-1", "rg-eu")), 400, "TargetNotInNetworkWatcherRegion"],
    ["premium storage", { properties: { target: vm("vm-web-1"), storageLocation: { storageId: storage("premiumcaptures") } } }, 400, "StorageAccountNotSupported"],
    ["storage in another region", { properties: { target: vm("vm-web-1"), storageLocation: { storageId: storage("eucaptures", "rg-eu") } } }, 400, "StorageAccountInDifferentRegion"],
    ["unknown storage account", { properties: { target: vm("vm-web-1"), storageLocation: { storageId: storage("nosuchaccount") } } }, 400, "StorageAccountNotFound"],
    ["no storage at all", { properties: { target: vm("vm-web-1"), storageLocation: {} } }, 400, "InvalidRequestFormat", "properties.storageLocation"],
    ["Linux path outside /var/captures", { properties: { target: vm("vm-web-1"), storageLocation: { filePath: "/tmp/x.cap" } } }, 400, "InvalidRequestFormat", "properties.storageLocation.filePath"],
    ["scope on a VM", validBody(undefined, { scope: { include: ["0"] } }), 400, "InvalidRequestFormat", "properties.scope"],
  ];

  it.each(cases)("refuses %s", async (_label, body, status, code, target) => {
    const response = await capture(`semantic-${code.toLowerCase()}`, body);
    expect(response.status).toBe(status);
    expect(errorOf(response).code).toBe(code);
    if (target) expect(errorOf(response).target).toBe(target);
  });

  it("accepts a Windows local file path", async () => {
    const response = await capture("windows-path", { properties: { target: vm("vm-win-1"), storageLocation: { filePath: "D:\\captures\\x.cap" } } });
    expect(response.status).toBe(201);
  });

  it("refuses invalid names and missing watchers like the Network RP", async () => {
    const badName = await capture("-bad-name", validBody());
    expect(errorOf(badName).code).toBe("InvalidResourceName");
    const noWatcher = await capture("x", validBody(), `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/NetworkWatcher_eastus`);
    expect(noWatcher.status).toBe(404);
    expect(errorOf(noWatcher)).toEqual({
      code: "ParentResourceNotFound",
      message: "Can not perform requested operation on nested resource. Parent resource 'NetworkWatcher_eastus' not found.",
    });
  });
});

describe("foreign captures, name conflicts and the region limit", () => {
  it("lists foreign captures and refuses to create one with the same name, leaving it untouched", async () => {
    const names = [];
    for await (const existing of network.packetCaptures.list(RG, NW)) names.push(existing.name);
    expect(names).toEqual(expect.arrayContaining(["ops-team-capture", "old-investigation"]));
    const foreign = await network.packetCaptures.getStatus(RG, NW, "old-investigation");
    expect(foreign).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "TimeExceeded" });
    const conflict = await sdkRejection(
      network.packetCaptures.create(RG, NW, "OPS-TEAM-CAPTURE", { target: vm("vm-web-1"), storageLocation: { storageId: storage("alertcapcaptures") } }),
    );
    expect(conflict).toMatchObject({ statusCode: 409, code: "PacketCaptureAlreadyExists" });
    expect(emulator.capture("ops-team-capture")).toMatchObject({ foreign: true, packetCaptureStatus: "Running", provisioningState: "Succeeded" });
  });

  it("refuses a second running session beyond the region limit until one ends", async () => {
    const NE = "NetworkWatcher_northeurope";
    const body: PacketCapture = { target: vm("vm-eu-1", "rg-eu"), storageLocation: { storageId: storage("eucaptures", "rg-eu") } };
    await network.packetCaptures.create(RG, NE, "eu-1", body, { updateIntervalInMs: 20 });
    const refused = await sdkRejection(network.packetCaptures.create(RG, NE, "eu-2", body));
    expect(refused).toMatchObject({ statusCode: 400, code: "PacketCaptureCountLimitReached" });
    expect(refused.message).toContain("Cannot create more than 1 running packet capture sessions");
    await network.packetCaptures.stop(RG, NE, "eu-1", { updateIntervalInMs: 20 });
    await network.packetCaptures.create(RG, NE, "eu-2", body, { updateIntervalInMs: 20 });
  });

  it("counts foreign running sessions against the configured limit", async () => {
    const limited = await startArmEmulator({ inventory: SAMPLE_INVENTORY, speedFactor: SPEED, packetSource: "synthetic", regionCaptureLimit: 2, log: () => {} });
    try {
      const client = networkClient(limited, SUB);
      const body: PacketCapture = { target: vm("vm-web-1"), storageLocation: { storageId: storage("alertcapcaptures") } };
      await client.packetCaptures.create(RG, NW, "mine-1", body, { updateIntervalInMs: 20 });
      await expect(client.packetCaptures.create(RG, NW, "mine-2", body)).rejects.toMatchObject({ code: "PacketCaptureCountLimitReached" });
    } finally {
      await limited.close();
    }
  });

  it("runs several captures on the same VM at once", async () => {
    const body: PacketCapture = { target: vm("vm-web-1"), storageLocation: { storageId: storage("alertcapcaptures") } };
    await Promise.all(["same-vm-1", "same-vm-2"].map((name) => network.packetCaptures.create(RG, NW, name, body, { updateIntervalInMs: 20 })));
    await waitForSession("same-vm-1", ["Running"]);
    await waitForSession("same-vm-2", ["Running"]);
  });
});

describe("sessions that cannot run", () => {
  it("accepts the capture, then reports Stopped with free-text errors for a deallocated VM or a missing agent", async () => {
    const stopped = await network.packetCaptures.create(RG, NW, "on-stopped-vm", { target: vm("vm-stopped"), storageLocation: { storageId: storage("alertcapcaptures") } }, {
      updateIntervalInMs: 20,
    });
    expect(stopped.provisioningState).toBe("Succeeded");
    await waitForSession("on-stopped-vm", ["Stopped", "Error"]);
    const status = await network.packetCaptures.getStatus(RG, NW, "on-stopped-vm");
    expect(status).toMatchObject({ packetCaptureStatus: "Stopped", packetCaptureError: [`${vm("vm-stopped")} does not exist or is in stopped state.`] });
    expect(status.stopReason).toBeUndefined();

    await network.packetCaptures.create(RG, NW, "no-agent", { target: vm("vm-noagent"), storageLocation: { storageId: storage("alertcapcaptures") } }, { updateIntervalInMs: 20 });
    await waitForSession("no-agent", ["Stopped", "Error"]);
    expect((await network.packetCaptures.getStatus(RG, NW, "no-agent")).packetCaptureError?.[0]).toContain("AzureNetworkWatcherExtension");
    await expect(emulator.whenCaptureFileStored(emulator.capture("no-agent")?.id ?? "")).rejects.toThrow(/without a file/);
  });

  it("runs once the agent is installed", async () => {
    emulator.setNetworkWatcherExtension(vm("vm-noagent"), true);
    await network.packetCaptures.create(RG, NW, "agent-now", { target: vm("vm-noagent"), storageLocation: { storageId: storage("alertcapcaptures") } }, { updateIntervalInMs: 20 });
    await waitForSession("agent-now", ["Running"]);
    emulator.setNetworkWatcherExtension(vm("vm-noagent"), false);
  });

  it("can report such sessions as Error with the spec's enum values instead", async () => {
    const strict = await startArmEmulator({
      inventory: SAMPLE_INVENTORY,
      speedFactor: SPEED,
      packetSource: "synthetic",
      failedSession: { status: "Error", errors: "enum" },
      undocumentedFields: true,
      log: () => {},
    });
    try {
      const client = networkClient(strict, SUB);
      await client.packetCaptures.create(RG, NW, "enum-style", { target: vm("vm-stopped"), storageLocation: { storageId: storage("alertcapcaptures") } }, { updateIntervalInMs: 20 });
      const deadline = Date.now() + 5000;
      while (strict.capture("enum-style")?.packetCaptureStatus === "NotStarted" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await client.packetCaptures.getStatus(RG, NW, "enum-style")).toMatchObject({ packetCaptureStatus: "Error", packetCaptureError: ["AgentStopped"] });
      const raw = await rawArmRequest(strict, { path: `${WATCHER_PATH}/packetCaptures/enum-style?api-version=2026-01-01` });
      const { storageLocation } = (raw.json as { properties: { storageLocation: Record<string, unknown> } }).properties;
      expect(storageLocation["storagePathFileName"]).toMatch(/^packetcapture_.*\.cap$/);
    } finally {
      await strict.close();
    }
  });
});
