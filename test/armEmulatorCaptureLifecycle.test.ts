// A packet capture's whole life through the real SDK: create → Running → Stopped (time limit, byte limit, stop
// request) → a real pcap (tcpdump on loopback, or the synthetic fallback) at Network Watcher's blob path in Azurite
// → delete, which keeps the file.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, connect, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { BlobServiceClient } from "@azure/storage-blob";
import type { NetworkManagementClient, PacketCapture, PacketCaptureQueryStatusResult } from "@azure/arm-network";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { azuriteConnectionString, type Service, startAzurite } from "../local/services.js";
import { readPcap } from "../local/arm-emulator/testing/pcapPackets.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";
import { tcpdumpRecords, tsharkAvailable } from "./support/captureTools.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const VM_WEB = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`;
const VMSS = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;
/** 50× faster than the service: a 10 s stop takes 200 ms, a 60 s capture 1.2 s. */
const SPEED = 50;

let azurite: Service;
let azuriteDir: string;
let blobConnectionString: string;
let emulator: ArmEmulator;
let network: NetworkManagementClient;
/** The machine's own loopback traffic, which no capture may hold. */
let otherServer: Server;
const logLines: string[] = [];

beforeAll(async () => {
  azuriteDir = mkdtempSync(join(tmpdir(), "alertcap-azurite-"));
  azurite = await startAzurite(azuriteDir);
  blobConnectionString = azuriteConnectionString(azurite.ready[0]!);
  emulator = await startArmEmulator({
    inventory: SAMPLE_INVENTORY,
    speedFactor: SPEED,
    blobConnectionString: blobConnectionString,
    log: (line) => logLines.push(line),
  });
  network = networkClient(emulator, SUB);
  otherServer = await listen();
});

afterAll(async () => {
  await emulator?.close();
  await azurite?.stop();
  if (azuriteDir) rmSync(azuriteDir, { recursive: true, force: true });
  otherServer?.close();
});

function listen(): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Opens a connection, sends `bytes` bytes, waits for the echo, closes. */
function exchange(port: number, bytes = 200): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(Buffer.alloc(bytes, 0x61)));
    let received = 0;
    socket.on("data", (chunk) => {
      received += chunk.length;
      if (received >= bytes) socket.end();
    });
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
}

async function statusOf(name: string): Promise<PacketCaptureQueryStatusResult> {
  return network.packetCaptures.getStatus(RG, NW, name, { updateIntervalInMs: 20 });
}

async function waitForStatus(name: string, wanted: string[], timeoutMs = 15_000): Promise<PacketCaptureQueryStatusResult> {
  let status: PacketCaptureQueryStatusResult | undefined;
  await until(async () => {
    status = await statusOf(name);
    return wanted.includes(status.packetCaptureStatus ?? "");
  }, `${name} to be ${wanted.join(" or ")}`, timeoutMs);
  return status as PacketCaptureQueryStatusResult;
}

async function download(container: string, blobName: string): Promise<Buffer> {
  return BlobServiceClient.fromConnectionString(blobConnectionString)
    .getContainerClient(container)
    .getBlobClient(blobName)
    .downloadToBuffer();
}

/** The emulated VM's web server (port 80, called by its load balancer): part of the traffic the emulator generates. */
const WEB_PORT = 80;

function captureOfWebTraffic(extra: Partial<PacketCapture> = {}): PacketCapture {
  return {
    target: VM_WEB,
    targetType: "AzureVM",
    storageLocation: { storageId: STORAGE },
    filters: [{ protocol: "TCP", localPort: String(WEB_PORT) }],
    ...extra,
  };
}

