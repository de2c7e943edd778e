// The JSON body alertcap POSTs to generic webhook targets (schema version 1). This is a public contract: receivers are
// written against it. Rules:
//   * Additive changes (a new field, a new `type` or `outcome` value) keep schemaVersion 1; receivers must ignore
//     fields they do not know. Renaming, removing or re-typing a field bumps schemaVersion.
//   * Every field listed is always present; "unknown" is null, never an absent key.
//   * `id` equals the `webhook-id` and `Idempotency-Key` headers and is the same on every retry: de-duplicate on it.
//   * URLs and texts have credentials removed (`sig=`, `code=`, token parameters) and Functions management URLs
//     removed; controls, bidi controls, zero-width characters and lone surrogates are stripped from texts. Texts are
//     at most 2,000 characters, `findings` at most 100 lines (+1), `packetCaptureErrors` at most 50 (+1).
//   * The whole body stays under 20,000 bytes of UTF-8: when it would not, lists and texts are shortened (texts end
//     in "…") and a last list line says how many lines were left out ("…and N more not shown here; …").
//   * The body for one `id` is byte-identical on every attempt and every re-run: `occurredAt` comes from durable
//     state (when the capture stopped), not from the time of sending.
//
// {
//   "schemaVersion": 1,
//   "type": "capture.started" | "capture.completed" | "capture.failed",
//   "id": string,                              event ID = idempotency key: `evt_` + 32 base64url characters
//   "occurredAt": string,                      ISO 8601 time of the event (the capture's stop time when known)
//   "data": {
//     "target": string,                        ARM ID of the captured VM / scale-set instance
//     "targetKind": string,                    "virtualMachine" | "virtualMachineScaleSetInstance" | …
//     "alert": { "alertId", "rule", "severity", "schema", "firedAt" },   each string | null
//     "captureName": string | null,            Network Watcher packet capture name
//     "networkWatcher": string | null,         ARM ID of the Network Watcher
//     "window": { "startedAt": string | null, "stoppedAt": string | null, "deadline": string | null },
//     "outcome": "running" | "stopped" | "failed",
//     "stopReason": string | null,             Network Watcher's stop reason (e.g. "TimeExceeded")
//     "stopRequestedBecause": string | null,   why alertcap stopped it early (alert resolved, operator, deadline)
//     "failureReason": string | null,          a sentence, set when outcome is "failed"
//     "packetCaptureErrors": string[],         Network Watcher's packetCaptureError values
//     "storagePath": string | null,            where the capture file is (blob URL without SAS)
//     "findings": string[],                    key lines of the analysis, most important first; may be empty. With
//                                              a flight recorder's lookback, the first lines say when each failure
//                                              began relative to the alert ("DNS SERVFAIL began 1 min before the alert")
//     "reportUrl": string | null,              the full report: opens with no other credential (a read-only SAS for
//                                              that one blob, valid ALERTCAP_REPORT_LINK_HOURS); null without a report
//     "statusUrl": string | null               alertcap's status endpoint for this capture (needs a function key: for
//                                              programs; Teams and Slack messages do not link it)
//   }
// }
//
// Headers on every request: Content-Type: application/json, webhook-id, webhook-timestamp (Unix seconds),
// Idempotency-Key (= id), and, when ALERTCAP_NOTIFY_SECRET is set, webhook-signature
// "v1,<base64 HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${raw body}`)>" (Standard Webhooks 1.0).

import { MAX_FINDINGS, MAX_LINE_CHARS, type CaptureOutcome, type CaptureSummary, type NotificationEvent } from "./summary.js";
import { firstThatFits, type TextLimits } from "./shrink.js";
import { truncate } from "../truncate.js";

export const GENERIC_SCHEMA_VERSION = 1;

export interface GenericAlert {
  readonly alertId: string | null;
  readonly rule: string | null;
  readonly severity: string | null;
  readonly schema: string | null;
  readonly firedAt: string | null;
}

export interface GenericNotificationData {
  readonly target: string;
  readonly targetKind: string;
  readonly alert: GenericAlert;
  readonly captureName: string | null;
  readonly networkWatcher: string | null;
  readonly window: { readonly startedAt: string | null; readonly stoppedAt: string | null; readonly deadline: string | null };
  readonly outcome: CaptureOutcome;
  readonly stopReason: string | null;
  readonly stopRequestedBecause: string | null;
  readonly failureReason: string | null;
  readonly packetCaptureErrors: readonly string[];
  readonly storagePath: string | null;
  readonly findings: readonly string[];
  readonly reportUrl: string | null;
  readonly statusUrl: string | null;
}

export interface GenericNotificationBody {
  readonly schemaVersion: typeof GENERIC_SCHEMA_VERSION;
  readonly type: NotificationEvent;
  readonly id: string;
  readonly occurredAt: string;
  readonly data: GenericNotificationData;
}

/** Bodies are kept under this many bytes of UTF-8 JSON (Standard Webhooks recommends < 20 KB). */
export const GENERIC_BODY_MAX_BYTES = 20_000;

