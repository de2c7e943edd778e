// The metric alert rule that fires alertcap on one VM. VM network metrics do not support multi-resource rules
// (shared/docs/alert-metrics.md), so there is one rule per VM, scoped to it:
// * static threshold: `SingleResourceMultipleMetricCriteria` with one `StaticThresholdCriterion`;
// * dynamic threshold: `MultipleResourceMultipleMetricCriteria` with the single VM scope, as the official example
//   createOrUpdateDynamicMetricAlertSingleResource.json does (only that criteria type admits DynamicThresholdCriterion).
// `autoMitigate: true` makes Azure send the Resolved alert, on which alertcap stops the capture early.
//
// The body is the wire body of MetricAlerts_CreateOrUpdate (api-version 2026-01-01), keys in the order
// @azure/arm-monitor 8 writes them; it validates against the spec's `Validation.MetricAlertResource`.

import type { RuleSettings } from "./ruleSettings.js";

/** Metric alert rules are global resources; the spec's examples and the SDK write it in lower case. */
export const METRIC_ALERT_LOCATION = "global";
const SINGLE_RESOURCE_CRITERIA = "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria";
const MULTI_RESOURCE_CRITERIA = "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria";
/** Appended to the alert payload (`customProperties`), so a receiver can tell alertcap's rules from others. */
export const RULE_WEBHOOK_PROPERTIES = { source: "alertcap" } as const;
/** Azure's limit on a metric alert rule name. */
const MAX_RULE_NAME_LENGTH = 260;

interface CriterionCommon {
  name: string;
  metricName: string;
  metricNamespace: string;
  timeAggregation: string;
  dimensions: never[];
  skipMetricValidation?: boolean;
}

export interface StaticCriterionBody extends CriterionCommon {
  criterionType: "StaticThresholdCriterion";
  operator: string;
  threshold: number;
}

export interface DynamicCriterionBody extends CriterionCommon {
  criterionType: "DynamicThresholdCriterion";
  operator: string;
  alertSensitivity: string;
  failingPeriods: { numberOfEvaluationPeriods: number; minFailingPeriodsToAlert: number };
}

export type MetricAlertCriteriaBody =
  | { "odata.type": typeof SINGLE_RESOURCE_CRITERIA; allOf: StaticCriterionBody[] }
  | { "odata.type": typeof MULTI_RESOURCE_CRITERIA; allOf: DynamicCriterionBody[] };

export interface MetricAlertBody {
  location: string;
  properties: {
    description: string;
    severity: number;
    enabled: boolean;
    scopes: string[];
    evaluationFrequency: string;
    windowSize: string;
    criteria: MetricAlertCriteriaBody;
    autoMitigate: boolean;
    actions: Array<{ actionGroupId: string; webHookProperties: Record<string, string> }>;
  };
}

export interface MetricAlertTarget {
  /** The VM's ARM ID, as the user or the VM list gave it. */
  readonly id: string;
  readonly name: string;
}

/**
 * `alertcap-<vm>-<metric>`: the same VM and metric always give the same rule, so a second run finds and updates the
 * rule instead of adding one, and one VM may have a rule per metric. The rule lives in the VM's resource group, where
 * the VM name is unique.
 */
export function metricAlertRuleName(vmName: string, metricName: string): string {
  const name = `alertcap-${vmName}-${slug(metricName)}`;
  if (name.length > MAX_RULE_NAME_LENGTH) throw new Error(`rule name for VM '${vmName}' would exceed ${MAX_RULE_NAME_LENGTH} characters`);
  return name;
}

export function metricAlertBody(target: MetricAlertTarget, settings: RuleSettings, actionGroupId: string): MetricAlertBody {
  const common: CriterionCommon = {
    name: criterionName(settings.metricName),
    metricName: settings.metricName,
    metricNamespace: settings.metricNamespace,
    timeAggregation: settings.aggregation,
    dimensions: [],
    ...(settings.skipMetricValidation && { skipMetricValidation: true }),
  };
  const { condition } = settings;
  const criteria: MetricAlertCriteriaBody =
    condition.kind === "static"
      ? {
          "odata.type": SINGLE_RESOURCE_CRITERIA,
          allOf: [{ criterionType: "StaticThresholdCriterion", ...common, operator: condition.operator, threshold: condition.threshold }],
        }
      : {
          "odata.type": MULTI_RESOURCE_CRITERIA,
          allOf: [
            {
              criterionType: "DynamicThresholdCriterion",
              ...common,
              operator: condition.operator,
              alertSensitivity: condition.sensitivity,
              failingPeriods: { ...condition.failingPeriods },
            },
          ],
        };
  return {
    location: METRIC_ALERT_LOCATION,
    properties: {
      description: describeRule(target, settings),
      severity: settings.severity,
      enabled: true,
      scopes: [target.id],
      evaluationFrequency: settings.evaluationFrequency,
      windowSize: settings.windowSize,
      criteria,
      autoMitigate: true,
      actions: [{ actionGroupId, webHookProperties: { ...RULE_WEBHOOK_PROPERTIES } }],
    },
  };
}

/** The rule's description, shown in the portal and the alert e-mail: what fires and what alertcap then does. */
function describeRule(target: MetricAlertTarget, settings: RuleSettings): string {
  const { condition } = settings;
  const when =
    condition.kind === "static"
      ? `${settings.metricName} (${settings.aggregation} over ${settings.windowSize}) ${condition.operator} ${condition.threshold}`
      : `${settings.metricName} (${settings.aggregation} over ${settings.windowSize}) ${condition.operator} its dynamic threshold (${condition.sensitivity} sensitivity)`;
  return `alertcap: start a packet capture on VM ${target.name} when ${when}; stop it when the alert resolves.`;
}

function slug(metricName: string): string {
  return (
    metricName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "") || "metric"
  );
}

function criterionName(metricName: string): string {
  return metricName.replace(/[^A-Za-z0-9]+/g, "") || "Metric1";
}
