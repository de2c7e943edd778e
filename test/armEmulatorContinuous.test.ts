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
    const created = await network.packetCaptures.beginCreateAndWait(
      RG,
      NW,
      "ring",
      continuous(vmId("vm-web-1"), { fileCount: 3, fileSizeInBytes: 40_000, sessionTimeLimitInSeconds: 3600 }),
      { updateIntervalInMs: 20 },
    );
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
    const created = await network.packetCaptures.beginCreateAndWait(
      RG,
      NW,
      "ring-limit",
      continuous(vmId("vm-web-1"), { fileCount: 100, fileSizeInBytes: 100_000, sessionTimeLimitInSeconds: 30 }),
      { updateIntervalInMs: 20 },
    );
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
    const created = await network.packetCaptures.beginCreateAndWait(
      RG,
      NW,
      "ring-dealloc",
      continuous(vmId("vm-win-1"), { fileCount: 10, fileSizeInBytes: 30_000 }),
      { updateIntervalInMs: 20 },
    );
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

  it("plays a failure that starts at a chosen instant: SERVFAIL only in files after it", async () => {
    // 20 s into the session (a file holds about 4 s of this VM's traffic).
    const failureStarts = new Date(clock.now().getTime() + 20_000);
    emulator.setTrafficProfile(vmId("vm-win-1"), { failingFrom: failureStarts });
    const created = await network.packetCaptures.beginCreateAndWait(
      RG,
      NW,
      "ring-failing",
      continuous(vmId("vm-win-1"), { fileCount: 50, fileSizeInBytes: 30_000, sessionTimeLimitInSeconds: 60 }),
      { updateIntervalInMs: 20 },
    );
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
    await network.packetCaptures.beginCreateAndWait(RG, NW, "ring-beside", continuous(vmId("vm-web-1"), { fileCount: 2, fileSizeInBytes: 50_000 }), {
      updateIntervalInMs: 20,
    });
    await network.packetCaptures.beginCreateAndWait(
      RG,
      NW,
      "alert-beside",
      { target: vmId("vm-web-1"), storageLocation: { storageId: STORAGE }, timeLimitInSeconds: 300 },
      { updateIntervalInMs: 20 },
    );
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
