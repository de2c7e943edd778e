// The shapes that cross between the recorder orchestrator and its activities. Pure types: every activity re-derives
// what it acts on (the target from its ID, the settings from the app settings, session names it would give) and
// trusts nothing else in its input.
import type { CaptureTargetRef } from "../capture/plan.js";
import type { WatcherRef } from "../capture/steps.js";
import type { RecorderSettings } from "./settings.js";

export type RecorderTargetCheckOutput =
  | { ok: true; location: string; watcher: WatcherRef; osType: "Linux" | "Windows"; settings: RecorderSettings }
  /** `retry`: the target cannot take a session now (stopped) but may later; otherwise it never will. */
  | { ok: false; retry: boolean; reason: string };

export interface RecorderSessionRef {
  target: CaptureTargetRef;
  watcher: WatcherRef;
  sessionName: string;
}

export interface CreateRecorderSessionInput extends RecorderSessionRef {
  location: string;
  osType: "Linux" | "Windows";
  /** The name's stamp: a session of this name that started before it is not this create's. */
  requestedAt: string;
}

export interface SweepRecorderSessionsInput {
  target: CaptureTargetRef;
  watcher: WatcherRef;
  /** Sessions to leave alone: the one recording (and one being started). */
  keep: string[];
}

export interface SweepRecorderSessionsOutput {
  removed: string[];
}

export interface SecureLookbackInput {
  target: CaptureTargetRef;
  incidentId: string;
  firedAt: string;
  /** The sessions whose files may cover the window: the current one and those that ended recently. */
  sessions: Array<{ name: string; storagePath: string | null }>;
  /** The window's end: now for the first pass, the cut for the last. */
  windowEnd: string;
  /** The orchestration's time when it asked: what manifest times are measured against on a virtual clock. */
  requestedAt: string;
  /** The last pass: the manifest says complete, with `notes` saying what is missing. */
  complete: boolean;
  notes: string[];
}

export interface SecureLookbackOutput {
  folder: string;
  manifestUrl: string | null;
  lookbackFiles: number;
  baselineFiles: number;
  firstSecuredAt: string | null;
  /** The newest close time seen per session: the cut waits until the old session's last file has come. */
  newestClosedAt: Record<string, string | null>;
  notes: string[];
}
