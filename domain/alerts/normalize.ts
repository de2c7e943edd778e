import type { z } from "zod";
import { printable, quote } from "./armId.js";
import {
  activityLogAlertSchema,
  budgetNotificationSchema,
  classicAlertSchema,
  commonAlertSchema,
  logAlertSchema,
  logAlertV1BodySchema,
  metricAlertSchema,
  type CommonAlertContext,
  type Criteria,
  type Dimensions,
  type LogAlertV1Body,
  type SearchResults,
} from "./schemas.js";

// One shape for every payload family, so the decision (capture, stop, ignore, reject) is made in one place.
// Which family a body belongs to follows the dispatch order in shared docs alert-webhooks.md §1.

export type AlertSchemaName =
  | "azureMonitorCommonAlertSchema"
  | "AzureMonitorMetricAlert"
  | "Microsoft.Insights/activityLogs"
  | "Microsoft.Insights/LogAlert"
  | "AIP Budget Notification"
  | "classicMetric"
  | "classicEvent"
  | "logAnalyticsV1Legacy";

export type MonitorCondition = "Fired" | "Resolved";

export interface NormalisedAlert {
  readonly schema: AlertSchemaName;
  readonly monitoringService?: string;
  /** The kind of alert in words, for reasons: "metric alert", "log search alert", "resource health alert", … */
  readonly kind: string;
  /** The payload's own identity for the alert: the alert instance where it has one, else the rule or event ID. */
  readonly alertId: string | null;
  readonly ruleName: string | null;
  /** "Sev0" … "Sev4" where the payload gives a number; other wording is kept as sent. */
  readonly severity: string | null;
  readonly condition: MonitorCondition;
  readonly firedAt?: string;
  readonly resolvedAt?: string;
  /**
   * Strings that may name the alert's target, in priority order (alertTargetIDs, the context's resourceId, the
   * activity log's resourceId, then ARM IDs in `_ResourceId`/`ResourceId` dimensions and search-result columns),
   * trimmed and de-duplicated case-insensitively. Not yet validated: that is armId.ts's job.
   */
  readonly candidateTargetIds: string[];
  readonly description: string;
}

export type NormaliseResult =
  | { readonly ok: true; readonly alert: NormalisedAlert }
  | {
      readonly ok: false;
      readonly schema: AlertSchemaName | null;
      readonly alertId: string | null;
      readonly reason: string;
    };

// A single alert naming more targets than this is not something to fan out captures for; the bound also keeps a
// hostile search result of many rows cheap to read.
const MAX_CANDIDATE_TARGETS = 100;
const MAX_SEARCH_RESULT_ROWS = 1000;
const RESOURCE_ID_COLUMNS = new Set(["_resourceid", "resourceid"]);
const ARM_ID_START = /^\s*\/subscriptions\//i;

/** Reads any parsed JSON body into a normalised alert or a rejection sentence. Never throws. */
export function normalizeAlert(body: unknown): NormaliseResult {
  try {
    return normalise(body);
  } catch (error) {
    // Only reachable through exotic inputs (getters that throw, proxies); a JSON body cannot get here.
    return reject(null, `The alert could not be read: ${printable(error instanceof Error ? error.message : String(error))}.`);
  }
}

function normalise(body: unknown): NormaliseResult {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return reject(null, `The body is ${describeJsonValue(body)}, not an alert object.`);
  }
  const fields = body as Record<string, unknown>;
  const schemaId = fields["schemaId"];
  if (schemaId !== undefined) {
    if (typeof schemaId !== "string") return reject(null, `schemaId is ${describeJsonValue(schemaId)}, not a string.`);
    switch (schemaId.toLowerCase()) {
      case "azuremonitorcommonalertschema":
        return fromCommonSchema(body);
      case "azuremonitormetricalert":
        return fromMetricAlert(body);
      case "microsoft.insights/activitylogs":
        return fromActivityLogAlert(body);
      case "microsoft.insights/logalert":
        return fromApplicationInsightsLogAlert(body);
      case "aip budget notification":
        return fromBudgetNotification(body);
      default:
        return reject(
          null,
          `schemaId ${quote(schemaId)} is not an Azure Monitor alert schema (expected azureMonitorCommonAlertSchema, ` +
            "AzureMonitorMetricAlert, Microsoft.Insights/activityLogs or Microsoft.Insights/LogAlert).",
        );
    }
  }
  const context = fields["context"];
  if ("status" in fields && typeof context === "object" && context !== null && "conditionType" in context) {
    return fromClassicAlert(body);
  }
  if ("AlertRuleName" in fields && "SearchQuery" in fields && "WorkspaceId" in fields) {
    return fromLogAnalyticsV1(body);
  }
  return reject(null, unrecognisedShape(fields));
}

