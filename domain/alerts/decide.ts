import { analyseResourceId, describeTarget, printable, quote, type CaptureTarget, type ResourceIdAnalysis } from "./armId.js";
import { normalizeAlert, type NormalisedAlert } from "./normalize.js";

// What the webhook does with a body, and why, in the words of shared/contract.md:
//   capture — a firing alert about a VM or VM scale set;
//   stop    — a resolved alert about one (its running capture ends early);
//   ignore  — a well-formed alert that is not about a capturable target;
//   reject  — not a recognisable or valid alert payload.
// `alertcap explain-alert` and the HTTP webhook both call decideAlertText, so what the command explains is what
// the webhook does.

export type Decision = "capture" | "stop" | "ignore" | "reject";

export interface AlertDecision {
  schema: string | null;
  decision: Decision;
  /** The first capturable target's ARM ID, as the alert gave it. */
  target: string | null;
  alertId: string | null;
  /** A sentence for people: what the alert is and what happens. */
  reason: string;
  alert?: NormalisedAlert;
  /** Every capturable target, de-duplicated case-insensitively: the webhook starts one capture per entry. */
  targets: CaptureTarget[];
}

// Azure caps common-schema alerts at 256 KB and non-common log alerts carry at most 1,000 result rows; a body far
// beyond that is not an alert, and refusing it early keeps JSON.parse cheap.
export const MAX_ALERT_BODY_BYTES = 4 * 1024 * 1024;

/** Decides on a raw request body. Never throws. */
export function decideAlertText(text: string): AlertDecision {
  if (text.length > MAX_ALERT_BODY_BYTES) {
    return rejection(`Body is ${text.length} characters long, more than any Azure Monitor alert.`);
  }
  if (text.trim() === "") return rejection("Body is empty: an Azure Monitor alert is a JSON object.");
  if (nestedDeeperThan(text, MAX_NESTING)) {
    return rejection(`Body nests arrays or objects more than ${MAX_NESTING} deep, far more than any Azure Monitor alert.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError) return rejection("Body is nested too deeply to be an Azure Monitor alert.");
    return rejection(`Body is not JSON: ${printable(error instanceof Error ? error.message : String(error), 240)}`);
  }
  return decideAlert(body);
}

/** Real alerts nest about ten deep; a megabyte of `[[[…` costs most of a second to parse and walk. */
const MAX_NESTING = 64;

/** One pass over the text, before any parse: does an array or object open more than `limit` deep? */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Decides on an already parsed body. Never throws. */
export function decideAlert(body: unknown): AlertDecision {
  try {
    return decide(body);
  } catch (error) {
    return rejection(`The alert could not be read: ${printable(error instanceof Error ? error.message : String(error))}.`);
  }
}

function decide(body: unknown): AlertDecision {
  const normalised = normalizeAlert(body);
  if (!normalised.ok) return rejection(normalised.reason, normalised.schema, normalised.alertId);
  const alert = normalised.alert;
  const analyses = alert.candidateTargetIds.map(analyseResourceId);
  const targets = uniqueTargets(analyses);
  const base = { schema: alert.schema, alertId: alert.alertId, alert };
  const [first] = targets;
  if (first !== undefined) {
    const firing = alert.condition === "Fired";
    const action = firing ? "capture" : "stop the running capture";
    return {
      ...base,
      decision: firing ? "capture" : "stop",
      target: first.id,
      reason: `${alert.condition} ${title(alert)} on ${describeTargets(targets)}: ${action}`,
      targets,
    };
  }
  const malformed = analyses.find((analysis) => analysis.kind === "malformed");
  if (malformed?.kind === "malformed") {
    return {
      ...base,
      decision: "reject",
      target: null,
      reason: `The ${title(alert)} names ${quote(malformed.id)} as its target, which is not a valid resource ID: ${malformed.reason}.`,
      targets: [],
    };
  }
  const other = analyses.find((analysis) => analysis.kind === "notCapturable");
  const about =
    other?.kind === "notCapturable" ? `is about ${other.what}, not a VM or scale set` : "names no Azure resource";
  return {
    ...base,
    decision: "ignore",
    target: null,
    reason: `The ${alert.condition.toLowerCase()} ${title(alert)} ${about}: nothing to capture`,
    targets: [],
  };
}

function uniqueTargets(analyses: ResourceIdAnalysis[]): CaptureTarget[] {
  const byKey = new Map<string, CaptureTarget>();
  for (const analysis of analyses) {
    if (analysis.kind === "capturable" && !byKey.has(analysis.target.key)) {
      byKey.set(analysis.target.key, analysis.target);
    }
  }
  return [...byKey.values()];
}

// "metric alert 'High TCP segments sent'", or just "activity log alert" when the payload has no rule name.
function title(alert: NormalisedAlert): string {
  return alert.ruleName ? `${alert.kind} ${quote(alert.ruleName)}` : alert.kind;
}

function describeTargets(targets: CaptureTarget[]): string {
  const [first, ...rest] = targets;
  if (first === undefined) return "nothing";
  const more = rest.length === 0 ? "" : ` and ${rest.length} more target${rest.length === 1 ? "" : "s"}`;
  return `${describeTarget(first)}${more}`;
}

function rejection(reason: string, schema: string | null = null, alertId: string | null = null): AlertDecision {
  return { schema, decision: "reject", target: null, alertId, reason, targets: [] };
}
