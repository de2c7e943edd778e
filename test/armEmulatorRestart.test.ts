// An emulator restarted on the same data directory finds what it left: captures (running ones carry on recording
// until their deadline and end up as one file), finished operations, VM changes. Also after a crash, where the old
// recorder is still running and gets stopped.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { readPcap } from "../local/arm-emulator/testing/pcapPackets.js";
import { computeClient, networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";

const MAIN = fileURLToPath(new URL("../local/arm-emulator/main.js", import.meta.url));
const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = "NetworkWatcherRG";
const NW = "NetworkWatcher_westus2";
const WATCHER_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/networkWatchers/${NW}`;
const CAPTURE = {
  target: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`,
  storageLocation: { storageId: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures` },
};

const emulators: ArmEmulator[] = [];
const children: ChildProcess[] = [];
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "arm-emulator-test-"));
  tempDirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string, inventory: string | object = SAMPLE_INVENTORY, log: (line: string) => void = () => {}): Promise<ArmEmulator> {
  const emulator = await startArmEmulator({ dataDir, inventory, persistState: true, speedFactor: 50, log });
  emulators.push(emulator);
  return emulator;
}

describe("restart on the same data directory", () => {
  it("keeps captures running across a restart, finishes in-flight operations and remembers VM changes", async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await computeClient(first, SUB).virtualMachineExtensions.createOrUpdate(
      "rg-app",
      "vm-noagent",
      "AzureNetworkWatcherExtension",
      { location: "westus2", publisher: "Microsoft.Azure.NetworkWatcher", typePropertiesType: "NetworkWatcherAgentLinux", typeHandlerVersion: "1.4" },
      { updateIntervalInMs: 20 },
    );
    const network = networkClient(first, SUB);
    await network.packetCaptures.create(RG, NW, "survivor", { ...CAPTURE, timeLimitInSeconds: 150 }, { updateIntervalInMs: 20 });
    await network.packetCaptures.create(RG, NW, "being-stopped", { ...CAPTURE, timeLimitInSeconds: 18000 }, { updateIntervalInMs: 20 });
    await until(() => first.capture("survivor")?.packetCaptureStatus === "Running" && first.capture("being-stopped")?.packetCaptureStatus === "Running", "sessions to run");
    const stop = await rawArmRequest(first, { method: "POST", path: `${WATCHER_PATH}/packetCaptures/being-stopped/stop?api-version=2026-01-01` });
    expect(stop.status).toBe(202);
    await first.close();

    const second = await start(dataDir);
    const client = networkClient(second, SUB);
    expect((await client.packetCaptures.get(RG, NW, "survivor")).provisioningState).toBe("Succeeded");
    expect(second.capture("survivor")?.packetCaptureStatus).toBe("Running");
    // The stop accepted before the restart has completed; its operation URL still answers.
    expect(await client.packetCaptures.getStatus(RG, NW, "being-stopped")).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "Manual" });
    const asyncOperation = String(stop.headers["azure-asyncoperation"]).replace(first.url, second.url);
    expect((await rawArmRequest(second, { path: asyncOperation })).json).toEqual({ status: "Succeeded", properties: {} });
    expect((await computeClient(second, SUB).virtualMachineExtensions.get("rg-app", "vm-noagent", "AzureNetworkWatcherExtension")).provisioningState).toBe(
      "Succeeded",
    );

    await until(async () => (await client.packetCaptures.getStatus(RG, NW, "survivor")).packetCaptureStatus === "Stopped", "the time limit");
    expect((await client.packetCaptures.getStatus(RG, NW, "survivor")).stopReason).toBe("TimeExceeded");
    const stored = await second.whenCaptureFileStored(second.capture("survivor")?.id ?? "");
    const pcap = readPcap(readFileSync(stored.localPath ?? ""));
    expect(pcap.linkType).toBe(1);
    expect(second.capture("survivor")?.file.bytes).toBe(readFileSync(stored.localPath ?? "").length);
  });

  it("ignores the saved state when the inventory changed", async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await networkClient(first, SUB).packetCaptures.create(RG, NW, "forgotten", CAPTURE, { updateIntervalInMs: 20 });
    await first.close();
    const lines: string[] = [];
    const inventory = JSON.parse(readFileSync(SAMPLE_INVENTORY, "utf8")) as { regionLimits: Record<string, number> };
    inventory.regionLimits = { westus2: 5 };
    const second = await start(dataDir, inventory, (line) => lines.push(line));
    expect(second.capture("forgotten")).toBeUndefined();
    expect(lines.some((line) => line.includes("inventory changed"))).toBe(true);
  });
});

describe("restart after a crash", () => {
  function startMain(dataDir: string): Promise<{ child: ChildProcess; url: string; caCertPem: string }> {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env["PATH"] ?? "", ALERTCAP_DATA_DIR: dataDir, ALERTCAP_EMULATOR_INVENTORY: SAMPLE_INVENTORY, ALERTCAP_EMULATOR_SPEED: "20" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      let stdout = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        const url = /listening on (\S+)/.exec(stdout)?.[1];
        const cert = /certificate: (\S+)/.exec(stdout)?.[1];
        if (url && cert) resolve({ child, url, caCertPem: readFileSync(cert, "utf8") });
      });
      child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
    });
  }

  it("stops the orphaned recorder and finishes the capture after a kill -9", async () => {
    const dataDir = tempDir();
    const statePath = join(dataDir, "arm-emulator", "state.json");
    const first = await startMain(dataDir);
    const created = await rawArmRequest(first, {
      method: "PUT",
      path: `${WATCHER_PATH}/packetCaptures/crash-survivor?api-version=2026-01-01`,
      body: { properties: { ...CAPTURE, timeLimitInSeconds: 60 } },
    });
    expect(created.status).toBe(201);
    type SavedCapture = { name: string; session: { status: string }; file: { recorderPid?: number; stored: boolean; bytes?: number } };
    const savedCapture = () =>
      existsSync(statePath)
        ? (JSON.parse(readFileSync(statePath, "utf8")) as { captures: SavedCapture[] }).captures.find((capture) => capture.name === "crash-survivor")
        : undefined;
    await until(() => savedCapture()?.session.status === "Running", "the running session to be saved");
    const orphanPid = savedCapture()?.file.recorderPid;
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));

    const second = await startMain(dataDir);
    if (orphanPid !== undefined) {
      const alive = () => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${orphanPid}/stat`, "utf8"));
        } catch {
          return false;
        }
      };
      await until(() => !alive(), "the orphaned recorder to stop", 5000);
    }
    const statusPath = `${WATCHER_PATH}/packetCaptures/crash-survivor/queryStatus?api-version=2026-01-01`;
    await until(async () => (await rawArmRequest(second, { method: "POST", path: statusPath })).status === 200, "the session to stop", 15_000);
    expect((await rawArmRequest(second, { method: "POST", path: statusPath })).json).toMatchObject({ packetCaptureStatus: "Stopped", stopReason: "TimeExceeded" });
    await until(() => savedCapture()?.file.stored === true, "the file to be finished");
    expect(savedCapture()?.file.bytes).toBeGreaterThanOrEqual(24);
  });
});
