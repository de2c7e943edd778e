// Network Watcher continuous capture in the ARM emulator, through the real SDK over HTTPS and real Azurite: create
// with `continuousCapture` → Running → the ring rotates by size, uploads each full file under the session's
// storagePath and keeps at most fileCount of them → stop uploads the open file → the session limit ends a session
// with TimeExceeded → a deallocated VM ends it with Error; invalid bodies get Azure's 400 error shape.
// Sessions run on a VirtualClock that the test moves, so a minute-long session with dozens of rotations takes
// milliseconds of real time.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { NetworkManagementClient, PacketCapture, PacketCaptureQueryStatusResult } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { VirtualClock } from "../local/host/durable/clock.js";
import { azuriteConnectionString, type Service, startAzurite } from "../local/services.js";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { buildPcap, PcapStream } from "../local/arm-emulator/capture/pcapFile.js";
import { MAX_ROUNDS, ringFileRounds, roundsOfTraffic } from "../local/traffic/syntheticTraffic.js";
import { steadyProfile } from "../local/traffic/profile.js";
import { parseInventory } from "../local/arm-emulator/inventory.js";
import { inventoryTrafficChoice, TrafficProfiles } from "../local/arm-emulator/trafficProfiles.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const NW_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/${NW}`;
const vmId = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/${name}`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;
const CONTAINER = "network-watcher-logs";
const START = new Date("2026-11-25T08:00:00Z");

let azurite: Service;
let azuriteDir: string;
let container: ContainerClient;
let emulator: ArmEmulator;
let network: NetworkManagementClient;
const clock = new VirtualClock(START);

beforeAll(async () => {
  azuriteDir = mkdtempSync(join(tmpdir(), "alertcap-azurite-"));
  azurite = await startAzurite(azuriteDir);
  const blob = azuriteConnectionString(azurite.ready[0]!);
  container = BlobServiceClient.fromConnectionString(blob).getContainerClient(CONTAINER);
  await container.createIfNotExists();
  // Operation latencies become milliseconds of real time; sessions follow the virtual clock.
  const fast = 0.01;
  emulator = await startArmEmulator({
    inventory: SAMPLE_INVENTORY,
    blobConnectionString: blob,
    clock,
    // Clients poll at their own interval (a 10 s Retry-After would stall a poll that comes before the operation ended).
    lroRetryAfterSeconds: 0,
    timings: { createSeconds: fast, captureStartSeconds: fast, queryStatusSeconds: 0, stopSeconds: fast, deleteSeconds: fast, blobUploadDelaySeconds: fast },
    trafficProfiles: { [vmId("vm-win-1")]: "healthy" },
    log: () => {},
  });
  network = networkClient(emulator, SUB);
}, 60_000);

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
  if (azuriteDir) rmSync(azuriteDir, { recursive: true, force: true });
});

function continuous(target: string, captureSettings: NonNullable<PacketCapture["captureSettings"]>, extra: Partial<PacketCapture> = {}): PacketCapture {
  return { target, targetType: "AzureVM", storageLocation: { storageId: STORAGE }, continuousCapture: true, captureSettings, ...extra };
}

/** Creates a continuous capture under the westus2 watcher and waits for the create operation to succeed. */
function createRing(name: string, capture: PacketCapture, client: NetworkManagementClient = network) {
  return client.packetCaptures.beginCreateAndWait(RG, NW, name, capture, { updateIntervalInMs: 20 });
}

async function statusOf(name: string): Promise<PacketCaptureQueryStatusResult> {
  return network.packetCaptures.getStatus(RG, NW, name, { updateIntervalInMs: 20 });
}

async function waitForStatus(name: string, wanted: string): Promise<PacketCaptureQueryStatusResult> {
  let status: PacketCaptureQueryStatusResult | undefined;
  await until(async () => (status = await statusOf(name)).packetCaptureStatus === wanted, `${name} to be ${wanted}`);
  return status as PacketCaptureQueryStatusResult;
}

/** Moves the virtual clock from one due instant to the next (the uploads of each step done) until `done` holds. */
async function advanceUntil(done: () => boolean | Promise<boolean>, eachStep: () => Promise<void> = async () => {}): Promise<void> {
  for (let step = 0; step < 10_000; step++) {
    await emulator.ringsSettled();
    await eachStep();
    if (await done()) return;
    const next = clock.nextDue();
    if (next) clock.advanceTo(next);
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("the condition never held");
}

interface RingBlob {
  name: string;
  closedAt: Date;
  openedAt: Date;
  bytes: number;
}

/** The ring's blobs under a session's storagePath (a folder), in name order. */
async function blobsUnder(storagePath: string): Promise<RingBlob[]> {
  const prefix = `${new URL(storagePath).pathname.replace(`/${CONTAINER}/`, "")}/`;
  const blobs: RingBlob[] = [];
  for await (const item of container.listBlobsFlat({ prefix, includeMetadata: true })) {
    // Metadata keys keep their case in a listing (and come back in lower case from a blob's properties): match either.
    const metadata = new Map(Object.entries(item.metadata ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
    blobs.push({
      name: item.name,
      closedAt: new Date(metadata.get("closedat") ?? ""),
      openedAt: new Date(metadata.get("openedat") ?? ""),
      bytes: item.properties.contentLength ?? 0,
    });
  }
  return blobs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Packet timestamps (epoch ms) of a pcap file, and the DNS response codes it holds (UDP from port 53). */
function pcapContents(file: Buffer): { times: number[]; dnsRcodes: number[] } {
  const times: number[] = [];
  const dnsRcodes: number[] = [];
  for (let offset = 24; offset + 16 <= file.length; ) {
    const length = file.readUInt32LE(offset + 8);
    times.push(file.readUInt32LE(offset) * 1000 + file.readUInt32LE(offset + 4) / 1000);
    const frame = file.subarray(offset + 16, offset + 16 + length);
    if (frame.readUInt8(23) === 17 && frame.readUInt16BE(34) === 53) dnsRcodes.push(frame.readUInt8(42 + 3) & 0x0f);
    offset += 16 + length;
  }
  return { times, dnsRcodes };
}

async function download(name: string): Promise<Buffer> {
  return container.getBlobClient(name).downloadToBuffer();
}

describe("continuous capture", () => {
  it("runs a ring: rotates by size, keeps at most fileCount files, uploads the open file on stop", async () => {
    const created = await createRing("ring", continuous(vmId("vm-web-1"), { fileCount: 3, fileSizeInBytes: 40_000, sessionTimeLimitInSeconds: 3600 }));
    expect(created).toMatchObject({
      provisioningState: "Succeeded",
      continuousCapture: true,
      captureSettings: { fileCount: 3, fileSizeInBytes: 40_000, sessionTimeLimitInSeconds: 3600 },
    });
    // The session's storagePath is the folder its files go to, stamped with the (virtual) creation time.
    const storagePath = created.storageLocation?.storagePath ?? "";
    expect(storagePath).toBe(
      `https://alertcapcaptures.blob.core.windows.net/${CONTAINER}/subscriptions/${SUB}/resourcegroups/rg-app/providers/` +
        "microsoft.compute/virtualmachines/vm-web-1/2026/11/25/packetcapture_08_00_00_000",
    );
    const running = await waitForStatus("ring", "Running");
    expect(running.captureStartTime?.toISOString()).toBe(START.toISOString());

    // Many rotations: the ring never holds more than fileCount blobs, and deletes the oldest.
    let most = 0;
    await advanceUntil(
      () => (emulator.capture("ring")?.ring?.machines[0]?.deleted ?? 0) >= 4,
      async () => {
        most = Math.max(most, (await blobsUnder(storagePath)).length);
      },
    );
    expect(most).toBe(3);
    const kept = await blobsUnder(storagePath);
    expect(kept.map((blob) => blob.name.split("/").pop())).toEqual(["vm-web-1_000005.cap", "vm-web-1_000006.cap", "vm-web-1_000007.cap"]);
    for (const [i, blob] of kept.entries()) {
      // Each file was closed when it reached the size (whole rounds: never above it) and the next one opened then.
      expect(blob.bytes).toBeLessThanOrEqual(40_000);
      expect(blob.bytes).toBeGreaterThan(20_000);
      expect(blob.closedAt.getTime()).toBeGreaterThan(blob.openedAt.getTime());
      if (i > 0) expect(blob.openedAt.getTime()).toBe(kept[i - 1]!.closedAt.getTime());
      // Its packets lie in the span it covers, on the virtual clock (the last round's unanswered SYN is retransmitted
      // a second later).
      const { times } = pcapContents(await download(blob.name));
      expect(times.length).toBeGreaterThan(0);
      expect(Math.min(...times)).toBeGreaterThanOrEqual(blob.openedAt.getTime());
      expect(Math.max(...times)).toBeLessThan(blob.closedAt.getTime() + 1100);
    }

    // Stop: the open file is uploaded, closed at the stop instant; the ring still holds fileCount files.
    const stoppedAt = clock.now();
    await network.packetCaptures.stop(RG, NW, "ring", { updateIntervalInMs: 20 });
    expect(await statusOf("ring")).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "Manual", packetCaptureError: [] });
    const stored = await emulator.whenCaptureFileStored(created.id ?? "");
    const after = await blobsUnder(storagePath);
    expect(after.map((blob) => blob.name.split("/").pop())).toEqual(["vm-web-1_000006.cap", "vm-web-1_000007.cap", "vm-web-1_000008.cap"]);
    expect(after.at(-1)?.closedAt.toISOString()).toBe(stoppedAt.toISOString());
    expect(stored.blobs.map((blob) => blob.blobName)).toEqual(after.map((blob) => blob.name));
  });

  it("ends a session at sessionTimeLimitInSeconds with TimeExceeded, its last file closed at the limit", async () => {
    const created = await createRing("ring-limit", continuous(vmId("vm-web-1"), { fileCount: 100, fileSizeInBytes: 100_000, sessionTimeLimitInSeconds: 30 }));
    const running = await waitForStatus("ring-limit", "Running");
    const limit = (running.captureStartTime?.getTime() ?? 0) + 30_000;
    await advanceUntil(() => emulator.capture("ring-limit")?.packetCaptureStatus === "Stopped");
    expect(clock.now().getTime()).toBe(limit);
    expect(await statusOf("ring-limit")).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "TimeExceeded" });
    await emulator.whenCaptureFileStored(created.id ?? "");
    const blobs = await blobsUnder(created.storageLocation?.storagePath ?? "");
    expect(blobs.length).toBeGreaterThanOrEqual(3);
    expect(blobs.at(-1)?.closedAt.getTime()).toBe(limit);
  });

  it("ends with Error and free text when the VM is deallocated mid-session, uploading the open file", async () => {
    const created = await createRing("ring-dealloc", continuous(vmId("vm-win-1"), { fileCount: 10, fileSizeInBytes: 30_000 }));
    await waitForStatus("ring-dealloc", "Running");
    await advanceUntil(() => (emulator.capture("ring-dealloc")?.ring?.machines[0]?.nextSeq ?? 0) >= 3);
    emulator.setPowerState(vmId("vm-win-1"), "deallocated");
    try {
      expect(await statusOf("ring-dealloc")).toMatchObject({
        packetCaptureStatus: "Error",
        packetCaptureError: [`${vmId("vm-win-1")} does not exist or is in stopped state.`],
      });
      const stored = await emulator.whenCaptureFileStored(created.id ?? "");
      expect(stored.blobs).toHaveLength(3);
    } finally {
      emulator.setPowerState(vmId("vm-win-1"), "running");
    }
  });

  it("keeps one ring per scale-set instance, in its own subfolder; the session ends when its last instance stops", async () => {
    const vmss = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
    const created = await createRing("ring-vmss", { ...continuous(vmss, { fileCount: 2, fileSizeInBytes: 30_000 }), targetType: "AzureVMSS" });
    const storagePath = created.storageLocation?.storagePath ?? "";
    expect(storagePath).toMatch(/\/virtualmachinescalesets\/vmss-api\/\d{4}\/\d{2}\/\d{2}\/packetcapture_\d{2}_\d{2}_\d{2}_\d{3}$/);
    // Instance 2 is stopped: two rings, and the recorded free text for the third.
    const running = await waitForStatus("ring-vmss", "Running");
    expect(running.packetCaptureError).toEqual([`${vmss}/virtualMachines/2 does not exist or is in stopped state.`]);
    await advanceUntil(() => (emulator.capture("ring-vmss")?.ring?.machines ?? []).every((machine) => machine.deleted >= 1));
    const names = (await blobsUnder(storagePath)).map((blob) => blob.name.slice(new URL(storagePath).pathname.length - CONTAINER.length - 1));
    expect(names.filter((name) => name.startsWith("vmss-api_0/"))).toHaveLength(2);
    expect(names.filter((name) => name.startsWith("vmss-api_1/"))).toHaveLength(2);
    expect(names.every((name) => /^vmss-api_[01]\/vmss-api_[01]_\d{6}\.cap$/.test(name))).toBe(true);

    emulator.setPowerState(`${vmss}/virtualMachines/0`, "deallocated");
    try {
      expect((await statusOf("ring-vmss")).packetCaptureStatus).toBe("Running");
      emulator.setPowerState(`${vmss}/virtualMachines/1`, "deallocated");
      const ended = await statusOf("ring-vmss");
      expect(ended.packetCaptureStatus).toBe("Error");
      expect(ended.packetCaptureError).toEqual(
        expect.arrayContaining([`${vmss}/virtualMachines/0 does not exist or is in stopped state.`, `${vmss}/virtualMachines/1 does not exist or is in stopped state.`]),
      );
      const stored = await emulator.whenCaptureFileStored(created.id ?? "");
      expect(stored.blobs).toHaveLength(4);
    } finally {
      emulator.setPowerState(`${vmss}/virtualMachines/0`, "running");
      emulator.setPowerState(`${vmss}/virtualMachines/1`, "running");
    }
  });

  it("plays a failure that starts at a chosen instant: SERVFAIL only in files after it", async () => {
    // 20 s into the session (a file holds about 4 s of this VM's traffic).
    const failureStarts = new Date(clock.now().getTime() + 20_000);
    emulator.setTrafficProfile(vmId("vm-win-1"), { failingFrom: failureStarts });
    const created = await createRing("ring-failing", continuous(vmId("vm-win-1"), { fileCount: 50, fileSizeInBytes: 30_000, sessionTimeLimitInSeconds: 60 }));
    await waitForStatus("ring-failing", "Running");
    await advanceUntil(() => emulator.capture("ring-failing")?.packetCaptureStatus === "Stopped");
    await emulator.whenCaptureFileStored(created.id ?? "");
    const servfailTimes: number[] = [];
    const noErrorTimes: number[] = [];
    for (const blob of await blobsUnder(created.storageLocation?.storagePath ?? "")) {
      const file = await download(blob.name);
      const { times, dnsRcodes } = pcapContents(file);
      expect(times.length).toBeGreaterThan(0);
      if (dnsRcodes.includes(2)) servfailTimes.push(blob.openedAt.getTime());
      else noErrorTimes.push(blob.openedAt.getTime());
    }
    expect(servfailTimes.length).toBeGreaterThan(0);
    expect(noErrorTimes.length).toBeGreaterThan(0);
    // Files before the instant are healthy, files from it on fail (a file may straddle it).
    expect(Math.max(...noErrorTimes)).toBeLessThan(failureStarts.getTime());
    expect(Math.min(...servfailTimes)).toBeGreaterThan(failureStarts.getTime() - 10_000);
  });

  it("counts continuous sessions against the region's limit, and lets a VM with a ring also get a one-off capture", async () => {
    // westus2 (no limit in the inventory): a one-off capture beside a running continuous one on the same VM.
    await createRing("ring-beside", continuous(vmId("vm-web-1"), { fileCount: 2, fileSizeInBytes: 50_000 }));
    await createRing("alert-beside", { target: vmId("vm-web-1"), storageLocation: { storageId: STORAGE }, timeLimitInSeconds: 300 });
    await waitForStatus("ring-beside", "Running");
    await waitForStatus("alert-beside", "Running");

    // northeurope allows one running session (inventory regionLimits): a continuous one takes it.
    const eu = { rg: RG, nw: "NetworkWatcher_northeurope" };
    const euVm = `/subscriptions/${SUB}/resourceGroups/rg-eu/providers/Microsoft.Compute/virtualMachines/vm-eu-1`;
    await network.packetCaptures.beginCreateAndWait(eu.rg, eu.nw, "ring-eu", { target: euVm, storageLocation: { localPath: "/var/captures/ring.cap" }, continuousCapture: true }, {
      updateIntervalInMs: 20,
    });
    await expect(
      network.packetCaptures.beginCreateAndWait(eu.rg, eu.nw, "alert-eu", { target: euVm, storageLocation: { filePath: "/var/captures/a.cap" } }, { updateIntervalInMs: 20 }),
    ).rejects.toMatchObject({ statusCode: 400, code: "PacketCaptureCountLimitReached" });
  });
});

