// What an orchestration may publish as its customStatus. The Durable extension refuses a custom status whose JSON is
// over 16 KB in UTF-16 (MessagePayloadDataConverter.Serialize(value, 16)) and fails the orchestration, before any
// capture or notification. Alert text, Network Watcher's errors and failure reasons are not ours to size, so the
// published view is cut until it fits, whatever the inputs.
import { truncate } from "../truncate.js";
import type { AlertSummary, CaptureProgress } from "./progress.js";

/** The extension's arithmetic: floor(UTF-16 bytes / 1024) > 16 is refused. */
export const CUSTOM_STATUS_LIMIT_BYTES = 17 * 1024;
/** Our budget, with room to spare (JSON.stringify's length counts UTF-16 code units: 2 bytes each). */
const STATUS_BUDGET_CHARS = 7_000;
/** Longest alert string alertcap keeps: enough to recognise a rule or an alert ID, never enough to crowd a status. */
export const ALERT_TEXT_MAX_CHARS = 300;

// Cut with the shared truncate: it never splits a surrogate pair, which would leave a lone surrogate in the status.
const cutOrNull = (text: string | null | undefined, max: number): string | null => (typeof text === "string" ? truncate(text, max) : null);

/** The alert's fields, each cut to ALERT_TEXT_MAX_CHARS: taken from a webhook body that anyone may size. */
export function boundedAlertSummary(alert: AlertSummary): AlertSummary {
  return {
    alertId: cutOrNull(alert.alertId, ALERT_TEXT_MAX_CHARS),
    rule: cutOrNull(alert.rule, ALERT_TEXT_MAX_CHARS),
    severity: cutOrNull(alert.severity, 40),
    schema: cutOrNull(alert.schema, 80),
    firedAt: cutOrNull(alert.firedAt, 60),
  };
}

/** Every string cut to `maxText`, every list to its first `maxItems`, nesting below `depth` dropped. */
function bound(value: unknown, maxText: number, maxItems: number, depth = 4): unknown {
  if (typeof value === "string") return truncate(value, maxText);
  if (value === null || typeof value !== "object") return value;
  if (depth === 0) return null;
  if (Array.isArray(value)) return value.slice(0, maxItems).map((v) => bound(v, maxText, maxItems, depth - 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bound(v, maxText, maxItems, depth - 1)]));
}

/** The UTF-16 size in bytes of a value's JSON, as the extension measures it. */
export const utf16JsonBytes = (value: unknown): number => JSON.stringify(value ?? null).length * 2;

/**
 * The customStatus to publish for a progress: the analysis left out (it is the output's, not the status's), strings
 * and lists cut harder until the JSON is within budget. Pure and deterministic, so replays publish the same view.
 */
export function statusView(progress: CaptureProgress): CaptureProgress {
  const base = { ...progress, analysis: null };
  for (const [maxText, maxItems] of [[1_000, 10], [300, 5], [100, 3], [40, 1]] as const) {
    const view = bound(base, maxText, maxItems) as CaptureProgress;
    if (JSON.stringify(view).length <= STATUS_BUDGET_CHARS) return view;
  }
  return bound(base, 20, 0) as CaptureProgress; // 24 short fields: always well under the limit
}
