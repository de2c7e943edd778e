// The flight recorder of one target: an eternal orchestration (instance ID recorderInstanceId(target)) that keeps a
// Network Watcher continuous capture (a ring of files) running on it. It checks the target, creates a session, looks
// at it on durable timers, renews it before Network Watcher's session limit (the new one runs before the old one
// stops: no gap), re-arms when its session is deleted by someone else or ends (a stopped VM: it waits, backing off,
// until the VM runs), and continues as new every few looks so its history stays bounded. When an alert fires on the
// target (ALERT_FIRED_EVENT, raised by the webhook) it secures the lookback at once (copies of the ring files already
// uploaded into the incident's folder, lookback.json) and then cuts: a fresh session starts, the old one stops, and
// its last file joins the copies. DISARM_EVENT stops and deletes the session and ends the orchestration.
//
// Deterministic: time comes from context.df.currentUtcDateTime, settings from an activity's output. External events
// are waited for by tasks created (and yielded) at the start of every generation and checked after every step, so an
// event raised at any moment is handled in the generation that received it, never dropped by continueAsNew.
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  CHECK_RECORDER_TARGET,
  CREATE_RECORDER_SESSION,
  type CreateCaptureOutput,
  type CaptureResourceState,
  DELETE_RECORDER_SESSION,
  GET_RECORDER_SESSION,
  QUERY_RECORDER_SESSION,
  type QueryCaptureOutput,
  type RecorderSessionRef,
  type RecorderTargetCheckOutput,
  SECURE_LOOKBACK,
  type SecureLookbackOutput,
  STOP_RECORDER_SESSION,
  SWEEP_RECORDER_SESSIONS,
} from "../activities/contracts.js";
import { boundedWaitDelaySeconds, type CaptureTargetRef } from "../domain/capture/plan.js";
import { type AlertFiredEvent, isRecorderSessionFor, recorderSessionName } from "../domain/recorder/plan.js";
import { nextLookAt, nextSessionStamp, renewAt, retryDelaySeconds, watchDecision } from "../domain/recorder/schedule.js";
import { parseRecorderSettings } from "../domain/recorder/settings.js";
import {
  type RecorderOrchestrationInput,
  type RecorderSession,
  type RecorderState,
  recorderStatusView,
  withEndedSession,
  withIncident,
  withNote,
} from "../domain/recorder/state.js";
import { type CaptureEventFields, type CaptureEventName, eventLine } from "../domain/telemetry/events.js";
import { ALERT_FIRED_EVENT, DISARM_EVENT, RECORDER_ORCHESTRATOR } from "./names.js";
import { armRetry, firstLine } from "./retryPolicy.js";

export type { RecorderOrchestrationInput } from "../domain/recorder/state.js";

/** Looks per generation before continuing as new: about 8 history events each keeps a generation under ~100. */
const LOOKS_PER_GENERATION = 8;
/** How long a new session may take to provision and run before the recorder gives up on it. */
const START_WAIT_SECONDS = 300;
/** The cut waits this long (in a bounded number of checks) for the stopped session's last file. */
const LAST_FILE_WAIT_SECONDS = 300;
const LAST_FILE_WAIT = { firstSeconds: 2, capSeconds: 30, maxChecks: 12 };

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/**
 * The events a recorder answers. durable-functions keeps, per event name, a list with an entry for every time a
 * waiting task was yielded, and hands each event to the entry on top; one with no entry is buffered until a waiting
 * task is yielded. A task yielded in several waits would own several entries, and an event given to an entry of a task
 * already completed is lost: so every wait yields fresh waiting tasks, each exactly once, and all of a generation's
 * tasks are kept and checked (a second alert in the same batch completes the previous wait's task).
 */
interface RecorderEvents {
  /** Fresh waiting tasks (disarm, alert) for one wait, kept for the checks below. */
  next(): Task[];
  /** Whether an event has arrived that the recorder has not handled yet. */
  pending(): boolean;
  disarmed(): boolean;
  /** The next alert that arrived and is not handled yet, if any. */
  takeAlert(): AlertFiredEvent | null;
}

