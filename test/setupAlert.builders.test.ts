// The pure parts of `alertcap setup-alert`: option checking, the action group and metric alert bodies (validated with
// ajv against the official Monitor schema for every option combination setup-alert supports), rule names, the
// comparison that makes re-runs idempotent, and the masking of the webhook's function key.
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCaptureTarget, type CaptureTarget } from "../domain/alerts/armId.js";
import { actionGroupBody, GROUP_SHORT_NAME_MAX_LENGTH } from "../domain/alertRule/actionGroupBody.js";
import { bodyDifferences } from "../domain/alertRule/bodyDifferences.js";
import { metricAlertBody, metricAlertRuleName } from "../domain/alertRule/metricAlertBody.js";
import { parseResourceGroupId } from "../domain/alertRule/resourceGroupId.js";
import {
  DYNAMIC_OPERATORS,
  DYNAMIC_WINDOW_SIZES,
  EVALUATION_FREQUENCIES,
  minutesOf,
  resolveRuleSettings,
  RuleSettingsError,
  type RuleSettingsInput,
  SENSITIVITIES,
  SEVERITIES,
  STATIC_OPERATORS,
  WINDOW_SIZES,
} from "../domain/alertRule/ruleSettings.js";
import { insightsResourceId, isActionGroupName, setupPlan } from "../domain/alertRule/setupPlan.js";
import { AGGREGATIONS, VM_METRICS } from "../domain/alertRule/vmMetrics.js";
import { checkWebhookUrl, maskWebhookSecrets } from "../domain/alertRule/webhookUrl.js";

const SUB = "00000000-0000-0000-0000-000000000001";
const VM_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`;
const ACTION_GROUP_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Insights/actionGroups/alertcap-ag`;
const WEBHOOK = "https://alertcap-func.azurewebsites.net/api/alerts?code=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==";
const AAD = {
  tenantId: "68a4459a-ccb8-493c-b9da-dd30457d1b84",
  objectId: "d3bb868c-fe44-452c-aa26-769a6538c808",
  identifierUri: "api://alertcap-webhook",
};

// An ajv of its own, set up as shared/azure-specs/monitor/PROVENANCE.md describes the check of the schema, on the
// repository's copy of it: independent of the emulator's validator, which these bodies also go through elsewhere.
const schema = JSON.parse(readFileSync(join(process.cwd(), "local", "arm-emulator", "monitor", "monitor-schema.json"), "utf8")) as {
  definitions: Record<string, unknown>;
};
const ajv = new Ajv({ strict: false, allErrors: true });
addFormatsModule.default(ajv);
for (const format of ["int32", "int64", "float", "double", "arm-id"]) ajv.addFormat(format, true);
ajv.addSchema({ $id: "mon", definitions: schema.definitions });
const validMetricAlert = ajv.compile({ $ref: "mon#/definitions/Validation.MetricAlertResource" });
const validActionGroup = ajv.compile({ $ref: "mon#/definitions/ActionGroupResource" });

function expectValid(validate: ValidateFunction, body: unknown, label: string): void {
  const ok = validate(body);
  if (!ok) throw new Error(`${label}: ${ajv.errorsText(validate.errors)}`);
}

function vm(id = VM_ID): CaptureTarget {
  const parsed = parseCaptureTarget(id);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.target;
}

