// The baseline activities' names and shapes: what orchestrators/captureBaseline.ts needs to call them, without
// loading the activities' code (and the Azure SDK behind it) into the orchestrator.
import type { CaptureTargetRef } from "../domain/capture/plan.js";

export const COMPARE_WITH_BASELINE = "compareWithBaseline";
export const RECORD_LAST_CAPTURE = "recordLastCapture";

export interface CompareInput {
  target: CaptureTargetRef;
  /** The capture orchestration's instance ID (one per target): names the last-capture record and the incident's folder. */
  instanceId: string;
  /** The incident's capture (a file, or a scale set's folder). */
  storagePath: string;
  /** When the alert fired: with the instance ID, where the recorder put this incident's files. */
  firedAt: string | null;
}

/** What the comparison found, kept in the capture's analysis as `baseline` (small: durable state). */
export interface BaselineSummary {
  /** ALERTCAP_BASELINE as read (null when it is not a valid value). */
  mode: string | null;
  source: "recorder" | "last-capture" | null;
  /** "the last capture on this target (…)", or null without a baseline. */
  label: string | null;
  /** Where the baseline's files are (the last capture's storagePath, or the recorder's file count). */
  location: string | null;
  /** Why no baseline was compared when one was expected, else null. */
  unavailable: string | null;
  newTalkerCount: number;
  goneTalkerCount: number;
  newServiceCount: number;
  goneServiceCount: number;
  significantRateChanges: number;
  /** The diff's first findings (the notification carries the top few of them). */
  findings: string[];
}

export interface CompareOutput {
  /** Lines that lead the notification's findings ("What changed since …"), possibly none. */
  lines: string[];
  summary: BaselineSummary;
}

export interface RecordLastCaptureInput {
  target: CaptureTargetRef;
  instanceId: string;
  storagePath: string;
  captureName: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  alertFiredAt: string | null;
}
