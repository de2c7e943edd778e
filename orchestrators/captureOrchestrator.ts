// One packet capture for one alert target: validate → (install the agent) → create → watch on durable timers until
// Network Watcher stops it (or the alert resolves, an operator asks, or the deadline passes) → locate the file →
// analyse → notify → clean up. Replay-safe: time comes from context.df.currentUtcDateTime, everything else from
// activities. Every wait on Azure is a durable timer between short activities: no activity waits for a long-running
// operation. The settings that matter come from validation (the app settings), not from the input, which anyone with
// the durable system key could craft. History stays bounded: the watch loop continues as new every few polls.
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  AGENT_STATE,
  type AgentState,
  ANALYSE_CAPTURE,
  type AnalyseOutput,
  type CaptureRef,
  type CaptureResourceState,
  CREATE_CAPTURE,
  type CreateCaptureOutput,
  DELETE_CAPTURE,
  GET_CAPTURE,
  INSTALL_AGENT,
  type InstallAgentOutput,
  LOCATE_CAPTURE_FILE,
  type LocateFileOutput,
  NOTIFY,
  type NotifyOutput,
  QUERY_CAPTURE,
  type QueryCaptureOutput,
  STOP_CAPTURE,
  VALIDATE_TARGET,
  type ValidateTargetOutput,
  type WatcherRef,
} from "../activities/contracts.js";
import { boundedWaitDelaySeconds, captureDeadline, captureName, type CaptureTargetRef, isCaptureNameFor, isFinalCaptureStatus, nextPollDelaySeconds } from "../domain/capture/plan.js";
import type { AlertSummary, CaptureProgress } from "../domain/capture/progress.js";
import type { CaptureSettings } from "../domain/capture/settings.js";
import { boundedAlertSummary, statusView } from "../domain/capture/statusView.js";
import { type CaptureEventFields, type CaptureEventName, eventLine } from "../domain/telemetry/events.js";
import { compareWithBaseline } from "./captureBaseline.js";
import { awaitLookback } from "./captureLookback.js";
import { ALERT_RESOLVED_EVENT, CAPTURE_ORCHESTRATOR, STOP_REQUESTED_EVENT } from "./names.js";
import { armRetry, firstLine } from "./retryPolicy.js";

export interface CaptureOrchestrationInput {
  target: CaptureTargetRef;
  alert: AlertSummary;
  /**
   * The instant (ISO) the webhook gave a recorder armed on the target as the alert's: its lookback folder is named by
   * it. The alert's firedAt, or when alertcap received an alert that carries none. Absent in older starts.
   */
  incidentAt?: string;
  /** A recorder armed on the target was told of this incident: its manifest is waited for even before it appears. */
  lookbackExpected?: boolean;
  /** Ignored: validation reads the settings from the app settings (kept so older starts still deserialise). */
  settings?: CaptureSettings;
  /** Where the previous generation left off, when the watch loop continued as new. */
  carried?: WatchState;
}

interface WatchState {
  progress: CaptureProgress;
  /** The app's settings as validation read them. */
  settings: CaptureSettings;
  watcher: WatcherRef;
  captureName: string;
  /** Created by this orchestration (so it may stop and delete it), rather than joined. */
  owned: boolean;
  /** The orchestration's first currentUtcDateTime: the idempotency key of its notifications. */
  orchestrationStartedAt: string;
  generation: number;
}

/** How a watch ended: the session ended normally, it could not run, or its resource disappeared. */
type WatchEnd = "ended" | "session-failed" | "deleted" | "unreadable";

/** Polls per generation before continuing as new: about 8 history events per poll keeps each history under ~100. */
const POLLS_PER_GENERATION = 10;
/** How long a create may stay provisioning, and an agent installing, before alertcap gives up. */
const CREATE_WAIT_SECONDS = 300;
const AGENT_WAIT_SECONDS = 900;
/**
 * The agent's install and the file's upload are waited for in the generation that needs them (they do not continue
 * as new): their checks are bounded (about 20, each ~5 history events) whatever ALERTCAP_FILE_WAIT_SECONDS says.
 */
