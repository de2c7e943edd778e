// The Durable extension's side of a task hub, in process: it runs orchestrator episodes through the real
// durable-functions replay engine, turns their actions into DTFx history, runs activities, fires durable timers,
// delivers external events, continues-as-new, and persists every step (see store.ts). What DTFx enforces on replay
// is enforced here on every episode, plus a stricter guard: the same history replayed twice must give the same
// result, which catches Date.now(), Math.random() and environment reads in orchestrator code.
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { Invoker } from "../invoker.js";
import { fromTypedData } from "../invoker.js";
import type { HostLogger } from "../log.js";
import type { Clock } from "./clock.js";
import {
  ActionType,
  type Action,
  describeAction,
  describeEvent,
  EventType,
  flattenActions,
  history,
  type HistoryEvent,
  type OrchestratorState,
  takesSequenceNumber,
} from "./history.js";
import {
  type InboxMessage,
  type InstanceRecord,
  type InstanceStore,
  type PendingActivity,
  type PendingTimer,
  type RetryChain,
  type RuntimeStatus,
  TERMINAL_STATUSES,
} from "./store.js";

export interface TaskHubOptions {
  hubName: string;
  store: InstanceStore;
  invoker: Invoker;
  clock: Clock;
  logger: HostLogger;
  maxConcurrentActivityFunctions?: number;
  maxConcurrentOrchestratorFunctions?: number;
  /**
   * Reproduces Azure Storage's start race on demand: the first `startRace` starts of an absent instance ID all pass
   * the existence check (each read the Instances table before any of them wrote it), each writes the row over the
   * last, and the dispatcher keeps only the ExecutionStarted of the execution the row names (DTFx
   * DedupeExecutionStartedMessagesAsync). Until the race is complete (that many starts, or 1 s) the instance is
   * not visible. Unset: starts of one ID are serialised, as they mostly are.
   */
  startRace?: number;
}

export type ControlResult = "accepted" | "notFound" | "gone";

/** A start of an instance that is Pending, Running, Suspended or ContinuedAsNew (the extension answers 500). */
export class InstanceConflictError extends Error {}

const START_RACE_WINDOW_MS = 1000;

/** Fields of the extension's orchestration trigger payload that never change here (OrchestrationContextToString). */
const TRIGGER_CONSTANTS = {
  upperSchemaVersion: 1,
  upperSchemaVersionNew: 2,
  longRunningTimerIntervalDuration: "3.00:00:00",
  maximumShortTimerDuration: "6.00:00:00",
  defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
};

const OUT_OF_PROC_DATA = "\n\n$OutOfProcData$:";
const MAX_BATCH = 100;

class NonDeterminismError extends Error {}

export class TaskHub {
  readonly hubName: string;
  private readonly records = new Map<string, InstanceRecord>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly runnable = new Set<string>();
  private runningEpisodes = 0;
  private runningActivities = 0;
  private readonly activityQueue: Array<() => Promise<void>> = [];
  private idleWaiters: Array<() => void> = [];
  private inFlight = 0;
  private closed = false;
  private readonly maxActivities: number;
  private readonly maxOrchestrations: number;
  /** Starts of an absent ID gathered by the start race (startRace option), by instance ID. */
  /** Armed timers not yet called back, by `instance/generation/timerId`, with their instants. */
  private readonly armed = new Map<string, number>();
  private readonly startRaces = new Map<string, { starts: number; complete: Promise<void>; finish: () => void }>();

  constructor(private readonly options: TaskHubOptions) {
    this.hubName = options.hubName;
    this.maxActivities = options.maxConcurrentActivityFunctions ?? 10;
    this.maxOrchestrations = options.maxConcurrentOrchestratorFunctions ?? 10;
  }

  private get clock(): Clock {
    return this.options.clock;
  }

  private log(message: string, level: "information" | "warning" | "error" = "information"): void {
    this.options.logger.log("durable", message, level);
  }

