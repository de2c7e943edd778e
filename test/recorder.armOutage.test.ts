// An eternal orchestration must outlive an ARM outage. Network Watcher's queryStatus answering 429 for a few minutes
// (the subscription throttled) exhausted the recorder's retry policy on its regular look, and the exception ended the
// recorder's orchestration as Failed: no more lookbacks, its session left recording untracked to its 7-day limit, and
// DELETE /api/recorders/{id} answering 409. Local host, ARM emulator with injected faults, Azurite, virtual clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

const VM = vmId("vm-web-1");
const FAULTS = 40;

describe("a recorder through an ARM outage", () => {
  let stack: RecorderStack;

  beforeAll(async () => {
    stack = await startRecorderStack({
      env: { ALERTCAP_RECORDER_POLL_SECONDS: "60", ALERTCAP_RECORDER_FILE_BYTES: "4294967295" },
      emulator: { faults: { rules: [{ kind: "throttle", operation: "PacketCaptures_GetStatus", retryAfterSeconds: 0, skip: 3, times: FAULTS }] } },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("keeps recording once ARM answers again, and says what went wrong meanwhile", async () => {
    const armed = await stack.api("POST", "/api/recorders", { target: VM });
    expect(armed.status).toBe(202);
    const id = String(armed.body.id);
    const view = async () => (await stack.api("GET", `/api/recorders/${id}`)).body as Record<string, any>;
    const ended = () => ["Completed", "Failed", "Terminated"].includes(stack.host.hub.get(id)?.status ?? "");
    await stack.drive(async () => ended() || (stack.emulator.firedFaults().length >= FAULTS && (await view()).phase === "recording" && (await view()).polls > 5));
    // Before the fix: Failed, with the activity's 429 as its output.
    expect(stack.host.hub.get(id)!.status).toBe("Running");
    expect(stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running")).toHaveLength(1);
    expect((await view()).lastError).toMatch(/^Could not (look at|read) the session .*exceeded/);
    expect((await stack.api("DELETE", `/api/recorders/${id}`)).status).toBe(202);
  }, 120_000);
});
