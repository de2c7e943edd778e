// Regression (review1): the orchestration's customStatus has no size bound, but the Durable extension refuses one
// over 16 KB of UTF-16 (MessagePayloadDataConverter.Serialize(value, maxSizeInKB: 16), called by
// OutOfProcOrchestrationShim.ScheduleDurableTaskEvents → SetCustomStatus; it throws ArgumentException, so the
// orchestration fails before its first activity: no capture, no notification). UTF-16 means ≈ 8,700 characters of
// JSON. The local host stores any customStatus, so this passes locally and fails in Azure.
// An alert the webhook accepts carries alertRule (no length bound) and alertId (up to 4,096 characters) into
// progress.alert, which every setCustomStatus(progress) writes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusView } from "../domain/capture/statusView.js";
import type { CaptureProgress } from "../domain/capture/progress.js";
import { customStatusRefusal } from "../local/host/durable/taskHub.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

/** Whether the extension would refuse this customStatus (its own arithmetic: floor(UTF-16 bytes / 1024) > 16). */
const extensionRefuses = (customStatus: unknown): boolean => Math.floor(Buffer.byteLength(JSON.stringify(customStatus), "utf16le") / 1024) > 16;

describe("customStatus stays under the extension's 16 KB (UTF-16) limit", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("an accepted alert with a long rule name does not make customStatus too big for Azure", async () => {
    const alert = JSON.parse(metricAlert(vmId("vm-web-1"))) as { data: { essentials: { alertRule: string } } };
    alert.data.essentials.alertRule = `High TCP segments sent ${"x".repeat(9000)}`;
    const { status, body } = await stack.postAlert(JSON.stringify(alert));
    expect(status).toBe(202); // accepted and started
    const id = body.id as string;
    const customStatus = await eventually(async () => {
      const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances/${id}?code=${stack.systemKey}`);
      const s = (await res.json()) as { customStatus: unknown };
      return s.customStatus ?? undefined;
    }, `customStatus of ${id}`, 60_000);
    // In Azure the episode that set this status fails the orchestration with
    // "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB".
    expect(extensionRefuses(customStatus), `customStatus is ${JSON.stringify(customStatus).length} characters`).toBe(false);
  }, 120_000);
});

describe("the published status view", () => {
  const long = (n: number) => "€".repeat(n);
  const huge: CaptureProgress = {
    phase: "failed", target: long(5000), targetKind: "vm",
    alert: { alertId: long(4096), rule: long(9000), severity: "Sev3", schema: "azureMonitorCommonAlertSchema", firedAt: null },
    captureName: long(500), networkWatcher: long(500), networkWatcherStatus: "Stopped", stopReason: long(500),
    stopRequestedBecause: long(3000), startedAt: null, deadline: null, stoppedAt: null, polls: 3, nextPollAt: null,
    storagePath: long(3000), failureReason: long(20000), packetCaptureErrors: Array.from({ length: 200 }, () => long(400)),
    analysis: { big: long(50000) }, reportPath: long(2000),
    notifications: Array.from({ length: 50 }, () => ({ target: long(2000), format: "generic" as const, delivered: false, attempts: 3, error: long(2000) })),
  };

  it("is accepted by the extension whatever the progress holds, and keeps what identifies the capture", () => {
    expect(customStatusRefusal(huge)).toMatch(/must not exceed 16 KB/); // the local host refuses what Azure refuses
    const view = statusView(huge);
    expect(customStatusRefusal(view)).toBeNull();
    expect(extensionRefuses(view)).toBe(false);
    expect({ phase: view.phase, polls: view.polls, networkWatcherStatus: view.networkWatcherStatus }).toEqual({ phase: "failed", polls: 3, networkWatcherStatus: "Stopped" });
  });
});