describe("continuous capture requests", () => {
  const path = (name: string, apiVersion = "2026-01-01") => `${NW_PATH}/packetCaptures/${name}?api-version=${apiVersion}`;
  const put = (name: string, properties: Record<string, unknown>, apiVersion?: string) =>
    rawArmRequest(emulator, { method: "PUT", path: path(name, apiVersion), body: { properties } });
  const base = { target: vmId("vm-web-1"), storageLocation: { storageId: STORAGE } };

  it("fills captureSettings' defaults in the answer", async () => {
    const created = await put("defaults", { ...base, continuousCapture: true });
    expect(created.status).toBe(201);
    expect((created.json as { properties: Record<string, unknown> }).properties).toMatchObject({
      continuousCapture: true,
      captureSettings: { fileCount: 10, fileSizeInBytes: 104857600, sessionTimeLimitInSeconds: 86400 },
    });
    const partial = await put("partial", { ...base, continuousCapture: true, captureSettings: { fileCount: 4 } });
    expect((partial.json as { properties: Record<string, unknown> }).properties["captureSettings"]).toEqual({
      fileCount: 4,
      fileSizeInBytes: 104857600,
      sessionTimeLimitInSeconds: 86400,
    });
  });

  it.each([
    ["fileCount above 10000", { captureSettings: { fileCount: 10001 } }, "properties.captureSettings.fileCount"],
    ["fileSizeInBytes above 4 GiB", { captureSettings: { fileSizeInBytes: 4294967296 } }, "properties.captureSettings.fileSizeInBytes"],
    ["sessionTimeLimitInSeconds above 7 days", { captureSettings: { sessionTimeLimitInSeconds: 604801 } }, "properties.captureSettings.sessionTimeLimitInSeconds"],
    ["a negative fileCount", { captureSettings: { fileCount: -1 } }, "properties.captureSettings.fileCount"],
    ["filePath with continuousCapture true", { storageLocation: { storageId: STORAGE, filePath: "/var/captures/x.cap" } }, "properties.storageLocation.filePath"],
    ["a localPath outside /var/captures", { storageLocation: { localPath: "/tmp/x.cap" } }, "properties.storageLocation.localPath"],
  ])("refuses %s with a 400 naming the property", async (_what, change, target) => {
    const answer = await put("bad", { ...base, continuousCapture: true, ...change });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: "InvalidRequestFormat", target, message: expect.stringContaining(target) } });
  });

  it("refuses filePath with continuousCapture false, and localPath without continuousCapture", async () => {
    const withFalse = await put("bad", { ...base, continuousCapture: false, storageLocation: { storageId: STORAGE, filePath: "/var/captures/x.cap" } });
    expect(withFalse.json).toMatchObject({ error: { code: "InvalidRequestFormat", target: "properties.storageLocation.filePath" } });
    const localOnly = await put("bad", { ...base, storageLocation: { storageId: STORAGE, localPath: "/var/captures/x.cap" } });
    expect(localOnly.json).toMatchObject({ error: { code: "InvalidRequestFormat", target: "properties.storageLocation.localPath" } });
  });

  it("ignores the continuous-capture fields before api-version 2024-05-01, which does not define them", async () => {
    const created = await put("old-api", { ...base, continuousCapture: true, captureSettings: { fileCount: 2 } }, "2024-03-01");
    expect(created.status).toBe(201);
    const properties = (created.json as { properties: Record<string, unknown> }).properties;
    expect(properties).not.toHaveProperty("continuousCapture");
    expect(properties).not.toHaveProperty("captureSettings");
    // A one-off capture: its storagePath names a .cap file, and the newer api-version shows no continuous fields.
    expect((properties["storageLocation"] as { storagePath: string }).storagePath).toMatch(/\.cap$/);
    expect((await network.packetCaptures.get(RG, NW, "old-api")).continuousCapture).toBeUndefined();
    const newer = await put("new-api", { ...base, continuousCapture: true }, "2024-05-01");
    expect((newer.json as { properties: Record<string, unknown> }).properties).toHaveProperty("continuousCapture", true);
  });
});

