import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decideAlertText, type Decision } from "../domain/alerts/decide.js";

// Every official and synthetic payload in test/fixtures/alerts/ (see PROVENANCE.md there) with the decision the
// webhook must take. Tests run from dist/, so paths are taken from the repository root (the working directory).
const fixtures = path.join(process.cwd(), "test", "fixtures", "alerts");
const sharedSamples = path.join(process.cwd(), "..", "shared", "alert-samples");

const SUB = "2b6d9f3e-8c41-4a7e-9b0d-5f1e3c7a9d24";
const TEST_VM_LOWER = "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourcegroups/test-RG/providers/microsoft.compute/virtualmachines/test-VM";
const TEST_VM = "/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/resourceGroups/test-RG/providers/Microsoft.Compute/virtualMachines/test-VM";

interface Expected {
  schema: string | null;
  decision: Decision;
  target?: string;
  /** Further capturable targets after `target`, in order. */
  moreTargets?: string[];
  reason?: RegExp;
}

const expectations: Record<string, Expected> = {
  // shared/alert-samples (copies). The two VM samples carry a non-GUID subscription and a "<subscription ID>"
  // placeholder: they are not IDs a capture could be started on.
  "classic-metric-alert-webhook.json": { schema: "classicMetric", decision: "ignore", reason: /microsoft\.foo\/sites/ },
  "common-log-v2-vm-fired.json": { schema: "azureMonitorCommonAlertSchema", decision: "reject", reason: /not a GUID/ },
  "common-metric-static-fired.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "ignore",
    reason: /about a storage account, not a VM or scale set: nothing to capture/,
  },
  "common-metric-static-resolved-vm.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "reject",
    reason: /placeholder '<subscription ID>'/,
  },
  "noncommon-metric-azuremonitormetricalert.json": { schema: "AzureMonitorMetricAlert", decision: "ignore", reason: /storage account/ },
  // alerts-payload-samples.md, test action payloads
  "ps-test-activity-log-administrative-vm.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "capture",
    target: TEST_VM_LOWER,
    reason: /^Fired activity log alert 'test-activityLogAlertRule' on VM test-VM: capture$/,
  },
  "ps-test-availability-test.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /Application Insights/ },
  "ps-test-budget.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /budget alert names no Azure resource/ },
  "ps-test-log-v1-number-of-results.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /Log Analytics workspace/ },
  "ps-test-log-v2-workspace.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /Log Analytics workspace/ },
  "ps-test-metric-dynamic-threshold.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /storage account/ },
  "ps-test-resource-health-vm.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "capture",
    target: TEST_VM_LOWER,
    reason: /resource health alert/,
  },
  "ps-test-service-health.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /about a subscription/ },
  "ps-test-smart-alert.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /smart detection alert/ },
  // alerts-non-common-schema-definitions.md
  "ncs-metric-static-storage.json": { schema: "AzureMonitorMetricAlert", decision: "ignore" },
  "ncs-log-v1-metric-measurement.json": { schema: "logAnalyticsV1Legacy", decision: "ignore", reason: /Log Analytics workspace/ },
  "ncs-activity-log-administrative-vm.json": { schema: "Microsoft.Insights/activityLogs", decision: "capture", target: TEST_VM },
  "ncs-activity-log-service-health.json": { schema: "Microsoft.Insights/activityLogs", decision: "ignore", reason: /service health/ },
  "ncs-activity-log-resource-health-vm.json": { schema: "Microsoft.Insights/activityLogs", decision: "capture", target: TEST_VM },
  "ncs-budget-notification.json": { schema: "AIP Budget Notification", decision: "ignore" },
  // activity-log-alerts-webhook.md
  "alw-administrative-action-group.json": { schema: "Microsoft.Insights/activityLogs", decision: "ignore", reason: /actionGroups/ },
  "alw-security.json": { schema: "Microsoft.Insights/activityLogs", decision: "ignore", reason: /Microsoft\.Security/ },
  "alw-recommendation.json": { schema: "Microsoft.Insights/activityLogs", decision: "ignore", reason: /storage account/ },
  "alw-service-health.json": { schema: "Microsoft.Insights/activityLogs", decision: "ignore", reason: /names no Azure resource/ },
  "alw-resource-health-placeholders.json": {
    schema: "Microsoft.Insights/activityLogs",
    decision: "reject",
    reason: /placeholder '<subscription Id>'/,
  },
  // alerts-log-webhook.md and the classic activity log alert page
  "log-v1-log-analytics-legacy.json": { schema: "logAnalyticsV1Legacy", decision: "ignore" },
  "log-v1-application-insights.json": { schema: "Microsoft.Insights/LogAlert", decision: "ignore" },
  "log-custom-json-payload.json": { schema: null, decision: "reject", reason: /not a recognisable Azure Monitor alert/ },
  "classic-event-alert-webhook.json": { schema: "classicEvent", decision: "ignore", reason: /App Service app/ },
  // synthetic
  "synthetic-common-metric-vm-fired.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "capture",
    target: `/subscriptions/${SUB}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm1`,
    reason: /^Fired metric alert 'High TCP segments sent' on VM vm1: capture$/,
  },
  "synthetic-common-metric-vm-resolved.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "stop",
    target: `/subscriptions/${SUB}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm1`,
    reason: /^Resolved metric alert 'High TCP segments sent' on VM vm1: stop the running capture$/,
  },
  "synthetic-common-log-v2-workspace-resourceid-dimension.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "capture",
    target: `/subscriptions/${SUB}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm2`,
  },
  "synthetic-common-log-analytics-search-results-resourceid.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "capture",
    target: `/subscriptions/${SUB}/resourcegroups/rg-web/providers/microsoft.compute/virtualmachines/vm3`,
    moreTargets: [
      `/subscriptions/${SUB}/resourcegroups/rg-api/providers/microsoft.compute/virtualmachinescalesets/vmss-api/virtualmachines/1`,
    ],
    reason: /on VM vm3 and 1 more target: capture/,
  },
  "synthetic-common-resource-health-vmss-resolved.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "stop",
    target: `/subscriptions/${SUB}/resourcegroups/rg-api/providers/microsoft.compute/virtualmachinescalesets/vmss-api`,
  },
  "synthetic-noncommon-metric-vm-deactivated.json": {
    schema: "AzureMonitorMetricAlert",
    decision: "stop",
    target: `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm1`,
  },
  "synthetic-classic-metric-vm-resolved.json": {
    schema: "classicMetric",
    decision: "stop",
    target: `/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm1`,
  },
  "synthetic-common-prometheus.json": { schema: "azureMonitorCommonAlertSchema", decision: "ignore", reason: /Azure Monitor workspace/ },
  "synthetic-automation-webhook-wrapper.json": { schema: null, decision: "reject", reason: /Automation webhook wrapper/ },
  "synthetic-common-missing-monitor-condition.json": {
    schema: "azureMonitorCommonAlertSchema",
    decision: "reject",
    reason: /data\.essentials\.monitorCondition is missing/,
  },
};