describe("capture lifecycle", () => {
  it("creates a capture, runs it to its time limit and stores a real pcap at Network Watcher's blob path", async () => {
    const created = await network.packetCaptures.beginCreateAndWait(RG, NW, "lifecycle-time", captureOfWebTraffic({ timeLimitInSeconds: 60 }), {
      updateIntervalInMs: 20,
    });
    expect(created.provisioningState).toBe("Succeeded");
    const fetched = await network.packetCaptures.get(RG, NW, "lifecycle-time");
    expect(fetched).toMatchObject({ provisioningState: "Succeeded", target: VM_WEB, timeLimitInSeconds: 60, bytesToCapturePerPacket: 0, totalBytesPerSession: 1073741824 });
    expect(fetched.filters).toEqual([{ protocol: "TCP", localIPAddress: "", remoteIPAddress: "", localPort: String(WEB_PORT), remotePort: "" }]);
    const storagePath = fetched.storageLocation?.storagePath ?? "";
    expect(storagePath).toMatch(
      new RegExp(
        `^https://alertcapcaptures\\.blob\\.core\\.windows\\.net/network-watcher-logs/subscriptions/${SUB}/resourcegroups/rg-app/` +
          "providers/microsoft\\.compute/virtualmachines/vm-web-1/\\d{4}/\\d{2}/\\d{2}/packetcapture_\\d{2}_\\d{2}_\\d{2}_\\d{3}\\.cap$",
      ),
    );

    const running = await waitForStatus("lifecycle-time", ["Running"]);
    expect(running.captureStartTime).toBeInstanceOf(Date);
    expect(running.packetCaptureError).toEqual([]);
    // A running session answers queryStatus as a long-running operation (202 + Location, then 200).
    const statusCalls = emulator.requests().filter((entry) => entry.operationId === "PacketCaptures_GetStatus");
    expect(statusCalls.at(-1)?.status).toBe(202);
    expect(emulator.requests().some((entry) => entry.operationId === "Network_OperationResult" && entry.status === 200)).toBe(true);

    // Other traffic on the machine's loopback while the capture runs.
    await exchange(portOf(otherServer));

    const stopped = await waitForStatus("lifecycle-time", ["Stopped"]);
    expect(stopped.stopReason).toBe("TimeExceeded");
    const stored = await emulator.whenCaptureFileStored(fetched.id ?? "");
    const blobName = new URL(storagePath).pathname.replace(/^\/network-watcher-logs\//, "");
    expect(stored.blobs.map((blob) => `${blob.container}/${blob.blobName}`)).toEqual([`network-watcher-logs/${blobName}`]);

    const pcap = readPcap(await download("network-watcher-logs", blobName));
    expect(pcap.packets.length).toBeGreaterThan(0);
    if (tcpdumpRecords) {
      expect(stored.source).toBe("tcpdump");
      expect(pcap.linkType).toBe(1);
      // The filter kept the VM's web conversations (handshake, request, response, teardown each), nothing else.
      expect(pcap.packets.length).toBeGreaterThanOrEqual(10);
      expect(pcap.packets.every((packet) => packet.sourcePort === WEB_PORT || packet.destinationPort === WEB_PORT)).toBe(true);
    } else {
      expect(stored.source).toBe("synthetic");
    }
    if (tsharkAvailable && stored.localPath) {
      const decoded = spawnSync("tshark", ["-r", stored.localPath, "-T", "fields", "-e", "tcp.port"], { encoding: "utf8" });
      expect(decoded.status).toBe(0);
      expect(decoded.stdout.trim().split("\n")).toHaveLength(pcap.packets.length);
    }
  });

  it("stops early on request: Manual stop reason, then the file appears", async () => {
    await network.packetCaptures.create(RG, NW, "lifecycle-stop", captureOfWebTraffic({ timeLimitInSeconds: 18000 }), { updateIntervalInMs: 20 });
    await waitForStatus("lifecycle-stop", ["Running"]);
    await network.packetCaptures.stop(RG, NW, "lifecycle-stop", { updateIntervalInMs: 20 });
    const status = await statusOf("lifecycle-stop");
    expect(status).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "Manual", packetCaptureError: [] });
    // An ended session answers queryStatus with 200 straight away, not 202.
    expect(emulator.requests().filter((entry) => entry.operationId === "PacketCaptures_GetStatus").at(-1)?.status).toBe(200);
    const stored = await emulator.whenCaptureFileStored(emulator.capture("lifecycle-stop")?.id ?? "");
    expect(stored.blobs).toHaveLength(1);
    const pcap = readPcap(await download("network-watcher-logs", stored.blobs[0]?.blobName ?? ""));
    expect(pcap.packets.length).toBeGreaterThan(0);
    // Stopping a stopped capture succeeds the same way.
    await network.packetCaptures.stop(RG, NW, "lifecycle-stop", { updateIntervalInMs: 20 });
  });

  it("deletes a capture, which leaves the file in storage", async () => {
    const before = [];
    for await (const capture of network.packetCaptures.list(RG, NW)) before.push(capture.name);
    expect(before).toEqual(expect.arrayContaining(["lifecycle-time", "lifecycle-stop", "ops-team-capture", "old-investigation"]));
    const stored = await emulator.whenCaptureFileStored(emulator.capture("lifecycle-stop")?.id ?? "");
    await network.packetCaptures.delete(RG, NW, "lifecycle-stop", { updateIntervalInMs: 20 });
    const after = [];
    for await (const capture of network.packetCaptures.list(RG, NW)) after.push(capture.name);
    expect(after).not.toContain("lifecycle-stop");
    await expect(network.packetCaptures.get(RG, NW, "lifecycle-stop")).rejects.toMatchObject({ statusCode: 404, code: "NotFound" });
    expect((await download("network-watcher-logs", stored.blobs[0]?.blobName ?? "")).length).toBe(stored.bytes);
  });

  it("honours bytesToCapturePerPacket and ends the session at totalBytesPerSession", async () => {
    await network.packetCaptures.create(
      RG,
      NW,
      "lifecycle-bytes",
      captureOfWebTraffic({ timeLimitInSeconds: 18000, bytesToCapturePerPacket: 96, totalBytesPerSession: 700 }),
      { updateIntervalInMs: 20 },
    );
    // One round of the VM's web traffic is more than 700 bytes.
    const stopped = await waitForStatus("lifecycle-bytes", ["Stopped"]);
    // The real service's stop reason for the byte limit is unknown, so by default none is given.
    expect(stopped.stopReason).toBeUndefined();
    const stored = await emulator.whenCaptureFileStored(emulator.capture("lifecycle-bytes")?.id ?? "");
    expect(stored.bytes).toBeLessThanOrEqual(700);
    const pcap = readPcap(await download("network-watcher-logs", stored.blobs[0]?.blobName ?? ""));
    expect(pcap.packets.length).toBeGreaterThan(0);
    expect(pcap.packets.every((packet) => packet.capturedLength <= 96)).toBe(true);
    expect(emulator.capture("lifecycle-bytes")?.file.byteLimitReached).toBe(true);
  });

  it("captures a scale set: its own file per running instance under the storagePath's folder, free-text errors for the others", async () => {
    await network.packetCaptures.create(
      RG,
      NW,
      "lifecycle-vmss",
      { target: VMSS, targetType: "AzureVMSS", scope: { include: ["0", "1", "2"] }, timeLimitInSeconds: 100, storageLocation: { storageId: STORAGE } },
      { updateIntervalInMs: 20 },
    );
    const running = await waitForStatus("lifecycle-vmss", ["Running"]);
    expect(running.packetCaptureError).toEqual([`${VMSS}/virtualMachines/2 does not exist or is in stopped state.`]);
    const stopped = await waitForStatus("lifecycle-vmss", ["Stopped"]);
    expect(stopped.stopReason).toBe("2 VM Instance(s) stopped due to TimeExceeded Reasons. ");
    const snapshot = emulator.capture("lifecycle-vmss");
    const stored = await emulator.whenCaptureFileStored(snapshot?.id ?? "");
    // storagePath ends in `.cap` (the default form, as Azure answers it); the files lie in the folder of its stem.
    const reported = new URL(snapshot?.storagePath ?? "").pathname.replace(/^\/network-watcher-logs\//, "");
    expect(reported).toMatch(/\/virtualmachinescalesets\/vmss-api\/\d{4}\/\d{2}\/\d{2}\/packetcapture_\d{2}_\d{2}_\d{2}_\d{3}\.cap$/);
    const folder = reported.replace(/\.cap$/, "");
    const leaf = folder.split("/").pop();
    // `{folder}/{instance name}_{folder name}.cap` (kevoreilly/CAPEv2#2229), one recording per instance.
    expect(stored.blobs.map((blob) => blob.blobName)).toEqual([`${folder}/vmss-api_0_${leaf}.cap`, `${folder}/vmss-api_1_${leaf}.cap`]);
    for (const blob of stored.blobs) expect(readPcap(await download("network-watcher-logs", blob.blobName)).linkType).toBeDefined();
    const files = readdirSync(join(emulator.dataDir, "arm-emulator", "captures")).filter((name) => name.startsWith("lifecycle-vmss-"));
    expect(files.map((name) => name.replace(/-[0-9a-f]{8}\.cap$/, "")).sort()).toEqual(["lifecycle-vmss-0", "lifecycle-vmss-1"]);
  });

  it("keeps a filePath-only capture on the 'VM': empty storagePath, nothing uploaded", async () => {
    await network.packetCaptures.create(
      RG,
      NW,
      "lifecycle-local",
      { target: VM_WEB, timeLimitInSeconds: 20, storageLocation: { filePath: "/var/captures/lifecycle-local.cap" } },
      { updateIntervalInMs: 20 },
    );
    expect((await network.packetCaptures.get(RG, NW, "lifecycle-local")).storageLocation).toMatchObject({
      filePath: "/var/captures/lifecycle-local.cap",
      storagePath: "",
    });
    const stored = await emulator.whenCaptureFileStored(emulator.capture("lifecycle-local")?.id ?? "");
    expect(stored.blobs).toEqual([]);
    expect(stored.localPath).toBeDefined();
  });
});

