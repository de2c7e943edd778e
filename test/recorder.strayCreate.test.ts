// CREATE_RECORDER_SESSION runs at least once: on Azure Storage a create whose work-item message reappears (its worker
// died after answering) runs again later with its original input. If the recorder has retired that session by then
// (renewed, or cut for an alert), the late run creates it anew, and nothing tracks it: it records until its own time
// limit (up to 7 days of storage and one of the region's sessions). The recorder sweeps such strays after every new
// session it starts, not only when it (re-)arms. Local host, ARM emulator, Azurite, virtual clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecorderSession, recorderSessionBody } from "../azure/recorderSessions.js";
import { captureSettingsOrError } from "../config/appSettings.js";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { recorderSessionName } from "../domain/recorder/plan.js";
import { parseRecorderSettings } from "../domain/recorder/settings.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

const VM = vmId("vm-web-1");

describe("a recorder session created again by a late re-run of its create", () => {
  let stack: RecorderStack;

  beforeAll(async () => {
    // The shortest sessions the settings allow (10 min, renewed 1 min early).
    stack = await startRecorderStack({ env: { ALERTCAP_RECORDER_SESSION_SECONDS: "600", ALERTCAP_RECORDER_POLL_SECONDS: "120", ALERTCAP_RECORDER_FILE_BYTES: "4294967295" } });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("is stopped and deleted at the recorder's next renewal", async () => {
    const armed = await stack.api("POST", "/api/recorders", { target: VM });
    expect(armed.status).toBe(202);
    const id = String(armed.body.id);
    const view = async () => (await stack.api("GET", `/api/recorders/${id}`)).body as Record<string, any>;
    await stack.drive(async () => (await view()).phase === "recording");

    // The late run: a create the recorder asked for earlier (a name it gave a session it has since retired).
    const parsed = parseCaptureTarget(VM);
    if (!parsed.ok) throw new Error(parsed.error);
    const target = parsed.target;
    const settings = captureSettingsOrError();
    const recorder = parseRecorderSettings(process.env);
    if ("error" in settings || !recorder.ok) throw new Error("settings");
    const requestedAt = new Date(stack.clock.now().getTime() - 3_600_000);
    const stray = recorderSessionName(target, requestedAt);
    const body = recorderSessionBody(target, stray, "Linux", recorder.settings.ring, settings.settings, SAMPLE_STORAGE_ID);
    const created = await createRecorderSession({ subscriptionId: target.subscriptionId, resourceGroup: "NetworkWatcherRG", name: "NetworkWatcher_westus2" }, stray, body, requestedAt.toISOString());
    expect(created.ok).toBe(true);
    await stack.drive(() => stack.recorderSessions("vm-web-1").find((s) => s.name === stray)?.status === "Running");

    await stack.drive(async () => (await view()).renewals === 1 && (await view()).phase === "recording");
    // Before the fix: the stray still ran beside the renewed session.
    const running = stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running");
    expect(running.map((s) => s.name)).toEqual([(await view()).session.name]);
  }, 120_000);
});