  /** Loads durable state and resumes every unfinished instance: inbox, timers, and activities that were in flight. */
  start(): void {
    let resumed = 0;
    for (const record of this.options.store.loadAll()) {
      this.records.set(record.instanceId, record);
      if (TERMINAL_STATUSES.has(record.status)) continue;
      resumed++;
      for (const timer of record.timers) this.armTimer(record.instanceId, timer);
      for (const activity of record.activities) this.dispatchActivity(record.instanceId, activity);
      if (record.inbox.length > 0) this.markRunnable(record.instanceId);
    }
    if (resumed > 0) this.log(`resumed ${resumed} unfinished orchestration(s) from durable state`);
  }

  close(): void {
    this.closed = true;
  }

  // ---- client operations (what the extension's HTTP API and RPC routes call) ----

  async startNew(name: string, instanceId: string, input: unknown): Promise<void> {
    const fn = this.options.invoker;
    fn.triggerBindingName(name, "orchestrationTrigger"); // throws for an unknown orchestrator
    const race = this.options.startRace && this.options.startRace > 1 ? this.joinStartRace(instanceId) : undefined;
    if (race) await race;
    const executionId = randomUUID().replace(/-/g, "");
    await this.withInstance(instanceId, (existing) => {
      if (existing && !TERMINAL_STATUSES.has(existing.status) && !(race && existing.status === "Pending" && existing.episodes === 0)) {
        throw new InstanceConflictError(`An Orchestration instance with the status ${existing.status} already exists.`);
      }
      const now = this.clock.now().toISOString();
      const started = { event: history.executionStarted(this.clock.now(), name, input, instanceId, executionId) };
      // A racing start that lost the existence check still queues its message; the row is simply overwritten.
      const queued = race && existing && !TERMINAL_STATUSES.has(existing.status) ? existing.inbox : [];
      const record: InstanceRecord = {
        instanceId,
        name,
        input: input ?? null,
        status: "Pending",
        output: null,
        customStatus: null,
        createdTime: now,
        lastUpdatedTime: now,
        generation: 0,
        history: [],
        inbox: [...queued, started],
        activities: [],
        timers: [],
        retryEventIds: [],
        episodes: 0,
        executionId,
      };
      this.commit(record);
      this.markRunnable(instanceId);
    });
    this.log(`${name} (${instanceId}) scheduled`);
  }

  /** Joins (or opens) the start race for an absent ID; undefined when the ID exists or the race is already full. */
  private joinStartRace(instanceId: string): Promise<void> | undefined {
    const open = this.startRaces.get(instanceId);
    if (open) {
      open.starts++;
      if (open.starts >= this.options.startRace!) open.finish();
      return open.complete;
    }
    if (this.records.has(instanceId)) return undefined;
    let finish!: () => void;
    const complete = new Promise<void>((resolve) => (finish = resolve));
    const race = { starts: 1, complete, finish };
    this.startRaces.set(instanceId, race);
    this.inFlight++;
    const timeout = setTimeout(finish, START_RACE_WINDOW_MS);
    void complete.then(() => {
      clearTimeout(timeout);
      this.startRaces.delete(instanceId);
      this.inFlight--;
      this.checkIdle();
    });
    return complete;
  }

  async raiseEvent(instanceId: string, eventName: string, data: unknown): Promise<ControlResult> {
    const result = await this.withInstance(instanceId, (record) => {
      if (!record) return "notFound";
      if (TERMINAL_STATUSES.has(record.status)) return "gone";
      record.inbox.push({ event: history.eventRaised(this.clock.now(), eventName, data) });
      this.commit(record);
      this.markRunnable(instanceId);
      return "accepted";
    });
    if (result === "accepted") this.log(`event "${eventName}" raised to ${instanceId}`);
    return result;
  }

  async terminate(instanceId: string, reason: string): Promise<ControlResult> {
    return this.withInstance(instanceId, (record) => {
      if (!record) return "notFound";
      if (TERMINAL_STATUSES.has(record.status)) return "gone";
      const now = this.clock.now();
      record.history.push(
        history.orchestratorStarted(now),
        history.executionTerminated(now, reason),
        history.executionCompleted(now, "Terminated", reason),
        history.orchestratorCompleted(now),
      );
      this.finish(record, "Terminated", reason);
      this.commit(record);
      this.log(`${record.name} (${instanceId}) terminated: ${reason}`, "warning");
      return "accepted";
    });
  }