function fromCommonSchema(body: object): NormaliseResult {
  const parsed = commonAlertSchema.safeParse(body);
  if (!parsed.success) return invalid("azureMonitorCommonAlertSchema", "common alert schema", parsed.error, body);
  const { essentials, alertContext } = parsed.data.data;
  const service = essentials.monitoringService ?? undefined;
  const stated: MonitorCondition = essentials.monitorCondition === "resolved" ? "Resolved" : "Fired";
  return accept({
    schema: "azureMonitorCommonAlertSchema",
    ...(service === undefined ? {} : { monitoringService: service }),
    kind: commonAlertKind(service, essentials.signalType ?? undefined),
    alertId: essentials.alertId,
    ruleName: essentials.alertRule ?? null,
    severity: severityOf(essentials.severity),
    // Activity log alerts are stateless: a health event that is over still arrives as "Fired".
    condition: healthEventIsOver(alertContext) ? "Resolved" : stated,
    ...optional("firedAt", essentials.firedDateTime),
    ...optional("resolvedAt", essentials.resolvedDateTime),
    candidateTargetIds: candidates(
      essentials.alertTargetIDs ?? [],
      resourceIdsInCriteria(alertContext?.condition),
      resourceIdsInDimensions(alertContext?.Dimensions),
      resourceIdsInSearchResults(alertContext?.SearchResults),
    ),
    description: essentials.description ?? "",
  });
}

function fromMetricAlert(body: object): NormaliseResult {
  const parsed = metricAlertSchema.safeParse(body);
  if (!parsed.success) return invalid("AzureMonitorMetricAlert", "metric alert", parsed.error, body);
  const { status, context } = parsed.data.data;
  // Only "Activated" is documented; "Resolved" and "Deactivated" are both seen for the end of an alert.
  const condition: MonitorCondition = status.toLowerCase() === "activated" ? "Fired" : "Resolved";
  return accept({
    schema: "AzureMonitorMetricAlert",
    kind: "metric alert",
    alertId: context.id ?? null,
    ruleName: context.name ?? null,
    severity: severityOf(context.severity),
    condition,
    ...optional(condition === "Fired" ? "firedAt" : "resolvedAt", context.timestamp),
    candidateTargetIds: candidates([context.resourceId], resourceIdsInCriteria(context.condition)),
    description: context.description ?? "",
  });
}

function fromActivityLogAlert(body: object): NormaliseResult {
  const parsed = activityLogAlertSchema.safeParse(body);
  if (!parsed.success) return invalid("Microsoft.Insights/activityLogs", "activity log alert", parsed.error, body);
  const { status } = parsed.data.data;
  const { activityLog } = parsed.data.data.context;
  const over = status.toLowerCase() !== "activated" || healthEventIsOver(activityLog);
  return accept({
    schema: "Microsoft.Insights/activityLogs",
    kind: activityLogKind(activityLog.eventSource ?? undefined),
    alertId: activityLog.eventDataId ?? null,
    // The non-common activity log payload does not carry the rule's name.
    ruleName: null,
    severity: activityLog.level ?? null,
    condition: over ? "Resolved" : "Fired",
    ...optional("firedAt", activityLog.eventTimestamp),
    candidateTargetIds: candidates(activityLog.resourceId ? [activityLog.resourceId] : []),
    description: activityLog.description ?? "",
  });
}

function fromApplicationInsightsLogAlert(body: object): NormaliseResult {
  const parsed = logAlertSchema.safeParse(body);
  if (!parsed.success) return invalid("Microsoft.Insights/LogAlert", "log alert", parsed.error, body);
  return fromLogAlertV1Body("Microsoft.Insights/LogAlert", "Application Insights", parsed.data.data);
}

function fromLogAnalyticsV1(body: object): NormaliseResult {
  const parsed = logAlertV1BodySchema.safeParse(body);
  if (!parsed.success) return invalid("logAnalyticsV1Legacy", "Log Analytics log alert", parsed.error, body);
  return fromLogAlertV1Body("logAnalyticsV1Legacy", "Log Analytics", parsed.data);
}

