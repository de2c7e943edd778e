// ALERTCAP_BASELINE: what the workflow compares an incident's capture with, and the sentences that lead the
// notification and the report with what changed. Pure: the activity reads the setting and the blobs, this decides.

export type BaselineMode = "auto" | "recorder" | "last-capture" | "none";

const MODES: readonly BaselineMode[] = ["auto", "recorder", "last-capture", "none"];

/** The setting, or why it is not one (empty means the default, auto). */
export function parseBaselineSetting(value: string | undefined): { mode: BaselineMode } | { problem: string } {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "") return { mode: "auto" };
  if ((MODES as readonly string[]).includes(text)) return { mode: text as BaselineMode };
  return { problem: `ALERTCAP_BASELINE must be auto, recorder, last-capture or none, got "${String(value).slice(0, 40)}"` };
}

/** Where each baseline source stands for one incident: usable, absent, or present but unusable (and why). */
export type SourceState = { state: "found" } | { state: "absent"; why: string } | { state: "unusable"; why: string };

/**
 * Which source to compare with. auto takes the recorder's quiet window when the incident's lookback manifest has
 * one, else the last completed capture on the target, else nothing (and says nothing: a first capture has no
 * baseline). An explicit mode whose source is missing or unusable says so.
 */
export function chooseBaseline(
  mode: BaselineMode,
  recorder: SourceState,
  lastCapture: SourceState,
): { source: "recorder" | "last-capture" } | { source: null; unavailable: string | null } {
  if (mode === "none") return { source: null, unavailable: null };
  if (mode === "recorder") return recorder.state === "found" ? { source: "recorder" } : { source: null, unavailable: recorder.why };
  if (mode === "last-capture") return lastCapture.state === "found" ? { source: "last-capture" } : { source: null, unavailable: lastCapture.why };
  if (recorder.state === "found") return { source: "recorder" };
  if (lastCapture.state === "found") return { source: "last-capture" };
  // A source that exists but cannot be used is worth saying even in auto; one that was never there is not.
  const broken = [recorder, lastCapture].find((s): s is { state: "unusable"; why: string } => s.state === "unusable");
  return { source: null, unavailable: broken ? broken.why : null };
}

/** What changed lines lead the notification: at most this many diff findings. */
export const MAX_WHAT_CHANGED = 3;

/** "What changed since …: finding", then "What changed: finding" for the next ones. */
export function whatChangedLines(baselineLabel: string, findings: readonly string[]): string[] {
  return findings.slice(0, MAX_WHAT_CHANGED).map((f, i) => (i === 0 ? `What changed since ${baselineLabel}: ${f}` : `What changed: ${f}`));
}

export function unavailableLine(why: string): string {
  return `What changed: the baseline was unavailable (${why}); this capture was not compared with one.`;
}

/** An onset finding of the lookback timeline ("DNS SERVFAIL began 4 min 10 s before the alert"): those lead. */
const ONSET = /\b(before|after|at) the alert\b/i;

/** `findings` with `lines` after its leading onset findings (so the onset stays first) and before the rest. */
export function leadWith(findings: readonly string[], lines: readonly string[]): string[] {
  let onsets = 0;
  while (onsets < findings.length && ONSET.test(findings[onsets]!)) onsets++;
  return [...findings.slice(0, onsets), ...lines, ...findings.slice(onsets)];
}