const AGENT_WAIT = { firstSeconds: 5, capSeconds: 30, maxChecks: 24 };
const FILE_WAIT = { firstSeconds: 2, capSeconds: 60, maxChecks: 24 };

/** Notifying is at-least-once: a retried activity sends again with the same idempotency key, and receivers drop it. */
const notifyRetry = (() => {
  const options = new df.RetryOptions(10_000, 3);
  options.backoffCoefficient = 3;
  return options;
})();

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** Logs a structured event once: a replay re-runs this code, and must not log it again. */
function emit(context: OrchestrationContext, event: CaptureEventName, progress: CaptureProgress, fields: CaptureEventFields = {}): void {
  if (context.df.isReplaying) return;
  context.log(eventLine(event, { target: progress.target, instanceId: context.df.instanceId, captureName: progress.captureName, ...fields }));
}

/** Publishes a bounded view of the progress: a customStatus over the extension's 16 KB would fail the orchestration. */
function publish(context: OrchestrationContext, progress: CaptureProgress): void {
  context.df.setCustomStatus(statusView(progress));
}

function initialProgress(input: CaptureOrchestrationInput): CaptureProgress {
  return {
    phase: "validating",
    target: input.target.id,
    targetKind: input.target.kind,
    // Bounded again here: the input may come from the management API rather than the webhook.
    alert: boundedAlertSummary(input.alert ?? { alertId: null, rule: null, severity: null, schema: null, firedAt: null }),
    captureName: null,
    networkWatcher: null,
    networkWatcherStatus: null,
    stopReason: null,
    stopRequestedBecause: null,
    startedAt: null,
    deadline: null,
    stoppedAt: null,
    polls: 0,
    nextPollAt: null,
    storagePath: null,
    failureReason: null,
    packetCaptureErrors: [],
    analysis: null,
    reportPath: null,
    notifications: [],
  };
}

/** The two events that stop a capture early, and the sentence that says which one came. */
interface StopEvents {
  resolved: Task;
  stopRequested: Task;
  /** Why a stop was asked, or null while none was. */
  asked(): string | null;
}

/**
 * Created once per generation, before the orchestrator's first yield, and yielded (in a Task.any) by its first wait,
 * so an event raised at any moment (while the target is validated, the agent installed, the capture created, or a
 * status query runs) completes one of these. Such a task completes outside any Task.any, and durable-functions 3.x's
 * Task.any never looks at children already completed: `asked` must be checked before every step and wait and after
 * every timer, or the event is lost.
 */
function stopEvents(context: OrchestrationContext): StopEvents {
  const resolved = context.df.waitForExternalEvent(ALERT_RESOLVED_EVENT);
  const stopRequested = context.df.waitForExternalEvent(STOP_REQUESTED_EVENT);
  return {
    resolved,
    stopRequested,
    asked: () => {
      if (resolved.isCompleted) return "the alert was resolved";
      if (stopRequested.isCompleted) return `an operator asked${stopRequested.result ? ` (${String(stopRequested.result)})` : ""}`;
      return null;
    },
  };
}

const captureOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<CaptureOrchestrationInput>();
  const events = stopEvents(context);
  let state = input.carried;
  const refused = state ? carriedStateProblem(input.target, state) : null;
  if (refused) return yield* finish(context, input, { ...initialProgress(input), phase: "failed", failureReason: refused }, null, "unreadable");
  if (!state) {
    const started = yield* startCapture(context, input, events);
    if ("failed" in started) return yield* finish(context, input, started.failed, null, "unreadable");
    state = started;
  }
  const watched = yield* watchCapture(context, input.target, state, events);
  if (watched === "continue") {
    context.df.continueAsNew({ target: input.target, alert: input.alert, ...(input.incidentAt !== undefined ? { incidentAt: input.incidentAt } : {}), ...(input.lookbackExpected ? { lookbackExpected: true } : {}), carried: { ...state, generation: state.generation + 1 } });
    return undefined;
  }
  return yield* finish(context, input, state.progress, state, watched);
};

df.app.orchestration(CAPTURE_ORCHESTRATOR, captureOrchestrator);

