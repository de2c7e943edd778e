import { z } from "zod";

// Zod schemas for every Azure Monitor webhook payload family alertcap understands (see shared docs
// alert-webhooks.md). Azure is inconsistent about types and nulls (severity "Sev3" vs "3", eventSource 2,
// alertRule null in budget alerts), so fields only shown to people are lenient: a wrong type drops the field
// instead of failing the payload. Fields a decision rests on (the state, the alert's identity, where the target
// is) are strict: when they are wrong the payload is rejected with the path and what is wrong.
// Every object is loose: Azure adds fields over time and an unknown field must never break intake.

const MAX_ID_LENGTH = 4096;

// Error messages are the second half of a sentence that starts with the field's path.
const missingOr = (otherwise: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is missing" : otherwise;

const requiredText = z
  .string({ error: missingOr("must be a string") })
  .max(MAX_ID_LENGTH, { error: `is longer than ${MAX_ID_LENGTH} characters` });

const requiredObject = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.looseObject(shape, { error: missingOr("must be an object") });

/** Shown to people only: numbers become strings, anything else unusable becomes undefined. */
const displayText = z
  .union([z.string(), z.number().transform(String)])
  .nullish()
  .catch(undefined);

/** Where a target may be: null, one ID, or a list of IDs (the common schema documents a list). */
const resourceIdList = z
  .union([z.string().transform((id) => [id]), z.array(z.string(), { error: "must be a list of resource IDs" })], {
    error: missingOr("must be a resource ID or a list of resource IDs"),
  })
  .nullish();

const optionalResourceId = z.string({ error: "must be a resource ID string" }).nullish();

/** Items that do not fit become null, so one odd entry never hides the rest or shifts column positions. */
const tolerantList = <Item extends z.ZodType>(item: Item) => z.array(item.nullable().catch(null)).catch([]);

const dimension = z.looseObject({ name: z.string(), value: z.unknown() });
const dimensionList = tolerantList(dimension).nullish().catch(undefined);

/** Log query results as log alerts V1 embed them (`SearchResults`, or `SearchResult` in the non-common schema). */
const searchResults = z
  .looseObject({
    tables: tolerantList(
      z.looseObject({
        columns: tolerantList(z.looseObject({ name: z.string() })),
        rows: tolerantList(z.array(z.unknown())),
      }),
    ),
  })
  .nullish()
  .catch(undefined);

/** Metric and Log Alerts V2 criteria: only the dimensions matter here. */
const criteria = z
  .looseObject({ allOf: tolerantList(z.looseObject({ dimensions: dimensionList })) })
  .nullish()
  .catch(undefined);

/** Health events say they are over in `properties`, not in the alert's monitor condition. */
const eventProperties = z
  .looseObject({ currentHealthStatus: displayText, stage: displayText })
  .nullish()
  .catch(undefined);

const monitorCondition = z
  .string({ error: missingOr('must be "Fired" or "Resolved"') })
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(["fired", "resolved"], { error: 'must be "Fired" or "Resolved"' }));

const classicStatus = z
  .string({ error: missingOr('must be "Activated" or "Resolved"') })
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(["activated", "resolved"], { error: 'must be "Activated" or "Resolved"' }));

/** `alertContext` of the common schema: its shape depends on `monitoringService`, so every part is optional. */
export const commonAlertContextSchema = z
  .looseObject({
    condition: criteria,
    Dimensions: dimensionList,
    SearchResults: searchResults,
    operationName: displayText,
    status: displayText,
    eventSource: displayText,
    properties: eventProperties,
  })
  .nullish()
  .catch(undefined);

export const commonAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: requiredObject({
    essentials: requiredObject({
      alertId: requiredText,
      alertRule: displayText,
      severity: displayText,
      signalType: displayText,
      monitorCondition,
      monitoringService: displayText,
      alertTargetIDs: resourceIdList,
      firedDateTime: displayText,
      resolvedDateTime: displayText,
      description: displayText,
    }),
    alertContext: commonAlertContextSchema,
  }),
});

/** Non-common metric alert (`schemaId: "AzureMonitorMetricAlert"`, rule type Microsoft.Insights/metricAlerts). */
export const metricAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: requiredObject({
    status: requiredText,
    context: requiredObject({
      id: displayText,
      name: displayText,
      description: displayText,
      severity: displayText,
      timestamp: displayText,
      condition: criteria,
      resourceId: requiredText,
    }),
  }),
});

/** Non-common activity log alert, including ResourceHealth and ServiceHealth events. */
export const activityLogAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: requiredObject({
    status: requiredText,
    context: requiredObject({
      activityLog: requiredObject({
        resourceId: optionalResourceId,
        eventSource: displayText,
        eventDataId: displayText,
        eventTimestamp: displayText,
        operationName: displayText,
        status: displayText,
        level: displayText,
        description: displayText,
        properties: eventProperties,
      }),
    }),
  }),
});

/** The body of a log alert V1, sent bare for Log Analytics and wrapped in `data` for Application Insights. */
export const logAlertV1BodySchema = z.looseObject({
  AlertRuleName: requiredText,
  SearchQuery: displayText,
  Severity: displayText,
  Description: displayText,
  SearchIntervalEndtimeUtc: displayText,
  WorkspaceId: displayText,
  ApplicationId: displayText,
  ResourceId: optionalResourceId,
  Dimensions: dimensionList,
  SearchResult: searchResults,
  SearchResults: searchResults,
});

export const logAlertSchema = z.looseObject({
  schemaId: z.string(),
  data: requiredObject(logAlertV1BodySchema.shape),
});

/** Classic metric and event alerts: no schemaId, fields at the top level. */
export const classicAlertSchema = z.looseObject({
  status: classicStatus,
  context: requiredObject({
    conditionType: requiredText,
    id: displayText,
    name: displayText,
    description: displayText,
    timestamp: displayText,
    resourceId: requiredText,
  }),
});

/** Cost Management budget notifications routed through an action group (`schemaId: "AIP Budget Notification"`). */
export const budgetNotificationSchema = z.looseObject({
  schemaId: z.string(),
  data: requiredObject({ BudgetName: displayText, SubscriptionId: displayText }),
});

export type CommonAlertContext = z.output<typeof commonAlertContextSchema>;
export type LogAlertV1Body = z.output<typeof logAlertV1BodySchema>;
export type Dimensions = z.output<typeof dimensionList>;
export type SearchResults = z.output<typeof searchResults>;
export type Criteria = z.output<typeof criteria>;