// Tried in order until the body fits. The first step is the documented maximum; real captures fit it with room to
// spare. The last step bounds every text so that it fits whatever the input (~20 texts of ≤ 300 characters at ≤ 3
// UTF-8 bytes per character as JSON, 8 list lines of ≤ 150, two links of ≤ 2,000 ASCII characters: under 17 KB).
const SHRINK_STEPS: readonly TextLimits[] = [
  { lines: MAX_FINDINGS, lineChars: MAX_LINE_CHARS, textChars: MAX_LINE_CHARS, idChars: MAX_LINE_CHARS },
  { lines: 50, lineChars: 500, textChars: 1000, idChars: 1000 },
  { lines: 20, lineChars: 300, textChars: 500, idChars: 600 },
  { lines: 10, lineChars: 200, textChars: 300, idChars: 400 },
  { lines: 5, lineChars: 150, textChars: 150, idChars: 300 },
];

export function buildGenericBody(s: CaptureSummary): GenericNotificationBody {
  return firstThatFits(
    SHRINK_STEPS,
    (limits) => bodyWithin(s, limits),
    (body) => Buffer.byteLength(JSON.stringify(body), "utf8") < GENERIC_BODY_MAX_BYTES,
  );
}

function bodyWithin(s: CaptureSummary, limits: TextLimits): GenericNotificationBody {
  const text = (value: string | null): string | null => (value === null ? null : truncate(value, limits.textChars));
  const id = (value: string | null): string | null => (value === null ? null : truncate(value, limits.idChars));
  return {
    schemaVersion: GENERIC_SCHEMA_VERSION,
    type: s.event,
    id: s.idempotencyKey,
    occurredAt: s.occurredAt,
    data: {
      target: truncate(s.target, limits.idChars),
      targetKind: truncate(s.targetKind, limits.textChars),
      alert: {
        alertId: id(s.alert.alertId),
        rule: text(s.alert.rule),
        severity: text(s.alert.severity),
        schema: text(s.alert.schema),
        firedAt: text(s.alert.firedAt),
      },
      captureName: id(s.captureName),
      networkWatcher: id(s.networkWatcher),
      window: { startedAt: text(s.startedAt), stoppedAt: text(s.stoppedAt), deadline: text(s.deadline) },
      outcome: s.outcome,
      stopReason: text(s.stopReason),
      stopRequestedBecause: text(s.stopRequestedBecause),
      failureReason: text(s.failureReason),
      packetCaptureErrors: lines(s.packetCaptureErrors, limits),
      storagePath: id(s.storagePath),
      // Onsets lead: a receiver written for findings alone reads them first.
      findings: lines([...s.onsets, ...s.findings], limits),
      reportUrl: s.reportUrl,
      statusUrl: s.statusUrl,
    },
  };
}

// The first `limits.lines` lines, each cut; when some are left out, a last line says how many.
function lines(all: readonly string[], limits: TextLimits): string[] {
  const shown = all.slice(0, limits.lines).map((line) => truncate(line, limits.lineChars));
  const hidden = all.length - shown.length;
  if (hidden > 0) shown.push(`…and ${hidden} more not shown here; see the full report.`);
  return shown;
}

const nullableString = { type: ["string", "null"] } as const;
const stringList = (maxItems: number) => ({ type: "array", maxItems: maxItems + 1, items: { type: "string", maxLength: 2000 } }) as const;

/** The same contract as a JSON Schema (draft-07), for receivers and for the tests. */
export const genericBodyJsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "alertcap capture notification, schema version 1",
  type: "object",
  required: ["schemaVersion", "type", "id", "occurredAt", "data"],
  properties: {
    schemaVersion: { const: GENERIC_SCHEMA_VERSION },
    type: { enum: ["capture.started", "capture.completed", "capture.failed"] },
    id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,255}$" },
    occurredAt: { type: "string", format: "date-time" },
    data: {
      type: "object",
      required: [
        "target", "targetKind", "alert", "captureName", "networkWatcher", "window", "outcome", "stopReason",
        "stopRequestedBecause", "failureReason", "packetCaptureErrors", "storagePath", "findings", "reportUrl", "statusUrl",
      ],
      properties: {
        target: { type: "string" },
        targetKind: { type: "string" },
        alert: {
          type: "object",
          required: ["alertId", "rule", "severity", "schema", "firedAt"],
          properties: {
            alertId: nullableString,
            rule: nullableString,
            severity: nullableString,
            schema: nullableString,
            firedAt: nullableString,
          },
        },
        captureName: nullableString,
        networkWatcher: nullableString,
        window: {
          type: "object",
          required: ["startedAt", "stoppedAt", "deadline"],
          properties: { startedAt: nullableString, stoppedAt: nullableString, deadline: nullableString },
        },
        outcome: { enum: ["running", "stopped", "failed"] },
        stopReason: nullableString,
        stopRequestedBecause: nullableString,
        failureReason: nullableString,
        packetCaptureErrors: stringList(50),
        storagePath: nullableString,
        findings: stringList(100),
        reportUrl: nullableString,
        statusUrl: nullableString,
      },
    },
  },
} as const;