function recorderEvents(context: OrchestrationContext): RecorderEvents {
  const disarms: Task[] = [];
  const alerts: Array<{ task: Task; taken: boolean }> = [];
  const untaken = () => alerts.find((a) => a.task.isCompleted && !a.taken);
  return {
    next: () => {
      const disarm = context.df.waitForExternalEvent(DISARM_EVENT);
      const alert = context.df.waitForExternalEvent(ALERT_FIRED_EVENT);
      disarms.push(disarm);
      alerts.push({ task: alert, taken: false });
      return [disarm, alert];
    },
    disarmed: () => disarms.some((d) => d.isCompleted),
    pending: () => disarms.some((d) => d.isCompleted) || untaken() !== undefined,
    takeAlert: () => {
      const arrived = untaken();
      if (!arrived) return null;
      arrived.taken = true;
      const raised = (arrived.task.result ?? {}) as Partial<AlertFiredEvent>;
      return { incidentId: String(raised.incidentId ?? ""), firedAt: String(raised.firedAt ?? ""), lookbackSeconds: Number(raised.lookbackSeconds ?? 0) };
    },
  };
}

/** Logs a structured event once (a replay must not log it again). */
function emit(context: OrchestrationContext, event: CaptureEventName, state: RecorderState, fields: CaptureEventFields = {}): void {
  if (context.df.isReplaying) return;
  context.log(eventLine(event, { target: state.target, instanceId: context.df.instanceId, session: state.session?.name ?? null, ...fields }));
}

function publish(context: OrchestrationContext, state: RecorderState): void {
  context.df.setCustomStatus(recorderStatusView(state));
}

const nowIso = (context: OrchestrationContext): string => context.df.currentUtcDateTime.toISOString();

function initialState(target: CaptureTargetRef, now: Date): RecorderState {
  const defaults = parseRecorderSettings({});
  return {
    phase: "arming",
    target: target.id,
    armedAt: now.toISOString(),
    // Replaced by the settings the first check reads from the app settings.
    settings: defaults.ok ? defaults.settings : { ring: { fileCount: 20, fileSizeBytes: 52_428_800, sessionSeconds: 604_800, renewBeforeSeconds: 3600 }, pollSeconds: 300, lookbackSeconds: 600 },
    watcher: null,
    location: null,
    osType: "Linux",
    session: null,
    sessionStatus: null,
    endedSessions: [],
    renewals: 0,
    rearms: 0,
    retries: 0,
    lastError: null,
    notes: [],
    incidents: [],
    polls: 0,
    nextLookAt: null,
    generation: 0,
  };
}

/** A carried state arrives in the input, which the durable system key can write: it may only name this target's sessions. */
function carriedStateProblem(target: CaptureTargetRef, state: RecorderState): string | null {
  const subscription = /^\/subscriptions\/([^/]+)\//i.exec(String(target?.id))?.[1]?.toLowerCase();
  if (String(state.target).toLowerCase() !== String(target?.id).toLowerCase()) return "Refused: the carried state is another target's.";
  if (state.session && (typeof state.session.name !== "string" || !isRecorderSessionFor(state.session.name, target))) {
    return `Refused: ${String(state.session.name).slice(0, 100)} is not a name alertcap gives recorder sessions of this target.`;
  }
  if (state.watcher && String(state.watcher.subscriptionId).toLowerCase() !== subscription) return "Refused: the Network Watcher named is not in the target's subscription.";
  return null;
}

const recorderOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<RecorderOrchestrationInput>();
  const events = recorderEvents(context);
  const state = input.carried ?? initialState(input.target, context.df.currentUtcDateTime);
  const refused = input.carried ? carriedStateProblem(input.target, input.carried) : null;
  if (refused) return recorderStatusView({ ...initialState(input.target, context.df.currentUtcDateTime), phase: "failed", lastError: refused });
  publish(context, state);
  // Waiting tasks exist for durable-functions once yielded: from here on an event raised at any moment is kept.
  yield* openWaiters(context, events);
  const end = yield* record(context, input.target, state, events);
  if (end === "continue") {
    context.df.continueAsNew({ target: input.target, carried: { ...state, generation: state.generation + 1 } });
    return undefined;
  }
  publish(context, state);
  return recorderStatusView(state);
};

df.app.orchestration(RECORDER_ORCHESTRATOR, recorderOrchestrator);

/** One generation: looks at the session (starting one when there is none) until it is time to continue as new. */
function* record(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState, events: RecorderEvents): Generator<Task, "continue" | "ended", unknown> {
  for (let looks = 0; ; ) {
    if (looks >= LOOKS_PER_GENERATION && !events.pending()) {
      // An event that arrived after an alert was handled (no waiter open for it yet) is buffered in this history and
      // would be lost with it: a waiter open once more lets it complete before the recorder continues as new.
      yield* openWaiters(context, events);
      if (!events.pending()) return "continue";
    }
    if (events.disarmed()) {
      yield* disarm(context, target, state);
      return "ended";
    }
    const alert = events.takeAlert();
    if (alert) {
      yield* secureIncident(context, target, state, alert);
      continue;
    }
    looks++;
    if (!state.session) {
      const started = yield* startSession(context, target, state);
      if (started === "failed") return "ended";
      if (started === "retry") yield* wait(context, state, events, addSeconds(context.df.currentUtcDateTime, retryDelaySeconds(state.retries - 1)));
      continue;
    }
    const session = state.session;
    let status: QueryCaptureOutput;
    try {
      status = (yield context.df.callActivityWithRetry(QUERY_RECORDER_SESSION, armRetry, sessionRef(target, state, session.name))) as QueryCaptureOutput;
    } catch (error) {
      // ARM unreachable or throttled past the retries: an eternal recorder must not end over it (its session would
      // record on untracked). It says so and looks again after a poll.
      state.lastError = `Could not look at the session ${session.name}: ${firstLine(error)}`;
      yield* wait(context, state, events, nextLookAt(context.df.currentUtcDateTime, new Date(session.renewAt), state.settings.pollSeconds));
      continue;
    }
    state.polls += 1;
    state.sessionStatus = status.exists ? status.status : "Deleted";
    const now = context.df.currentUtcDateTime;
    const decision = watchDecision(status, now, new Date(session.renewAt), session.name);
    if (decision.action === "rearm") {
      state.rearms += 1;
      state.lastError = `Re-armed: ${decision.because}.`;
      withNote(state, now.toISOString(), `re-armed: ${decision.because}`);
      emit(context, "recorder.rearmed", state, { because: decision.because });
      withEndedSession(state, { name: session.name, storagePath: session.storagePath, endedAt: now.toISOString() }, now, state.settings.lookbackSeconds);
      // Ended, but the resource is ours: deleted so ended sessions do not pile up (its files stay).
      if (status.exists) yield* sendQuietly(context, DELETE_RECORDER_SESSION, sessionRef(target, state, session.name));
      state.session = null;
      state.sessionStatus = null;
      state.phase = "arming";
      publish(context, state);
      continue;
    }
    if (decision.action === "renew") {
      yield* renew(context, target, state, events);
      continue;
    }
    yield* wait(context, state, events, nextLookAt(now, new Date(session.renewAt), state.settings.pollSeconds));
  }
}

/** Waits on a durable timer, cut short by an event. Nothing is waited for while an event is pending. */
function* wait(context: OrchestrationContext, state: RecorderState, events: RecorderEvents, at: Date): Generator<Task, void, unknown> {
  state.nextLookAt = at.toISOString();
  publish(context, state);
  if (events.pending()) return;
  const timer = context.df.createTimer(at);
  const winner = yield context.df.Task.any([timer, ...events.next()]);
  if (winner !== timer) timer.cancel();
}