describe("without tcpdump", () => {
  it("says so once on stderr and writes valid synthetic pcaps shaped by the filter", async () => {
    const lines: string[] = [];
    const fallback = await startArmEmulator({
      inventory: SAMPLE_INVENTORY,
      speedFactor: SPEED,
      blobConnectionString: blobConnectionString,
      tcpdumpPath: "/nonexistent/tcpdump",
      log: (line) => lines.push(line),
    });
    try {
      const client = networkClient(fallback, SUB);
      const names = ["synthetic-udp", "synthetic-tcp"];
      await client.packetCaptures.create(RG, NW, names[0] ?? "", {
        target: VM_WEB,
        timeLimitInSeconds: 10,
        storageLocation: { storageId: STORAGE },
        filters: [{ protocol: "UDP", remotePort: "53" }],
      }, { updateIntervalInMs: 20 });
      await client.packetCaptures.create(RG, NW, names[1] ?? "", { target: VM_WEB, timeLimitInSeconds: 10, storageLocation: { storageId: STORAGE } }, {
        updateIntervalInMs: 20,
      });
      const files = await Promise.all(names.map((name) => fallback.whenCaptureFileStored(fallback.capture(name)?.id ?? "")));
      expect(files.map((file) => file.source)).toEqual(["synthetic", "synthetic"]);
      const udp = readPcap(await download("network-watcher-logs", files[0]?.blobs[0]?.blobName ?? ""));
      // The VM's DNS queries and its resolver's answers (one unanswered): 4 queries, 3 answers per round.
      expect(udp.packets.length).toBeGreaterThanOrEqual(7);
      expect(udp.packets.every((packet) => packet.protocol === "UDP" && (packet.destinationPort === 53 || packet.sourcePort === 53))).toBe(true);
      // Unfiltered: every kind of the VM's traffic, over UDP and TCP.
      const all = readPcap(await download("network-watcher-logs", files[1]?.blobs[0]?.blobName ?? ""));
      expect(new Set(all.packets.map((packet) => packet.protocol))).toEqual(new Set(["UDP", "TCP"]));
      expect(all.packets.length).toBeGreaterThan(50);
      expect(lines.filter((line) => line.includes("tcpdump"))).toHaveLength(1);
      expect(lines[0]).toMatch(/tcpdump cannot record .*synthetic/);
    } finally {
      await fallback.close();
    }
  });
});
