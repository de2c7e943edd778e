// A five-hour capture on a virtual clock: the host runs in this process on a VirtualClock that jumps to the next
// durable timer whenever nothing else is running, against the real ARM emulator and Azurite. The capture polls every
// 30 s of virtual time for 5 h, and the orchestration's history must stay bounded (continueAsNew every few polls);
// and no activity may have polled a long-running operation.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { VirtualClock } from "../local/host/durable/clock.js";
import { type RunningHost, startHost } from "../local/host/host.js";
import { azuriteConnectionString, type Service, startAzurite } from "../local/services.js";
import { SAMPLE_INVENTORY, SAMPLE_STORAGE_ID } from "../local/stack.js";
import { metricAlert, vmId } from "./support/alerts.js";

describe("capture orchestration history over a five-hour capture", () => {
  let azurite: Service;
  let emulator: Awaited<ReturnType<typeof startArmEmulator>>;
  let host: RunningHost;
  const clock = new VirtualClock(new Date("2026-11-25T02:00:00Z"));

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alertcap-virtual-"));
    azurite = await startAzurite(dataDir);
    const blob = azuriteConnectionString(azurite.ready[0]!);
    // Service-side latencies (create, stop, queryStatus) become milliseconds while the session runs at the real
    // pace, so it is alertcap that ends it, at its deadline, which arrives in virtual time.
    const fast = 0.01;
    emulator = await startArmEmulator({
      dataDir,
      inventory: SAMPLE_INVENTORY,
      blobConnectionString: blob,
      timings: { createSeconds: fast, captureStartSeconds: fast, queryStatusSeconds: 0, stopSeconds: fast, deleteSeconds: fast, blobUploadDelaySeconds: fast },
      packetSource: "synthetic",
      log: () => {},
    });
    Object.assign(process.env, {
      ALERTCAP_ARM_ENDPOINT: emulator.url,
      ALERTCAP_ARM_CA_CERT: emulator.caCertPath,
      ALERTCAP_CAPTURE_BLOB_CONNECTION: blob,
      ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID,
      ALERTCAP_ALLOW_ANY_SCOPE: "true",
      ALERTCAP_CAPTURE_SECONDS: "18000",
      ALERTCAP_POLL_SECONDS: "30",
      ALERTCAP_TASK_HUB: "virtualclock",
    });
    host = await startHost({ scriptRoot: process.cwd(), dataDir, port: 0, clock, functionKey: "k", logger: { log: () => {} } });
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    await emulator?.close();
    await azurite?.stop();
  });

  it("keeps each generation's history bounded by a constant", async () => {
    const res = await fetch(`${host.url}/api/alerts?code=k`, { method: "POST", headers: { "content-type": "application/json" }, body: metricAlert(vmId("vm-web-1")) });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    // Largest history seen in each generation: the watch loop's generations, and the last one, which also locates,
    // analyses, notifies and cleans up.
    const maxHistory = new Map<number, number>();
    for (let steps = 0; steps < 5000; steps++) {
      await host.hub.whenIdle();
      const record = host.hub.get(id)!;
      maxHistory.set(record.generation, Math.max(maxHistory.get(record.generation) ?? 0, record.history.length));
      if (["Completed", "Failed", "Terminated"].includes(record.status)) break;
      const next = clock.nextDue();
      if (!next) {
        // Waiting on the emulator (real time, milliseconds at this speed).
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      clock.advanceTo(next);
    }
    const record = host.hub.get(id)!;
    const output = record.output as { polls: number; phase: string; stopRequestedBecause: string | null; startedAt: string; stoppedAt: string };
    const virtualHours = (clock.now().getTime() - new Date("2026-11-25T02:00:00Z").getTime()) / 3_600_000;
    const watchMax = Math.max(...[...maxHistory].filter(([generation]) => generation < record.generation).map(([, size]) => size));
    const finalMax = maxHistory.get(record.generation)!;
    console.log(
      `five-hour capture on a virtual clock: ${output.polls} polls over ${virtualHours.toFixed(2)} virtual hours, ` +
        `${record.generation + 1} generations (continueAsNew), at most ${watchMax} history events in a watch generation ` +
        `and ${finalMax} in the last one (one history would have held about ${output.polls * 6} events)`,
    );
    expect(record.status).toBe("Completed");
    expect(output.phase).toBe("completed");
    expect(output.stopRequestedBecause).toBe("its deadline passed (time limit plus grace)");
    expect(virtualHours).toBeGreaterThanOrEqual(5);
    expect(output.polls).toBeGreaterThan(500);
    // Both are constants, whatever the capture's length: 10 polls (8 events each) per watch generation; the last adds at
    // most the file-wait attempts (ALERTCAP_FILE_WAIT_SECONDS) and the finishing steps.
    expect(watchMax).toBeLessThanOrEqual(100);
    expect(finalMax).toBeLessThanOrEqual(150);
    // No activity sat in long-running-operation polling (in Azure each poll answers 202 + Retry-After: 10): create,
    // queryStatus, stop and delete were sent and their first answer read; the waiting happened on durable timers.
    const polled = emulator.requests().filter((r) => /^(Network|Compute)_Operation(Status|Result)$/.test(r.operationId ?? ""));
    expect(polled.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  }, 300_000);
});