describe("continuous capture on the real clock", () => {
  let live: ArmEmulator;
  let liveNetwork: NetworkManagementClient;

  beforeAll(async () => {
    live = await startArmEmulator({ inventory: SAMPLE_INVENTORY, blobConnectionString: azuriteConnectionString(azurite.ready[0]!), speedFactor: 50, log: () => {} });
    liveNetwork = networkClient(live, SUB);
  });

  afterAll(async () => {
    await live?.close();
  });

  it("cuts the VM's recorded traffic (tcpdump where it can record) into files as it arrives", async () => {
    const created = await createRing("live-ring", continuous(vmId("vm-web-1"), { fileCount: 2, fileSizeInBytes: 8_000 }), liveNetwork);
    await until(() => (live.capture("live-ring")?.ring?.machines[0]?.deleted ?? 0) >= 1, "the ring to delete its oldest file", 30_000);
    await liveNetwork.packetCaptures.stop(RG, NW, "live-ring", { updateIntervalInMs: 20 });
    const stored = await live.whenCaptureFileStored(created.id ?? "");
    const snapshot = live.capture("live-ring");
    expect(snapshot?.file.source).toBe(stored.source);
    const blobs = await blobsUnder(created.storageLocation?.storagePath ?? "");
    expect(blobs.map((blob) => blob.name)).toEqual(stored.blobs.map((blob) => blob.blobName));
    expect(blobs).toHaveLength(2);
    for (const blob of blobs) {
      expect(blob.bytes).toBeLessThanOrEqual(8_000);
      const { times } = pcapContents(await download(blob.name));
      expect(times.length).toBeGreaterThan(0);
      // Real time: the packets were recorded while the file was open (a file opens with its first packet).
      expect(Math.min(...times)).toBeGreaterThanOrEqual(blob.openedAt.getTime());
    }
    expect(blobs[0]!.closedAt.getTime()).toBeLessThanOrEqual(blobs[1]!.openedAt.getTime());
  }, 60_000);
});

