// The flight recorder's pure parts: its settings, when it renews and looks, what it makes of Network Watcher's
// answers, which ring files an alert's lookback needs, the POST body, the bounded status, and the CLI's arguments.
import { describe, expect, it } from "vitest";
import { parseArguments } from "../cli/recorder.js";
import { parseArmRequest } from "../domain/recorder/armRequest.js";
import { type RingFile, selectRingFiles } from "../domain/recorder/lookback.js";
import { recorderInstanceId } from "../domain/recorder/plan.js";
import { nextLookAt, nextSessionStamp, renewAt, retryDelaySeconds, watchDecision } from "../domain/recorder/schedule.js";
import { parseRecorderSettings } from "../domain/recorder/settings.js";
import { recorderStatusView, type RecorderState, withNote } from "../domain/recorder/state.js";

const VM = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1";
const at = (iso: string) => new Date(iso);

describe("recorder settings", () => {
  it("default to a 20 × 50 MiB ring, 7-day sessions renewed an hour early, a look every 5 minutes, 10 minutes of lookback", () => {
    expect(parseRecorderSettings({})).toEqual({
      ok: true,
      settings: { ring: { fileCount: 20, fileSizeBytes: 52_428_800, sessionSeconds: 604_800, renewBeforeSeconds: 3600 }, pollSeconds: 300, lookbackSeconds: 600 },
    });
  });

  it("renew a short session a tenth of its life early, not an hour", () => {
    const parsed = parseRecorderSettings({ ALERTCAP_RECORDER_SESSION_SECONDS: "3600" });
    expect(parsed.ok && parsed.settings.ring.renewBeforeSeconds).toBe(360);
  });

  it("refuse values Network Watcher would refuse, naming the setting and the range", () => {
    const parsed = parseRecorderSettings({ ALERTCAP_RECORDER_FILE_COUNT: "10001", ALERTCAP_RECORDER_SESSION_SECONDS: "604801", ALERTCAP_RECORDER_FILE_BYTES: "4294967296", ALERTCAP_LOOKBACK_SECONDS: "ten" });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toEqual([
      'ALERTCAP_RECORDER_FILE_COUNT must be a whole number from 2 to 10000, got "10001"',
      'ALERTCAP_RECORDER_FILE_BYTES must be a whole number from 1048576 to 4294967295, got "4294967296"',
      'ALERTCAP_RECORDER_SESSION_SECONDS must be a whole number from 600 to 604800, got "604801"',
      'ALERTCAP_LOOKBACK_SECONDS must be a whole number from 0 to 86400, got "ten"',
    ]);
  });
});

describe("recorder schedule", () => {
  const ring = { sessionSeconds: 604_800, renewBeforeSeconds: 3600 };
  const running = { exists: true as const, status: "Running", stopReason: null, errors: [], captureStartTime: null };

  it("renews an hour before the session limit and never looks later than the renewal", () => {
    const renewal = renewAt(at("2027-01-01T00:00:00Z"), ring);
    expect(renewal.toISOString()).toBe("2027-01-07T23:00:00.000Z");
    expect(nextLookAt(at("2027-01-07T22:58:00Z"), renewal, 300).toISOString()).toBe("2027-01-07T23:00:00.000Z");
    expect(nextLookAt(at("2027-01-02T00:00:00Z"), renewal, 300).toISOString()).toBe("2027-01-02T00:05:00.000Z");
  });

  it("waits while the session runs, renews at the renewal time, and re-arms a session deleted, failed or stopped by someone else", () => {
    const renewal = at("2027-01-07T23:00:00Z");
    expect(watchDecision(running, at("2027-01-07T22:00:00Z"), renewal, "s")).toEqual({ action: "wait" });
    expect(watchDecision(running, renewal, renewal, "s")).toEqual({ action: "renew" });
    expect(watchDecision({ exists: false, reason: "NotFound" }, renewal, renewal, "s")).toEqual({ action: "rearm", because: "its session s was deleted outside alertcap (NotFound)" });
    expect(watchDecision({ ...running, status: "Error", errors: ["The VM is deallocated"] }, renewal, renewal, "s")).toEqual({ action: "rearm", because: "its session s ended in Error: The VM is deallocated" });
    expect(watchDecision({ ...running, status: "Stopped", stopReason: "TimeExceeded" }, renewal, renewal, "s")).toEqual({ action: "rearm", because: "its session s reached its time limit before it was renewed" });
    expect(watchDecision({ ...running, status: "Stopped" }, renewal, renewal, "s")).toEqual({ action: "rearm", because: "its session s was stopped outside alertcap" });
  });

  it("backs off from a minute to half an hour", () => {
    expect([0, 1, 2, 5, 20].map(retryDelaySeconds)).toEqual([60, 120, 240, 1800, 1800]);
  });

  it("never stamps two sessions in the same second", () => {
    expect(nextSessionStamp(at("2027-01-01T00:00:00.400Z"), "2027-01-01T00:00:00.000Z").toISOString()).toBe("2027-01-01T00:00:01.000Z");
    expect(nextSessionStamp(at("2027-01-01T00:00:05Z"), "2027-01-01T00:00:00.000Z").toISOString()).toBe("2027-01-01T00:00:05.000Z");
  });
});

