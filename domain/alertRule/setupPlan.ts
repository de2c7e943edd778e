// What `alertcap setup-alert` puts in place, as data: the action group first (rules refer to it), then one metric
// alert rule per VM, each with its deterministic name and the exact body to PUT. The same plan is printed by
// --dry-run and applied otherwise, so what is shown is what would be sent.

import type { CaptureTarget } from "../alerts/armId.js";
import { type ActionGroupBody, actionGroupBody, type SecureWebhookSettings } from "./actionGroupBody.js";
import { type MetricAlertBody, metricAlertBody, metricAlertRuleName } from "./metricAlertBody.js";
import type { RuleSettings } from "./ruleSettings.js";

export interface ResourceAddress {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly name: string;
}

export interface PlannedActionGroup extends ResourceAddress {
  readonly kind: "actionGroup";
  readonly body: ActionGroupBody;
}

export interface PlannedMetricAlert extends ResourceAddress {
  readonly kind: "metricAlert";
  readonly vmId: string;
  readonly body: MetricAlertBody;
}

export interface SetupPlan {
  readonly actionGroup: PlannedActionGroup;
  readonly metricAlerts: readonly PlannedMetricAlert[];
}

export interface SetupRequest {
  readonly webhookUrl: string;
  readonly secureWebhook?: SecureWebhookSettings;
  /** Where the action group lives; it must be in the VMs' subscription (Azure refuses actions from another one). */
  readonly actionGroup: { readonly resourceGroup: string; readonly name: string };
  readonly settings: RuleSettings;
  /** The VMs to watch, all in one subscription. */
  readonly vms: readonly CaptureTarget[];
}

export function setupPlan(request: SetupRequest): SetupPlan {
  const [first] = request.vms;
  if (!first) throw new Error("setup-alert needs at least one VM");
  const subscriptionId = first.subscriptionId;
  const stray = request.vms.find((vm) => vm.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase());
  if (stray) throw new Error(`VM ${stray.id} is in another subscription than ${first.id}`);

  const actionGroup: PlannedActionGroup = {
    kind: "actionGroup",
    subscriptionId,
    resourceGroup: request.actionGroup.resourceGroup,
    name: request.actionGroup.name,
    body: actionGroupBody({
      webhookUrl: request.webhookUrl,
      ...(request.secureWebhook !== undefined && { secureWebhook: request.secureWebhook }),
    }),
  };
  const actionGroupId = insightsResourceId(actionGroup, "actionGroups");
  const metricAlerts = request.vms.map(
    (vm): PlannedMetricAlert => ({
      kind: "metricAlert",
      subscriptionId: vm.subscriptionId,
      resourceGroup: vm.resourceGroup,
      name: metricAlertRuleName(vm.name, request.settings.metricName),
      vmId: vm.id,
      body: metricAlertBody({ id: vm.id, name: vm.name }, request.settings, actionGroupId),
    }),
  );
  return { actionGroup, metricAlerts };
}

export function insightsResourceId(address: ResourceAddress, type: "actionGroups" | "metricAlerts"): string {
  return `/subscriptions/${address.subscriptionId}/resourceGroups/${address.resourceGroup}/providers/Microsoft.Insights/${type}/${address.name}`;
}

// Action group names: Azure's general resource-name rule (1 to 260 characters, none of < > * % & : \ ? / # |, no
// control characters, not ending in a space or period).
const ACTION_GROUP_NAME = /^[^<>*%&:\\?/#|\u0000-\u001f]{1,260}$/;

export function isActionGroupName(name: string): boolean {
  return ACTION_GROUP_NAME.test(name) && !/[ .]$/.test(name);
}