/** Yields fresh waiting tasks at once (a timer due now): an event buffered in this history is handed to them. */
function* openWaiters(context: OrchestrationContext, events: RecorderEvents): Generator<Task, void, unknown> {
  const now = context.df.createTimer(context.df.currentUtcDateTime);
  const winner = yield context.df.Task.any([now, ...events.next()]);
  if (winner !== now) now.cancel();
}

const sessionRef = (target: CaptureTargetRef, state: RecorderState, sessionName: string): RecorderSessionRef => ({ target, watcher: state.watcher!, sessionName });

/**
 * Checks the target and starts a session when there is none: "started" (state.session set), "retry" (the target
 * cannot take one now: back off), or "failed" (it never will: the recorder ends, saying why).
 */
function* startSession(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState): Generator<Task, "started" | "retry" | "failed", unknown> {
  const started = yield* newSession(context, target, state);
  const now = nowIso(context);
  if ("session" in started) {
    const first = state.renewals + state.rearms === 0 && state.incidents.length === 0;
    state.session = started.session;
    state.phase = "recording";
    state.retries = 0;
    withNote(state, now, first ? `armed: session ${started.session.name} is running` : `re-armed: session ${started.session.name} is running`);
    emit(context, first ? "recorder.armed" : "recorder.rearmed", state, { running: true });
    yield* sweep(context, target, state, [started.session.name]);
    publish(context, state);
    return "started";
  }
  state.lastError = started.reason;
  if (!started.retry) {
    state.phase = "failed";
    withNote(state, now, `stopped recording: ${started.reason}`);
    emit(context, "recorder.failed", state, { reason: started.reason });
    return "failed";
  }
  state.phase = "waiting-for-target";
  state.retries += 1;
  emit(context, "recorder.waitingForTarget", state, { reason: started.reason, attempt: state.retries });
  return "retry";
}

/** Checks the target, creates a session and waits (bounded, on durable timers) until it runs. */
function* newSession(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState): Generator<Task, { session: RecorderSession } | { retry: boolean; reason: string }, unknown> {
  let check: RecorderTargetCheckOutput;
  try {
    check = (yield context.df.callActivityWithRetry(CHECK_RECORDER_TARGET, armRetry, { target })) as RecorderTargetCheckOutput;
  } catch (error) {
    return { retry: true, reason: `Could not check the target: ${firstLine(error)}` };
  }
  // Before the first session a target that cannot take one is refused at once; later (a VM stopped for maintenance)
  // the recorder waits for it.
  const armedBefore = state.renewals + state.rearms > 0 || state.session !== null || state.polls > 0;
  if (!check.ok) {
    if (!check.retry) return { retry: false, reason: check.reason };
    return armedBefore
      ? { retry: true, reason: `${check.reason} The recorder checks again after ${retryDelaySeconds(state.retries)} s and records once it runs.` }
      : { retry: false, reason: `${check.reason} Arm the recorder once it runs.` };
  }
  Object.assign(state, { settings: check.settings, watcher: check.watcher, location: check.location, osType: check.osType });
  const requestedAt = nextSessionStamp(context.df.currentUtcDateTime, state.session?.requestedAt ?? null);
  const name = recorderSessionName(target, requestedAt);
  const ref = sessionRef(target, state, name);
  let created: CreateCaptureOutput;
  try {
    created = (yield context.df.callActivityWithRetry(CREATE_RECORDER_SESSION, armRetry, { ...ref, location: check.location, osType: check.osType, requestedAt: requestedAt.toISOString() })) as CreateCaptureOutput;
  } catch (error) {
    return { retry: armedBefore, reason: `Could not create a recorder session: ${firstLine(error)}` };
  }
  if (!created.ok) return { retry: armedBefore, reason: created.reason };
  const running = yield* awaitRunning(context, ref);
  if ("problem" in running) {
    // Ours and not recording: removed, not left to run untracked.
    yield* sendQuietly(context, STOP_RECORDER_SESSION, ref);
    yield* sendQuietly(context, DELETE_RECORDER_SESSION, ref);
    return { retry: armedBefore, reason: running.problem };
  }
  return { session: { name, storagePath: running.storagePath, requestedAt: requestedAt.toISOString(), renewAt: renewAt(requestedAt, check.settings.ring).toISOString() } };
}

