// The JSON body alertcap POSTs to generic webhook targets (schema version 1). This is a public contract: receivers are
// written against it. Rules:
//   * Additive changes (a new field, a new `type` or `outcome` value) keep schemaVersion 1; receivers must ignore
//     fields they do not know. Renaming, removing or re-typing a field bumps schemaVersion.
//   * Every field listed is always present; "unknown" is null, never an absent key.
//   * `id` equals the `webhook-id` and `Idempotency-Key` headers and is the same on every retry: de-duplicate on it.
//   * URLs and texts have credentials removed (`sig=`, `code=`, token parameters); lines are at most 2,000 characters,
//     `findings` at most 100 lines, `packetCaptureErrors` at most 50.
//
// {
//   "schemaVersion": 1,
//   "type": "capture.started" | "capture.completed" | "capture.failed",
//   "id": string,                              event ID = idempotency key
//   "occurredAt": string,                      ISO 8601 time of the event
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
//     "findings": string[],                    key lines of the analysis, most important first; may be empty
//     "reportUrl": string | null,              the full report
//     "statusUrl": string | null               alertcap's status endpoint for this capture
//   }
// }
//
// Headers on every request: Content-Type: application/json, webhook-id, webhook-timestamp (Unix seconds),
// Idempotency-Key (= id), and, when ALERTCAP_NOTIFY_SECRET is set, webhook-signature
// "v1,<base64 HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${raw body}`)>" (Standard Webhooks 1.0).

import type { CaptureOutcome, CaptureSummary, NotificationEvent } from "./summary.js";

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

export function buildGenericBody(s: CaptureSummary): GenericNotificationBody {
  return {
    schemaVersion: GENERIC_SCHEMA_VERSION,
    type: s.event,
    id: s.idempotencyKey,
    occurredAt: s.occurredAt,
    data: {
      target: s.target,
      targetKind: s.targetKind,
      alert: { ...s.alert },
      captureName: s.captureName,
      networkWatcher: s.networkWatcher,
      window: { startedAt: s.startedAt, stoppedAt: s.stoppedAt, deadline: s.deadline },
      outcome: s.outcome,
      stopReason: s.stopReason,
      stopRequestedBecause: s.stopRequestedBecause,
      failureReason: s.failureReason,
      packetCaptureErrors: [...s.packetCaptureErrors],
      storagePath: s.storagePath,
      findings: [...s.findings],
      reportUrl: s.reportUrl,
      statusUrl: s.statusUrl,
    },
  };
}

const nullableString = { type: ["string", "null"] } as const;
const stringList = (maxItems: number) => ({ type: "array", maxItems, items: { type: "string", maxLength: 2000 } }) as const;

/** The same contract as a JSON Schema (draft-07), for receivers and for the tests. */
export const genericBodyJsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "alertcap capture notification, schema version 1",
  type: "object",
  required: ["schemaVersion", "type", "id", "occurredAt", "data"],
  properties: {
    schemaVersion: { const: GENERIC_SCHEMA_VERSION },
    type: { enum: ["capture.started", "capture.completed", "capture.failed"] },
    id: { type: "string", minLength: 1, maxLength: 255 },
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