/**
 * A carried state arrives in the input, which anyone holding the durable system key can write: it may only name a
 * capture alertcap would have created for this target, in the target's subscription. (Activities check again, and
 * also the scope; this check makes a crafted state fail at once instead of after the activities' retries.)
 */
function carriedStateProblem(target: CaptureTargetRef, state: WatchState): string | null {
  const subscription = /^\/subscriptions\/([^/]+)\//i.exec(String(target?.id))?.[1]?.toLowerCase();
  if (typeof state.captureName !== "string" || !isCaptureNameFor(state.captureName, target)) {
    return `Refused: ${String(state.captureName).slice(0, 100)} is not a name alertcap gives captures of this target.`;
  }
  if (!subscription || String(state.watcher?.subscriptionId).toLowerCase() !== subscription) return "Refused: the Network Watcher named is not in the target's subscription.";
  return null;
}

/** Validate the target and the region, install the agent if allowed and needed, then create (or join) the capture. */
function* startCapture(
  context: OrchestrationContext,
  input: CaptureOrchestrationInput,
  events: StopEvents,
): Generator<Task, WatchState | { failed: CaptureProgress }, unknown> {
  const progress = initialProgress(input);
  const orchestrationStartedAt = context.df.currentUtcDateTime;
  const { target } = input;
  const failed = (reason: string) => ({ failed: { ...progress, phase: "failed" as const, failureReason: reason } });
  /** A stop asked before the capture exists ends the run: nothing is installed or created after it. */
  const notStarted = (because: string, after = "") => {
    progress.stopRequestedBecause = because;
    emit(context, "capture.stopRequested", progress, { because, owned: false });
    return failed(`No capture was started because ${because} before it started${after}.`);
  };
  /** The capture this run created, once it exists: every failure from here stops and deletes it before notifying. */
  let owned: CaptureRef | null = null;
  publish(context, progress);
  try {
    const validating = context.df.callActivityWithRetry(VALIDATE_TARGET, armRetry, { target });
    // Yielded with the stop events: durable-functions tracks an event task only once it is yielded (an event raised
    // before is held back until then), so from this first yield on a stop raised at any moment completes them.
    const first = yield context.df.Task.any([validating, events.resolved, events.stopRequested]);
    if (first !== validating) return notStarted(events.asked() ?? "a stop was asked");
    if (validating.isFaulted) throw validating.result;
    const validation = validating.result as ValidateTargetOutput;
    if (!validation.ok) return failed(validation.reason);
    const { settings, watcher } = validation;
    progress.networkWatcher = `${watcher.resourceGroup}/${watcher.name}`;
    if (validation.agent === "missing") {
      if (events.asked()) return notStarted(events.asked()!);
      const problem = yield* installAgent(context, target, events);
      if (problem) return failed(problem);
    }

    if (events.asked()) return notStarted(events.asked()!);
    progress.phase = "creating";
    publish(context, progress);
    let name = validation.runningCaptureName;
    if (!name) {
      const created = (yield context.df.callActivityWithRetry(CREATE_CAPTURE, armRetry, {
        target,
        watcher,
        location: validation.location,
        candidateNames: [0, 1, 2, 3, 4].map((attempt) => captureName(target, orchestrationStartedAt, attempt)),
        notBefore: orchestrationStartedAt.toISOString(),
      })) as CreateCaptureOutput;
      if (!created.ok) return failed(created.reason);
      name = created.captureName;
      owned = { target, watcher, captureName: name };
    }
    const ref: CaptureRef = { target, watcher, captureName: name };
    const provisioned = yield* awaitProvisioned(context, ref, events);
    if ("stopAsked" in provisioned) {
      // A stop that arrived while the create ran: the capture is stopped at once, not watched.
      if (!owned) return notStarted(provisioned.stopAsked, `: the running capture ${name}, started by an earlier alertcap run, was not joined`);
      return notStarted(provisioned.stopAsked, `: the capture ${name}, created as the stop arrived, ${yield* discard(context, owned)}`);
    }
    if ("failed" in provisioned) {
      // A create that failed is permanent: the failed resource is ours, so it is removed, and nothing is retried.
      if (owned) yield* sendQuietly(context, DELETE_CAPTURE, ref);
      return failed(provisioned.failed);
    }

    const now = context.df.currentUtcDateTime;
    emit(context, "capture.started", { ...progress, captureName: name }, { joined: !owned, networkWatcher: progress.networkWatcher });
    Object.assign(progress, {
      phase: "capturing",
      captureName: name,
      storagePath: provisioned.storagePath,
      startedAt: now.toISOString(),
      deadline: captureDeadline(now, settings).toISOString(),
    });
    return { progress, settings, watcher, captureName: name, owned: owned !== null, orchestrationStartedAt: orchestrationStartedAt.toISOString(), generation: 0 };
  } catch (error) {
    if (!owned) return failed(firstLine(error));
    // The capture exists and alertcap will not watch it: left alone it would run untracked to its own limit.
    return failed(`${firstLine(error)} The capture ${owned.captureName} ${yield* discard(context, owned)}.`);
  }
}