/** Reads the new session until it is provisioned and Network Watcher reports it Running. */
function* awaitRunning(context: OrchestrationContext, ref: RecorderSessionRef): Generator<Task, { storagePath: string | null } | { problem: string }, unknown> {
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, START_WAIT_SECONDS);
  for (let attempt = 0; ; attempt++) {
    let resource: CaptureResourceState;
    let status: QueryCaptureOutput | null = null;
    try {
      resource = (yield context.df.callActivityWithRetry(GET_RECORDER_SESSION, armRetry, ref)) as CaptureResourceState;
      if (resource.exists && resource.provisioningState === "Succeeded") status = (yield context.df.callActivityWithRetry(QUERY_RECORDER_SESSION, armRetry, ref)) as QueryCaptureOutput;
    } catch (error) {
      return { problem: `Could not read the session ${ref.sessionName} while it started: ${firstLine(error)}` };
    }
    if (!resource.exists) return { problem: `The session ${ref.sessionName} was deleted outside alertcap before it ran.` };
    if (resource.provisioningState === "Failed" || resource.provisioningState === "Canceled") {
      return { problem: `Network Watcher could not create the session ${ref.sessionName}: its create ended ${resource.provisioningState}.` };
    }
    if (status) {
      if (!status.exists) return { problem: `The session ${ref.sessionName} was deleted outside alertcap before it ran.` };
      if (status.status === "Running") return { storagePath: resource.storagePath };
      if (status.status === "Error" || status.status === "Stopped") {
        return { problem: `Network Watcher reported the session ${ref.sessionName} ${status.status}${status.errors.length > 0 ? `: ${status.errors.join("; ")}` : ""}.` };
      }
    }
    if (context.df.currentUtcDateTime >= giveUpAt) return { problem: `The session ${ref.sessionName} was not running ${START_WAIT_SECONDS} s after alertcap created it.` };
    yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, Math.min(10, 2 ** attempt)));
  }
}

/** Renewal: the next session runs before the old one is stopped and deleted, so the ring never has a gap. */
function* renew(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState, events: RecorderEvents): Generator<Task, void, unknown> {
  const old = state.session!;
  state.phase = "renewing";
  publish(context, state);
  const next = yield* newSession(context, target, state);
  const now = context.df.currentUtcDateTime;
  if (!("session" in next)) {
    // The old session records on until its limit; the recorder tries again after a pause (and re-arms if it ends).
    state.phase = "recording";
    state.lastError = `Could not renew the session: ${next.reason}`;
    state.retries += 1;
    yield* wait(context, state, events, addSeconds(now, retryDelaySeconds(state.retries - 1)));
    return;
  }
  yield* retire(context, target, state, old);
  state.session = next.session;
  // A create runs at least once: a late re-run of an earlier one recreates a session this recorder retired, and
  // nothing else would stop it before its own time limit. (The one just retired is on its way out already.)
  yield* sweep(context, target, state, [next.session.name, old.name]);
  state.phase = "recording";
  state.retries = 0;
  state.renewals += 1;
  withNote(state, nowIso(context), `renewed: ${next.session.name} runs, ${old.name} stopped`);
  emit(context, "recorder.renewed", state, { previous: old.name, renewals: state.renewals });
  publish(context, state);
}

/**
 * Stops a session the recorder replaced and, once Network Watcher reports it stopped (the file that was open is then
 * uploaded: deleting the resource earlier could cut that upload short, an unknown), deletes it. Its files stay and
 * may still serve a lookback.
 */
