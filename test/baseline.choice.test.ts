// ALERTCAP_BASELINE: which baseline a capture is compared with, and where "what changed" goes among the findings.
import { describe, expect, it } from "vitest";
import { chooseBaseline, leadWith, parseBaselineSetting, type SourceState, whatChangedLines } from "../domain/diff/baselineChoice.js";

const found: SourceState = { state: "found" };
const absent = (why: string): SourceState => ({ state: "absent", why });
const unusable = (why: string): SourceState => ({ state: "unusable", why });

describe("ALERTCAP_BASELINE", () => {
  it("reads the four modes, auto when unset, and says what is wrong otherwise", () => {
    expect(parseBaselineSetting(undefined)).toEqual({ mode: "auto" });
    expect(parseBaselineSetting(" Last-Capture ")).toEqual({ mode: "last-capture" });
    expect(parseBaselineSetting("yesterday")).toEqual({ problem: 'ALERTCAP_BASELINE must be auto, recorder, last-capture or none, got "yesterday"' });
  });

  it("auto: the recorder's quiet window first, else the last capture, else nothing said", () => {
    expect(chooseBaseline("auto", found, found)).toEqual({ source: "recorder" });
    expect(chooseBaseline("auto", absent("no recorder"), found)).toEqual({ source: "last-capture" });
    expect(chooseBaseline("auto", absent("no recorder"), absent("no capture yet"))).toEqual({ source: null, unavailable: null });
    // A source that is there but broken is worth a line even in auto.
    expect(chooseBaseline("auto", absent("no recorder"), unusable("last.json is not JSON"))).toEqual({ source: null, unavailable: "last.json is not JSON" });
  });

  it("an explicit mode uses only its source and says why it is missing; none compares nothing", () => {
    expect(chooseBaseline("recorder", absent("no quiet window"), found)).toEqual({ source: null, unavailable: "no quiet window" });
    expect(chooseBaseline("last-capture", found, absent("none recorded"))).toEqual({ source: null, unavailable: "none recorded" });
    expect(chooseBaseline("none", found, found)).toEqual({ source: null, unavailable: null });
  });

  it("what changed leads the findings, after the onset findings of the lookback timeline", () => {
    const lines = whatChangedLines("the last capture on this target (2026-12-02 08:01 UTC)", ["A rose.", "B is new.", "C fell.", "D vanished."]);
    expect(lines).toEqual(["What changed since the last capture on this target (2026-12-02 08:01 UTC): A rose.", "What changed: B is new.", "What changed: C fell."]);
    const findings = ["DNS SERVFAIL began 4 min 10 s before the alert.", "HTTP 5xx began 20 s after the alert.", "Top talker 10.0.0.4."];
    expect(leadWith(findings, lines)).toEqual([findings[0], findings[1], ...lines, findings[2]]);
    expect(leadWith(["Top talker 10.0.0.4."], lines)).toEqual([...lines, "Top talker 10.0.0.4."]);
  });
});