/**
 * Stops and deletes a capture this run created and gives up on (the file, if any, stays in Blob storage). Each is
 * sent under the retry policy and quietly: the run already fails for another reason. Answers what happened to it.
 */
function* discard(context: OrchestrationContext, ref: CaptureRef): Generator<Task, string, unknown> {
  const stopProblem = yield* sendQuietly(context, STOP_CAPTURE, ref);
  const deleteProblem = yield* sendQuietly(context, DELETE_CAPTURE, ref);
  if (!stopProblem && !deleteProblem) return "was stopped and deleted";
  if (!stopProblem) return `was stopped (its delete failed: ${deleteProblem})`;
  if (!deleteProblem) return "was deleted";
  return `could not be stopped (${stopProblem}) and may still be running`;
}

/** Sends the agent's install, then reads its state on durable timers. Answers the problem, or null once installed. */
function* installAgent(context: OrchestrationContext, target: CaptureTargetRef, events: StopEvents): Generator<Task, string | null, unknown> {
  const sent = (yield context.df.callActivityWithRetry(INSTALL_AGENT, armRetry, { target })) as InstallAgentOutput;
  if (!sent.ok) return sent.reason;
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, AGENT_WAIT_SECONDS);
  let detail = "";
  for (let attempt = 0; context.df.currentUtcDateTime < giveUpAt; attempt++) {
    yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, boundedWaitDelaySeconds(attempt, AGENT_WAIT_SECONDS, AGENT_WAIT)));
    const agent = (yield context.df.callActivityWithRetry(AGENT_STATE, armRetry, { target })) as AgentState;
    if (agent.state === "installed") return null;
    if (agent.state === "failed") return agent.reason;
    // The install goes on in Azure (the agent is harmless), but nothing waits for it once a stop is asked.
    if (events.asked()) return null;
    detail = agent.detail;
  }
  return `The Network Watcher agent was not ready on ${target.name} within ${AGENT_WAIT_SECONDS} s (${detail}).`;
}

/** Reads the capture resource on durable timers until its create has succeeded (or failed, for good). */
function* awaitProvisioned(
  context: OrchestrationContext,
  ref: CaptureRef,
  events: StopEvents,
): Generator<Task, { storagePath: string | null } | { failed: string } | { stopAsked: string }, unknown> {
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, CREATE_WAIT_SECONDS);
  for (let attempt = 0; ; attempt++) {
    const resource = (yield context.df.callActivityWithRetry(GET_CAPTURE, armRetry, ref)) as CaptureResourceState;
    // Checked after every read (an event raised during the create or a read, or in a timer's batch): a stop asked
    // before the capture started ends the run here, whatever the resource's state.
    const because = events.asked();
    if (because) return { stopAsked: because };
    if (!resource.exists) return { failed: `The capture ${ref.captureName} was deleted outside alertcap before it started (${resource.reason}).` };
    if (resource.provisioningState === "Succeeded") return { storagePath: resource.storagePath };
    if (resource.provisioningState === "Failed" || resource.provisioningState === "Canceled") {
      return { failed: `Network Watcher could not create the capture ${ref.captureName}: its create operation ended ${resource.provisioningState}.` };
    }
    if (context.df.currentUtcDateTime >= giveUpAt) {
      return { failed: `The capture ${ref.captureName} was still ${resource.provisioningState} ${CREATE_WAIT_SECONDS} s after alertcap created it.` };
    }
    yield context.df.createTimer(addSeconds(context.df.currentUtcDateTime, Math.min(10, 2 ** attempt)));
  }
}