function* retire(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState, old: RecorderSession): Generator<Task, void, unknown> {
  const ref = sessionRef(target, state, old.name);
  yield* sendQuietly(context, STOP_RECORDER_SESSION, ref);
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, LAST_FILE_WAIT_SECONDS);
  for (let attempt = 0; context.df.currentUtcDateTime < giveUpAt; attempt++) {
    let status: QueryCaptureOutput;
    try {
      status = (yield context.df.callActivityWithRetry(QUERY_RECORDER_SESSION, armRetry, ref)) as QueryCaptureOutput;
    } catch {
      break;
    }
    if (!status.exists || status.status === "Stopped" || status.status === "Error") break;
    yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, boundedWaitDelaySeconds(attempt, LAST_FILE_WAIT_SECONDS, LAST_FILE_WAIT)));
  }
  yield* sendQuietly(context, DELETE_RECORDER_SESSION, ref);
  withEndedSession(state, { name: old.name, storagePath: old.storagePath, endedAt: nowIso(context) }, context.df.currentUtcDateTime, state.settings.lookbackSeconds);
}

/** Stops and deletes any recorder session of this target other than `keep` (a crash may have left one running). */
function* sweep(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState, keep: string[]): Generator<Task, void, unknown> {
  try {
    const swept = (yield context.df.callActivityWithRetry(SWEEP_RECORDER_SESSIONS, armRetry, { target, watcher: state.watcher, keep })) as { removed: string[] };
    if (swept.removed.length > 0) withNote(state, nowIso(context), `stopped and deleted stray recorder session(s) ${swept.removed.join(", ")}`);
  } catch (error) {
    state.lastError = `Could not look for stray recorder sessions: ${firstLine(error)}`;
  }
}

/**
 * An alert fired on the target: the ring files already uploaded are copied into the incident's folder at once
 * (lookback.json, complete=false); then the recorder cuts (new session, old one stopped), waits for the old session's
 * last file, copies it and marks the manifest complete.
 */
function* secureIncident(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState, alert: AlertFiredEvent): Generator<Task, void, unknown> {
  const wasPhase = state.phase;
  state.phase = "securing";
  publish(context, state);
  const sessions = () => [...(state.session ? [state.session] : []), ...state.endedSessions].map((s) => ({ name: s.name, storagePath: s.storagePath }));
  const secure = function* (windowEnd: string, complete: boolean, notes: string[]): Generator<Task, SecureLookbackOutput | null, unknown> {
    try {
      return (yield context.df.callActivityWithRetry(SECURE_LOOKBACK, armRetry, {
        target,
        incidentId: alert.incidentId,
        firedAt: alert.firedAt,
        sessions: sessions(),
        windowEnd,
        requestedAt: nowIso(context),
        complete,
        notes,
      })) as SecureLookbackOutput;
    } catch (error) {
      state.lastError = `Could not secure the lookback of ${alert.incidentId.slice(0, 100)}: ${firstLine(error)}`;
      return null;
    }
  };
  const note = (secured: SecureLookbackOutput, complete: boolean) =>
    withIncident(state, { incidentId: alert.incidentId.slice(0, 100), firedAt: alert.firedAt.slice(0, 40), folder: secured.folder, lookbackFiles: secured.lookbackFiles, complete, firstSecuredAt: secured.firstSecuredAt });

  const first = yield* secure(nowIso(context), false, []);
  if (!first) {
    state.phase = wasPhase;
    return;
  }
  note(first, false);
  emit(context, "recorder.lookbackSecured", state, { incidentId: alert.incidentId.slice(0, 100), files: first.lookbackFiles, complete: false, firstSecuredAt: first.firstSecuredAt });
  publish(context, state);

  const old = state.session;
  const notes: string[] = [];
  let windowEnd = nowIso(context);
  if (!old) {
    notes.push("No session was recording when the alert fired.");
  } else {
    const next = yield* newSession(context, target, state);
    windowEnd = nowIso(context);
    if (!("session" in next)) {
      notes.push(`The recorder could not cut its session (${next.reason}): the file open when the alert fired stays in the ring.`);
    } else {
      state.session = next.session;
      const ref = sessionRef(target, state, old.name);
      yield* sendQuietly(context, STOP_RECORDER_SESSION, ref);
      withEndedSession(state, { name: old.name, storagePath: old.storagePath, endedAt: windowEnd }, context.df.currentUtcDateTime, state.settings.lookbackSeconds);
      const arrived = yield* awaitLastFile(context, ref, windowEnd, function* () {
        return yield* secure(windowEnd, false, []);
      });
      if (!arrived) notes.push(`The last file of ${old.name} had not arrived ${LAST_FILE_WAIT_SECONDS} s after the cut.`);
      yield* sendQuietly(context, DELETE_RECORDER_SESSION, ref);
      yield* sweep(context, target, state, [next.session.name, old.name]);
      withNote(state, nowIso(context), `cut for ${alert.incidentId.slice(0, 100)}: ${next.session.name} runs, ${old.name} stopped`);
    }
  }
  const last = yield* secure(windowEnd, true, notes);
  if (last) {
    note(last, true);
    emit(context, "recorder.lookbackSecured", state, { incidentId: alert.incidentId.slice(0, 100), files: last.lookbackFiles, complete: true });
  }
  state.phase = state.session ? "recording" : wasPhase;
  publish(context, state);
}

