// What a recorder knows about itself: carried from one durable generation to the next (continueAsNew) and published,
// bounded, as its custom status, which GET /api/recorders/{id} shows. Pure types and functions.
import { truncate } from "../truncate.js";
import type { CaptureTargetRef } from "../capture/plan.js";
import type { WatcherRef } from "../capture/steps.js";
import type { RecorderSettings } from "./settings.js";

export type RecorderPhase = "arming" | "recording" | "renewing" | "securing" | "waiting-for-target" | "disarmed" | "failed";

/** One continuous-capture session the recorder created. */
export interface RecorderSession {
  name: string;
  /** The folder URL Network Watcher reports (storageLocation.storagePath), once the session is provisioned. */
  storagePath: string | null;
  /** When the recorder asked for it (its name's stamp): its time limit counts from no earlier than this. */
  requestedAt: string;
  /** When the recorder renews it: requestedAt + sessionSeconds − renewBeforeSeconds. */
  renewAt: string;
}

/** A session that has ended (renewed, cut, re-armed) whose files may still cover a later alert's lookback. */
export interface EndedSession {
  name: string;
  storagePath: string | null;
  endedAt: string;
}

/** What the recorder secured for one alert, as its status lists it (the manifest in Blob storage has the files). */
export interface SecuredIncident {
  incidentId: string;
  firedAt: string;
  folder: string;
  lookbackFiles: number;
  complete: boolean;
  firstSecuredAt: string | null;
}

export interface RecorderState {
  osType: "Linux" | "Windows";
  phase: RecorderPhase;
  target: string;
  armedAt: string;
  settings: RecorderSettings;
  watcher: WatcherRef | null;
  location: string | null;
  session: RecorderSession | null;
  /** Network Watcher's packetCaptureStatus at the last look. */
  sessionStatus: string | null;
  endedSessions: EndedSession[];
  renewals: number;
  rearms: number;
  /** Consecutive failed attempts to (re)start a session: the back-off's exponent. */
  retries: number;
  lastError: string | null;
  /** Plain sentences about what happened (re-armed because…, renewed…), newest last, bounded. */
  notes: string[];
  incidents: SecuredIncident[];
  polls: number;
  nextLookAt: string | null;
  generation: number;
}

export interface RecorderOrchestrationInput {
  target: CaptureTargetRef;
  carried?: RecorderState;
}

const MAX_NOTES = 8;
const MAX_NOTE_CHARS = 400;
const MAX_INCIDENTS = 5;
const MAX_ENDED_SESSIONS = 4;

/** Adds a note, keeping the newest few, each cut: the carried state and the custom status stay small. */
export function withNote(state: RecorderState, at: string, note: string): void {
  state.notes = [...state.notes, truncate(`${at} ${note}`, MAX_NOTE_CHARS)].slice(-MAX_NOTES);
}

export function withIncident(state: RecorderState, incident: SecuredIncident): void {
  state.incidents = [...state.incidents.filter((i) => !(i.incidentId === incident.incidentId && i.firedAt === incident.firedAt)), incident].slice(-MAX_INCIDENTS);
}

/**
 * Remembers an ended session while its files may still fall inside a lookback: those that ended more than
 * `keepSeconds` before `now` are dropped, and at most a few are kept.
 */
export function withEndedSession(state: RecorderState, ended: EndedSession, now: Date, keepSeconds: number): void {
  const horizon = now.getTime() - keepSeconds * 1000;
  state.endedSessions = [...state.endedSessions, ended].filter((s) => Date.parse(s.endedAt) >= horizon).slice(-MAX_ENDED_SESSIONS);
}

/** The custom status: the state without its settings, every free text cut (the extension refuses over 16 KB). */
export function recorderStatusView(state: RecorderState): Record<string, unknown> {
  const { settings, ...rest } = state;
  return {
    ...rest,
    lastError: state.lastError === null ? null : truncate(state.lastError, MAX_NOTE_CHARS),
    ring: settings.ring,
    pollSeconds: settings.pollSeconds,
    lookbackSeconds: settings.lookbackSeconds,
  };
}
