// The flight recorder as a user meets it after `npm start`: the real clock, the emulator at ten times Azure's pace,
// live traffic recorded into the ring (tcpdump where it can, synthetic otherwise), a fresh Azurite. Armed, then an
// alert fires on the VM a few seconds later: the default 50 MiB ring file has not filled, so nothing is uploaded yet,
// and the lookback must come from the recorder's cut (the old session's open file uploaded when it stops).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricAlert, vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { startTestStack, type TestStack } from "./support/testStack.js";

const VM = vmId("vm-web-1");

/** The sample alert, fired now (the sample file's firedDateTime is months old, so its lookback window holds nothing). */
function alertFiredNow(): string {
  const body = JSON.parse(metricAlert(VM)) as { data: { essentials: { firedDateTime: string } } };
  body.data.essentials.firedDateTime = new Date().toISOString();
  return JSON.stringify(body);
}

describe("flight recorder on the local stack (real clock)", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ appSettings: { ALERTCAP_CAPTURE_SECONDS: "10", ALERTCAP_RECORDER_POLL_SECONDS: "10" } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("secures the minutes before an alert into the incident and analyses them with the capture", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.url}${path}?code=${stack.functionKey}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const armed = await call("POST", "/api/recorders", { target: VM });
    expect(armed.status).toBe(202);
    const recorderId = armed.body.id as string;
    await eventually(async () => ((await call("GET", `/api/recorders/${recorderId}`)).body.phase === "recording" ? true : undefined), "recorder recording", 90_000);

    const fired = await stack.postAlert(alertFiredNow());
    expect(fired.status).toBe(202);
    const capture = await stack.waitForCapture(fired.body.id as string, (c) => c.phase === "completed" || c.phase === "failed", "capture ends", 180_000);
    expect(capture.phase).toBe("completed");
    const incident = (capture.analysis as { incident?: { files: Array<{ part: string; packets: number }>; notes: string[] } }).incident;
    expect(incident, "the analysis covers the recorder's lookback").toBeDefined();
    const lookback = incident!.files.filter((f) => f.part === "lookback");
    expect(lookback.length, `lookback files (notes: ${incident!.notes.join(" | ")})`).toBeGreaterThan(0);
    expect(lookback.reduce((sum, f) => sum + f.packets, 0)).toBeGreaterThan(0);
  }, 300_000);
});
