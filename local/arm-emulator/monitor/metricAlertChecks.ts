// What the Monitor RP checks on a metric alert PUT beyond the schema: the scopes exist, a single-resource criteria
// type has one scope, actions name existing action groups, severity is one of the documented values.
//
// Provenance: the spec's own descriptions ("Alert severity {0, 1, 2, 3, 4}", targetResourceType/Region "Mandatory if the
// scope contains … more than one resource"), a user report for the action-group wording (Azure/azure-powershell#11102),
// ARM's not-found text for a missing scope. The status codes and codes of the other answers are synthetic.

import {
  actionGroupNotUsable,
  alertScopeNotFound,
  invalidMonitorRequest,
} from "../http/armErrors.js";
import { isResourceOfType, parseResourceId } from "../resourceIds.js";
import type { ResourceModel } from "../resourceModel.js";

/** The properties of a body that passed `Validation.MetricAlertResource`, as far as the checks read them. */
interface ValidatedMetricAlertProperties {
  severity: number;
  scopes: string[];
  criteria: { "odata.type": string };
  targetResourceType?: string;
  targetResourceRegion?: string;
  actions?: Array<{ actionGroupId?: string }>;
}

export interface AcceptedMetricAlert {
  /** What ARM fills in for a multi-resource rule when the client left it out: the scope's type and region. */
  targetResourceType: string;
  targetResourceRegion: string;
}

const SINGLE_RESOURCE_CRITERIA = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria";

export function checkMetricAlertRequest(
  properties: ValidatedMetricAlertProperties,
  subscriptionId: string,
  model: ResourceModel,
): AcceptedMetricAlert {
  if (!Number.isInteger(properties.severity) || properties.severity < 0 || properties.severity > 4) {
    throw invalidMonitorRequest("properties.severity", "must be one of 0, 1, 2, 3, 4.");
  }
  if (properties.scopes.length === 0) throw invalidMonitorRequest("properties.scopes", "must name at least one resource.");
  if (properties.criteria["odata.type"] === SINGLE_RESOURCE_CRITERIA && properties.scopes.length !== 1) {
    throw invalidMonitorRequest("properties.scopes", `must name exactly one resource with ${SINGLE_RESOURCE_CRITERIA}.`);
  }
  if (properties.scopes.length > 1) {
    for (const field of ["targetResourceType", "targetResourceRegion"] as const) {
      if (!properties[field]) throw invalidMonitorRequest(`properties.${field}`, "is required when the rule has more than one scope.");
    }
  }
  const targets = properties.scopes.map((scope, index) => scopeTarget(scope, `properties.scopes[${index}]`, model));
  for (const [index, action] of (properties.actions ?? []).entries()) {
    const path = `properties.actions[${index}].actionGroupId`;
    const actionGroupId = action.actionGroupId ?? "";
    const parsed = parseResourceId(actionGroupId);
    const usable =
      parsed !== undefined &&
      isResourceOfType(parsed, "Microsoft.Insights", "actionGroups") &&
      parsed.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
      model.monitor.actionGroups.get(actionGroupId) !== undefined;
    if (!usable) throw actionGroupNotUsable(actionGroupId, path);
  }
  const [first] = targets;
  return {
    targetResourceType: first?.type ?? "",
    targetResourceRegion: first?.location ?? "",
  };
}

function scopeTarget(scope: string, path: string, model: ResourceModel): { type: string; location: string } {
  const parsed = parseResourceId(scope);
  if (!parsed) throw invalidMonitorRequest(path, "is not the ID of a resource (/subscriptions/…/providers/…).");
  const typePath = `${parsed.namespace}/${parsed.types.join("/")}`;
  const name = parsed.names.at(-1) ?? "";
  if (isResourceOfType(parsed, "Microsoft.Compute", "virtualMachines")) {
    const vm = model.virtualMachineById(scope);
    if (vm) return { type: "Microsoft.Compute/virtualMachines", location: vm.location };
  } else if (isResourceOfType(parsed, "Microsoft.Compute", "virtualMachineScaleSets")) {
    const vmss = model.scaleSetById(scope);
    if (vmss) return { type: "Microsoft.Compute/virtualMachineScaleSets", location: vmss.location };
  }
  // Anything else is a resource the emulated subscription does not hold (it holds VMs and scale sets only).
  throw alertScopeNotFound(scope, path, typePath, name, parsed.resourceGroup);
}
