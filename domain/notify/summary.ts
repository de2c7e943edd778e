// What every notification says, whatever its format: derived once from the capture's progress so Teams, Slack and the
// generic JSON cannot disagree, and cleaned once (URL credentials stripped, sizes bounded) so no format can leak or
// overflow by forgetting to.

import { createHash } from "node:crypto";
import type { AlertSummary, CaptureProgress } from "../capture/progress.js";
import { truncate } from "../truncate.js";
import { sanitiseText } from "./text.js";
import { isManagementUrl, scrubSecrets, stripUrlSecrets } from "./urlSecrets.js";

export type NotificationEvent = "capture.started" | "capture.completed" | "capture.failed";

export interface NotificationInput {
  readonly event: NotificationEvent;
  readonly progress: CaptureProgress;
  /** A few key lines from the analysis, most important first; may be empty. */
  readonly findings: readonly string[];
  /**
   * When each failure began relative to the alert ("DNS SERVFAIL began 4 min 10 s before the alert"), most important
   * first: set when a flight recorder's lookback was analysed with the capture. Notifications lead with these.
   */
  readonly onsets?: readonly string[];
  /** Where the full report can be read (a SAS or key in it is stripped before it is shown). */
  readonly reportUrl?: string;
  /**
   * A link to the report that alertcap signed for the people it notifies (a short-lived, read-only SAS for that one
   * blob): shown as given, SAS included, since the SAS is what lets a person open it. Takes precedence over reportUrl.
   */
  readonly reportLink?: string;
  /** Where the capture's status can be read (alertcap's API route: only the generic JSON body carries it). */
  readonly statusUrl?: string;
  /**
   * Stable per event (same on every retry and every re-run of the activity). The event ID that is sent is derived
   * from it (see eventIdFor): receivers de-duplicate on that.
   */
  readonly idempotencyKey: string;
  /**
   * When the event happened, ISO 8601, from durable state (see durableEventTime), never the send time: a re-run of
   * the notify activity must send a byte-identical body under the same event ID.
   */
  readonly occurredAt: string;
  /** When the capture stopped, ISO 8601, if known: CaptureProgress does not record it. */
  readonly stoppedAt?: string;
}

/** "running" for capture.started, "stopped" for capture.completed, "failed" for capture.failed. */
export type CaptureOutcome = "running" | "stopped" | "failed";

export interface CaptureSummary {
  readonly event: NotificationEvent;
  /** The event ID sent as `webhook-id`, `Idempotency-Key` and the generic body's `id`. */
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  /** The ARM ID of the captured VM or scale-set instance. */
  readonly target: string;
  readonly targetKind: string;
  /** A short name for headlines: the VM name, or "<scale set> instance <id>". */
  readonly targetName: string;
  readonly alert: AlertSummary;
  readonly captureName: string | null;
  readonly networkWatcher: string | null;
  readonly startedAt: string | null;
  readonly stoppedAt: string | null;
  readonly deadline: string | null;
  /** "4 min 30 s" from startedAt to stoppedAt, when both are known. */
  readonly duration: string | null;
  readonly outcome: CaptureOutcome;
  readonly stopReason: string | null;
  readonly stopRequestedBecause: string | null;
  readonly failureReason: string | null;
  readonly packetCaptureErrors: readonly string[];
  readonly storagePath: string | null;
  readonly findings: readonly string[];
  /** Onset lines (see NotificationInput.onsets), not repeated in `findings`; empty without a lookback. */
  readonly onsets: readonly string[];
  readonly reportUrl: string | null;
  readonly statusUrl: string | null;
  /** One line: "Packet capture finished on vm-web-1". */
  readonly headline: string;
  /** One sentence on why it ended the way it did, or null when nothing is known. */
  readonly reason: string | null;
}

// Bounds for the JSON body (chat formats cut further): findings are "a few key lines", so these only stop a runaway
// analysis from producing a multi-megabyte notification.
export const MAX_FINDINGS = 100;
export const MAX_LINE_CHARS = 2000;
const MAX_ERRORS = 50;

/**
 * The event ID that is sent (`webhook-id`, `Idempotency-Key`, the generic body's `id`) for a stable key: the same key
 * always gives the same ID. Hashed because the orchestration's key holds `.` and `:` (an ISO time), and Standard
 * Webhooks IDs should not contain `.`, which separates the signed parts; `evt_` + 32 base64url characters (192 bits)
 * is header-safe and cannot collide in practice.
 */
export function eventIdFor(key: string): string {
  return `evt_${createHash("sha256").update(key, "utf8").digest("base64url").slice(0, 32)}`;
}

/**
 * When the event happened, from durable state only (so every re-run says the same): when the capture stopped, else
 * when it started, else when the alert fired. Null when none of them is a readable time.
 */