  async suspend(instanceId: string, reason: string): Promise<ControlResult> {
    return this.withInstance(instanceId, (record) => {
      if (!record) return "notFound";
      if (TERMINAL_STATUSES.has(record.status)) return "gone";
      record.history.push(history.executionSuspended(this.clock.now(), reason));
      record.status = "Suspended";
      this.commit(record);
      return "accepted";
    });
  }

  async resume(instanceId: string, reason: string): Promise<ControlResult> {
    const result = await this.withInstance(instanceId, (record) => {
      if (!record) return "notFound";
      if (TERMINAL_STATUSES.has(record.status)) return "gone";
      if (record.status !== "Suspended") return "accepted";
      record.history.push(history.executionResumed(this.clock.now(), reason));
      record.status = "Running";
      this.commit(record);
      this.markRunnable(instanceId);
      return "accepted";
    });
    return result;
  }

  /**
   * Removes an instance's state; "running" for one that has not finished (the extension answers 412 for a single
   * purge), unless `evenIfRunning` (the Azure Storage backend's purge by filter deletes running instances too; their
   * timers and activity results then find nothing to deliver to).
   */
  async purge(instanceId: string, options: { evenIfRunning?: boolean } = {}): Promise<"purged" | "notFound" | "running"> {
    return this.withInstance(instanceId, (record) => {
      if (!record) return "notFound";
      if (!TERMINAL_STATUSES.has(record.status) && !options.evenIfRunning) return "running";
      this.records.delete(instanceId);
      this.options.store.delete(instanceId);
      return "purged";
    });
  }

  get(instanceId: string): Readonly<InstanceRecord> | undefined {
    return this.records.get(instanceId);
  }

  list(): ReadonlyArray<Readonly<InstanceRecord>> {
    return [...this.records.values()];
  }