/**
 * Polls Network Watcher on durable timers until the session is final. Answers "continue" when this generation has
 * polled enough and the loop should go on in a fresh history.
 */
function* watchCapture(
  context: OrchestrationContext,
  target: CaptureTargetRef,
  state: WatchState,
  events: StopEvents,
): Generator<Task, WatchEnd | "continue", unknown> {
  const { progress, settings } = state;
  const query: CaptureRef = { target, watcher: state.watcher, captureName: state.captureName };
  const ref: CaptureRef | null = state.owned ? query : null;
  const { resolved, stopRequested, asked: stopAsked } = events;
  const deadline = new Date(progress.deadline!);
  // If Network Watcher has not stopped a capture this long after alertcap asked it to, stop waiting.
  const giveUpAt = addSeconds(deadline, Math.max(120, settings.stopGraceSeconds));

  for (let poll = 0; poll < POLLS_PER_GENERATION; poll++) {
    let status: QueryCaptureOutput;
    try {
      status = (yield context.df.callActivityWithRetry(QUERY_CAPTURE, armRetry, query)) as QueryCaptureOutput;
    } catch (error) {
      progress.failureReason = `Could not read the capture's status: ${firstLine(error)}`;
      yield* stopCapture(context, ref, progress, "alertcap could not read its status");
      return "unreadable";
    }
    progress.polls += 1;
    if (!status.exists) {
      // Terminal: nobody will bring it back. Deleting a capture keeps its file, so the file is still looked for.
      progress.stoppedAt = context.df.currentUtcDateTime.toISOString();
      progress.failureReason = `The capture ${state.captureName} was deleted outside alertcap (${status.reason}); alertcap looked for the file it had written.`;
      emit(context, "capture.stopped", progress, { status: "Deleted", polls: progress.polls });
      return "deleted";
    }
    Object.assign(progress, { networkWatcherStatus: status.status, stopReason: status.stopReason, packetCaptureErrors: status.errors });
    if (status.captureStartTime) progress.startedAt = status.captureStartTime;
    if (isFinalCaptureStatus(status.status)) {
      progress.stoppedAt = context.df.currentUtcDateTime.toISOString();
      emit(context, "capture.stopped", progress, { status: status.status, stopReason: status.stopReason, polls: progress.polls });
      return sessionProblem(status) ? "session-failed" : "ended";
    }

    const asked = progress.stopRequestedBecause ? null : stopAsked();
    if (asked) {
      yield* stopCapture(context, ref, progress, asked);
      continue;
    }
    const now = context.df.currentUtcDateTime;
    if (now >= giveUpAt) {
      progress.failureReason = `Network Watcher still reports the capture as ${progress.networkWatcherStatus} after alertcap's deadline (${deadline.toISOString()}) and a stop request.`;
      return "unreadable";
    }
    if (now >= deadline && !progress.stopRequestedBecause) {
      yield* stopCapture(context, ref, progress, "its deadline passed (time limit plus grace)");
      continue;
    }

    const delay = nextPollDelaySeconds(progress.polls - 1, settings.pollSeconds);
    let fireAt = addSeconds(now, delay);
    if (!progress.stopRequestedBecause && fireAt > deadline) fireAt = deadline;
    progress.nextPollAt = fireAt.toISOString();
    publish(context, progress);
    const timer = context.df.createTimer(fireAt);
    if (progress.stopRequestedBecause) {
      yield timer;
      continue;
    }
    const winner = yield context.df.Task.any([timer, resolved, stopRequested]);
    if (winner !== timer) timer.cancel();
    // Also when the timer won: an event in the same batch must not wait for the next generation (or be lost there).
    const because = stopAsked();
    if (because) yield* stopCapture(context, ref, progress, because);
  }
  return "continue";
}

/**
 * A session that ended without running: Error, or (as Network Watcher really reports it) Stopped with no stopReason
 * and free-text packetCaptureError entries. No file will come; Network Watcher's own words are the reason.
 */
