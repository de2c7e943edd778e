// One packet capture for one alert target: validate → create → watch on durable timers until Network Watcher stops
// it (or the alert resolves, an operator asks, or the deadline passes) → locate the file → analyse → notify → clean up.
// Replay-safe: time comes from context.df.currentUtcDateTime, everything else from activities; configuration arrives
// in the input. History stays bounded: the watch loop continues as new every few polls, carrying its state.
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  ANALYSE_CAPTURE,
  type AnalyseOutput,
  type CaptureRef,
  CREATE_CAPTURE,
  type CreateCaptureOutput,
  DELETE_CAPTURE,
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
import {
  captureDeadline,
  captureName,
  type CaptureTargetRef,
  isFinalCaptureStatus,
  nextPollDelaySeconds,
  packetCaptureBody,
} from "../domain/capture/plan.js";
import type { AlertSummary, CaptureProgress } from "../domain/capture/progress.js";
import { type CaptureSettings, storageAccountFor } from "../domain/capture/settings.js";
import { type CaptureEventFields, type CaptureEventName, eventLine } from "../domain/telemetry/events.js";
import { ALERT_RESOLVED_EVENT, CAPTURE_ORCHESTRATOR, STOP_REQUESTED_EVENT } from "./names.js";

export interface CaptureOrchestrationInput {
  target: CaptureTargetRef;
  alert: AlertSummary;
  settings: CaptureSettings;
  /** Where the previous generation left off, when the watch loop continued as new. */
  carried?: WatchState;
}

interface WatchState {
  progress: CaptureProgress;
  watcher: WatcherRef;
  captureName: string;
  /** Created by this orchestration (so it may stop and delete it), rather than joined. */
  owned: boolean;
  /** The orchestration's first currentUtcDateTime: the idempotency key of its notifications. */
  orchestrationStartedAt: string;
  generation: number;
}

/** Polls per generation before continuing as new: about 4 history events per poll keeps each history under ~100. */
const POLLS_PER_GENERATION = 10;

/** ARM calls ride out throttling and transient errors here, on top of the SDK's own retries. */
const armRetry = (() => {
  const options = new df.RetryOptions(5_000, 5);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 60_000;
  return options;
})();

const firstLine = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error);
  // durable-functions reports an activity failure as "<Reason> \n <Details>"; the reason is the readable part.
  return text.split("\n")[0]!.trim();
};

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** Logs a structured event once: a replay re-runs this code, and must not log it again. */
function emit(context: OrchestrationContext, event: CaptureEventName, progress: CaptureProgress, fields: CaptureEventFields = {}): void {
  if (context.df.isReplaying) return;
  context.log(eventLine(event, { target: progress.target, instanceId: context.df.instanceId, captureName: progress.captureName, ...fields }));
}

