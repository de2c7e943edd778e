// A continuous capture survives an emulator restart on the same data directory (persistState, as the standalone
// emulator and the local stack run it): its ring carries on with the same open file and the same numbering, and the
// session still ends at its original limit. Files stay local here (no blob storage), on a virtual clock.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { VirtualClock } from "../local/host/durable/clock.js";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { until } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const VM = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`;
const STORAGE = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;

const dataDir = mkdtempSync(join(tmpdir(), "alertcap-continuous-restart-"));
const clock = new VirtualClock(new Date("2026-11-25T08:00:00Z"));
const emulators: ArmEmulator[] = [];

afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ArmEmulator> {
  const fast = 0.01;
  const emulator = await startArmEmulator({
    dataDir,
    inventory: SAMPLE_INVENTORY,
    persistState: true,
    clock,
    lroRetryAfterSeconds: 0,
    timings: { createSeconds: fast, captureStartSeconds: fast, queryStatusSeconds: 0, stopSeconds: fast, deleteSeconds: fast, blobUploadDelaySeconds: fast },
    log: () => {},
  });
  emulators.push(emulator);
  return emulator;
}

/** Moves the virtual clock from one due instant to the next until `done` holds. */
async function advanceUntil(emulator: ArmEmulator, done: () => boolean): Promise<void> {
  for (let step = 0; step < 10_000 && !done(); step++) {
    await emulator.ringsSettled();
    const next = clock.nextDue();
    if (next) clock.advanceTo(next);
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await emulator.ringsSettled();
}

describe("continuous capture across an emulator restart", () => {
  it("carries the ring on: same numbering, contiguous files, the original session limit", async () => {
    const first = await start();
    await networkClient(first, SUB).packetCaptures.beginCreateAndWait(
      "NetworkWatcherRG",
      "NetworkWatcher_westus2",
      "ring-restart",
      { target: VM, storageLocation: { storageId: STORAGE }, continuousCapture: true, captureSettings: { fileCount: 3, fileSizeInBytes: 30_000, sessionTimeLimitInSeconds: 60 } },
      { updateIntervalInMs: 20 },
    );
    await until(() => first.capture("ring-restart")?.packetCaptureStatus === "Running", "the session to run");
    const machine = () => first.capture("ring-restart")?.ring?.machines[0];
    await advanceUntil(first, () => (machine()?.nextSeq ?? 0) >= 3);
    const before = first.capture("ring-restart")!;
    await first.close();

    const second = await start();
    expect(second.capture("ring-restart")?.packetCaptureStatus).toBe("Running");
    await advanceUntil(second, () => second.capture("ring-restart")?.packetCaptureStatus === "Stopped");
    const after = second.capture("ring-restart")!;
    expect(after.stopReason).toBe("TimeExceeded");
    await second.whenCaptureFileStored(after.id);

    const kept = second.capture("ring-restart")!.ring!.machines[0]!;
    const beforeFiles = before.ring!.machines[0]!.files;
    // Numbering went on from where it was; the ring kept its last three files, contiguous in time.
    expect(kept.files.map((file) => file.seq)[0]).toBeGreaterThan(beforeFiles.at(-1)!.seq);
    expect(kept.files).toHaveLength(3);
    expect(kept.deleted + kept.files.length).toBe(kept.nextSeq - 1);
    for (let i = 1; i < kept.files.length; i++) expect(kept.files[i]!.openedAt).toBe(kept.files[i - 1]!.closedAt);
    // The session still ended at its original limit: 60 s after it started.
    expect(new Date(kept.files.at(-1)!.closedAt).getTime() - new Date(after.captureStartTime!).getTime()).toBe(60_000);
  });
});
