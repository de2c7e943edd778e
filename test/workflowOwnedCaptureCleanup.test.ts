// Regression (review1): when reading the capture back after its create fails for good (awaitProvisioned's
// getPacketCapture exhausts armRetry: throttling, 5xx, resets), startCapture's catch turns the exception into
// "failed" and returns. Nothing stops or deletes the capture the orchestration has just created: it keeps running
// on Network Watcher, untracked, to its own time limit (up to 5 h / 1 GiB), its file is never analysed, and the next
// alert for the target joins it as "started by an earlier alertcap run" (and so may not stop it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armClients } from "../azure/armClients.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
const WATCHER = ["NetworkWatcherRG", "NetworkWatcher_westus2"] as const;

describe("a capture whose read-back fails is not left running", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      // The create's own existence check (the 1st GET) passes; every later GET of the capture is throttled.
      faults: JSON.stringify({ seed: 1, rules: [{ kind: "throttle", operation: "PacketCaptures_Get", skip: 1, retryAfterSeconds: 0 }] }),
      appSettings: { ALERTCAP_CAPTURE_SECONDS: "18000" },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("stops (or deletes) the capture it created when it gives up on it", async () => {
    const target = vmId("vm-web-1");
    const { status, body } = await stack.postAlert(metricAlert(target));
    expect(status).toBe(202);
    const done = await stack.waitForCapture(body.id as string, (c) => c.runtimeStatus === "Completed" || c.runtimeStatus === "Failed", "to end", 170_000);
    expect(done.phase).toBe("failed");
    const running: string[] = [];
    for await (const c of armClients(SUBSCRIPTION).network.packetCaptures.list(...WATCHER)) {
      if (!c.name?.startsWith("alertcap-vm-web-1-")) continue;
      const s = await armClients(SUBSCRIPTION).network.packetCaptures.getStatus(...WATCHER, c.name).pollUntilDone();
      if (s.packetCaptureStatus === "Running") running.push(c.name);
    }
    expect(running, `alertcap reported "${done.failureReason}" and left these running`).toEqual([]);
    expect(done.failureReason).toMatch(/The capture alertcap-vm-web-1-\S+ was stopped and deleted\.$/); // and the notification says so
  }, 200_000);
});