// Log alerts V1 are stateless: every notification is a firing.
function fromLogAlertV1Body(schema: AlertSchemaName, service: string, alert: LogAlertV1Body): NormaliseResult {
  return accept({
    schema,
    monitoringService: service,
    kind: "log search alert",
    alertId: null,
    ruleName: alert.AlertRuleName,
    severity: severityOf(alert.Severity),
    condition: "Fired",
    ...optional("firedAt", alert.SearchIntervalEndtimeUtc),
    candidateTargetIds: candidates(
      alert.ResourceId ? [alert.ResourceId] : [],
      resourceIdsInDimensions(alert.Dimensions),
      resourceIdsInSearchResults(alert.SearchResult ?? alert.SearchResults),
    ),
    description: alert.Description ?? "",
  });
}

function fromClassicAlert(body: object): NormaliseResult {
  const parsed = classicAlertSchema.safeParse(body);
  if (!parsed.success) return invalid(null, "classic alert", parsed.error, body);
  const { status, context } = parsed.data;
  const conditionType = context.conditionType.toLowerCase();
  if (conditionType !== "metric" && conditionType !== "event") {
    return reject(null, `The classic alert's context.conditionType ${quote(context.conditionType)} is neither "Metric" nor "Event".`);
  }
  const condition: MonitorCondition = status === "activated" ? "Fired" : "Resolved";
  return accept({
    schema: conditionType === "metric" ? "classicMetric" : "classicEvent",
    kind: conditionType === "metric" ? "classic metric alert" : "classic activity log alert",
    alertId: context.id ?? null,
    ruleName: context.name ?? null,
    severity: null,
    condition,
    ...optional(condition === "Fired" ? "firedAt" : "resolvedAt", context.timestamp),
    candidateTargetIds: candidates([context.resourceId]),
    description: context.description ?? "",
  });
}

function fromBudgetNotification(body: object): NormaliseResult {
  const parsed = budgetNotificationSchema.safeParse(body);
  if (!parsed.success) return invalid("AIP Budget Notification", "budget notification", parsed.error, body);
  return accept({
    schema: "AIP Budget Notification",
    kind: "budget alert",
    alertId: null,
    ruleName: parsed.data.data.BudgetName ?? null,
    severity: null,
    condition: "Fired",
    candidateTargetIds: [],
    description: "",
  });
}

type HealthEvent = Pick<NonNullable<CommonAlertContext>, "eventSource" | "operationName" | "status" | "properties">;

// Resource health says an event is over in its operation name (".../healthevent/Resolved/action"), its status or
// the resource's current health; service health in its status or stage.
function healthEventIsOver(event: HealthEvent | null | undefined): boolean {
  if (!event) return false;
  const source = (event.eventSource ?? "").toLowerCase();
  const operation = (event.operationName ?? "").toLowerCase();
  const isResourceHealth = source === "resourcehealth" || operation.startsWith("microsoft.resourcehealth/");
  const isServiceHealth = source === "servicehealth" || operation.startsWith("microsoft.servicehealth/");
  if (!isResourceHealth && !isServiceHealth) return false;
  const resolved = (value: string | null | undefined) => (value ?? "").toLowerCase() === "resolved";
  if (resolved(event.status)) return true;
  if (isResourceHealth) {
    return operation.includes("/resolved/") || (event.properties?.currentHealthStatus ?? "").toLowerCase() === "available";
  }
  return resolved(event.properties?.stage);
}

function commonAlertKind(service: string | undefined, signalType: string | undefined): string {
  const byService: Record<string, string> = {
    "log alerts v2": "log search alert",
    "log analytics": "log search alert",
    "application insights": "log search alert",
    "resource health": "resource health alert",
    resourcehealth: "resource health alert",
    servicehealth: "service health alert",
    "service health": "service health alert",
    prometheus: "Prometheus alert",
    smartdetector: "smart detection alert",
    costalerts: "budget alert",
  };
  const known = service === undefined ? undefined : byService[service.toLowerCase()];
  if (known) return known;
  if (service?.toLowerCase().startsWith("activity log")) return "activity log alert";
  const bySignal: Record<string, string> = { metric: "metric alert", log: "log search alert" };
  const signal = (signalType ?? "").toLowerCase().replace(/\s+/g, "");
  return bySignal[signal] ?? (signal === "activitylog" ? "activity log alert" : "alert");
}

function activityLogKind(eventSource: string | undefined): string {
  switch ((eventSource ?? "").toLowerCase()) {
    case "resourcehealth":
      return "resource health alert";
    case "servicehealth":
      return "service health alert";
    default:
      return "activity log alert";
  }
}

