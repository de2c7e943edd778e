// The flight recorder's app settings, parsed with zod like the capture settings: the ring each armed target keeps,
// how long a session runs before it is renewed, how often the recorder looks at it, and how far back an alert's
// lookback reaches. Activities re-read them (never trusting what an orchestration input says); the orchestrator
// gets them from an activity's output.
import { z } from "zod";
import { int } from "../capture/settings.js";
import { CONTINUOUS_CAPTURE_LIMITS, DEFAULT_RING, type RingSettings } from "./plan.js";

/** A session shorter than this would spend its life being renewed. */
const MIN_SESSION_SECONDS = 600;
const MIN_FILE_BYTES = 1024 * 1024;

const envSchema = z.object({
  ALERTCAP_RECORDER_FILE_COUNT: int(2, CONTINUOUS_CAPTURE_LIMITS.maxFileCount, DEFAULT_RING.fileCount),
  ALERTCAP_RECORDER_FILE_BYTES: int(MIN_FILE_BYTES, CONTINUOUS_CAPTURE_LIMITS.maxFileSizeBytes, DEFAULT_RING.fileSizeBytes),
  ALERTCAP_RECORDER_SESSION_SECONDS: int(MIN_SESSION_SECONDS, CONTINUOUS_CAPTURE_LIMITS.maxSessionSeconds, DEFAULT_RING.sessionSeconds),
  ALERTCAP_RECORDER_POLL_SECONDS: int(10, 86_400, 300),
  ALERTCAP_LOOKBACK_SECONDS: int(0, 86_400, 600),
  // Each armed target holds a Network Watcher session (of the region's 10,000) and a ring in storage: a function key
  // must not be enough to arm every VM in scope.
  ALERTCAP_MAX_RECORDERS: int(1, 10_000, 100),
});

export interface RecorderSettings {
  ring: RingSettings;
  /** Longest pause between two looks at the session (a renewal is never late for it: see renewAt). */
  pollSeconds: number;
  /** An alert secures the ring files covering [firedAt − lookbackSeconds, cut]. */
  lookbackSeconds: number;
}

/**
 * The renewal margin: an hour before the limit (DEFAULT_RING), but never more than a tenth of a short session, so a
 * 10-minute session still runs most of its life before its successor starts.
 */
export function renewBeforeSeconds(sessionSeconds: number): number {
  return Math.min(DEFAULT_RING.renewBeforeSeconds, Math.floor(sessionSeconds / 10));
}

export type RecorderSettingsResult = { ok: true; settings: RecorderSettings } | { ok: false; errors: string[] };

export function parseRecorderSettings(env: Record<string, string | undefined>): RecorderSettingsResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`) };
  const e = parsed.data;
  return {
    ok: true,
    settings: {
      ring: {
        fileCount: e.ALERTCAP_RECORDER_FILE_COUNT,
        fileSizeBytes: e.ALERTCAP_RECORDER_FILE_BYTES,
        sessionSeconds: e.ALERTCAP_RECORDER_SESSION_SECONDS,
        renewBeforeSeconds: renewBeforeSeconds(e.ALERTCAP_RECORDER_SESSION_SECONDS),
      },
      pollSeconds: e.ALERTCAP_RECORDER_POLL_SECONDS,
      lookbackSeconds: e.ALERTCAP_LOOKBACK_SECONDS,
    },
  };
}

/** ALERTCAP_MAX_RECORDERS: how many recorders may be armed at once (POST /api/recorders refuses more); null if invalid. */
export function maxArmedRecorders(env: Record<string, string | undefined>): number | null {
  const parsed = envSchema.safeParse(env);
  return parsed.success ? parsed.data.ALERTCAP_MAX_RECORDERS : null;
}
