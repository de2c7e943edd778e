// The Durable extension's HTTP API (HttpApiHandler): the same handler serves the public management routes under
// /runtime/webhooks/durabletask (system key required) and the loopback RPC routes under /durabletask/ that
// durable-functions' DurableClient calls. Status codes, headers, field names and casing follow the extension's code
// (see shared/docs/durable-http-api.md); where docs and code disagree, the code wins.
import { randomUUID } from "node:crypto";
import { EventType, EventTypeName, type HistoryEvent } from "./history.js";
import { type InstanceRecord, type RuntimeStatus, TERMINAL_STATUSES } from "./store.js";
import { InstanceConflictError, type TaskHub } from "./taskHub.js";

export interface ApiRequest {
  method: string;
  /** Path below the API's base, e.g. `instances/abc/raiseEvent/stop`. */
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  continuationToken: string | undefined;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Builds the management URLs the extension hands out (HttpManagementPayload), with `code=` last. */
export class ManagementUrls {
  constructor(
    readonly baseUrl: string,
    private readonly hubName: string,
    private readonly systemKey: string,
  ) {}

  get requiredQuery(): string {
    return `taskHub=${encodeURIComponent(this.hubName)}&connection=Storage&code=${this.systemKey}`;
  }

  forInstance(instanceId: string): Record<string, string> {
    const instance = `${this.baseUrl}/instances/${instanceId === "INSTANCEID" ? instanceId : encodeURIComponent(instanceId)}`;
    const q = this.requiredQuery;
    return {
      id: instanceId,
      statusQueryGetUri: `${instance}?${q}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${instance}?${q}`,
      restartPostUri: `${instance}/restart?${q}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
      resumePostUri: `${instance}/resume?reason={text}&${q}`,
    };
  }

  /** What the `durableClient` input binding carries (BindingHelper.OrchestrationClientInputData). */
  clientBindingData(rpcBaseUrl: string): Record<string, unknown> {
    const q = this.requiredQuery;
    return {
      taskHubName: this.hubName,
      creationUrls: {
        createNewInstancePostUri: `${this.baseUrl}/orchestrators/{functionName}[/{instanceId}]?${q}`,
        createAndWaitOnNewInstancePostUri: `${this.baseUrl}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
      },
      managementUrls: this.forInstance("INSTANCEID"),
      baseUrl: this.baseUrl,
      requiredQueryStringParameters: q,
      rpcBaseUrl,
    };
  }
}

const RUNNING_STATUSES: ReadonlySet<RuntimeStatus> = new Set(["Pending", "Running", "ContinuedAsNew", "Suspended"]);

/** `DateTime.ToString("s") + "Z"`: whole seconds. */
const wholeSeconds = (iso: string): string => `${iso.slice(0, 19)}Z`;

const flag = (query: URLSearchParams, name: string, fallback: boolean): boolean => {
  const value = query.get(name);
  return value === null ? fallback : value.toLowerCase() === "true";
};