function settingsError(input: RuleSettingsInput): string {
  try {
    resolveRuleSettings(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleSettingsError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe("rule settings", () => {
  it("defaults to Network Out Total, Total over PT5M every PT1M, GreaterThan 1 GB, severity 2", () => {
    expect(resolveRuleSettings({})).toEqual({
      metricName: "Network Out Total",
      metricNamespace: "Microsoft.Compute/virtualMachines",
      aggregation: "Total",
      windowSize: "PT5M",
      evaluationFrequency: "PT1M",
      severity: 2,
      condition: { kind: "static", operator: "GreaterThan", threshold: 1_000_000_000 },
      skipMetricValidation: false,
    });
  });

  it("scales a byte counter's default threshold with the window, not a rate's", () => {
    expect(resolveRuleSettings({ windowSize: "PT15M" }).condition).toMatchObject({ threshold: 3_000_000_000 });
    expect(resolveRuleSettings({ windowSize: "PT1H", metric: "Network In Total" }).condition).toMatchObject({ threshold: 12_000_000_000 });
    expect(resolveRuleSettings({ windowSize: "PT1H", metric: "Inbound Flows" }).condition).toMatchObject({ threshold: 10_000 });
  });

  it("takes the metric's own aggregation and spelling, and values in any case", () => {
    const settings = resolveRuleSettings({ metric: "inbound flows maximum creation rate", operator: "greaterthanorequal", windowSize: "pt15m", evaluationFrequency: "pt5m" });
    expect(settings).toMatchObject({
      metricName: "Inbound Flows Maximum Creation Rate",
      aggregation: "Average",
      windowSize: "PT15M",
      evaluationFrequency: "PT5M",
      condition: { kind: "static", operator: "GreaterThanOrEqual", threshold: 500 },
    });
  });

  it("builds a dynamic condition with Medium sensitivity and 4 of 4 failing periods", () => {
    expect(resolveRuleSettings({ dynamic: true }).condition).toEqual({
      kind: "dynamic",
      operator: "GreaterThan",
      sensitivity: "Medium",
      failingPeriods: { numberOfEvaluationPeriods: 4, minFailingPeriodsToAlert: 4 },
    });
    expect(resolveRuleSettings({ dynamic: true, operator: "GreaterOrLessThan", sensitivity: "high" }).condition).toMatchObject({
      operator: "GreaterOrLessThan",
      sensitivity: "High",
    });
  });

  it("refuses what Azure or alertcap would not accept, naming the option and the allowed values", () => {
    expect(settingsError({ metric: "Network Bytes" })).toMatch(/^unknown VM metric 'Network Bytes'; use one of 'Network In Total', .*--skip-metric-validation/);
    expect(settingsError({ metric: "Network In" })).toBe("metric 'Network In' is deprecated by Azure; use 'Network In Total'");
    expect(settingsError({ operator: "Bigger" })).toBe("--operator 'Bigger' is not allowed; use one of Equals, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual");
    expect(settingsError({ dynamic: true, operator: "Equals" })).toMatch(/^--operator 'Equals' is not allowed with --dynamic; use one of GreaterThan, LessThan, GreaterOrLessThan$/);
    expect(settingsError({ aggregation: "Last" })).toMatch(/^--aggregation 'Last' is not allowed/);
    expect(settingsError({ windowSize: "PT10M" })).toMatch(/^--window 'PT10M' is not allowed; use one of PT1M, PT5M/);
    expect(settingsError({ evaluationFrequency: "1 minute" })).toMatch(/^--frequency '1 minute' is not allowed/);
    expect(settingsError({ windowSize: "PT1M", evaluationFrequency: "PT5M" })).toMatch(/^--frequency PT5M is longer than --window PT1M/);
    expect(settingsError({ severity: 5 })).toMatch(/^--severity must be one of 0, 1, 2, 3, 4/);
    expect(settingsError({ severity: 1.5 })).toMatch(/^--severity/);
    expect(settingsError({ sensitivity: "High" })).toBe("--sensitivity applies to --dynamic thresholds only");
    expect(settingsError({ dynamic: true, threshold: 5 })).toBe("--threshold and --dynamic exclude each other");
    expect(settingsError({ dynamic: true, windowSize: "PT1M" })).toBe("--window 'PT1M' is not allowed with --dynamic; use one of PT5M, PT15M, PT30M, PT1H");
    expect(settingsError({ dynamic: true, sensitivity: "Extreme" })).toMatch(/^--sensitivity 'Extreme' is not allowed; use one of Low, Medium, High$/);
    expect(settingsError({ threshold: Number.NaN })).toBe("--threshold must be a finite number");
    expect(settingsError({ aggregation: "Maximum" })).toMatch(/^--threshold is required for 'Network Out Total' with Maximum/);
    expect(settingsError({ metric: "\\TCPv4\\Connections Established", skipMetricValidation: true })).toMatch(/^--threshold is required/);
  });

  it("accepts a guest metric with --skip-metric-validation, and marks the criterion", () => {
    const settings = resolveRuleSettings({
      metric: "\\TCPv4\\Connections Reset",
      metricNamespace: "Azure.VM.Windows.GuestMetrics",
      skipMetricValidation: true,
      threshold: 100,
    });
    expect(settings).toMatchObject({ metricName: "\\TCPv4\\Connections Reset", metricNamespace: "Azure.VM.Windows.GuestMetrics", aggregation: "Average" });
    const criterion = metricAlertBody(vm(), settings, ACTION_GROUP_ID).properties.criteria.allOf[0];
    expect(criterion).toMatchObject({ skipMetricValidation: true, name: "TCPv4ConnectionsReset" });
    expectValid(validMetricAlert, metricAlertBody(vm(), settings, ACTION_GROUP_ID), "guest metric");
  });
});

describe("metric alert body", () => {
  it("is the documented static single-resource rule, firing alertcap's action group and auto-mitigating", () => {
    const body = metricAlertBody(vm(), resolveRuleSettings({}), ACTION_GROUP_ID);
    expect(body).toEqual({
      location: "global",
      properties: {
        description: expect.stringMatching(/^alertcap: start a packet capture on VM vm-web-1 when Network Out Total \(Total over PT5M\) GreaterThan 1000000000/),
        severity: 2,
        enabled: true,
        scopes: [VM_ID],
        evaluationFrequency: "PT1M",
        windowSize: "PT5M",
        criteria: {
          "odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
          allOf: [
            {
              criterionType: "StaticThresholdCriterion",
              name: "NetworkOutTotal",
              metricName: "Network Out Total",
              metricNamespace: "Microsoft.Compute/virtualMachines",
              timeAggregation: "Total",
              dimensions: [],
              operator: "GreaterThan",
              threshold: 1_000_000_000,
            },
          ],
        },
        autoMitigate: true,
        actions: [{ actionGroupId: ACTION_GROUP_ID, webHookProperties: { source: "alertcap" } }],
      },
    });
    expectValid(validMetricAlert, body, "default rule");
  });

  it("puts a dynamic threshold in multi-resource criteria with the one VM scope, like the official example", () => {
    const body = metricAlertBody(vm(), resolveRuleSettings({ dynamic: true, metric: "Outbound Flows" }), ACTION_GROUP_ID);
    expect(body.properties.scopes).toEqual([VM_ID]);
    expect(body.properties.criteria).toEqual({
      "odata.type": "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria",
      allOf: [
        {
          criterionType: "DynamicThresholdCriterion",
          name: "OutboundFlows",
          metricName: "Outbound Flows",
          metricNamespace: "Microsoft.Compute/virtualMachines",
          timeAggregation: "Average",
          dimensions: [],
          operator: "GreaterThan",
          alertSensitivity: "Medium",
          failingPeriods: { numberOfEvaluationPeriods: 4, minFailingPeriodsToAlert: 4 },
        },
      ],
    });
    expectValid(validMetricAlert, body, "dynamic rule");
  });

  it("passes the official schema for every combination of static options", () => {
    let checked = 0;
    for (const operator of STATIC_OPERATORS)
      for (const aggregation of AGGREGATIONS)
        for (const windowSize of WINDOW_SIZES)
          for (const evaluationFrequency of EVALUATION_FREQUENCIES) {
            if (minutesOf(evaluationFrequency) > minutesOf(windowSize)) continue;
            for (const severity of SEVERITIES) {
              const settings = resolveRuleSettings({ operator, aggregation, windowSize, evaluationFrequency, severity, threshold: 12.5 });
              const body = metricAlertBody(vm(), settings, ACTION_GROUP_ID);
              expectValid(validMetricAlert, body, JSON.stringify(settings));
              checked++;
            }
          }
    // 30 window/frequency pairs have the frequency within the window.
    expect(checked).toBe(STATIC_OPERATORS.length * AGGREGATIONS.length * SEVERITIES.length * 30);
  });

  it("passes the official schema for every combination of dynamic options", () => {
    for (const operator of DYNAMIC_OPERATORS)
      for (const sensitivity of SENSITIVITIES)
        for (const aggregation of AGGREGATIONS)
          for (const windowSize of DYNAMIC_WINDOW_SIZES) {
            const settings = resolveRuleSettings({ dynamic: true, operator, sensitivity, aggregation, windowSize, severity: 0 });
            expectValid(validMetricAlert, metricAlertBody(vm(), settings, ACTION_GROUP_ID), JSON.stringify(settings));
          }
  });

  it("passes the official schema for every metric with its default and with odd thresholds", () => {
    for (const metric of VM_METRICS.filter((m) => !m.replacedBy)) {
      for (const input of [{}, { threshold: 0 }, { threshold: -1 }, { threshold: 0.001 }, { threshold: 1e15 }, { dynamic: true }] as RuleSettingsInput[]) {
        const settings = resolveRuleSettings({ metric: metric.name, ...input });
        expectValid(validMetricAlert, metricAlertBody(vm(), settings, ACTION_GROUP_ID), `${metric.name} ${JSON.stringify(input)}`);
      }
    }
  });

  it("is really checked: the same schema refuses a static criterion without a threshold", () => {
    const body = metricAlertBody(vm(), resolveRuleSettings({}), ACTION_GROUP_ID);
    const { threshold: _threshold, ...withoutThreshold } = body.properties.criteria.allOf[0] as unknown as Record<string, unknown>;
    const broken = { ...body, properties: { ...body.properties, criteria: { ...body.properties.criteria, allOf: [withoutThreshold] } } };
    expect(validMetricAlert(broken)).toBe(false);
  });

  it("names rules deterministically from the VM and metric", () => {
    expect(metricAlertRuleName("vm-web-1", "Network Out Total")).toBe("alertcap-vm-web-1-network-out-total");
    expect(metricAlertRuleName("vm-web-1", "Inbound Flows Maximum Creation Rate")).toBe("alertcap-vm-web-1-inbound-flows-maximum-creation-rate");
    expect(metricAlertRuleName("SQL01", "\\TCPv4\\Connections Established")).toBe("alertcap-SQL01-tcpv4-connections-established");
    expect(metricAlertRuleName("vm-web-1", "Network Out Total")).toBe(metricAlertRuleName("vm-web-1", "Network Out Total"));
  });
});

describe("action group body", () => {
  it("is one webhook receiver using the common alert schema, short name within 12 characters", () => {
    const body = actionGroupBody({ webhookUrl: WEBHOOK });
    expect(body).toEqual({
      location: "Global",
      properties: {
        groupShortName: "alertcap",
        enabled: true,
        webhookReceivers: [{ name: "alertcap-webhook", serviceUri: WEBHOOK, useCommonAlertSchema: true }],
      },
    });
    expect(body.properties.groupShortName.length).toBeLessThanOrEqual(GROUP_SHORT_NAME_MAX_LENGTH);
    expectValid(validActionGroup, body, "plain webhook");
  });

  it("makes it a Secure webhook with Entra ID settings", () => {
    const body = actionGroupBody({ webhookUrl: WEBHOOK, secureWebhook: AAD });
    expect(body.properties.webhookReceivers).toEqual([
      { name: "alertcap-webhook", serviceUri: WEBHOOK, useCommonAlertSchema: true, useAadAuth: true, ...AAD },
    ]);
    expectValid(validActionGroup, body, "secure webhook");
  });

  it("refuses a short name the API would refuse", () => {
    expect(() => actionGroupBody({ webhookUrl: WEBHOOK, groupShortName: "alertcap-webhook" })).toThrow(/1 to 12 characters/);
    expect(validActionGroup({ ...actionGroupBody({ webhookUrl: WEBHOOK }), properties: { groupShortName: "thirteen-char", enabled: true } })).toBe(false);
  });
});

describe("setup plan", () => {
  it("puts the action group in the chosen group and one rule per VM in each VM's group, all valid", () => {
    const vms = [vm(), vm(VM_ID.replace("vm-web-1", "vm-web-2"))];
    const plan = setupPlan({
      webhookUrl: WEBHOOK,
      secureWebhook: AAD,
      actionGroup: { resourceGroup: "rg-monitoring", name: "alertcap-ag" },
      settings: resolveRuleSettings({ dynamic: true }),
      vms,
    });
    expect(plan.actionGroup).toMatchObject({ kind: "actionGroup", subscriptionId: SUB, resourceGroup: "rg-monitoring", name: "alertcap-ag" });
    expect(plan.metricAlerts.map((rule) => [rule.resourceGroup, rule.name])).toEqual([
      ["rg-app", "alertcap-vm-web-1-network-out-total"],
      ["rg-app", "alertcap-vm-web-2-network-out-total"],
    ]);
    const actionGroupId = insightsResourceId(plan.actionGroup, "actionGroups");
    expect(actionGroupId).toBe(`/subscriptions/${SUB}/resourceGroups/rg-monitoring/providers/Microsoft.Insights/actionGroups/alertcap-ag`);
    for (const rule of plan.metricAlerts) {
      expect(rule.body.properties.actions).toEqual([{ actionGroupId, webHookProperties: { source: "alertcap" } }]);
      expectValid(validMetricAlert, rule.body, rule.name);
    }
    expectValid(validActionGroup, plan.actionGroup.body, "plan action group");
  });

  it("refuses VMs of two subscriptions (an action group cannot serve rules of another subscription)", () => {
    const other = vm(VM_ID.replace(SUB, "00000000-0000-0000-0000-000000000002"));
    expect(() =>
      setupPlan({ webhookUrl: WEBHOOK, actionGroup: { resourceGroup: "rg-app", name: "ag" }, settings: resolveRuleSettings({}), vms: [vm(), other] }),
    ).toThrow(/another subscription/);
  });

  it("checks resource group IDs and action group names", () => {
    expect(parseResourceGroupId(`/subscriptions/${SUB}/resourceGroups/rg-app`)).toEqual({ ok: true, ref: { subscriptionId: SUB, resourceGroup: "rg-app" } });
    expect(parseResourceGroupId(`/subscriptions/${SUB}/resourcegroups/rg-app/`)).toMatchObject({ ok: true });
    expect(parseResourceGroupId("rg-app")).toMatchObject({ ok: false, error: expect.stringMatching(/is not a resource group ID/) });
    expect(parseResourceGroupId("/subscriptions/not-a-guid/resourceGroups/rg")).toMatchObject({ ok: false, error: expect.stringMatching(/not a GUID/) });
    expect(isActionGroupName("alertcap-ag")).toBe(true);
    expect(isActionGroupName("a/b")).toBe(false);
    expect(isActionGroupName("ends.")).toBe(false);
    expect(isActionGroupName("")).toBe(false);
  });
});

describe("idempotency comparison", () => {
  const desired = metricAlertBody(vm(), resolveRuleSettings({}), ACTION_GROUP_ID);
  // What the service answers: the same, plus read-only fields, another casing for IDs and the location.
  const answered = {
    id: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Insights/metricAlerts/alertcap-vm-web-1-network-out-total`,
    name: "alertcap-vm-web-1-network-out-total",
    type: "Microsoft.Insights/metricAlerts",
    tags: {},
    ...structuredClone(desired),
    location: "Global",
  };
  answered.properties.scopes = [VM_ID.toLowerCase()];
  (answered.properties as Record<string, unknown>)["isMigrated"] = false;
  answered.properties.actions = [{ actionGroupId: ACTION_GROUP_ID.toLowerCase(), webHookProperties: { source: "alertcap" } }];

  it("finds nothing to change when only read-only fields and casing differ", () => {
    expect(bodyDifferences(desired, answered)).toEqual([]);
  });

  it("names each path that differs, never its value", () => {
    const changed = structuredClone(answered);
    const criterion = changed.properties.criteria.allOf[0] as { threshold: number };
    criterion.threshold = 5;
    changed.properties.severity = 3;
    expect(bodyDifferences(desired, changed)).toEqual(["properties.severity", "properties.criteria.allOf[0].threshold"]);
  });

  it("treats an extra receiver or criterion as a difference, and the webhook URL case-sensitively", () => {
    const group = actionGroupBody({ webhookUrl: WEBHOOK });
    const withExtra = structuredClone(group);
    withExtra.properties.webhookReceivers.push({ name: "other", serviceUri: "https://example.com/", useCommonAlertSchema: false });
    expect(bodyDifferences(group, withExtra)).toEqual(["properties.webhookReceivers"]);
    const otherKey = structuredClone(group);
    const [receiver] = otherKey.properties.webhookReceivers;
    if (receiver) receiver.serviceUri = WEBHOOK.toLowerCase();
    expect(bodyDifferences(group, otherKey)).toEqual(["properties.webhookReceivers[0].serviceUri"]);
    expect(bodyDifferences(group, undefined)).toEqual(["(body)"]);
  });

  it("accepts an empty list the service left out", () => {
    const withoutDimensions = structuredClone(answered);
    delete (withoutDimensions.properties.criteria.allOf[0] as { dimensions?: unknown }).dimensions;
    expect(bodyDifferences(desired, withoutDimensions)).toEqual([]);
  });
});

describe("webhook URL", () => {
  it("must be https, or http on loopback (the local stack)", () => {
    expect(checkWebhookUrl(WEBHOOK)).toEqual({ ok: true, url: WEBHOOK });
    expect(checkWebhookUrl("http://127.0.0.1:7071/api/alerts?code=abc")).toMatchObject({ ok: true });
    expect(checkWebhookUrl("http://alertcap.example.com/api/alerts?code=abc")).toMatchObject({ ok: false, error: expect.stringMatching(/must be https/) });
    expect(checkWebhookUrl("alertcap.example.com/api/alerts")).toMatchObject({ ok: false, error: "--webhook-url is not an absolute URL" });
    expect(checkWebhookUrl("ftp://example.com/")).toMatchObject({ ok: false });
    expect(checkWebhookUrl("https://user:pw@example.com/")).toMatchObject({ ok: false });
  });

  it("is masked as code=*** wherever it or its key appears", () => {
    const key = new URL(WEBHOOK).searchParams.get("code") ?? "";
    const text = `PUT body ${JSON.stringify({ serviceUri: WEBHOOK })} failed: key ${key} and ${encodeURIComponent(key)} rejected`;
    const masked = maskWebhookSecrets(text, WEBHOOK);
    expect(masked).not.toContain(key);
    expect(masked).not.toContain(encodeURIComponent(key));
    expect(masked).toContain("https://alertcap-func.azurewebsites.net/api/alerts?code=***");
    expect(maskWebhookSecrets("https://x/api/alerts?a=1&code=abc&sig=def#frag")).toBe("https://x/api/alerts?a=1&code=***&sig=***#frag");
  });
});
