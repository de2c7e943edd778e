// DTFx history events and durable-functions actions as they cross the wire between the Durable extension and the
// Node worker: PascalCase events with a numeric EventType (Newtonsoft's enum serialisation) and camelCase actions.
// Numbers from durable-functions lib/src/history/HistoryEventType.js and lib/src/actions/ActionType.js.

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const EventTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, value]) => [value, name]),
);

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export const ActionTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([name, value]) => [value, name]),
);

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptions;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: Action[];
  [field: string]: unknown;
}

/** What an orchestrator episode returns (durable-functions OrchestratorState), after the worker's JSON round trip. */
export interface OrchestratorState {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion: number;
}

const event = (type: number, at: Date, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent => ({
  EventType: type,
  EventId: eventId,
  IsPlayed: false,
  Timestamp: at.toISOString(),
  ...fields,
});

/** JSON-encodes a payload the way DTFx stores it (a string, or null for no value). */
const encode = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export const history = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, name: string, input: unknown, instanceId: string, executionId?: string) =>
    event(EventType.ExecutionStarted, at, {
      Name: name,
      Input: encode(input),
      Version: "",
      OrchestrationInstance: executionId ? { InstanceId: instanceId, ExecutionId: executionId } : { InstanceId: instanceId },
    }),
  executionCompleted: (at: Date, status: string, result: unknown, failureDetails?: unknown) =>
    event(EventType.ExecutionCompleted, at, {
      OrchestrationStatus: status,
      Result: encode(result),
      ...(failureDetails === undefined ? {} : { FailureDetails: failureDetails }),
    }),
  executionTerminated: (at: Date, reason: string) => event(EventType.ExecutionTerminated, at, { Input: encode(reason) }),
  executionSuspended: (at: Date, reason: string) => event(EventType.ExecutionSuspended, at, { Reason: reason }),
  executionResumed: (at: Date, reason: string) => event(EventType.ExecutionResumed, at, { Reason: reason }),
  taskScheduled: (at: Date, id: number, name: string, input: unknown) =>
    event(EventType.TaskScheduled, at, { Name: name, Version: "", Input: encode(input) }, id),
  taskCompleted: (at: Date, scheduledId: number, result: unknown) =>
    event(EventType.TaskCompleted, at, { TaskScheduledId: scheduledId, Result: encode(result) ?? "null" }),
  taskFailed: (at: Date, scheduledId: number, reason: string, details: string) =>
    event(EventType.TaskFailed, at, { TaskScheduledId: scheduledId, Reason: reason, Details: details }),
  timerCreated: (at: Date, id: number, fireAt: string) => event(EventType.TimerCreated, at, { FireAt: fireAt }, id),
  timerFired: (at: Date, timerId: number, fireAt: string) =>
    event(EventType.TimerFired, at, { TimerId: timerId, FireAt: fireAt }),
  eventRaised: (at: Date, name: string, input: unknown) =>
    event(EventType.EventRaised, at, { Name: name, Input: encode(input) }),
};

/** Schedulable actions in the order the extension replays them (WhenAll/WhenAny flattened, as the shim does). */
export function flattenActions(state: OrchestratorState): Action[] {
  const out: Action[] = [];
  const walk = (action: Action): void => {
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      for (const child of action.compoundActions ?? []) walk(child);
    } else out.push(action);
  };
  for (const action of state.actions[0] ?? []) walk(action);
  return out;
}

/** Actions that take a DTFx sequence number (TaskScheduled/TimerCreated EventId). */
export function takesSequenceNumber(action: Action): boolean {
  return (
    action.actionType === ActionType.CallActivity ||
    action.actionType === ActionType.CallActivityWithRetry ||
    action.actionType === ActionType.CreateTimer
  );
}

export function describeAction(action: Action): string {
  const type = ActionTypeName[action.actionType] ?? `action type ${action.actionType}`;
  if (action.functionName) return `${type} "${action.functionName}"`;
  if (action.fireAt) return `${type} firing at ${new Date(action.fireAt).toISOString()}`;
  if (action.externalEventName) return `${type} "${action.externalEventName}"`;
  return type;
}

export function describeEvent(e: HistoryEvent): string {
  const type = EventTypeName[e.EventType] ?? `event type ${e.EventType}`;
  if (typeof e.Name === "string") return `${type} "${e.Name}" (EventId ${e.EventId})`;
  if (typeof e.FireAt === "string") return `${type} firing at ${e.FireAt} (EventId ${e.EventId})`;
  return `${type} (EventId ${e.EventId})`;
}