/** After a stop: checks (bounded) until a file of the stopped session closed at or after the stop has been copied. */
function* awaitLastFile(
  context: OrchestrationContext,
  ref: RecorderSessionRef,
  stoppedAt: string,
  copy: () => Generator<Task, SecureLookbackOutput | null, unknown>,
): Generator<Task, boolean, unknown> {
  const giveUpAt = addSeconds(new Date(stoppedAt), LAST_FILE_WAIT_SECONDS);
  for (let attempt = 0; ; attempt++) {
    let status: QueryCaptureOutput | null = null;
    try {
      status = (yield context.df.callActivityWithRetry(QUERY_RECORDER_SESSION, armRetry, ref)) as QueryCaptureOutput;
    } catch {
      // Unreadable for now: checked again on the next timer, until the bounded wait ends.
    }
    if (status && (!status.exists || status.status === "Stopped" || status.status === "Error")) {
      const secured = yield* copy();
      const newest = secured?.newestClosedAt[ref.sessionName] ?? null;
      if (newest !== null && newest >= stoppedAt) return true;
    }
    if (context.df.currentUtcDateTime >= giveUpAt) return false;
    const next = addSeconds(context.df.currentUtcDateTime, boundedWaitDelaySeconds(attempt, LAST_FILE_WAIT_SECONDS, LAST_FILE_WAIT));
    yield context.df.createTimer(next > giveUpAt ? giveUpAt : next);
  }
}

/** Disarmed: the session is stopped and deleted (its files stay), and the recorder ends. */
function* disarm(context: OrchestrationContext, target: CaptureTargetRef, state: RecorderState): Generator<Task, void, unknown> {
  if (state.session && state.watcher) {
    yield* retire(context, target, state, state.session);
  }
  if (state.watcher) yield* sweep(context, target, state, []);
  state.session = null;
  state.sessionStatus = null;
  state.nextLookAt = null;
  state.phase = "disarmed";
  withNote(state, nowIso(context), "disarmed: the session was stopped and deleted");
  emit(context, "recorder.disarmed", state);
}

/** Sends a request whose failure changes nothing the recorder does next (a clean-up); answers the problem or null. */
function* sendQuietly(context: OrchestrationContext, activity: string, ref: RecorderSessionRef): Generator<Task, string | null, unknown> {
  try {
    yield context.df.callActivityWithRetry(activity, armRetry, ref);
    return null;
  } catch (error) {
    return firstLine(error);
  }
}
