// Regression (review1): an operator stop (or a Resolved alert) that arrives before the capture exists — while
// alertcap validates, installs the agent (up to 900 s) or creates — is answered 202 "stopRequested" but only read by
// watchCapture's first Task.any: alertcap still installs the agent, creates and starts the capture, and only then
// stops it. The event tasks are created (and so tracked) only in watchCapture, so startCapture cannot see them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armClients } from "../azure/armClients.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

describe("a stop asked before the capture exists", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      faults: JSON.stringify({ seed: 1, rules: [{ kind: "delay", operation: "PacketCaptures_Create", delayMs: 3000 }] }),
      appSettings: { ALERTCAP_CAPTURE_SECONDS: "3000" },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("does not create a capture the operator already asked to stop", async () => {
    const { body } = await stack.postAlert(metricAlert(vmId("vm-web-1")));
    const id = body.id as string;
    await eventually(async () => {
      const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances/${id}?code=${stack.systemKey}`);
      const s = (await res.json()) as { customStatus: { phase?: string } | null };
      return s.customStatus?.phase === "creating" ? true : undefined;
    }, "the creating phase", 60_000);
    const stop = await fetch(`${stack.url}/api/captures/${id}/stop?code=${stack.functionKey}`, { method: "POST" });
    expect(stop.status).toBe(202);
    const done = await stack.waitForCapture(id, (c) => c.runtimeStatus === "Completed" || c.runtimeStatus === "Failed", "to end", 90_000);
    expect(done.stopRequestedBecause).toMatch(/operator/);
    // The capture was asked to stop before it existed: none should have been created and started.
    expect({ captureName: done.captureName, networkWatcherStatus: done.networkWatcherStatus }).toEqual({ captureName: null, networkWatcherStatus: null });
    expect(done.phase).toBe("failed"); // and the notification says why
    expect(done.failureReason).toMatch(/^No capture was started because an operator asked/);
    // A capture the create made as the stop arrived is stopped and deleted at once (the delete is sent, not awaited).
    await eventually(async () => {
      const left: string[] = [];
      for await (const c of armClients("00000000-0000-0000-0000-000000000001").network.packetCaptures.list("NetworkWatcherRG", "NetworkWatcher_westus2")) {
        if (c.name?.startsWith("alertcap-vm-web-1-")) left.push(c.name);
      }
      return left.length === 0 ? true : undefined;
    }, "the capture created as the stop arrived to be deleted", 30_000);
  }, 120_000);
});