describe("lookback selection", () => {
  const file = (n: number, closedAt: string, session = "s1", instance: string | null = null): RingFile => ({ blobName: `${session}/${instance ?? ""}${n}.cap`, session, instance, sizeBytes: 100, closedAt });
  const files = [file(1, "2027-01-01T00:01:00Z"), file(2, "2027-01-01T00:02:00Z"), file(3, "2027-01-01T00:03:00Z"), file(4, "2027-01-01T00:04:00Z"), file(5, "2027-01-01T00:05:00Z")];

  it("takes every file whose span overlaps the window (the one open at its start included), and the quiet window before it as baseline", () => {
    // Window 00:02:30–00:04:30: file 3 (00:02–00:03) holds its start, 5 (00:04–00:05) its end.
    const chosen = selectRingFiles(files, at("2027-01-01T00:02:30Z"), at("2027-01-01T00:04:30Z"), 90);
    expect(chosen.lookback.map((f) => f.blobName)).toEqual(["s1/3.cap", "s1/4.cap", "s1/5.cap"]);
    expect(chosen.baseline.map((f) => f.blobName)).toEqual(["s1/1.cap", "s1/2.cap"]);
    expect(selectRingFiles(files, at("2027-01-01T00:02:30Z"), at("2027-01-01T00:04:30Z"), 0).baseline).toEqual([]);
  });

  it("follows each session and instance on its own", () => {
    const mixed = [file(1, "2027-01-01T00:01:00Z", "old"), file(1, "2027-01-01T00:00:30Z", "new", "0/"), file(2, "2027-01-01T00:05:00Z", "new", "0/")];
    const chosen = selectRingFiles(mixed, at("2027-01-01T00:02:00Z"), at("2027-01-01T00:06:00Z"), 0);
    expect(chosen.lookback.map((f) => f.blobName)).toEqual(["new/0/2.cap"]);
  });
});

describe("POST /api/recorders body", () => {
  it("reads a VM or scale set's ARM ID", () => {
    expect(parseArmRequest(JSON.stringify({ target: VM }))).toMatchObject({ ok: true, target: { name: "vm-web-1", kind: "virtualMachine" } });
  });

  it.each([
    ["", "The body is empty"],
    ["{", "The body is not JSON"],
    ["[1]", "The body must be a JSON object"],
    ["{}", '"target" is missing'],
    ['{"target": 5}', '"target" must be a string'],
    [JSON.stringify({ target: VM, extra: 1 }), 'Unknown field "extra": the body takes only "target".'],
    [JSON.stringify({ target: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa" }), "is a storage account, not a VM or VM scale set"],
  ])("answers %j with a sentence", (body, sentence) => {
    const parsed = parseArmRequest(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(sentence);
  });
});

describe("recorder status", () => {
  it("stays small however much happens: notes are cut and only the newest kept", () => {
    const settings = parseRecorderSettings({});
    if (!settings.ok) throw new Error("defaults");
    const state: RecorderState = {
      phase: "recording", target: VM, armedAt: "2027-01-01T00:00:00Z", settings: settings.settings, osType: "Linux", watcher: null, location: null, session: null, sessionStatus: null,
      endedSessions: [], renewals: 0, rearms: 0, retries: 0, lastError: "x".repeat(100_000), notes: [], incidents: [], polls: 0, nextLookAt: null, generation: 0,
    };
    for (let i = 0; i < 1000; i++) withNote(state, "2027-01-01T00:00:00Z", `note ${i} ${"y".repeat(10_000)}`);
    const bytes = JSON.stringify(recorderStatusView(state)).length * 2;
    expect(state.notes).toHaveLength(8);
    expect(state.notes.at(-1)).toMatch(/^2027-01-01T00:00:00Z note 999 y+…$/);
    expect(bytes).toBeLessThan(16 * 1024);
  });
});

describe("alertcap recorder arguments", () => {
  const env = { ALERTCAP_APP_URL: "https://app.azurewebsites.net", ALERTCAP_FUNCTION_KEY: "k" };

  it("arm takes the target; disarm and list also take a recorder ID, computed from the target when given one", () => {
    expect(parseArguments(["arm", VM], env)).toMatchObject({ action: "arm", id: null, target: VM, key: "k" });
    const id = recorderInstanceId({ id: VM, name: "vm-web-1" });
    expect(parseArguments(["disarm", VM], env)).toMatchObject({ action: "disarm", id });
    expect(parseArguments(["list", id, "--json"], env)).toMatchObject({ action: "list", id, json: true });
    expect(parseArguments(["list"], env)).toMatchObject({ action: "list", id: null });
  });

  it("takes the key from a webhook URL's code= and keeps only the app's origin", () => {
    const parsed = parseArguments(["list", "--app", "https://app.azurewebsites.net/api/alerts?code=secret"], {});
    expect(parsed.app.href).toBe("https://app.azurewebsites.net/");
    expect(parsed.key).toBe("secret");
  });

  it.each([
    [[], "arm, disarm or list is required"],
    [["arm"], "arm needs the target's ARM ID"],
    [["arm", "rec-vm-web-1-0123456789ab"], "arm takes the target's ARM ID, not a recorder ID"],
    [["arm", "vm-web-1"], "is not a valid resource ID"],
    [["arm", VM, "--app", "http://app.example.com"], "--app must be an https URL"],
    [["list", "--wat"], "unknown option --wat"],
  ])("refuses %j in one sentence", (args, sentence) => {
    expect(() => parseArguments(args, env)).toThrow(sentence);
  });

  it("needs an app and a key", () => {
    expect(() => parseArguments(["list"], {})).toThrow("--app is required");
    expect(() => parseArguments(["list", "--app", "https://a.example"], {})).toThrow("--key is required");
  });
});
