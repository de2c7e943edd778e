// The capture workflow against a misbehaving Azure: the emulator throttles (429 with Retry-After), answers 503, and
// ends a capture session in Error. Throttling and 5xx are ridden out; the Error ends in a failure notification that
// names the error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricAlert, vmId } from "./support/alerts.js";
import { notificationsFor } from "./support/notifications.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

interface Notification {
  type: string;
  data: { target: string; outcome: string; failureReason: string | null; packetCaptureErrors: string[] };
}

describe("capture workflow under ARM faults", () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({
      faults: JSON.stringify({
        seed: 7,
        rules: [
          { kind: "captureError", times: 1, captureStatus: "Error", errors: ["CaptureFailed"], afterSeconds: 10 },
          { kind: "throttle", probability: 0.2, retryAfterSeconds: 1 },
          { kind: "serverError", status: 503, probability: 0.05 },
        ],
      }),
      appSettings: { ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/hook`, ALERTCAP_CAPTURE_SECONDS: "60" },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const sentFor = (target: string) => notificationsFor<Notification>(receiver, target);

  it("reports a capture that ends in Error with a failure notification naming the error", async () => {
    const target = vmId("vm-web-1");
    const { status, body } = await stack.postAlert(metricAlert(target));
    expect(status).toBe(202);
    const done = await stack.waitForCapture(body.id as string, (c) => c.phase === "failed" || c.phase === "completed", "to end", 90_000);
    expect(done.phase).toBe("failed");
    expect(done.networkWatcherStatus).toBe("Error");
    expect(done.packetCaptureErrors).toEqual(["CaptureFailed"]);
    expect(done.failureReason).toMatch(/Network Watcher reported the capture in Error: CaptureFailed/);
    const sent = sentFor(target);
    expect(sent).toHaveLength(1);
    expect(sent[0]!).toMatchObject({ type: "capture.failed", data: { outcome: "failed", packetCaptureErrors: ["CaptureFailed"] } });
  });

  it("rides out throttling and 503s to a completed capture", async () => {
    const target = vmId("vm-win-1");
    const { body } = await stack.postAlert(metricAlert(target));
    const done = await stack.waitForCapture(body.id as string, (c) => c.phase === "failed" || c.phase === "completed", "to end", 120_000);
    expect(done.failureReason).toBeNull();
    expect(done.phase).toBe("completed");
    expect(done.stopReason).toBe("TimeExceeded");
    expect(sentFor(target).map((n) => n.type)).toEqual(["capture.completed"]);
  }, 150_000);
});