export class DurableHttpApi {
  constructor(
    private readonly hub: TaskHub,
    private readonly urls: ManagementUrls,
  ) {}

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const segments = req.path.split("/").filter((s) => s.length > 0).map(decodeURIComponent);
    const [collection, id, operation, eventName] = segments;
    if (collection === "orchestrators" && id) {
      if (req.method !== "POST") return { status: 404, headers: {} };
      return this.start(id, operation, req);
    }
    if (collection === "instances") {
      if (!id) {
        if (req.method === "GET") return this.list(req);
        if (req.method === "DELETE") return this.purgeMany(req);
        return { status: 404, headers: {} };
      }
      if (!operation) {
        if (req.method === "GET") return this.status(id, req);
        if (req.method === "DELETE") return this.purge(id);
        return { status: 404, headers: {} };
      }
      if (req.method !== "POST") return { status: 404, headers: {} };
      const reason = req.query.get("reason") ?? "";
      switch (operation.toLowerCase()) {
        case "raiseevent":
          return this.raiseEvent(id, eventName, req);
        case "terminate":
          return this.control(await this.hub.terminate(id, reason));
        case "suspend":
          return this.control(await this.hub.suspend(id, reason));
        case "resume":
          return this.control(await this.hub.resume(id, reason));
        case "rewind":
        case "restart":
          return message(501, `The local host does not implement the "${operation}" operation.`);
        default:
          // The extension answers a route it does not know with 404, not a server error.
          return { status: 404, headers: {} };
      }
    }
    return { status: 404, headers: {} };
  }

  private async start(functionName: string, instanceId: string | undefined, req: ApiRequest): Promise<ApiResponse> {
    let input: unknown;
    const text = req.body.toString("utf8");
    if (text.length > 0) {
      try {
        input = JSON.parse(text);
      } catch {
        return message(400, "The request content is not valid JSON.");
      }
    }
    const id = instanceId ?? randomUUID().replace(/-/g, "");
    if (/[/\\#?]|[\u0000-\u001f\u007f]/.test(id) || id.length > 256) {
      return message(400, `Instance ID '${id}' contains characters that are not allowed.`);
    }
    try {
      await this.hub.startNew(functionName, id, input);
    } catch (error) {
      // The extension lets the storage provider's InvalidOperationException escape (OverridableStates): the
      // Functions host answers 500 with no body, not the 409 the docs suggest.
      if (error instanceof InstanceConflictError) return { status: 500, headers: {} };
      return message(400, `One or more of the arguments submitted is incorrect: ${(error as Error).message}`);
    }
    const payload = this.urls.forInstance(id);
    return { status: 202, headers: { Location: payload.statusQueryGetUri!, "Retry-After": "10" }, body: payload };
  }

  private status(instanceId: string, req: ApiRequest): ApiResponse {
    const record = this.hub.get(instanceId);
    if (!record) return { status: 404, headers: {} };
    const body = statusPayload(record, {
      showInput: flag(req.query, "showInput", true),
      showHistory: flag(req.query, "showHistory", false),
      showHistoryOutput: flag(req.query, "showHistoryOutput", false),
    });
    if (RUNNING_STATUSES.has(record.status)) {
      return { status: 202, headers: { Location: this.urls.forInstance(instanceId).statusQueryGetUri!, "Retry-After": "5" }, body };
    }
    const failedAs500 = record.status === "Failed" && flag(req.query, "returnInternalServerErrorOnFailure", false);
    return { status: failedAs500 ? 500 : 200, headers: {}, body };
  }

  private list(req: ApiRequest): ApiResponse {
    const statuses = (req.query.get("runtimeStatus") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    const from = isoTime(req.query.get("createdTimeFrom"));
    const to = isoTime(req.query.get("createdTimeTo"));
    if (from === null || to === null) return message(400, "createdTimeFrom and createdTimeTo must be ISO 8601 times.");
    const prefix = req.query.get("instanceIdPrefix");
    const showInput = flag(req.query, "showInput", true);
    const matching = this.hub
      .list()
      .filter((r) => statuses.length === 0 || statuses.includes(r.status.toLowerCase()))
      .filter((r) => !from || r.createdTime >= from)
      .filter((r) => !to || r.createdTime <= to)
      .filter((r) => !prefix || r.instanceId.startsWith(prefix))
      .sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.instanceId.localeCompare(b.instanceId));
    const top = Number(req.query.get("top") ?? "0");
    const offset = Number(req.continuationToken ?? "0") || 0;
    const page = top > 0 ? matching.slice(offset, offset + top) : matching.slice(offset);
    const next = top > 0 && offset + top < matching.length ? String(offset + top) : undefined;
    const headers: Record<string, string> = next ? { "x-ms-continuation-token": next } : {};
    return { status: 200, headers, body: page.map((r) => statusPayload(r, { showInput, showHistory: false, showHistoryOutput: false })) };
  }

  private async purge(instanceId: string): Promise<ApiResponse> {
    const result = await this.hub.purge(instanceId);
    if (result === "notFound") return { status: 404, headers: {} };
    if (result === "running") return message(412, `Instance '${instanceId}' has not finished; only finished instances can be purged.`);
    return { status: 200, headers: {}, body: { instancesDeleted: 1 } };
  }

  /**
   * As the Azure Storage backend purges by filter (AzureTableTrackingStore.PurgeInstanceHistoryAsync): the status
   * filter keeps only Completed, Terminated, Canceled and Failed, and an empty filter (none given, or only running
   * statuses given) is no filter at all, so running instances in the time range are purged too. createdTimeTo
   * defaults to now.
   */
  private async purgeMany(req: ApiRequest): Promise<ApiResponse> {
    const from = isoTime(req.query.get("createdTimeFrom"));
    if (from === undefined) return message(400, "Please provide value for 'createdTimeFrom' parameter.");
    const to = isoTime(req.query.get("createdTimeTo"));
    if (from === null || to === null) return message(400, "createdTimeFrom and createdTimeTo must be ISO 8601 times.");
    const until = to ?? new Date().toISOString();
    const statuses = (req.query.get("runtimeStatus") ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => ["completed", "terminated", "canceled", "failed"].includes(s));
    let deleted = 0;
    for (const record of this.hub.list()) {
      if (record.createdTime < from || record.createdTime > until) continue;
      if (statuses.length > 0 && !statuses.includes(record.status.toLowerCase())) continue;
      if ((await this.hub.purge(record.instanceId, { evenIfRunning: true })) === "purged") deleted++;
    }
    return deleted === 0 ? { status: 404, headers: {} } : { status: 200, headers: {}, body: { instancesDeleted: deleted } };
  }

  private async raiseEvent(instanceId: string, eventName: string | undefined, req: ApiRequest): Promise<ApiResponse> {
    if (!eventName) return message(400, "An event name is required.");
    if (!(req.contentType ?? "").toLowerCase().startsWith("application/json")) {
      return message(400, "Only application/json request content is supported.");
    }
    let data: unknown = null;
    const text = req.body.toString("utf8");
    if (text.length > 0) {
      try {
        data = JSON.parse(text);
      } catch {
        return message(400, "The request content is not valid JSON.");
      }
    }
    return this.control(await this.hub.raiseEvent(instanceId, eventName, data));
  }

  private control(result: "accepted" | "notFound" | "gone"): ApiResponse {
    if (result === "notFound") return { status: 404, headers: {} };
    if (result === "gone") return message(410, "The instance has already finished.");
    return { status: 202, headers: {} };
  }
}