  /** Resolves once nothing is runnable, no episode or activity is running and nothing is being written. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- internals ----

  private isIdle(): boolean {
    if (this.runnable.size > 0 || this.runningEpisodes > 0 || this.runningActivities > 0 || this.activityQueue.length > 0 || this.inFlight > 0) return false;
    // A timer whose instant has come but whose callback has not run yet (a clock calls back asynchronously) is
    // work about to happen: idle now would let a caller look before the timer's episode is even scheduled.
    const now = this.clock.now().getTime();
    for (const fireAt of this.armed.values()) if (fireAt <= now) return false;
    return true;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Serialises every change to one instance (HTTP calls, episodes, activity results and timers interleave). */
  private async withInstance<T>(instanceId: string, change: (record: InstanceRecord | undefined) => T | Promise<T>): Promise<T> {
    const previous = this.locks.get(instanceId) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => current);
    this.locks.set(instanceId, chained);
    this.inFlight++;
    try {
      await previous;
      return await change(this.records.get(instanceId));
    } finally {
      release();
      if (this.locks.get(instanceId) === chained) this.locks.delete(instanceId);
      this.inFlight--;
      this.checkIdle();
    }
  }

  private commit(record: InstanceRecord): void {
    record.lastUpdatedTime = this.clock.now().toISOString();
    this.options.store.save(record);
    this.records.set(record.instanceId, record);
  }

  private markRunnable(instanceId: string): void {
    if (this.closed) return;
    this.runnable.add(instanceId);
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    while (!this.closed && this.runningEpisodes < this.maxOrchestrations && this.runnable.size > 0) {
      const instanceId = this.runnable.values().next().value as string;
      this.runnable.delete(instanceId);
      this.runningEpisodes++;
      void this.runEpisode(instanceId)
        .catch((error: unknown) => this.log(`episode of ${instanceId} crashed the dispatcher: ${String(error)}`, "error"))
        .finally(() => {
          this.runningEpisodes--;
          this.pump();
          this.checkIdle();
        });
    }
  }

  /**
   * Takes the next batch of messages. A message of a retry chain goes alone: the worker allocates a sequence number
   * for the retry's timer or re-scheduled task as it processes that message, and the extension must allocate the
   * same number, which it can only know when nothing else in the episode allocates numbers.
   */
  private takeBatch(record: InstanceRecord): InboxMessage[] {
    const first = record.inbox[0];
    if (!first) return [];
    if (first.retry) return record.inbox.splice(0, 1);
    let end = 1;
    while (end < record.inbox.length && end < MAX_BATCH && !record.inbox[end]!.retry) end++;
    return record.inbox.splice(0, end);
  }

  private async runEpisode(instanceId: string): Promise<void> {
    const toDispatch: PendingActivity[] = [];
    let runAgain = false;
    await this.withInstance(instanceId, async (record) => {
      if (!record || TERMINAL_STATUSES.has(record.status) || record.status === "Suspended") return;
      this.discardStaleStarts(record);
      const batch = this.takeBatch(record);
      if (batch.length === 0) return;
      const now = this.clock.now();
      const episodeHistory = [...record.history, history.orchestratorStarted(now), ...batch.map((m) => m.event)];
      if (record.status === "Pending") {
        record.status = "Running";
        this.log(`${record.name} (${instanceId}) started`);
      }
      record.episodes++;
      try {
        const state = await this.replay(record, episodeHistory);
        const carried = state.error === undefined && flattenActions(state).some((a) => a.actionType === ActionType.ContinueAsNew)
          ? await this.unprocessedEvents(record, episodeHistory, batch)
          : [];
        this.applyEpisode(record, episodeHistory, batch, state, toDispatch, carried);
      } catch (error) {
        toDispatch.length = 0;
        const message = error instanceof Error ? error.message : String(error);
        episodeHistory.push(history.executionCompleted(now, "Failed", message), history.orchestratorCompleted(now));
        record.history = episodeHistory;
        this.finish(record, "Failed", message);
        this.log(`${record.name} (${instanceId}) failed: ${message}`, "error");
      }
      this.commit(record);
      runAgain = record.inbox.length > 0 && !TERMINAL_STATUSES.has(record.status);
    });
    for (const activity of toDispatch) this.dispatchActivity(instanceId, activity);
    if (runAgain) this.markRunnable(instanceId);
  }

  /**
   * Events of this batch the orchestrator never saw: durable-functions stops reading history once the orchestrator
   * has continued as new, and Azure Storage (EventBehaviourForContinueAsNew = Carryover, DTFx
   * AddEventToNextIteration) hands such events to the next generation. Found by replaying growing prefixes of the
   * batch until the orchestrator continues as new.
   */
  private async unprocessedEvents(record: InstanceRecord, episodeHistory: HistoryEvent[], batch: InboxMessage[]): Promise<InboxMessage[]> {
    if (!batch.slice(1).some((m) => m.event.EventType === EventType.EventRaised)) return [];
    const before = episodeHistory.length - batch.length;
    for (let seen = 1; seen < batch.length; seen++) {
      const state = await this.invokeOrchestrator(record, episodeHistory.slice(0, before + seen), true);
      if (flattenActions(state).some((a) => a.actionType === ActionType.ContinueAsNew)) {
        return batch.slice(seen).filter((m) => m.event.EventType === EventType.EventRaised);
      }
    }
    return [];
  }

  /** DTFx DedupeExecutionStartedMessagesAsync: an ExecutionStarted for an execution other than the row's is dropped. */
  private discardStaleStarts(record: InstanceRecord): void {
    if (!record.executionId) return;
    const before = record.inbox.length;
    record.inbox = record.inbox.filter((m) => {
      if (m.event.EventType !== EventType.ExecutionStarted) return true;
      const instance = m.event.OrchestrationInstance as { ExecutionId?: string } | undefined;
      return !instance?.ExecutionId || instance.ExecutionId === record.executionId;
    });
    const dropped = before - record.inbox.length;
    if (dropped > 0) this.log(`discarded ${dropped} duplicate ExecutionStarted message(s) for ${record.instanceId}`, "warning");
  }

  /** Runs the orchestrator on `episodeHistory` twice and insists on the same answer. */
  private async replay(record: InstanceRecord, episodeHistory: HistoryEvent[]): Promise<OrchestratorState> {
    const first = await this.invokeOrchestrator(record, episodeHistory);
    const second = await this.invokeOrchestrator(record, episodeHistory, true);
    if (!isDeepStrictEqual(first, second)) {
      throw new NonDeterminismError(
        `Non-deterministic orchestrator "${record.name}": replaying the same history twice gave different results ` +
          `(${describeDifference(first, second)}). Orchestrator code must not read the clock, random numbers, ` +
          `environment or I/O; use context.df.currentUtcDateTime and activities.`,
      );
    }
    return first;
  }

  private async invokeOrchestrator(record: InstanceRecord, episodeHistory: HistoryEvent[], silent = false): Promise<OrchestratorState> {
    const lastStarted = episodeHistory.map((e) => e.EventType).lastIndexOf(EventType.OrchestratorStarted);
    const payload = {
      history: episodeHistory.map((e, i) => ({ ...e, IsPlayed: i < lastStarted })),
      input: record.input,
      instanceId: record.instanceId,
      isReplaying: lastStarted > 0,
      parentInstanceId: null,
      ...TRIGGER_CONSTANTS,
    };
    const invoker = this.options.invoker;
    const binding = invoker.triggerBindingName(record.name, "orchestrationTrigger");
    try {
      const response = await invoker.invoke(record.name, { inputData: [{ name: binding, data: { json: JSON.stringify(payload) } }], silent });
      return fromTypedData(response.returnValue) as OrchestratorState;
    } catch (error) {
      // durable-functions reports an orchestrator that threw as an OrchestrationFailureError whose message carries
      // the state (actions so far and `error`) after a marker; anything else is a crash of the function itself.
      const message = error instanceof Error ? error.message : String(error);
      const at = message.indexOf(OUT_OF_PROC_DATA);
      if (at < 0) throw new Error(`Orchestrator function '${record.name}' failed: ${message}`);
      return JSON.parse(message.slice(at + OUT_OF_PROC_DATA.length)) as OrchestratorState;
    }
  }

  /** Reconciles the episode's actions with history (DTFx's rules), then records what is new. */
  private applyEpisode(
    record: InstanceRecord,
    episodeHistory: HistoryEvent[],
    batch: InboxMessage[],
    state: OrchestratorState,
    toDispatch: PendingActivity[],
    carried: InboxMessage[] = [],
  ): void {
    const now = this.clock.now();
    const refused = customStatusRefusal(state.customStatus);
    if (refused) state = { ...state, customStatus: undefined, error: refused };
    const actions = flattenActions(state);
    const unsupported = actions.find(
      (a) => !takesSequenceNumber(a) && a.actionType !== ActionType.WaitForExternalEvent && a.actionType !== ActionType.ContinueAsNew,
    );
    if (unsupported) {
      throw new Error(`Orchestrator "${record.name}" used ${describeAction(unsupported)}, which the local host does not emulate.`);
    }
    const scheduling = episodeHistory.filter((e) => e.EventType === EventType.TaskScheduled || e.EventType === EventType.TimerCreated);
    let nextId = scheduling.reduce((max, e) => Math.max(max, e.EventId), -1) + 1;
    const retryIds = new Set(record.retryEventIds);
    const roots = scheduling.filter((e) => !retryIds.has(e.EventId)).sort((a, b) => a.EventId - b.EventId);
    const sequenced = actions.filter(takesSequenceNumber);
    const appended: HistoryEvent[] = [];

    sequenced.forEach((action, index) => {
      const past = roots[index];
      if (past) {
        assertSameAction(record.name, action, past);
        if (action.actionType === ActionType.CreateTimer && action.isCanceled) {
          const timer = record.timers.find((t) => t.timerId === past.EventId && t.generation === record.generation);
          if (timer) timer.cancelled = true;
        }
        return;
      }
      const id = nextId++;
      if (action.actionType === ActionType.CreateTimer) {
        const fireAt = new Date(action.fireAt as string).toISOString();
        appended.push(history.timerCreated(now, id, fireAt));
        record.timers.push({ timerId: id, ...this.owner(record), fireAt, ...(action.isCanceled ? { cancelled: true } : {}) });
      } else {
        const name = action.functionName as string;
        appended.push(history.taskScheduled(now, id, name, action.input));
        const activity: PendingActivity = { taskId: id, ...this.owner(record), name, input: action.input };
        if (action.actionType === ActionType.CallActivityWithRetry && action.retryOptions) {
          activity.retry = { name, input: action.input, options: action.retryOptions, attempt: 1, firstAttemptAt: now.toISOString() };
        }
        record.activities.push(activity);
        toDispatch.push(activity);
      }
    });
    if (sequenced.length < roots.length) {
      const missing = roots.slice(sequenced.length).map(describeEvent).join(", ");
      throw new NonDeterminismError(
        `Non-deterministic orchestrator "${record.name}": history holds ${missing}, which the orchestrator no longer schedules.`,
      );
    }

    // The extension's half of a retry chain: after a failed attempt, a back-off timer; after that timer, the next
    // attempt (DTFx RetryInterceptor). The worker reserved the sequence numbers while processing the message.
    const retryMessage = batch.length === 1 && batch[0]!.retry ? batch[0]! : undefined;
    if (retryMessage?.retry && !state.isDone && state.error === undefined) {
      const chain = retryMessage.retry;
      const id = nextId++;
      record.retryEventIds.push(id);
      if (retryMessage.event.EventType === EventType.TaskFailed) {
        // After the last attempt DTFx's RetryInterceptor still creates a timer, due at once (its compatibility
        // timer), and the failure reaches the orchestrator only after it fires.
        const last = chain.attempt >= chain.options.maxNumberOfAttempts;
        const fireAt = new Date(now.getTime() + (last ? 0 : retryDelayMs(chain))).toISOString();
        appended.push(history.timerCreated(now, id, fireAt));
        record.timers.push({ timerId: id, ...this.owner(record), fireAt, retry: chain });
      } else if (chain.attempt < chain.options.maxNumberOfAttempts) {
        const next: RetryChain = { ...chain, attempt: chain.attempt + 1 };
        appended.push(history.taskScheduled(now, id, chain.name, chain.input));
        const activity: PendingActivity = { taskId: id, ...this.owner(record), name: chain.name, input: chain.input, retry: next };
        record.activities.push(activity);
        toDispatch.push(activity);
        this.log(`${chain.name} retry ${next.attempt} of ${chain.options.maxNumberOfAttempts} for ${record.instanceId}`);
      } else {
        record.retryEventIds.pop(); // the worker fails the task instead of reserving a number
      }
    }

    for (const armed of record.timers.filter((t) => appended.some((e) => e.EventId === t.timerId && e.EventType === EventType.TimerCreated))) {
      this.armTimer(record.instanceId, armed);
    }
    if (state.customStatus !== undefined) record.customStatus = state.customStatus;
    episodeHistory.push(...appended);

    const continueAsNew = actions.find((a) => a.actionType === ActionType.ContinueAsNew);
    if (state.error !== undefined) {
      const message = `Orchestrator function '${record.name}' failed: ${state.error}`;
      episodeHistory.push(history.executionCompleted(now, "Failed", message), history.orchestratorCompleted(now));
      record.history = episodeHistory;
      this.finish(record, "Failed", message);
      toDispatch.length = 0;
      this.log(`${record.name} (${record.instanceId}) failed: ${state.error.split("\n")[0]}`, "error");
    } else if (continueAsNew) {
      this.continueAsNew(record, continueAsNew, carried);
      toDispatch.length = 0;
    } else if (state.isDone && this.leftOpen(record, toDispatch)) {
      // "An orchestration won't get marked as completed until all its scheduled tasks have returned, or been
      // cancelled" (durable-functions TimerTask docs): it stays Running until the last open timer fires or the last
      // open activity answers, and completes in the episode that delivers it.
      episodeHistory.push(history.orchestratorCompleted(now));
      record.history = episodeHistory;
      const dropped = new Set(toDispatch);
      record.activities = record.activities.filter((a) => !dropped.has(a));
      toDispatch.length = 0;
    } else if (state.isDone) {
      episodeHistory.push(history.executionCompleted(now, "Completed", state.output), history.orchestratorCompleted(now));
      record.history = episodeHistory;
      this.finish(record, "Completed", state.output ?? null);
      toDispatch.length = 0;
      this.log(`${record.name} (${record.instanceId}) completed`);
    } else {
      episodeHistory.push(history.orchestratorCompleted(now));
      record.history = episodeHistory;
    }
  }

  /** An uncancelled timer or an unanswered activity of the current execution (not one scheduled just now). */
  private leftOpen(record: InstanceRecord, justScheduled: readonly PendingActivity[]): boolean {
    const current = (item: { generation: number; executionId?: string }) =>
      item.generation === record.generation && item.executionId === record.executionId;
    return record.timers.some((t) => !t.cancelled && current(t)) || record.activities.some((a) => current(a) && !justScheduled.includes(a));
  }

  /**
   * A new generation with a fresh history and the new input. Results of the old generation's activities and timers
   * are dropped; external events that arrived meanwhile, and those of the last batch the orchestrator never read,
   * are kept for the new generation.
   */
  private continueAsNew(record: InstanceRecord, action: Action, carried: InboxMessage[]): void {
    const input = typeof action.input === "string" ? (JSON.parse(action.input) as unknown) : action.input;
    record.generation++;
    record.input = input ?? null;
    record.history = [];
    record.timers = [];
    record.activities = [];
    record.retryEventIds = [];
    record.inbox = [
      { event: history.executionStarted(this.clock.now(), record.name, input, record.instanceId) },
      ...carried,
      ...record.inbox.filter((m) => m.event.EventType === EventType.EventRaised),
    ];
    record.status = "Running";
  }

  private finish(record: InstanceRecord, status: RuntimeStatus, output: unknown): void {
    record.status = status;
    record.output = output;
    record.inbox = [];
    record.timers = [];
    record.activities = [];
  }

  /** Which execution and generation a timer or activity belongs to. */
  private owner(record: InstanceRecord): { generation: number; executionId?: string } {
    return { generation: record.generation, ...(record.executionId ? { executionId: record.executionId } : {}) };
  }

  private armTimer(instanceId: string, armedTimer: PendingTimer): void {
    const { timerId, generation, executionId, fireAt } = armedTimer;
    const key = `${instanceId}/${executionId ?? ""}/${generation}/${timerId}`;
    this.armed.set(key, new Date(fireAt).getTime());
    this.clock.at(new Date(fireAt), () => {
      this.armed.delete(key);
      void this.withInstance(instanceId, (record) => {
        const timer = record?.timers.find((t) => t.timerId === timerId && t.generation === generation && t.executionId === executionId);
        if (!record || !timer || TERMINAL_STATUSES.has(record.status)) return;
        record.timers = record.timers.filter((t) => t !== timer);
        const message: InboxMessage = { event: history.timerFired(this.clock.now(), timerId, fireAt) };
        if (timer.retry) message.retry = timer.retry;
        record.inbox.push(message);
        this.commit(record);
        // Runnable before the lock is released, so whenIdle() cannot resolve between delivery and scheduling.
        this.markRunnable(instanceId);
      });
    });
  }

  private dispatchActivity(instanceId: string, activity: PendingActivity): void {
    this.activityQueue.push(() => this.runActivity(instanceId, activity));
    this.drainActivities();
  }

  private drainActivities(): void {
    while (!this.closed && this.runningActivities < this.maxActivities && this.activityQueue.length > 0) {
      const run = this.activityQueue.shift()!;
      this.runningActivities++;
      void run().finally(() => {
        this.runningActivities--;
        this.drainActivities();
        this.checkIdle();
      });
    }
  }

  private async runActivity(instanceId: string, activity: PendingActivity): Promise<void> {
    const invoker = this.options.invoker;
    const started = Date.now();
    let message: InboxMessage;
    try {
      const binding = invoker.triggerBindingName(activity.name, "activityTrigger");
      // The extension hands the worker the activity input as JSON; a string input is already JSON-encoded by
      // durable-functions, and the worker's string conversion parses it back.
      const data = typeof activity.input === "string" ? { string: activity.input } : { json: JSON.stringify(activity.input ?? null) };
      const response = await invoker.invoke(activity.name, { inputData: [{ name: binding, data }] });
      const result = fromTypedData(response.returnValue);
      message = { event: history.taskCompleted(this.clock.now(), activity.taskId, result ?? null) };
      this.log(`activity ${activity.name} for ${instanceId} succeeded (${Date.now() - started} ms)`);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      const reason = `Activity function '${activity.name}' failed: ${err.message}`;
      message = { event: history.taskFailed(this.clock.now(), activity.taskId, reason, err.stack ?? err.message) };
      if (activity.retry) message.retry = activity.retry;
      const attempt = activity.retry ? ` (attempt ${activity.retry.attempt} of ${activity.retry.options.maxNumberOfAttempts})` : "";
      this.log(`activity ${activity.name} for ${instanceId} failed${attempt}: ${err.message}`, "warning");
    }
    await this.withInstance(instanceId, (record) => {
      const pending = record?.activities.find(
        (a) => a.taskId === activity.taskId && a.generation === activity.generation && a.executionId === activity.executionId,
      );
      if (!record || !pending || TERMINAL_STATUSES.has(record.status)) return;
      record.activities = record.activities.filter((a) => a !== pending);
      record.inbox.push(message);
      this.commit(record);
      this.markRunnable(instanceId);
    });
  }
}

