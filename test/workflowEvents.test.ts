// Stop and Resolved events that arrive while a status query runs. In Azure a status query takes seconds, so most
// events arrive then; the emulator's `delay` fault makes every queryStatus slow here. An event raised during the 2nd
// query of a generation, and during the 12th (the 2nd after a continueAsNew boundary), must stop the capture at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricAlert, vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const QUERY_ACTIVITY = "queryPacketCapture";
const QUERY_DELAY_MS = 1500;

describe("capture workflow: events raised during a slow status query", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      faults: JSON.stringify({ seed: 1, rules: [{ kind: "delay", operation: "PacketCaptures_GetStatus", delayMs: QUERY_DELAY_MS }] }),
      // Long enough that Network Watcher never ends the session itself within the test.
      appSettings: { ALERTCAP_CAPTURE_SECONDS: "3000" },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  /** Resolves while the n-th status query (counted over the whole orchestration) is in flight. */
  async function duringQuery(id: string, n: number): Promise<void> {
    await eventually(async () => {
      const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances/${id}?showHistory=true&code=${stack.systemKey}`);
      const status = (await res.json()) as { customStatus: { polls?: number } | null; historyEvents?: Array<Record<string, unknown>> };
      // n-1 queries done, and a query scheduled but not completed (the API merges completed ones into TaskCompleted).
      const polls = status.customStatus?.polls ?? 0;
      const pending = (status.historyEvents ?? []).some((e) => e.EventType === "TaskScheduled" && e.Name === QUERY_ACTIVITY);
      return polls === n - 1 && pending ? true : undefined;
    }, `query ${n} of ${id} to be in flight`, 120_000);
  }

  it("stops at once when the alert resolves during the 2nd status query", async () => {
    const target = vmId("vm-web-1");
    const { body } = await stack.postAlert(metricAlert(target));
    const id = body.id as string;
    await duringQuery(id, 2);
    const resolved = await stack.postAlert(metricAlert(target, "Resolved"));
    expect((resolved.body.targets as Array<{ outcome: string }>)[0]!.outcome).toBe("stop-requested");
    const done = await stack.waitForCapture(id, (c) => c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending", "to finish", 90_000);
    expect(done.stopRequestedBecause).toBe("the alert was resolved");
    expect(done.stopReason).toBe("Manual");
    expect(done.phase).toBe("completed");
  }, 120_000);

  it("stops at once when an operator asks during the 12th status query (after a continueAsNew)", async () => {
    const target = vmId("vm-win-1");
    const { body } = await stack.postAlert(metricAlert(target));
    const id = body.id as string;
    await duringQuery(id, 12);
    const stop = await fetch(`${stack.url}/api/captures/${id}/stop?code=${stack.functionKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "enough data" }),
    });
    expect(stop.status).toBe(202);
    const done = await stack.waitForCapture(id, (c) => c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending", "to finish", 90_000);
    expect(done.stopRequestedBecause).toBe("an operator asked (enough data)");
    expect(done.stopReason).toBe("Manual");
    expect(done.phase).toBe("completed");
  }, 180_000);
});