export function durableEventTime(progress: CaptureProgress): string | null {
  for (const candidate of [progress.stoppedAt, progress.startedAt, progress.alert.firedAt]) {
    if (typeof candidate !== "string") continue;
    const ms = Date.parse(candidate);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return null;
}

/** Throws a RangeError only for a programming error: an empty idempotency key or an unreadable occurredAt. */
export function summarise(input: NotificationInput): CaptureSummary {
  if (input.idempotencyKey === "") throw new RangeError("idempotencyKey must not be empty");
  const occurredMs = Date.parse(input.occurredAt);
  if (!Number.isFinite(occurredMs)) throw new RangeError("occurredAt must be an ISO 8601 time");
  const p = input.progress;
  const targetName = shortTargetName(p.target);
  const outcome = outcomeOf(input.event);
  const stopReason = cleanOrNull(p.stopReason);
  const stopRequestedBecause = cleanOrNull(p.stopRequestedBecause);
  const failureReason = cleanOrNull(p.failureReason);
  const startedAt = cleanOrNull(p.startedAt);
  const stoppedAt = cleanOrNull(input.stoppedAt ?? input.progress.stoppedAt ?? null);
  const onsets = cleanLines(input.onsets ?? []);
  return {
    event: input.event,
    idempotencyKey: eventIdFor(input.idempotencyKey),
    occurredAt: new Date(occurredMs).toISOString(),
    target: clean(p.target),
    targetKind: clean(p.targetKind),
    targetName,
    alert: {
      alertId: cleanOrNull(p.alert.alertId),
      rule: cleanOrNull(p.alert.rule),
      severity: cleanOrNull(p.alert.severity),
      schema: cleanOrNull(p.alert.schema),
      firedAt: cleanOrNull(p.alert.firedAt),
    },
    captureName: cleanOrNull(p.captureName),
    networkWatcher: cleanOrNull(p.networkWatcher),
    startedAt,
    stoppedAt,
    deadline: cleanOrNull(p.deadline),
    duration: durationText(startedAt, stoppedAt),
    outcome,
    stopReason,
    stopRequestedBecause,
    failureReason,
    packetCaptureErrors: p.packetCaptureErrors.slice(0, MAX_ERRORS).map(clean),
    storagePath: cleanOrNull(p.storagePath === null ? null : stripUrlSecrets(p.storagePath)),
    findings: cleanLines(input.findings).filter((line) => !onsets.includes(line)),
    onsets,
    reportUrl: input.reportLink !== undefined ? signedLink(input.reportLink) : safeLink(input.reportUrl),
    statusUrl: safeLink(input.statusUrl),
    headline: `${headlineVerb(input.event)} on ${targetName}`,
    reason: reasonOf(outcome, stopReason, stopRequestedBecause, failureReason),
  };
}

function outcomeOf(event: NotificationEvent): CaptureOutcome {
  switch (event) {
    case "capture.started":
      return "running";
    case "capture.completed":
      return "stopped";
    case "capture.failed":
      return "failed";
  }
}

function headlineVerb(event: NotificationEvent): string {
  switch (event) {
    case "capture.started":
      return "Packet capture started";
    case "capture.completed":
      return "Packet capture finished";
    case "capture.failed":
      return "Packet capture failed";
  }
}

function reasonOf(
  outcome: CaptureOutcome,
  stopReason: string | null,
  stopRequestedBecause: string | null,
  failureReason: string | null,
): string | null {
  if (outcome === "failed") return failureReason ?? "No failure reason was recorded.";
  if (outcome === "running") return null;
  if (stopRequestedBecause !== null) {
    return stopReason === null
      ? `Stopped early: ${stopRequestedBecause}`
      : `Stopped early: ${stopRequestedBecause} (Network Watcher: ${stopReason})`;
  }
  return stopReason === null ? null : `Network Watcher stop reason: ${stopReason}`;
}

/** "4 min 30 s" between two ISO times, or null when either is missing or unparseable. */
export function durationText(from: string | null, to: string | null): string | null {
  if (from === null || to === null) return null;
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return null;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return seconds > 0 ? `${minutes} min ${seconds} s` : `${minutes} min`;
  return `${seconds} s`;
}

/** "vm-web-1" from a VM ID; "vmss-1 instance 3" from a scale-set instance ID; the input itself otherwise. */
export function shortTargetName(armId: string): string {
  const instance = /\/virtualMachineScaleSets\/([^/]+)\/virtualMachines\/([^/]+)\/?$/i.exec(armId);
  if (instance) return clean(`${instance[1]} instance ${instance[2]}`);
  const last = /\/providers\/[^/]+\/[^/]+\/([^/]+)\/?$/i.exec(armId);
  return clean(last?.[1] ?? armId) || "(unknown target)";
}

// Only absolute http(s) URLs become links; anything else would fail card validation or be a javascript: trap. A
// Functions management URL (durable instance management, host admin) is never linked, key or not: notifications
// point people only at alertcap's own routes and the report.
function safeLink(url: string | undefined): string | null {
  if (url === undefined) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  } catch {
    return null;
  }
  if (isManagementUrl(url)) return null;
  const stripped = stripUrlSecrets(url);
  return stripped.length <= MAX_LINE_CHARS ? stripped : null;
}

// alertcap's own signed report link keeps its query (the SAS), with the same checks otherwise.
function signedLink(url: string): string | null {
  const checked = safeLink(url);
  return checked === null || url.length > MAX_LINE_CHARS ? null : new URL(url).href;
}

function cleanLines(lines: readonly string[]): string[] {
  return lines.slice(0, MAX_FINDINGS).map(clean).filter((line) => line.length > 0);
}

function clean(text: string): string {
  return bound(scrubSecrets(sanitiseText(text)));
}

function cleanOrNull(text: string | null): string | null {
  if (text === null) return null;
  const cleaned = clean(text);
  return cleaned === "" ? null : cleaned;
}

function bound(text: string): string {
  return truncate(text, MAX_LINE_CHARS);
}