function severityOf(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value.trim() === "") return null;
  return /^[0-4]$/.test(value.trim()) ? `Sev${value.trim()}` : value;
}

function resourceIdsInCriteria(criteria: Criteria): string[] {
  return (criteria?.allOf ?? []).flatMap((criterion) => resourceIdsInDimensions(criterion?.dimensions));
}

// Log alerts split by `_ResourceId` or `ResourceId` carry the resource's ARM ID there. Metric alerts use a
// `ResourceId` dimension too, but for the VM's GUID, which the ARM-ID check below leaves out.
function resourceIdsInDimensions(dimensions: Dimensions): string[] {
  return (dimensions ?? []).flatMap((dimension) =>
    dimension && RESOURCE_ID_COLUMNS.has(dimension.name.toLowerCase()) && looksLikeArmId(dimension.value)
      ? [dimension.value]
      : [],
  );
}

function resourceIdsInSearchResults(results: SearchResults): string[] {
  const found: string[] = [];
  for (const table of results?.tables ?? []) {
    if (!table) continue;
    const columns = table.columns.flatMap((column, index) =>
      column && RESOURCE_ID_COLUMNS.has(column.name.toLowerCase()) ? [index] : [],
    );
    if (columns.length === 0) continue;
    for (const row of table.rows.slice(0, MAX_SEARCH_RESULT_ROWS)) {
      for (const column of columns) {
        const cell = row?.[column];
        if (looksLikeArmId(cell)) found.push(cell);
      }
    }
  }
  return found;
}

function looksLikeArmId(value: unknown): value is string {
  return typeof value === "string" && ARM_ID_START.test(value);
}

function candidates(...groups: string[][]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const id of groups.flat()) {
    const trimmed = id.trim();
    const key = trimmed.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(trimmed);
    if (result.length === MAX_CANDIDATE_TARGETS) break;
  }
  return result;
}

function optional<Key extends "firedAt" | "resolvedAt">(
  key: Key,
  value: string | null | undefined,
): Partial<Record<Key, string>> {
  return value ? ({ [key]: value } as Partial<Record<Key, string>>) : {};
}

function accept(alert: NormalisedAlert): NormaliseResult {
  return { ok: true, alert };
}

function reject(schema: AlertSchemaName | null, reason: string, alertId: string | null = null): NormaliseResult {
  return { ok: false, schema, alertId, reason };
}

// The first problem is enough for a person to fix the payload; listing every issue of a garbage body is noise.
function invalid(schema: AlertSchemaName | null, what: string, error: z.ZodError, body: object): NormaliseResult {
  const issue = error.issues[0];
  const path = issue ? formatPath(issue.path) : "";
  const problem = issue ? `${path === "" ? "the body" : path} ${issue.message}` : "it does not match the schema";
  return reject(schema, `The ${what} payload is invalid: ${problem}.`, alertIdOf(body));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}

// Even a rejected common-schema payload usually says which alert it was; that helps whoever reads the reject.
function alertIdOf(body: object): string | null {
  const data = (body as { data?: unknown }).data;
  const essentials = typeof data === "object" && data !== null ? (data as { essentials?: unknown }).essentials : null;
  const alertId =
    typeof essentials === "object" && essentials !== null ? (essentials as { alertId?: unknown }).alertId : null;
  return typeof alertId === "string" && alertId.length <= 4096 ? alertId : null;
}

function describeJsonValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a JSON array";
  switch (typeof value) {
    case "string":
      return "a JSON string";
    case "number":
    case "bigint":
      return "a number";
    case "boolean":
      return "a boolean";
    case "undefined":
      return "empty";
    default:
      return `a ${typeof value}`;
  }
}

function unrecognisedShape(fields: Record<string, unknown>): string {
  if ("WebhookName" in fields && "RequestBody" in fields) {
    return "This is an Azure Automation webhook wrapper (WebhookName, RequestBody), not an alert: send the alert itself.";
  }
  if (typeof fields["data"] === "object" && fields["data"] !== null && "essentials" in fields["data"]) {
    return 'The body looks like the common alert schema but has no schemaId ("azureMonitorCommonAlertSchema").';
  }
  return (
    "The body is not a recognisable Azure Monitor alert: it has no schemaId, and neither the classic alert fields " +
    "(status, context.conditionType) nor the Log Analytics alert fields (AlertRuleName, SearchQuery, WorkspaceId). " +
    "Custom JSON payloads of log alerts are not supported."
  );
}
