// Activity names and their input/output shapes: what the orchestrator needs to call an activity, without loading
// the activity's code (and the Azure SDK behind it) into the orchestrator.
import type { CaptureProgress, NotificationResult } from "../domain/capture/progress.js";

export type {
  AgentState,
  CaptureRef,
  CaptureResourceState,
  CreateCaptureInput,
  CreateCaptureOutput,
  InstallAgentOutput,
  LocateFileInput,
  LocateFileOutput,
  QueryCaptureOutput,
  TargetStepInput,
  ValidateTargetOutput,
  WatcherRef,
} from "../domain/capture/steps.js";

export const VALIDATE_TARGET = "validateCaptureTarget";
export const INSTALL_AGENT = "installNetworkWatcherAgent";
export const AGENT_STATE = "readNetworkWatcherAgentState";
export const GET_CAPTURE = "getPacketCapture";
export const CREATE_CAPTURE = "createPacketCapture";
export const QUERY_CAPTURE = "queryPacketCapture";
export const STOP_CAPTURE = "stopPacketCapture";
export const LOCATE_CAPTURE_FILE = "locateCaptureFile";
export const ANALYSE_CAPTURE = "analyseCaptureFile";
export const NOTIFY = "sendCaptureNotifications";
export const DELETE_CAPTURE = "deletePacketCapture";

export interface AnalyseInput {
  storagePath: string;
  /** A flight recorder's lookback for this incident: analysed with the capture as one timeline (captureLookback.ts). */
  lookback?: LookbackInput;
  /**
   * The capture produced no file (it failed, or its file never came): only the lookback is analysed, and nothing at
   * storagePath is read as the capture's (a recorder session's folder may share its name). The report goes beside it.
   */
  lookbackOnly?: boolean;
}

/**
 * Which incident's lookback to analyse with the capture: the activity reads the manifest itself (in the capture's
 * account and container, in incidentFolder(incidentId, firedAt)), so no file list travels through durable state.
 */
export interface LookbackInput {
  incidentId: string;
  firedAt: string;
  /** What the capture side knows is missing (the wait for a complete manifest ended), in plain words. */
  notes: string[];
}

export interface AnalyseOutput {
  summary: unknown;
  findings: string[];
  reportPath: string | null;
  /** When each failure began relative to the alert, most important first; only with a lookback. */
  onsets?: string[];
}

export const READ_LOOKBACK = "readLookbackManifest";

/** Where the capture's lookback manifest would be: in the incident's folder, in the capture's account and container. */
export interface ReadLookbackInput {
  /** The forward capture's storagePath: the manifest is looked for in the same account and container. */
  storagePath: string;
  incidentId: string;
  firedAt: string;
}

/** Whether a recorder secured a lookback for the incident, and how far it got. */
export type ReadLookbackOutput =
  | { found: false; reason: string }
  | { found: true; complete: boolean; files: number; firstSecuredAt: string | null; securedAt: string | null; notes: string[] };

export interface NotifyInput {
  instanceId: string;
  event: "capture.completed" | "capture.failed";
  progress: CaptureProgress;
  findings: string[];
  /** Onset lines (AnalyseOutput.onsets): notifications lead with them. */
  onsets?: string[];
  /** Stable across retries and replays: receivers drop duplicates with it. */
  idempotencyKey: string;
  /**
   * When the event happened (ISO 8601), e.g. the orchestration's currentUtcDateTime when it schedules the activity.
   * Optional: without it the notify activity uses the capture's stop time (then start time, then alert time).
   */
  occurredAt?: string;
}

export type NotifyOutput = NotificationResult[];

// The flight recorder's activities (orchestrators/recorderOrchestrator.ts, activities/recorderActivities.ts).
export const CHECK_RECORDER_TARGET = "checkRecorderTarget";
export const CREATE_RECORDER_SESSION = "createRecorderSession";
export const GET_RECORDER_SESSION = "getRecorderSession";
export const QUERY_RECORDER_SESSION = "queryRecorderSession";
export const STOP_RECORDER_SESSION = "stopRecorderSession";
export const DELETE_RECORDER_SESSION = "deleteRecorderSession";
export const SWEEP_RECORDER_SESSIONS = "sweepRecorderSessions";
export const SECURE_LOOKBACK = "secureLookback";

export type { RecorderTargetCheckOutput, RecorderSessionRef, CreateRecorderSessionInput, SweepRecorderSessionsInput, SweepRecorderSessionsOutput, SecureLookbackInput, SecureLookbackOutput } from "../domain/recorder/steps.js";
