// The flight recorder's shared vocabulary: which durable instance records a target, what its continuous-capture
// sessions are called, the ring it keeps, and the manifest it leaves in an incident's folder when an alert fires.
// Pure functions: the recorder orchestration, the capture orchestration, the webhook and the CLI all agree through
// this module and nothing else.
import { createHash } from "node:crypto";
import { type CaptureTargetRef, nameStamp, targetNameBase } from "../capture/plan.js";

/** Network Watcher's continuous-capture limits (REST spec 2024-05-01 and later: `captureSettings`). */
export const CONTINUOUS_CAPTURE_LIMITS = {
  maxFileCount: 10_000,
  // The REST spec's maximum (4294967295: a uint32), one byte under 4 GiB.
  maxFileSizeBytes: 4_294_967_295,
  maxSessionSeconds: 604_800,
} as const;

/** The ring a recorder keeps per target, and when it renews its session. */
export interface RingSettings {
  /** `captureSettings.fileCount`: files in the ring before the oldest is deleted. */
  fileCount: number;
  /** `captureSettings.fileSizeInBytes`: a file rotates when it reaches this size. */
  fileSizeBytes: number;
  /** `captureSettings.sessionTimeLimitInSeconds`: Network Watcher ends the session after this long. */
  sessionSeconds: number;
  /** The next session starts this long before the current one's limit, and the old one is stopped once it runs. */
  renewBeforeSeconds: number;
}

/** Defaults: 20 files of 50 MiB (a 1000 MiB budget per target), 7-day sessions renewed an hour early. */
export const DEFAULT_RING: RingSettings = {
  fileCount: 20,
  fileSizeBytes: 50 * 1024 ** 2,
  sessionSeconds: CONTINUOUS_CAPTURE_LIMITS.maxSessionSeconds,
  renewBeforeSeconds: 3_600,
};

/** Storage a target's ring can hold at most: what the recorder costs in blob storage per target. */
export function ringBudgetBytes(ring: Pick<RingSettings, "fileCount" | "fileSizeBytes">): number {
  return ring.fileCount * ring.fileSizeBytes;
}

const HASH_HEX_LENGTH = 12;

function targetHash(target: Pick<CaptureTargetRef, "id">): string {
  return createHash("sha256").update(target.id.toLowerCase()).digest("hex").slice(0, HASH_HEX_LENGTH);
}


/**
 * The durable instance that records `target`: one per target, so arming twice is one recorder, and the webhook can
 * find a target's recorder from the alert alone. Same safe alphabet as the capture instance IDs.
 */
export function recorderInstanceId(target: Pick<CaptureTargetRef, "id" | "name" | "instanceId">): string {
  const readable = targetNameBase(target);
  return readable === "" ? `rec-${targetHash(target)}` : `rec-${readable}-${targetHash(target)}`;
}

/**
 * Recorder sessions are named apart from alert captures (`alertcap-…`), so neither ever joins, stops or deletes the
 * other's session: `alertrec-{name}-{hash}-{yyyymmdd-hhmmss}`, the stamp being when the session was asked for.
 */
export const RECORDER_SESSION_PREFIX = "alertrec-";

export function recorderSessionName(target: Pick<CaptureTargetRef, "id" | "name" | "instanceId">, requestedAt: Date): string {
  return `${RECORDER_SESSION_PREFIX}${targetNameBase(target) || "target"}-${targetHash(target)}-${nameStamp(requestedAt)}`;
}

/** Whether `name` is a session a recorder of `target` would have created (any time). */
export function isRecorderSessionFor(name: string, target: Pick<CaptureTargetRef, "id" | "name" | "instanceId">): boolean {
  const prefix = `${RECORDER_SESSION_PREFIX}${targetNameBase(target) || "target"}-${targetHash(target)}-`;
  return name.toLowerCase().startsWith(prefix) && /^\d{8}-\d{6}$/.test(name.slice(prefix.length));
}

/** One ring file the recorder copied into an incident's folder. */
export interface SecuredFile {
  /** URL of the copy (in the incident's folder), which the capture orchestration analyses. */
  url: string;
  /** The scale-set instance it holds, null for a VM. */
  instance: string | null;
  sizeBytes: number;
  /** The ring file's own last-modified time: when Network Watcher finished (uploaded) it. */
  uploadedAt: string;
}

/**
 * What a recorder secured for one incident, written as `lookback.json` in the incident's folder once the copy is
 * done. `complete` is false while later files (the one open when the alert fired) are still to come.
 */
export interface LookbackManifest {
  /** The capture orchestration's instance ID. */
  incidentId: string;
  target: string;
  firedAt: string;
  /** [windowStart, windowEnd] = [firedAt − ALERTCAP_LOOKBACK_SECONDS, when the recorder cut its session]. */
  windowStart: string;
  windowEnd: string;
  /** The quiet window before the lookback (ALERTCAP_BASELINE=recorder), when the ring still holds it. */
  baseline: SecuredFile[];
  lookback: SecuredFile[];
  /** When the first copy finished, and when the last did: the measure of "secured within seconds". */
  firstSecuredAt: string | null;
  securedAt: string | null;
  complete: boolean;
  /** Why something is missing (the ring had already overwritten it, the session was gone), in plain words. */
  notes: string[];
}

/** The event the webhook raises on a target's recorder when an alert fires on it. */
export interface AlertFiredEvent {
  incidentId: string;
  firedAt: string;
  lookbackSeconds: number;
}

/** Blob name of the manifest inside an incident's folder. */
export const LOOKBACK_MANIFEST = "lookback.json";

/**
 * The folder (blob-name prefix in the capture account's `network-watcher-logs` container) where a recorder secures
 * an incident's files. Capture instance IDs repeat per target, so the alert's time makes the folder unique.
 */
export function incidentFolder(incidentId: string, firedAt: string): string {
  return `alertcap-incidents/${incidentId}/${compactTime(firedAt)}`;
}

/** An ISO 8601 instant (UTC) as blob names carry it: `yyyymmddthhmmssz`, to the second. */
export function compactTime(iso: string): string {
  return iso.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").toLowerCase();
}
