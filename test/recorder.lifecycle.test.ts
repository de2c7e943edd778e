// A flight recorder's life on the real host, the real ARM emulator (continuous capture) and Azurite, on a virtual
// clock: armed through POST /api/recorders, it keeps one session running; over 30 days it renews every ~7 days with
// no gap (the new session runs before the old one stops) and a history bounded per generation; it re-arms, and says
// so, when someone deletes its session and when its VM is stopped and started again; DELETE disarms it and leaves no
// session behind. Bad POST bodies get a 400 and a sentence.
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

const VM = vmId("vm-web-1");

/** Every ring file in the capture container, one folder per session, in the order the sessions opened. */
async function sessionFiles(connection: string): Promise<Array<{ folder: string; openedAt: string; closedAt: string }>> {
  const container = BlobServiceClient.fromConnectionString(connection).getContainerClient("network-watcher-logs");
  const folders = new Map<string, { folder: string; openedAt: string; closedAt: string }>();
  for await (const blob of container.listBlobsFlat({ includeMetadata: true })) {
    if (!blob.name.endsWith(".cap") || blob.name.startsWith("alertcap-incidents/")) continue;
    const meta = new Map(Object.entries(blob.metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const folder = blob.name.slice(0, blob.name.lastIndexOf("/"));
    const seen = folders.get(folder) ?? { folder, openedAt: meta.get("openedat")!, closedAt: meta.get("closedat")! };
    if (meta.get("openedat")! < seen.openedAt) seen.openedAt = meta.get("openedat")!;
    if (meta.get("closedat")! > seen.closedAt) seen.closedAt = meta.get("closedat")!;
    folders.set(folder, seen);
  }
  return [...folders.values()].sort((a, b) => a.openedAt.localeCompare(b.openedAt));
}
const DAY_MS = 86_400_000;

describe("flight recorder lifecycle", () => {
  let stack: RecorderStack;
  let id: string;
  const recorder = async () => (await stack.api("GET", `/api/recorders/${id}`)).body as Record<string, any>;
  const running = () => stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running");

  beforeAll(async () => {
    stack = await startRecorderStack({
      env: {
        // One file per session (no rotation within 7 days), a look every 6 hours: 30 days in a few hundred steps.
        ALERTCAP_RECORDER_FILE_BYTES: "4294967295",
        ALERTCAP_RECORDER_POLL_SECONDS: "21600",
      },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("answers bad POST bodies with a 400 and a sentence, and arms nothing", async () => {
    const cases: Array<[unknown, string]> = [
      ["", "The body is empty"],
      ["{not json", "The body is not JSON"],
      [{ target: 42 }, '"target" must be a string'],
      [{ vm: VM }, 'Unknown field "vm"'],
      [{ target: "vm-web-1" }, "is not a valid resource ID"],
      [{ target: VM.replace("Microsoft.Compute/virtualMachines", "Microsoft.Storage/storageAccounts").replace("vm-web-1", "store1") }, "is a storage account, not a VM or VM scale set"],
    ];
    for (const [body, sentence] of cases) {
      const answer = await stack.api("POST", "/api/recorders", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(String(answer.body.error)).toContain(sentence);
    }
    expect(((await stack.api("GET", "/api/recorders")).body as { count: number }).count).toBe(0);
    expect((await stack.api("GET", "/api/recorders/not-a-recorder")).status).toBe(400);
    expect((await stack.api("DELETE", "/api/recorders/rec-nothing-000000000000")).status).toBe(404);
  });

  it("arms a recorder whose session runs, and answers 200 with the same recorder when armed again", async () => {
    const armed = await stack.api("POST", "/api/recorders", { target: VM });
    expect(armed.status).toBe(202);
    id = String(armed.body.id);
    expect(armed.body).toMatchObject({ target: VM, outcome: "arming" });
    expect(String(armed.body.statusUrl)).toMatch(new RegExp(`/api/recorders/${id}$`));
    expect(JSON.stringify(armed.body)).not.toContain(stack.host.keys.systemKey);

    await stack.drive(async () => (await recorder()).phase === "recording");
    const view = await recorder();
    expect(view.session.name).toMatch(/^alertrec-vm-web-1-[0-9a-f]{12}-\d{8}-\d{6}$/);
    expect(running().map((s) => s.name)).toEqual([view.session.name]);
    expect(view).toMatchObject({ armed: true, renewals: 0, rearms: 0, lastError: null });

    const again = await stack.api("POST", "/api/recorders", { target: VM });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, outcome: "already-armed" });
  });

  it("renews about every 7 days over 30 days, the new session running before the old one stops, with a bounded history per generation", async () => {
    const armedAt = stack.clock.now().getTime();
    const maxHistory = new Map<number, number>();
    let gaps = 0;
    const firstRequest = stack.emulator.requests().length;
    const seenRunning: string[] = [];
    await stack.drive(
      () => stack.clock.now().getTime() >= armedAt + 30 * DAY_MS,
      () => {
        const record = stack.host.hub.get(id)!;
        maxHistory.set(record.generation, Math.max(maxHistory.get(record.generation) ?? 0, record.history.length));
        const now = running();
        if (now.length === 0) gaps++;
        for (const s of now) if (!seenRunning.includes(s.name)) seenRunning.push(s.name);
      },
    );
    const view = await recorder();
    const generations = stack.host.hub.get(id)!.generation + 1;
    const largest = Math.max(...maxHistory.values());
    console.log(
      `recorder over 30 virtual days: ${view.renewals} renewals, ${seenRunning.length} sessions, ${generations} generations, ` +
        `at most ${largest} history events in one, ${view.polls} looks`,
    );
    // Renewed an hour before each 7-day limit: after 6 d 23 h, 13 d 22 h, 20 d 21 h and 27 d 20 h.
    expect(view.renewals).toBe(4);
    expect(seenRunning).toHaveLength(5);
    expect(view.rearms).toBe(0);
    expect(gaps).toBe(0);
    // Each old session was stopped only after its successor had been created and reported Running (queryStatus).
    const requests = stack.emulator.requests().slice(firstRequest).map((r) => `${r.method} ${r.path}`);
    const stops = requests.flatMap((r, i) => (/\/packetCaptures\/(alertrec-[^/]+)\/stop$/i.test(r) ? [{ i, name: /packetCaptures\/([^/]+)\/stop/i.exec(r)![1]! }] : []));
    expect(stops).toHaveLength(4);
    for (const stop of stops) {
      const successor = seenRunning[seenRunning.indexOf(stop.name) + 1]!;
      expect(requests.slice(0, stop.i).some((r) => r.endsWith(`/packetCaptures/${successor}/queryStatus`)), `${successor} queried before ${stop.name} stopped`).toBe(true);
    }
    // And the ring's files say the same: each stopped session's file ends no earlier than its successor's begins.
    const sessions = await sessionFiles(stack.blob);
    expect(sessions).toHaveLength(4);
    for (let i = 0; i + 1 < sessions.length; i++) expect(sessions[i + 1]!.openedAt <= sessions[i]!.closedAt, `${sessions[i + 1]!.folder} starts before ${sessions[i]!.folder} ends`).toBe(true);
    expect(running().map((s) => s.name)).toEqual([view.session.name]);
    // Stopped sessions are deleted by the recorder (their files stay): only the one recording is left.
    expect(stack.recorderSessions("vm-web-1").map((s) => s.name)).toEqual([view.session.name]);
    expect(largest).toBeLessThanOrEqual(120);
    expect(generations).toBeGreaterThan(10);
  }, 240_000);

  it("re-arms, and says so, when its session is deleted outside alertcap", async () => {
    const before = await recorder();
    const network = networkClient(stack.emulator, "00000000-0000-0000-0000-000000000001");
    await network.packetCaptures.delete("NetworkWatcherRG", "NetworkWatcher_westus2", before.session.name, { updateIntervalInMs: 10 });
    await stack.drive(async () => (await recorder()).rearms === before.rearms + 1 && (await recorder()).phase === "recording");
    const view = await recorder();
    expect(view.session.name).not.toBe(before.session.name);
    expect(running().map((s) => s.name)).toEqual([view.session.name]);
    expect(view.lastError).toContain(`its session ${before.session.name} was deleted outside alertcap`);
    expect(view.notes.join("\n")).toContain("re-armed: its session");
    expect(view.notes.at(-1)).toContain(`re-armed: session ${view.session.name} is running`);
  });

  it("waits while its VM is stopped and re-arms once it runs again", async () => {
    const before = await recorder();
    stack.emulator.setPowerState(VM, "deallocated");
    await stack.drive(async () => (await recorder()).phase === "waiting-for-target");
    let view = await recorder();
    expect(view.lastError).toContain("not running: the recorder waits for it to run");
    expect(view.notes.join("\n")).toContain(`re-armed: its session ${before.session.name} ended in Error`);
    expect(running()).toEqual([]);
    // A few back-off rounds later the VM is started again.
    const stoppedAt = stack.clock.now().getTime();
    await stack.drive(() => stack.clock.now().getTime() >= stoppedAt + 3_600_000);
    expect((await recorder()).phase).toBe("waiting-for-target");
    stack.emulator.setPowerState(VM, "running");
    await stack.drive(async () => (await recorder()).phase === "recording");
    view = await recorder();
    expect(running().map((s) => s.name)).toEqual([view.session.name]);
    expect(view.rearms).toBe(before.rearms + 1);
  });

  it("lists the recorder, and disarms it on DELETE, leaving no session", async () => {
    const list = (await stack.api("GET", "/api/recorders")).body as { count: number; recorders: Array<{ id: string; phase: string }> };
    expect(list.count).toBe(1);
    expect(list.recorders[0]).toMatchObject({ id, phase: "recording" });
    const disarmed = await stack.api("DELETE", `/api/recorders/${id}`);
    expect(disarmed.status).toBe(202);
    await stack.drive(() => stack.host.hub.get(id)!.status === "Completed");
    const view = await recorder();
    expect(view).toMatchObject({ phase: "disarmed", armed: false, session: null });
    expect(stack.recorderSessions("vm-web-1")).toEqual([]);
    expect((await stack.api("DELETE", `/api/recorders/${id}`)).status).toBe(409);
  });
});