const fixtureFiles = readdirSync(fixtures).filter((name) => name.endsWith(".json"));

describe("alert fixtures", () => {
  it("has an expectation for every fixture file and a file for every expectation", () => {
    expect(fixtureFiles.sort()).toEqual(Object.keys(expectations).sort());
  });

  it.each(fixtureFiles)("%s", (name) => {
    const expected = expectations[name];
    if (!expected) throw new Error(`no expectation for ${name}`);
    const decision = decideAlertText(readFileSync(path.join(fixtures, name), "utf8"));
    expect(decision.schema).toBe(expected.schema);
    expect(decision.decision).toBe(expected.decision);
    expect(decision.target).toBe(expected.target ?? null);
    expect(decision.targets.map((t) => t.id)).toEqual(expected.target ? [expected.target, ...(expected.moreTargets ?? [])] : []);
    expect(decision.reason.length).toBeGreaterThan(10);
    if (expected.reason) expect(decision.reason).toMatch(expected.reason);
  });

  it("reports the common schema's alertId, also on reject", () => {
    const resolved = decideAlertText(readFileSync(path.join(fixtures, "common-metric-static-resolved-vm.json"), "utf8"));
    expect(resolved.alertId).toBe(
      "/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e",
    );
  });
});

// The copies must stay the official samples: when the shared folder is present, they are compared byte for byte,
// and the shared originals get the same decisions.
describe.runIf(existsSync(sharedSamples))("shared/alert-samples", () => {
  const shared = existsSync(sharedSamples) ? readdirSync(sharedSamples).filter((n) => n.endsWith(".json")) : [];

  it.each(shared)("%s is copied unchanged and decided as its copy", (name) => {
    const original = readFileSync(path.join(sharedSamples, name), "utf8");
    expect(readFileSync(path.join(fixtures, name), "utf8")).toBe(original);
    const expected = expectations[name];
    expect(expected).toBeDefined();
    const decision = decideAlertText(original);
    expect(decision.decision).toBe(expected?.decision);
    expect(decision.target).toBe(expected?.target ?? null);
  });
});