/** A query time as ISO 8601 (undefined when absent, null when it is not a time). */
function isoTime(value: string | null): string | undefined | null {
  if (value === null || value === "") return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time.toISOString();
}

function message(status: number, text: string): ApiResponse {
  return { status, headers: {}, body: { Message: text } };
}

export function statusPayload(
  record: Readonly<InstanceRecord>,
  options: { showInput: boolean; showHistory: boolean; showHistoryOutput: boolean },
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    name: record.name,
    instanceId: record.instanceId,
    runtimeStatus: record.status,
    input: options.showInput ? record.input : null,
    customStatus: record.customStatus ?? null,
    output: TERMINAL_STATUSES.has(record.status) ? (record.output ?? null) : null,
    createdTime: wholeSeconds(record.createdTime),
    lastUpdatedTime: wholeSeconds(record.lastUpdatedTime),
  };
  if (options.showHistory) payload.historyEvents = historyForApi(record.history, options);
  return payload;
}

const parseLoose = (value: unknown): unknown => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

/**
 * History as the extension's status API shows it (DurableClient.GetDurableOrchestrationStatusAsync): EventType as its
 * name, no EventId/IsPlayed, no Orchestrator* events, a completed TaskScheduled merged into its completion with
 * FunctionName and ScheduledTime. We emulate the newer builds that keep `Input` (subject to showInput).
 */
export function historyForApi(
  events: readonly HistoryEvent[],
  options: { showInput: boolean; showHistoryOutput: boolean },
): Array<Record<string, unknown>> {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of events) if (e.EventType === EventType.TaskScheduled) scheduled.set(e.EventId, e);
  const completedIds = new Set(
    events
      .filter((e) => e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed)
      .map((e) => e.TaskScheduledId as number),
  );
  const out: Array<Record<string, unknown>> = [];
  for (const e of events) {
    if (e.EventType === EventType.OrchestratorStarted || e.EventType === EventType.OrchestratorCompleted) continue;
    if (e.EventType === EventType.TaskScheduled && completedIds.has(e.EventId)) continue;
    const { EventType: type, EventId: _id, IsPlayed: _played, ...rest } = e;
    const shown: Record<string, unknown> = { EventType: EventTypeName[type] ?? String(type), ...rest };
    switch (type) {
      case EventType.ExecutionStarted:
        shown.FunctionName = shown.Name;
        delete shown.Name;
        delete shown.Version;
        delete shown.OrchestrationInstance;
        if (options.showInput) shown.Input = parseLoose(shown.Input);
        else delete shown.Input;
        break;
      case EventType.TaskScheduled:
        delete shown.Version;
        if (options.showInput) shown.Input = parseLoose(shown.Input);
        else delete shown.Input;
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed: {
        const origin = scheduled.get(e.TaskScheduledId as number);
        delete shown.TaskScheduledId;
        shown.FunctionName = origin?.Name;
        shown.ScheduledTime = origin?.Timestamp;
        if (type === EventType.TaskCompleted) {
          if (options.showHistoryOutput) shown.Result = parseLoose(shown.Result);
          else delete shown.Result;
        }
        break;
      }
      case EventType.ExecutionCompleted:
        if (options.showHistoryOutput) shown.Result = parseLoose(shown.Result);
        else delete shown.Result;
        break;
      case EventType.TimerFired:
        delete shown.TimerId;
        break;
      case EventType.EventRaised:
      case EventType.ExecutionTerminated:
        if (options.showInput) shown.Input = parseLoose(shown.Input);
        else delete shown.Input;
        break;
      default:
        break;
    }
    out.push(shown);
  }
  return out;
}