function sessionProblem(status: QueryCaptureOutput & { exists: true }): string | null {
  if (status.status === "Error") return `Network Watcher reported the capture in Error${status.errors.length > 0 ? `: ${status.errors.join("; ")}` : ""}.`;
  if (status.errors.length > 0 && !status.stopReason) return `Network Watcher stopped the capture without running it: ${status.errors.join("; ")}`;
  return null;
}

/** Asks Network Watcher to stop our capture: only one this run created (`ref` is null for a joined capture). */
function* stopCapture(context: OrchestrationContext, ref: CaptureRef | null, progress: CaptureProgress, because: string): Generator<Task, void, unknown> {
  progress.stopRequestedBecause = because;
  emit(context, "capture.stopRequested", progress, { because, owned: ref !== null });
  if (!ref) {
    progress.stopRequestedBecause = `${because}; the capture was started by an earlier alertcap run, so it runs to its own time limit`;
    return;
  }
  progress.phase = "stopping";
  publish(context, progress);
  try {
    // Sent, not waited for: the watch loop sees the session Stopped on a later poll.
    yield context.df.callActivityWithRetry(STOP_CAPTURE, armRetry, ref);
  } catch (error) {
    progress.failureReason = `Could not stop the capture (${because}): ${firstLine(error)}`;
  }
  progress.phase = "capturing";
}