/** DTFx RetryInterceptor.ComputeNextDelay: first interval × coefficient^(attempt−1), capped by the maximum. */
function retryDelayMs(chain: RetryChain): number {
  const { firstRetryIntervalInMilliseconds, backoffCoefficient = 1, maxRetryIntervalInMilliseconds } = chain.options;
  const delay = firstRetryIntervalInMilliseconds * Math.pow(backoffCoefficient, chain.attempt - 1);
  return maxRetryIntervalInMilliseconds && maxRetryIntervalInMilliseconds > 0 ? Math.min(delay, maxRetryIntervalInMilliseconds) : delay;
}

function assertSameAction(orchestrator: string, action: Action, past: HistoryEvent): void {
  const isTimer = action.actionType === ActionType.CreateTimer;
  const same = isTimer
    ? past.EventType === EventType.TimerCreated && new Date(past.FireAt as string).getTime() === new Date(action.fireAt as string).getTime()
    : past.EventType === EventType.TaskScheduled && past.Name === action.functionName;
  if (!same) {
    throw new NonDeterminismError(
      `Non-deterministic orchestrator "${orchestrator}": it now schedules ${describeAction(action)} where history ` +
        `holds ${describeEvent(past)}. Orchestrator code must make the same calls in the same order on every replay.`,
    );
  }
}