describe("ring building blocks", () => {
  it("splits a pcap stream into its header and whole records, however the chunks fall", () => {
    const packets = roundsOfTraffic("vm-a", undefined, Date.UTC(2026, 10, 25), [0, 1], steadyProfile);
    const file = buildPcap(packets, 262144);
    for (const chunkSize of [1, 7, 16, 100, 4096, file.length]) {
      const stream = new PcapStream();
      const records: Buffer[] = [];
      for (let offset = 0; offset < file.length; offset += chunkSize) stream.push(file.subarray(offset, offset + chunkSize), (record) => records.push(record));
      expect(records).toHaveLength(packets.length);
      expect(Buffer.concat([stream.header!, ...records]).equals(file)).toBe(true);
      expect(records.map((record) => stream.timestampMs(record))).toEqual(packets.map((packet) => Math.floor(packet.timestampMs * 1000) / 1000));
    }
  });

  it("fills a synthetic ring file with the whole rounds that fit, and spreads MAX_ROUNDS over a large file's span", () => {
    const start = Date.UTC(2026, 10, 25);
    const small = ringFileRounds("vm-a", undefined, start, 5, 40_000, 262144, steadyProfile);
    expect(small.rounds).toEqual([5, 6, 7, 8]);
    expect(small.nextFirstRound).toBe(9);
    expect(buildPcap(roundsOfTraffic("vm-a", undefined, start, small.rounds, steadyProfile), 262144).length).toBeLessThanOrEqual(40_000);
    const large = ringFileRounds("vm-a", undefined, start, 0, 100 * 1024 * 1024, 262144, steadyProfile);
    expect(large.rounds).toHaveLength(MAX_ROUNDS);
    expect(large.nextFirstRound).toBeGreaterThan(10_000);
    expect(large.rounds.at(-1)!).toBeLessThan(large.nextFirstRound!);
    // A filter that matches nothing: the file never fills.
    const none = ringFileRounds("vm-a", [{ protocol: "UDP", localPort: "9" }], start, 0, 40_000, 262144, steadyProfile);
    expect(none).toEqual({ rounds: [], nextFirstRound: undefined });
  });

  it("reads a VM's traffic from the inventory: healthy until failingAfterSeconds after the emulator started, then failing", () => {
    const warnings: string[] = [];
    const id = vmId("vm-a");
    const inventory = parseInventory(
      { virtualMachines: [{ id, location: "westus2", traffic: { failingAfterSeconds: 300 } }] },
      "inventory",
      (line) => warnings.push(line),
    );
    expect(warnings).toEqual([]);
    const started = Date.UTC(2026, 10, 25, 8);
    const profiles = new TrafficProfiles();
    profiles.set(id, inventoryTrafficChoice(inventory.virtualMachines[0]!.traffic!, started));
    const dbAnswer = (atMs: number) =>
      profiles.profileFor(id).round(0, 0, atMs).find((exchange) => exchange.kind === "dns" && exchange.name.startsWith("db."));
    expect(dbAnswer(started + 299_000)).toMatchObject({ outcome: "NOERROR" });
    expect(dbAnswer(started + 300_000)).toMatchObject({ outcome: "SERVFAIL" });
    // A scale set's choice covers its instances.
    const scaleSet = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-a`;
    profiles.set(scaleSet, "failing");
    expect(profiles.profileFor(`${scaleSet}/virtualMachines/3`).round(0, 0, started).some((exchange) => exchange.kind === "refused")).toBe(true);
  });
});