/** Sends a request whose outcome does not change what alertcap reports (a clean-up). */
function* sendQuietly(context: OrchestrationContext, activity: string, ref: CaptureRef): Generator<Task, string | null, unknown> {
  try {
    yield context.df.callActivityWithRetry(activity, armRetry, ref);
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

/** Locate and analyse the file (when there is one), notify, clean up. Always ends with a notification. */
function* finish(
  context: OrchestrationContext,
  input: CaptureOrchestrationInput,
  progress: CaptureProgress,
  state: WatchState | null,
  end: WatchEnd,
): Generator<Task, CaptureProgress, unknown> {
  const findings: string[] = [];
  const onsets: string[] = [];
  if (end === "session-failed") {
    progress.failureReason ??= sessionProblem({ exists: true, status: progress.networkWatcherStatus ?? "Unknown", stopReason: progress.stopReason, errors: progress.packetCaptureErrors, captureStartTime: null });
  }
  const query: CaptureRef | null = state ? { target: input.target, watcher: state.watcher, captureName: state.captureName } : null;
  const lookForFile = query && (end === "deleted" || (end === "ended" && progress.networkWatcherStatus === "Stopped"));
  // The alert's instant as the webhook gave it to a recorder (older starts: the alert's firedAt).
  const incidentAt = input.incidentAt ?? progress.alert.firedAt;
  let fileFound = false;

  if (query && lookForFile) {
    const file = yield* locateFile(context, state!.settings, query, progress);
    if ("problem" in file) {
      if (progress.failureReason === null) progress.failureReason = file.problem;
      else findings.push(file.problem);
    } else {
      fileFound = true;
      // A flight recorder's lookback for this incident, when the target has one: analysed with the file as one timeline.
      const lookback = yield* awaitLookback(context, { storagePath: file.storagePath, incidentId: context.df.instanceId, firedAt: incidentAt, waitSeconds: state!.settings.fileWaitSeconds, expected: input.lookbackExpected === true });
      progress.phase = "analysing";
      publish(context, progress);
      try {
        const analysis = (yield context.df.callActivityWithRetry(ANALYSE_CAPTURE, armRetry, { storagePath: file.storagePath, ...(lookback ? { lookback } : {}) })) as AnalyseOutput;
        progress.analysis = analysis.summary;
        progress.reportPath = analysis.reportPath;
        findings.push(...analysis.findings);
        if (analysis.onsets) onsets.push(...analysis.onsets);
        yield* compareWithBaseline(context, input.target, progress, file.storagePath, findings);
      } catch (error) {
        findings.push(`The capture file could not be analysed: ${firstLine(error)}`);
      }
    }
  }
  if (!fileFound && state && progress.storagePath) {
    // No file from the capture (it could not run, or its file never came): the minutes before the alert that a
    // recorder secured are the only packets of this incident, and are analysed and notified all the same.
    const lookback = yield* awaitLookback(context, { storagePath: progress.storagePath, incidentId: context.df.instanceId, firedAt: incidentAt, waitSeconds: state.settings.fileWaitSeconds, expected: input.lookbackExpected === true });
    if (lookback) {
      progress.phase = "analysing";
      publish(context, progress);
      try {
        const analysis = (yield context.df.callActivityWithRetry(ANALYSE_CAPTURE, armRetry, { storagePath: progress.storagePath, lookback, lookbackOnly: true })) as AnalyseOutput;
        progress.analysis = analysis.summary;
        progress.reportPath = analysis.reportPath;
        findings.push(...analysis.findings);
        if (analysis.onsets) onsets.push(...analysis.onsets);
      } catch (error) {
        findings.push(`The recorder's lookback could not be analysed: ${firstLine(error)}`);
      }
    }
  }

  if (query && state?.owned && end === "unreadable") {
    // alertcap gives up on a capture it created: stopped and deleted, not left running untracked to its own limit.
    progress.failureReason = `${progress.failureReason ?? "alertcap gave up on the capture."} The capture ${query.captureName} ${yield* discard(context, query)}.`;
  }
  const failed = progress.failureReason !== null;
  progress.phase = "notifying";
  publish(context, progress);
  try {
    progress.notifications = (yield context.df.callActivityWithRetry(NOTIFY, notifyRetry, {
      instanceId: context.df.instanceId,
      event: failed ? "capture.failed" : "capture.completed",
      progress,
      findings,
      ...(onsets.length > 0 ? { onsets } : {}),
      idempotencyKey: `${context.df.instanceId}:${state?.orchestrationStartedAt ?? context.df.currentUtcDateTime.toISOString()}`,
    })) as NotifyOutput;
  } catch (error) {
    progress.notifications = [{ target: "all", format: "generic", delivered: false, attempts: 0, error: firstLine(error) }];
  }

  if (query && state?.owned && state.settings.deleteCaptureWhenDone && end !== "deleted" && isFinalCaptureStatus(progress.networkWatcherStatus)) {
    progress.phase = "cleaning-up";
    publish(context, progress);
    // Sent, not waited for: the file stays whatever happens to the resource.
    yield* sendQuietly(context, DELETE_CAPTURE, query);
  }
  progress.phase = failed ? "failed" : "completed";
  publish(context, progress);
  emit(context, failed ? "capture.failed" : "capture.completed", progress, {
    reason: progress.failureReason,
    stopReason: progress.stopReason,
    notificationsDelivered: progress.notifications.filter((n) => n.delivered).length,
  });
  return progress;
}

/** Waits, with growing pauses, for the file to appear in Blob storage (Network Watcher uploads it after the stop). */
function* locateFile(
  context: OrchestrationContext,
  settings: CaptureSettings,
  ref: CaptureRef,
  progress: CaptureProgress,
): Generator<Task, { storagePath: string } | { problem: string }, unknown> {
  progress.phase = "locating";
  publish(context, progress);
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, settings.fileWaitSeconds);
  for (let attempt = 0; ; attempt++) {
    try {
      const located = (yield context.df.callActivityWithRetry(LOCATE_CAPTURE_FILE, armRetry, { ...ref, knownStoragePath: progress.storagePath })) as LocateFileOutput;
      progress.storagePath = located.storagePath;
      if (located.found && located.storagePath) return { storagePath: located.storagePath };
      if (!located.storagePath) return { problem: "Network Watcher did not report where it stored the capture file." };
    } catch (error) {
      return { problem: `Could not locate the capture file: ${firstLine(error)}` };
    }
    const now = context.df.currentUtcDateTime;
    if (now >= giveUpAt) {
      return { problem: `The capture file did not appear at ${progress.storagePath} within ${settings.fileWaitSeconds} s of the capture stopping.` };
    }
    const next = addSeconds(now, boundedWaitDelaySeconds(attempt, settings.fileWaitSeconds, FILE_WAIT));
    yield context.df.createTimer(next > giveUpAt ? giveUpAt : next);
  }
}
