// An alert fires on a target with an armed recorder: the webhook starts the capture as always and tells the recorder,
// which copies the ring files already uploaded that cover the lookback into the incident's folder at once
// (lookback.json, complete=false, firstSecuredAt), then cuts (new session, old one stopped), copies the old
// session's last file and marks the manifest complete. Real host, ARM emulator (continuous capture) and Azurite, on a
// virtual clock.
import { performance } from "node:perf_hooks";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureInstanceId } from "../domain/alerts/instanceId.js";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { incidentFolder, LOOKBACK_MANIFEST, type LookbackManifest } from "../domain/recorder/plan.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

const VM = vmId("vm-web-1");
const LOOKBACK_SECONDS = 600;

describe("an alert on an armed target", () => {
  let stack: RecorderStack;
  let container: ContainerClient;

  beforeAll(async () => {
    stack = await startRecorderStack({
      env: {
        // Small ring files, so ten minutes of the VM's traffic spans several of them.
        ALERTCAP_RECORDER_FILE_BYTES: "1048576",
        ALERTCAP_RECORDER_FILE_COUNT: "50",
        ALERTCAP_RECORDER_POLL_SECONDS: "300",
        ALERTCAP_LOOKBACK_SECONDS: String(LOOKBACK_SECONDS),
        ALERTCAP_CAPTURE_SECONDS: "120",
      },
    });
    container = BlobServiceClient.fromConnectionString(stack.blob).getContainerClient("network-watcher-logs");
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  async function manifest(folder: string): Promise<LookbackManifest | null> {
    const blob = container.getBlobClient(`${folder}/${LOOKBACK_MANIFEST}`);
    if (!(await blob.exists())) return null;
    return JSON.parse((await blob.downloadToBuffer()).toString("utf8")) as LookbackManifest;
  }

  it("secures the ring files covering the lookback in the incident's folder, first at once, then complete after the cut", async () => {
    const armed = await stack.api("POST", "/api/recorders", { target: VM });
    const id = String(armed.body.id);
    const view = async () => (await stack.api("GET", `/api/recorders/${id}`)).body as Record<string, any>;
    await stack.drive(async () => (await view()).phase === "recording");
    const armedAt = stack.clock.now().getTime();
    // Half an hour of recording: the ring rotates and uploads its files.
    await stack.drive(() => stack.clock.now().getTime() >= armedAt + 30 * 60_000);
    const before = await view();
    expect(before.files.length).toBeGreaterThan(3);
    const sessionBefore = before.session.name as string;

    const firedAt = stack.clock.now().toISOString();
    const alert = JSON.parse(metricAlert(VM)) as { data: { essentials: { firedDateTime: string } } };
    alert.data.essentials.firedDateTime = firedAt;
    const sent = performance.now();
    const res = await fetch(`${stack.host.url}/api/alerts`, { method: "POST", headers: { "content-type": "application/json", "x-functions-key": "recorder-test-key" }, body: JSON.stringify(alert) });
    expect(res.status).toBe(202);
    const target = parseCaptureTarget(VM);
    if (!target.ok) throw new Error(target.error);
    const folder = incidentFolder(captureInstanceId(target.target), firedAt);

    // The first pass needs no timer: once the host is idle (the clock not moved) the copies and manifest are there.
    await stack.host.hub.whenIdle();
    const first = await manifest(folder);
    const wallMs = performance.now() - sent;
    expect(first).not.toBeNull();
    expect(first!.complete).toBe(false);
    expect(first!.lookback.length).toBeGreaterThan(0);
    const securedAfterMs = Date.parse(first!.firstSecuredAt!) - Date.parse(firedAt);
    console.log(
      `lookback secured: ${first!.lookback.length} ring files copied, firstSecuredAt ${(securedAfterMs / 1000).toFixed(3)} s after the alert time; ` +
        `webhook POST to manifest in the incident folder: ${wallMs.toFixed(0)} ms wall clock`,
    );
    expect(securedAfterMs).toBeGreaterThanOrEqual(0);
    expect(securedAfterMs).toBeLessThan(60_000);

    // Then the cut: a new session, the old one stopped, its last file copied, the manifest complete.
    await stack.drive(async () => (await manifest(folder))?.complete === true);
    const done = (await manifest(folder))!;
    expect(done).toMatchObject({
      incidentId: captureInstanceId(target.target),
      target: VM,
      firedAt,
      windowStart: new Date(Date.parse(firedAt) - LOOKBACK_SECONDS * 1000).toISOString(),
      complete: true,
    });
    expect(done.notes).toEqual([]);
    expect(done.firstSecuredAt).toBe(first!.firstSecuredAt);
    expect(done.lookback.length).toBeGreaterThan(first!.lookback.length);
    // The copies cover the window: the oldest one was open at its start, the newest closed at the cut or after.
    const closes = done.lookback.map((f) => f.uploadedAt);
    expect(closes).toEqual([...closes].sort());
    const ringFiles = before.files.map((f: { closedAt: string }) => f.closedAt).sort() as string[];
    const openedBeforeWindow = ringFiles.filter((c) => c < done.windowStart);
    expect(openedBeforeWindow.length).toBeGreaterThan(0);
    expect(closes[0]! >= done.windowStart).toBe(true);
    expect(closes.at(-1)! >= firedAt).toBe(true);
    for (const file of done.lookback) {
      expect(file.url).toContain(`/${folder}/lookback/${sessionBefore}/`);
      expect(await container.getBlobClient(new URL(file.url).pathname.split("/network-watcher-logs/")[1]!).exists()).toBe(true);
    }
    // The recorder goes on recording in a fresh session and lists the incident.
    const after = await view();
    expect(after.phase).toBe("recording");
    expect(after.session.name).not.toBe(sessionBefore);
    expect(stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running").map((s) => s.name)).toEqual([after.session.name]);
    expect(after.incidents).toEqual([expect.objectContaining({ incidentId: captureInstanceId(target.target), folder, complete: true, lookbackFiles: done.lookback.length })]);
  }, 120_000);

  it("handles every alert, whatever moment of a generation it arrives at (none is lost when the recorder continues as new)", async () => {
    const id = String((await stack.api("GET", "/api/recorders")).body.recorders instanceof Array ? ((await stack.api("GET", "/api/recorders")).body.recorders as Array<{ id: string }>)[0]!.id : "");
    const record = () => stack.host.hub.get(id)!;
    const startGeneration = record().generation;
    // One alert at each of the next looks, raised in the same batch as the timer that wakes the recorder: among
    // them the last look of a generation, after which it continues as new.
    for (let k = 0; k < 10; k++) {
      await stack.drive(async () => (await stack.api("GET", `/api/recorders/${id}`)).body.phase === "recording");
      const firedAt = stack.clock.now().toISOString();
      const raised = stack.host.hub.raiseEvent(id, "alertFired", { incidentId: `late-${k}`, firedAt, lookbackSeconds: LOOKBACK_SECONDS });
      const next = stack.clock.nextDue();
      if (next) stack.clock.advanceTo(next);
      expect(await raised).toBe("accepted");
      await stack.drive(async () => (await manifest(incidentFolder(`late-${k}`, firedAt)))?.complete === true);
    }
    expect(record().generation).toBeGreaterThan(startGeneration);
    const incidents = ((await stack.api("GET", `/api/recorders/${id}`)).body.incidents as Array<{ incidentId: string; complete: boolean }>).map((i) => i.incidentId);
    expect(incidents).toEqual(["late-5", "late-6", "late-7", "late-8", "late-9"]);
  }, 120_000);
});
