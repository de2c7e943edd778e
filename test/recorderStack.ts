// The flight recorder's test stack: Azurite, the ARM emulator and the local host, all in this process and all on one
// VirtualClock (the emulator's sessions, ring rotations and time limits follow it, and so do durable timers), so a
// 30-day recorder runs in seconds. `drive` moves the clock from one due instant to the next once the host is idle.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ArmEmulator, startArmEmulator } from "../local/arm-emulator/armEmulator.js";
import type { ArmEmulatorOptions } from "../local/arm-emulator/options.js";
import { VirtualClock } from "../local/host/durable/clock.js";
import { type RunningHost, startHost } from "../local/host/host.js";
import { azuriteConnectionString, type Service, startAzurite } from "../local/services.js";
import { SAMPLE_INVENTORY, SAMPLE_STORAGE_ID } from "../local/stack.js";
import { RECORDER_SESSION_PREFIX } from "../domain/recorder/plan.js";

export const FUNCTION_KEY = "recorder-test-key";

export interface RecorderStack {
  clock: VirtualClock;
  host: RunningHost;
  emulator: ArmEmulator;
  blob: string;
  dataDir: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Moves the clock until `done` holds (checked whenever the host is idle); `each` runs at every step. */
  drive(done: () => boolean | Promise<boolean>, each?: () => void | Promise<void>, maxSteps?: number): Promise<void>;
  /** The emulator's recorder sessions of a target (by name fragment), with their status. */
  recorderSessions(nameFragment: string): Array<{ name: string; status: string; storagePath: string }>;
  /** Starts a new host on the same data directory (after `host.close()`): a restart. */
  restartHost(): Promise<RunningHost>;
  close(): Promise<void>;
}

export async function startRecorderStack(options: { env?: Record<string, string>; start?: Date; emulator?: Partial<ArmEmulatorOptions> } = {}): Promise<RecorderStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "alertcap-recorder-"));
  // Ahead of the wall clock, as the manifest's times are (see secureLookback's stampSince).
  const clock = new VirtualClock(options.start ?? new Date("2027-03-01T08:00:00Z"));
  const azurite = await startAzurite(dataDir);
  const blob = azuriteConnectionString(azurite.ready[0]!);
  const fast = 0.01;
  const emulator = await startArmEmulator({
    dataDir,
    inventory: SAMPLE_INVENTORY,
    blobConnectionString: blob,
    clock,
    timings: { createSeconds: fast, captureStartSeconds: fast, queryStatusSeconds: 0, stopSeconds: fast, deleteSeconds: fast, blobUploadDelaySeconds: fast },
    log: () => {},
    ...options.emulator,
  });
  Object.assign(process.env, {
    ALERTCAP_ARM_ENDPOINT: emulator.url,
    ALERTCAP_ARM_CA_CERT: emulator.caCertPath,
    ALERTCAP_CAPTURE_BLOB_CONNECTION: blob,
    ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID,
    ALERTCAP_ALLOW_ANY_SCOPE: "true",
    ALERTCAP_TASK_HUB: "recorder",
    ...options.env,
  });
  const start = () => startHost({ scriptRoot: process.cwd(), dataDir, port: 0, clock, functionKey: FUNCTION_KEY, logger: { log: () => {} } });
  const stack: RecorderStack = {
    clock,
    host: await start(),
    emulator,
    blob,
    dataDir,
    async api(method, path, body) {
      const res = await fetch(`${stack.host.url}${path}`, {
        method,
        headers: { "x-functions-key": FUNCTION_KEY, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async drive(done, each, maxSteps = 20_000) {
      for (let step = 0; step < maxSteps; step++) {
        await stack.host.hub.whenIdle();
        await emulator.ringsSettled();
        await stack.host.hub.whenIdle();
        await each?.();
        if (await done()) return;
        const next = clock.nextDue();
        if (next) clock.advanceTo(next);
        // Waiting on the emulator (real time, milliseconds at this speed).
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`the condition did not hold within ${maxSteps} steps (virtual time ${clock.now().toISOString()})`);
    },
    recorderSessions(nameFragment) {
      return emulator
        .captures()
        .filter((c) => c.name.startsWith(RECORDER_SESSION_PREFIX) && c.name.includes(nameFragment))
        .map((c) => ({ name: c.name, status: c.packetCaptureStatus, storagePath: c.storagePath }));
    },
    async restartHost() {
      stack.host = await start();
      return stack.host;
    },
    async close() {
      await stack.host?.close();
      await emulator.close();
      await azurite.stop();
    },
  };
  return stack;
}
