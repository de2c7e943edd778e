// A function key is enough to arm a recorder, and every armed target keeps a Network Watcher session running (counted
// against the region's 10,000, and by ALERTCAP_MAX_CAPTURES_PER_REGION against alert captures) and a ring of up to
// count × size bytes in the capture account. ALERTCAP_MAX_RECORDERS caps how many run at once: a key holder cannot arm
// every VM in ALERTCAP_ALLOWED_SCOPES. Real host, ARM emulator and Azurite, on a virtual clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

describe("the cap on armed recorders", () => {
  let stack: RecorderStack;

  beforeAll(async () => {
    stack = await startRecorderStack({ env: { ALERTCAP_MAX_RECORDERS: "1", ALERTCAP_RECORDER_POLL_SECONDS: "21600" } });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("refuses to arm beyond ALERTCAP_MAX_RECORDERS, still answers an armed target, and arms again once one is disarmed", async () => {
    const first = await stack.api("POST", "/api/recorders", { target: vmId("vm-web-1") });
    expect(first.status).toBe(202);
    const id = String(first.body.id);
    await stack.drive(async () => (await stack.api("GET", `/api/recorders/${id}`)).body.phase === "recording");

    const second = await stack.api("POST", "/api/recorders", { target: vmId("vm-win-1") });
    expect(second.status).toBe(409);
    expect(String(second.body.error)).toMatch(/ALERTCAP_MAX_RECORDERS/);
    expect(stack.recorderSessions("vm-win-1")).toEqual([]);
    expect((await stack.api("POST", "/api/recorders", { target: vmId("vm-web-1") })).body).toMatchObject({ id, outcome: "already-armed" });

    expect((await stack.api("DELETE", `/api/recorders/${id}`)).status).toBe(202);
    await stack.drive(() => stack.host.hub.get(id)!.status === "Completed");
    expect((await stack.api("POST", "/api/recorders", { target: vmId("vm-win-1") })).status).toBe(202);
  });
});
