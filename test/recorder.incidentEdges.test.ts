// A flight recorder's lookback must reach the people notified even when the alert or the forward capture is not the
// usual one: an alert that carries no firing time (the webhook told the recorder a time the capture never knew, so the
// capture looked for no manifest), and a forward capture that produced no file (the capture failed, and the lookback,
// the minutes before the alert that the recorder had secured, was dropped with it). Local host, ARM emulator and
// Azurite on one virtual clock, as in the demo test.
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LookbackManifest } from "../domain/recorder/plan.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { type Receiver, startReceiver } from "./support/receiver.js";

const START = new Date("2027-03-01T08:00:00Z");
const FAILING_FROM = new Date(START.getTime() + 13 * 60_000);
const ALERT_AT = new Date(FAILING_FROM.getTime() + 60_000);
const WEB = vmId("vm-web-1");
const WIN = vmId("vm-win-1");

function edgeCases(title: string, body: (get: () => Fixture) => void): void {
describe(title, () => {
  let stack: RecorderStack;
  let receiver: Receiver;
  let container: ContainerClient;
  const saved = { ...process.env };

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startRecorderStack({
      start: START,
      emulator: {
        // The 5th and 6th sessions created (the second test's capture and the recorder's cut, in either order) end
        // at once without a file, as Network Watcher reports a capture that could not run.
        faults: { rules: [{ kind: "captureError", operation: "PacketCaptures_Create", skip: 4, times: 2 }] },
        packetSource: "synthetic",
        trafficProfiles: { [WEB]: { failingFrom: FAILING_FROM }, [WIN]: { failingFrom: FAILING_FROM } },
      },
      env: {
        ALERTCAP_CAPTURE_SECONDS: "120",
        ALERTCAP_POLL_SECONDS: "30",
        ALERTCAP_FILE_WAIT_SECONDS: "120",
        ALERTCAP_RECORDER_FILE_BYTES: String(1024 * 1024),
        ALERTCAP_RECORDER_FILE_COUNT: "20",
        ALERTCAP_RECORDER_SESSION_SECONDS: "86400",
        ALERTCAP_RECORDER_POLL_SECONDS: "60",
        ALERTCAP_LOOKBACK_SECONDS: "600",
        ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/generic`,
        ALERTCAP_TASK_HUB: "recorderincidentedges",
      },
    });
    container = BlobServiceClient.fromConnectionString(stack.blob).getContainerClient("network-watcher-logs");
    for (const target of [WEB, WIN]) expect((await stack.api("POST", "/api/recorders", { target })).status).toBeLessThan(300);
    stack.clock.at(ALERT_AT, () => {});
    await stack.drive(() => stack.clock.now().getTime() >= ALERT_AT.getTime());
  }, 120_000);

  afterAll(async () => {
    process.env = saved;
    await stack?.close();
    await receiver?.close();
    if (stack?.dataDir) rmSync(stack.dataDir, { recursive: true, force: true });
  });

  const ended = (id: string) => () => ["Completed", "Failed", "Terminated"].includes(stack.host.hub.get(id)?.status ?? "");
  const manifestsOf = async (id: string): Promise<LookbackManifest[]> => {
    const found: LookbackManifest[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `alertcap-incidents/${id}/` })) {
      if (blob.name.endsWith("/lookback.json")) found.push(JSON.parse((await container.getBlobClient(blob.name).downloadToBuffer()).toString("utf8")) as LookbackManifest);
    }
    return found;
  };
  const genericFindings = (id: string): string[] => {
    const sent = receiver.received.filter((r) => r.path === "/generic").map((r) => r.json as { instanceId?: string; data: { findings: string[] } });
    return sent.find((s) => JSON.stringify(s).includes(id))?.data.findings ?? [];
  };

  body(() => ({ stack, container, ended, manifestsOf, genericFindings }));
});
}

interface Fixture {
  stack: RecorderStack;
  container: ContainerClient;
  ended(id: string): () => boolean;
  manifestsOf(id: string): Promise<LookbackManifest[]>;
  genericFindings(id: string): string[];
}

edgeCases("a recorder's lookback", (get) => {
  it("is analysed with the capture when the alert carries no firing time", async () => {
    const { stack, ended, manifestsOf, genericFindings } = get();
    const alert = JSON.parse(metricAlert(WEB)) as { data: { essentials: Record<string, unknown> } };
    delete alert.data.essentials.firedDateTime;
    const fired = await stack.api("POST", "/api/alerts", alert);
    expect(fired.status).toBe(202);
    const id = fired.body.id as string;
    await stack.drive(async () => (await manifestsOf(id)).some((m) => m.complete) && ended(id)());

    const output = stack.host.hub.get(id)!.output as { phase: string; analysis: { incident?: { onsets: Array<{ kind: string }> } } };
    expect(output.phase).toBe("completed");
    // Before the fix: no incident timeline (the capture had no firedAt to find the manifest by).
    expect(output.analysis.incident?.onsets.map((o) => o.kind)).toContain("dns-servfail");
    // The alert's instant is when alertcap received it: the wall clock, not this stack's virtual one, so the onset's
    // distance from it is not asserted here.
    expect(genericFindings(id)[0]).toMatch(/^DNS SERVFAIL began /);
  }, 240_000);

  // Sessions created so far: one per recorder, then the first test's capture and cut.
  it("is analysed and notified when the forward capture produced no file", async () => {
    const { stack, ended, genericFindings } = get();
    const fired = await stack.api("POST", "/api/alerts", metricAlert(WIN).replace(/"firedDateTime": *"[^"]*"/, `"firedDateTime": "${stack.clock.now().toISOString()}"`));
    expect(fired.status).toBe(202);
    const id = fired.body.id as string;
    await stack.drive(ended(id));

    expect(stack.emulator.firedFaults().length).toBe(2);
    const output = stack.host.hub.get(id)!.output as { phase: string; failureReason: string | null; analysis: { incident?: { files: Array<{ part: string }> } } | null };
    expect(output.phase).toBe("failed");
    expect(output.failureReason).toMatch(/stopped the capture without running it/);
    // Before the fix: no analysis at all, and the notification said nothing of the minutes before the alert.
    const lookbackFiles = output.analysis?.incident?.files.filter((f) => f.part === "lookback") ?? [];
    expect(lookbackFiles.length).toBeGreaterThan(0);
    expect(output.analysis?.incident?.files.some((f) => f.part === "forward")).toBe(false);
    expect(genericFindings(id).some((f) => /SERVFAIL/.test(f))).toBe(true);
  }, 240_000);
});