function initialProgress(input: CaptureOrchestrationInput): CaptureProgress {
  return {
    phase: "validating",
    target: input.target.id,
    targetKind: input.target.kind,
    alert: input.alert,
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

const captureOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<CaptureOrchestrationInput>();
  let state = input.carried;
  if (!state) {
    const started = yield* startCapture(context, input);
    if ("failed" in started) return yield* finish(context, input, started.failed, null);
    state = started;
  }
  const watched = yield* watchCapture(context, input.settings, state);
  if (watched === "continue") {
    context.df.continueAsNew({ ...input, carried: { ...state, generation: state.generation + 1 } });
    return undefined;
  }
  return yield* finish(context, input, state.progress, state);
};

df.app.orchestration(CAPTURE_ORCHESTRATOR, captureOrchestrator);

/** Validate the target and the region, then create (or join) the capture. */
function* startCapture(
  context: OrchestrationContext,
  input: CaptureOrchestrationInput,
): Generator<Task, WatchState | { failed: CaptureProgress }, unknown> {
  const progress = initialProgress(input);
  const orchestrationStartedAt = context.df.currentUtcDateTime;
  context.df.setCustomStatus(progress);
  try {
    const validation = (yield context.df.callActivityWithRetry(VALIDATE_TARGET, armRetry, {
      target: input.target,
      settings: input.settings,
    })) as ValidateTargetOutput;
    if (!validation.ok) return { failed: { ...progress, phase: "failed", failureReason: validation.reason } };
    progress.networkWatcher = `${validation.watcher.resourceGroup}/${validation.watcher.name}`;
    const storageAccountId = storageAccountFor(input.settings, validation.location);
    if (!storageAccountId) {
      const reason = `No capture storage account is configured for region ${validation.location}: Network Watcher needs one in the target's region (ALERTCAP_CAPTURE_STORAGE_ID, e.g. "${validation.location}=/subscriptions/…/storageAccounts/…").`;
      return { failed: { ...progress, phase: "failed", failureReason: reason } };
    }

    progress.phase = "creating";
    context.df.setCustomStatus(progress);
    let created: CreateCaptureOutput;
    if (validation.runningCaptureName) {
      created = { ok: true, captureName: validation.runningCaptureName, storagePath: null, reused: true };
    } else {
      created = (yield context.df.callActivityWithRetry(CREATE_CAPTURE, armRetry, {
        watcher: validation.watcher,
        candidateNames: [0, 1, 2, 3, 4].map((attempt) => captureName(input.target, orchestrationStartedAt, attempt)),
        body: packetCaptureBody(input.target, input.settings, storageAccountId),
        notBefore: orchestrationStartedAt.toISOString(),
      })) as CreateCaptureOutput;
    }
    if (!created.ok) return { failed: { ...progress, phase: "failed", failureReason: created.reason } };
    const now = context.df.currentUtcDateTime;
    emit(context, "capture.started", { ...progress, captureName: created.captureName }, { joined: Boolean(validation.runningCaptureName), networkWatcher: progress.networkWatcher });
    Object.assign(progress, {
      phase: "capturing",
      captureName: created.captureName,
      storagePath: created.storagePath,
      startedAt: now.toISOString(),
      deadline: captureDeadline(now, input.settings).toISOString(),
    });
    return {
      progress,
      watcher: validation.watcher,
      captureName: created.captureName,
      owned: !validation.runningCaptureName,
      orchestrationStartedAt: orchestrationStartedAt.toISOString(),
      generation: 0,
    };
  } catch (error) {
    return { failed: { ...progress, phase: "failed", failureReason: firstLine(error) } };
  }
}

/**
 * Polls Network Watcher on durable timers until the session is final. Answers "continue" when this generation has
 * polled enough and the loop should go on in a fresh history.
 */
function* watchCapture(
  context: OrchestrationContext,
  settings: CaptureSettings,
  state: WatchState,
): Generator<Task, "final" | "continue", unknown> {
  const { progress } = state;
  const ref: CaptureRef | null = state.owned ? { watcher: state.watcher, captureName: state.captureName } : null;
  const query: CaptureRef = { watcher: state.watcher, captureName: state.captureName };
  // Created once per generation, so an event that arrives while an activity runs completes one of these. Such a task
  // completes outside any Task.any, and durable-functions 3.x's Task.any never looks at children already completed:
  // `stopAsked` must be checked before every wait and after every timer (an event in the timer's batch), or the event
  // is lost and the capture runs to its deadline.
  const resolved = context.df.waitForExternalEvent(ALERT_RESOLVED_EVENT);
  const stopRequested = context.df.waitForExternalEvent(STOP_REQUESTED_EVENT);
  const stopAsked = (): string | null => {
    if (resolved.isCompleted) return "the alert was resolved";
    if (stopRequested.isCompleted) return `an operator asked${stopRequested.result ? ` (${String(stopRequested.result)})` : ""}`;
    return null;
  };
  const deadline = new Date(progress.deadline!);
  // If Network Watcher has not stopped a capture this long after alertcap asked it to, stop waiting.
  const giveUpAt = addSeconds(deadline, Math.max(120, settings.stopGraceSeconds));

  for (let poll = 0; poll < POLLS_PER_GENERATION; poll++) {
    try {
      const status = (yield context.df.callActivityWithRetry(QUERY_CAPTURE, armRetry, query)) as QueryCaptureOutput;
      Object.assign(progress, {
        polls: progress.polls + 1,
        networkWatcherStatus: status.status,
        stopReason: status.stopReason,
        packetCaptureErrors: status.errors,
      });
      if (status.captureStartTime) progress.startedAt = status.captureStartTime;
    } catch (error) {
      progress.failureReason = `Could not read the capture's status: ${firstLine(error)}`;
      yield* stopCapture(context, ref, progress, "alertcap could not read its status");
      return "final";
    }
    if (isFinalCaptureStatus(progress.networkWatcherStatus)) {
      progress.stoppedAt = context.df.currentUtcDateTime.toISOString();
      emit(context, "capture.stopped", progress, { status: progress.networkWatcherStatus, stopReason: progress.stopReason, polls: progress.polls });
      return "final";
    }

    const asked = progress.stopRequestedBecause ? null : stopAsked();
    if (asked) {
      yield* stopCapture(context, ref, progress, asked);
      continue;
    }

    const now = context.df.currentUtcDateTime;
    if (now >= giveUpAt) {
      progress.failureReason = `Network Watcher still reports the capture as ${progress.networkWatcherStatus} after alertcap's deadline (${deadline.toISOString()}) and a stop request.`;
      return "final";
    }
    if (now >= deadline && !progress.stopRequestedBecause) {
      yield* stopCapture(context, ref, progress, "its deadline passed (time limit plus grace)");
      continue;
    }

    const delay = nextPollDelaySeconds(progress.polls - 1, settings.pollSeconds);
    let fireAt = addSeconds(now, delay);
    if (!progress.stopRequestedBecause && fireAt > deadline) fireAt = deadline;
    progress.nextPollAt = fireAt.toISOString();
    context.df.setCustomStatus(progress);
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

/** Asks Network Watcher to stop our capture: only one this run created (`ref` is null for a joined capture). */
function* stopCapture(context: OrchestrationContext, ref: CaptureRef | null, progress: CaptureProgress, because: string): Generator<Task, void, unknown> {
  progress.stopRequestedBecause = because;
  emit(context, "capture.stopRequested", progress, { because, owned: ref !== null });
  if (!ref) {
    progress.stopRequestedBecause = `${because}; the capture was started by an earlier alertcap run, so it runs to its own time limit`;
    return;
  }
  progress.phase = "stopping";
  context.df.setCustomStatus(progress);
  try {
    yield context.df.callActivityWithRetry(STOP_CAPTURE, armRetry, ref);
  } catch (error) {
    progress.failureReason = `Could not stop the capture (${because}): ${firstLine(error)}`;
  }
  progress.phase = "capturing";
}

/** Locate and analyse the file (when there is one), notify, clean up. Always ends with a notification. */
function* finish(
  context: OrchestrationContext,
  input: CaptureOrchestrationInput,
  progress: CaptureProgress,
  state: WatchState | null,
): Generator<Task, CaptureProgress, unknown> {
  const findings: string[] = [];
  if (state && progress.networkWatcherStatus === "Error") {
    progress.failureReason ??= `Network Watcher reported the capture in Error${progress.packetCaptureErrors.length > 0 ? `: ${progress.packetCaptureErrors.join("; ")}` : ""}.`;
  }
  const query: CaptureRef | null = state ? { watcher: state.watcher, captureName: state.captureName } : null;
  const owned: CaptureRef | null = state?.owned ? query : null;

  if (query && progress.networkWatcherStatus === "Stopped") {
    const file = yield* locateFile(context, input.settings, query, progress);
    if (file) {
      progress.phase = "analysing";
      context.df.setCustomStatus(progress);
      try {
        const analysis = (yield context.df.callActivityWithRetry(ANALYSE_CAPTURE, armRetry, { storagePath: file })) as AnalyseOutput;
        progress.analysis = analysis.summary;
        progress.reportPath = analysis.reportPath;
        findings.push(...analysis.findings);
      } catch (error) {
        findings.push(`The capture file could not be analysed: ${firstLine(error)}`);
      }
    }
  }

  const failed = progress.failureReason !== null;
  progress.phase = "notifying";
  context.df.setCustomStatus({ ...progress, analysis: null });
  try {
    progress.notifications = (yield context.df.callActivity(NOTIFY, {
      instanceId: context.df.instanceId,
      event: failed ? "capture.failed" : "capture.completed",
      progress,
      findings,
      idempotencyKey: `${context.df.instanceId}:${state?.orchestrationStartedAt ?? context.df.currentUtcDateTime.toISOString()}`,
    })) as NotifyOutput;
  } catch (error) {
    progress.notifications = [{ target: "all", format: "generic", delivered: false, attempts: 0, error: firstLine(error) }];
  }

  if (owned && input.settings.deleteCaptureWhenDone && isFinalCaptureStatus(progress.networkWatcherStatus)) {
    progress.phase = "cleaning-up";
    context.df.setCustomStatus({ ...progress, analysis: null });
    try {
      yield context.df.callActivityWithRetry(DELETE_CAPTURE, armRetry, owned);
    } catch (error) {
      findings.push(`The capture resource could not be deleted: ${firstLine(error)}`);
    }
  }
  progress.phase = failed ? "failed" : "completed";
  context.df.setCustomStatus({ ...progress, analysis: null });
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
): Generator<Task, string | null, unknown> {
  progress.phase = "locating";
  context.df.setCustomStatus(progress);
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, settings.fileWaitSeconds);
  for (let attempt = 0; ; attempt++) {
    try {
      const located = (yield context.df.callActivityWithRetry(LOCATE_CAPTURE_FILE, armRetry, ref)) as LocateFileOutput;
      progress.storagePath = located.storagePath;
      if (located.found && located.storagePath) return located.storagePath;
      if (!located.storagePath) {
        progress.failureReason = "Network Watcher did not report where it stored the capture file.";
        return null;
      }
    } catch (error) {
      progress.failureReason = `Could not locate the capture file: ${firstLine(error)}`;
      return null;
    }
    const now = context.df.currentUtcDateTime;
    if (now >= giveUpAt) {
      progress.failureReason = `The capture file did not appear at ${progress.storagePath} within ${settings.fileWaitSeconds} s of the capture stopping.`;
      return null;
    }
    const next = addSeconds(now, Math.min(60, 2 * 2 ** Math.min(attempt, 5)));
    yield context.df.createTimer(next > giveUpAt ? giveUpAt : next);
  }
}