function describeDifference(a: OrchestratorState, b: OrchestratorState): string {
  const actionsA = flattenActions(a);
  const actionsB = flattenActions(b);
  for (let i = 0; i < Math.max(actionsA.length, actionsB.length); i++) {
    if (!isDeepStrictEqual(actionsA[i], actionsB[i])) {
      const left = actionsA[i] ? `${describeAction(actionsA[i]!)} ${JSON.stringify(actionsA[i])}` : "nothing";
      const right = actionsB[i] ? `${describeAction(actionsB[i]!)} ${JSON.stringify(actionsB[i])}` : "nothing";
      return `action #${i}: ${left} then ${right}`;
    }
  }
  if (!isDeepStrictEqual(a.customStatus, b.customStatus)) return "customStatus differs";
  if (!isDeepStrictEqual(a.output, b.output)) return "output differs";
  return "state differs";
}

/**
 * The extension's refusal of an oversized custom status (MessagePayloadDataConverter.Serialize(value, 16): the JSON's
 * UTF-16 size, floor(bytes / 1024), over 16 KB), which fails the orchestration in Azure; null when it is accepted.
 */
export function customStatusRefusal(customStatus: unknown): string | null {
  if (customStatus === undefined) return null;
  const kb = Math.floor((JSON.stringify(customStatus) ?? "").length * 2 / 1024);
  return kb > 16 ? `The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is ${kb} KB.` : null;
}
