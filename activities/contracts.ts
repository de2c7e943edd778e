// Activity names and their input/output shapes: what the orchestrator needs to call an activity, without loading
// the activity's code (and the Azure SDK behind it) into the orchestrator.
import type { CaptureProgress, NotificationResult } from "../domain/capture/progress.js";
import type { CaptureTargetRef, PacketCaptureBody } from "../domain/capture/plan.js";
import type { CaptureSettings } from "../domain/capture/settings.js";

export const VALIDATE_TARGET = "validateCaptureTarget";
export const CREATE_CAPTURE = "createPacketCapture";
export const QUERY_CAPTURE = "queryPacketCapture";
export const STOP_CAPTURE = "stopPacketCapture";
export const LOCATE_CAPTURE_FILE = "locateCaptureFile";
export const ANALYSE_CAPTURE = "analyseCaptureFile";
export const NOTIFY = "sendCaptureNotifications";
export const DELETE_CAPTURE = "deletePacketCapture";

export interface WatcherRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface ValidateTargetInput {
  target: CaptureTargetRef;
  settings: CaptureSettings;
}

export type ValidateTargetOutput =
  | {
      ok: true;
      location: string;
      watcher: WatcherRef;
      /**
       * A capture already running on this target under a name alertcap gives (left by an earlier run): watched
       * instead of starting another, but never stopped or deleted, since this run cannot prove it made it.
       */
      runningCaptureName: string | null;
      agentInstalled: boolean;
    }
  | { ok: false; reason: string };

export interface CreateCaptureInput {
  watcher: WatcherRef;
  /** Names to try in order; the first that is free (or already ours) is used. */
  candidateNames: string[];
  body: PacketCaptureBody;
  /** A capture with one of our names that started before this is someone else's (or an older run's). */
  notBefore: string;
}

export type CreateCaptureOutput =
  | { ok: true; captureName: string; storagePath: string | null; reused: boolean }
  | { ok: false; reason: string };

export interface CaptureRef {
  watcher: WatcherRef;
  captureName: string;
}

export interface QueryCaptureOutput {
  status: string;
  stopReason: string | null;
  errors: string[];
  captureStartTime: string | null;
}

export interface LocateFileOutput {
  storagePath: string | null;
  found: boolean;
  sizeBytes: number | null;
}

export interface AnalyseInput {
  storagePath: string;
}

export interface AnalyseOutput {
  summary: unknown;
  findings: string[];
  reportPath: string | null;
}

export interface NotifyInput {
  instanceId: string;
  event: "capture.completed" | "capture.failed";
  progress: CaptureProgress;
  findings: string[];
  /** Stable across retries and replays: receivers drop duplicates with it. */
  idempotencyKey: string;
  /**
   * When the event happened (ISO 8601), e.g. the orchestration's currentUtcDateTime when it schedules the activity.
   * Optional: without it the notify activity uses the capture's stop time (then start time, then alert time).
   */
  occurredAt?: string;
}

export type NotifyOutput = NotificationResult[];
