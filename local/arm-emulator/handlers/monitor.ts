// Microsoft.Insights metric alert rules (api-version 2026-01-01) and action groups (2024-10-01-preview), as
// `@azure/arm-monitor` 8 calls them: get, create-or-update, delete, and metric alerts listed by resource group.
//
// Status codes are the ones the spec and SDK 8.0.0 accept (shared/azure-specs/monitor/PROVENANCE.md): a metric alert
// PUT answers 200 whether it creates or updates (the SDK throws on 201), an action group PUT 201 on create and 200 on
// update; deletes answer 200, or 204 when there was nothing to delete.

import { invalidMonitorRequest, invalidRequestContent, resourceNotFound } from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import { checkMetricAlertRequest } from "../monitor/metricAlertChecks.js";
import { insightsResourceId, type MonitorResourceCollection, type StoredMonitorResource } from "../monitor/monitorResources.js";
import { ACTION_GROUP_DEFINITION, assertValidMonitorBody, METRIC_ALERT_DEFINITION } from "../monitor/monitorValidation.js";
import { parseJsonBody, type EmulatorContext } from "./context.js";

const METRIC_ALERT_TYPE = "Microsoft.Insights/metricAlerts";
// The casing the service answers with (official example createOrUpdateActionGroup.json).
const ACTION_GROUP_TYPE = "Microsoft.Insights/ActionGroups";
const MULTI_RESOURCE_CRITERIA = "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria";

type JsonObject = Record<string, unknown>;

interface Addressed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function monitorHandlers(context: EmulatorContext) {
  const { metricAlerts, actionGroups } = context.model.monitor;

  const addressOf = (request: ArmRequest, nameParam: string): Addressed => ({
    subscriptionId: param(request, "subscriptionId"),
    resourceGroup: param(request, "resourceGroupName"),
    name: param(request, nameParam),
  });

  const find = (collection: MonitorResourceCollection, type: "metricAlerts" | "actionGroups", at: Addressed) =>
    collection.get(insightsResourceId(at.subscriptionId, at.resourceGroup, type, at.name));

  const notFound = (type: "metricAlerts" | "actionGroups", at: Addressed) =>
    resourceNotFound(`Microsoft.Insights/${type}`, at.name, at.resourceGroup);

  const jsonBody = (request: ArmRequest): unknown => {
    const parsed = parseJsonBody(request.bodyText);
    if (!parsed.ok) throw invalidRequestContent(parsed.reason);
    return parsed.value;
  };

  /** The stored resource for a PUT: the existing one's ID casing (ARM keeps the casing of the create), the request's content. */
  const storedResource = (
    existing: StoredMonitorResource | undefined,
    at: Addressed,
    type: "metricAlerts" | "actionGroups",
    resourceType: string,
    body: JsonObject,
  ): StoredMonitorResource => {
    const id = existing?.id ?? insightsResourceId(at.subscriptionId, at.resourceGroup, type, at.name);
    const name = existing?.name ?? at.name;
    const { location, tags, identity, properties } = body;
    return {
      id,
      name,
      subscriptionId: at.subscriptionId,
      resourceGroup: at.resourceGroup,
      body: {
        id,
        name,
        type: resourceType,
        location,
        tags: tags ?? {},
        ...(identity !== undefined && { identity }),
        properties,
      },
    };
  };

  return {
    getMetricAlert(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "ruleName");
      const rule = find(metricAlerts, "metricAlerts", at);
      if (!rule) throw notFound("metricAlerts", at);
      return { status: 200, body: rule.body };
    },

    listMetricAlerts(request: ArmRequest): ArmResponse {
      const rules = metricAlerts.in(param(request, "subscriptionId"), param(request, "resourceGroupName"));
      return { status: 200, body: { value: rules.map((rule) => rule.body) } };
    },

    /** PUT: always 200 (create or update), the only code SDK 8 accepts. */
    putMetricAlert(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "ruleName");
      const body = jsonBody(request);
      assertValidMonitorBody(METRIC_ALERT_DEFINITION, body);
      const valid = body as JsonObject & { properties: Parameters<typeof checkMetricAlertRequest>[0] & JsonObject };
      const accepted = checkMetricAlertRequest(valid.properties, at.subscriptionId, context.model);
      // Like the official multi-resource examples: the service fills in the target type and region it derived.
      const properties =
        valid.properties.criteria["odata.type"] === MULTI_RESOURCE_CRITERIA
          ? {
              ...valid.properties,
              targetResourceType: valid.properties.targetResourceType ?? accepted.targetResourceType,
              targetResourceRegion: valid.properties.targetResourceRegion ?? accepted.targetResourceRegion,
            }
          : valid.properties;
      const existing = find(metricAlerts, "metricAlerts", at);
      const rule = storedResource(existing, at, "metricAlerts", METRIC_ALERT_TYPE, { ...valid, properties });
      metricAlerts.put(rule);
      return { status: 200, body: rule.body };
    },

    deleteMetricAlert(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "ruleName");
      const rule = find(metricAlerts, "metricAlerts", at);
      if (!rule) return { status: 204 };
      metricAlerts.delete(rule.id);
      return { status: 200 };
    },

    getActionGroup(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "actionGroupName");
      const group = find(actionGroups, "actionGroups", at);
      if (!group) throw notFound("actionGroups", at);
      return { status: 200, body: group.body };
    },

    /** PUT: 201 on create, 200 on update. */
    putActionGroup(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "actionGroupName");
      const body = jsonBody(request);
      assertValidMonitorBody(ACTION_GROUP_DEFINITION, body);
      const valid = body as JsonObject;
      // [synthetic] The schema leaves `properties` optional (ARM's flattening); an action group without one is nothing.
      if (typeof valid["properties"] !== "object" || valid["properties"] === null) {
        throw invalidMonitorRequest("properties", "is required.");
      }
      const existing = find(actionGroups, "actionGroups", at);
      const group = storedResource(existing, at, "actionGroups", ACTION_GROUP_TYPE, {
        ...valid,
        properties: withReceiverStatus(valid["properties"] as JsonObject),
      });
      const outcome = actionGroups.put(group);
      return { status: outcome === "created" ? 201 : 200, body: group.body };
    },

    deleteActionGroup(request: ArmRequest): ArmResponse {
      const at = addressOf(request, "actionGroupName");
      const group = find(actionGroups, "actionGroups", at);
      if (!group) return { status: 204 };
      // [synthetic] Rules that still name the group are left as they are; what the real service does is not recorded.
      actionGroups.delete(group.id);
      return { status: 200 };
    },
  };
}

/** Email and SMS receivers come back with `status: "Enabled"` (official example); webhooks carry no status. */
function withReceiverStatus(properties: JsonObject): JsonObject {
  const result: JsonObject = { ...properties };
  for (const field of ["emailReceivers", "smsReceivers"]) {
    const receivers = properties[field];
    if (Array.isArray(receivers)) {
      result[field] = receivers.map((receiver: unknown) =>
        typeof receiver === "object" && receiver !== null ? { status: "Enabled", ...receiver } : receiver,
      );
    }
  }
  return result;
}
