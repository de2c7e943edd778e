import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decideAlert, decideAlertText, MAX_ALERT_BODY_BYTES } from "../domain/alerts/decide.js";
import { normalizeAlert } from "../domain/alerts/normalize.js";

const fixtures = path.join(process.cwd(), "test", "fixtures", "alerts");
const load = (name: string): Record<string, any> => JSON.parse(readFileSync(path.join(fixtures, name), "utf8"));

const SUB = "2b6d9f3e-8c41-4a7e-9b0d-5f1e3c7a9d24";
const vmId = (name: string, rg = "rg-web") =>
  `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const WORKSPACE = `/subscriptions/${SUB}/resourceGroups/rg-monitor/providers/Microsoft.OperationalInsights/workspaces/law`;

function commonAlert(essentials: Record<string, unknown> = {}, alertContext: unknown = null) {
  return {
    schemaId: "azureMonitorCommonAlertSchema",
    data: {
      essentials: {
        alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/1`,
        alertRule: "rule",
        severity: "Sev3",
        signalType: "Metric",
        monitorCondition: "Fired",
        monitoringService: "Platform",
        alertTargetIDs: [vmId("vm1")],
        ...essentials,
      },
      alertContext,
    },
  };
}

describe("decideAlertText", () => {
  it("rejects text that is not JSON with the parser's message", () => {
    const decision = decideAlertText("{ not json");
    expect(decision).toMatchObject({ schema: null, decision: "reject", target: null, alertId: null, targets: [] });
    expect(decision.reason).toMatch(/^Body is not JSON: /);
  });

  it("rejects an empty body and one that is far too large", () => {
    expect(decideAlertText(" \n").reason).toBe("Body is empty: an Azure Monitor alert is a JSON object.");
    expect(decideAlertText(" ".repeat(MAX_ALERT_BODY_BYTES + 1)).reason).toMatch(/more than any Azure Monitor alert/);
  });

  it("rejects JSON that is not an object", () => {
    expect(decideAlertText("[]").reason).toBe("The body is a JSON array, not an alert object.");
    expect(decideAlertText('"x"').reason).toBe("The body is a JSON string, not an alert object.");
    expect(decideAlertText("null").reason).toBe("The body is null, not an alert object.");
    expect(decideAlertText("42").reason).toBe("The body is a number, not an alert object.");
  });

  it("survives very deep nesting", () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    expect(decideAlertText(deep).decision).toBe("reject");
    const deepInside = JSON.stringify(commonAlert()).replace('"alertContext":null', `"alertContext":${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    // Even inside a well-formed alert: no real alert nests that deep, and the scan refuses it before any parse.
    expect(decideAlertText(deepInside)).toMatchObject({ decision: "reject", reason: expect.stringMatching(/more than 64 deep/) });
  });
});

describe("decideAlert on the common schema", () => {
  it("captures a firing alert about a VM and stops on the resolved one", () => {
    expect(decideAlert(commonAlert())).toMatchObject({ decision: "capture", target: vmId("vm1") });
    expect(decideAlert(commonAlert({ monitorCondition: "Resolved" }))).toMatchObject({ decision: "stop", target: vmId("vm1") });
    expect(decideAlert(commonAlert({ monitorCondition: "fired" })).decision).toBe("capture");
  });

  it("matches schemaId case-insensitively", () => {
    expect(decideAlert({ ...commonAlert(), schemaId: "AzureMonitorCommonAlertSchema" }).decision).toBe("capture");
  });

  it("rejects an unknown or mistyped schemaId, saying which", () => {
    expect(decideAlert({ ...commonAlert(), schemaId: "somethingElse" }).reason).toMatch(/schemaId 'somethingElse' is not/);
    expect(decideAlert({ ...commonAlert(), schemaId: 3 }).reason).toBe("schemaId is a number, not a string.");
  });

  it("rejects a payload whose deciding fields are wrong, naming the field", () => {
    expect(decideAlert(commonAlert({ monitorCondition: "Activated" })).reason).toBe(
      'The common alert schema payload is invalid: data.essentials.monitorCondition must be "Fired" or "Resolved".',
    );
    expect(decideAlert(commonAlert({ alertId: 7 })).reason).toMatch(/data\.essentials\.alertId must be a string/);
    expect(decideAlert(commonAlert({ alertTargetIDs: [vmId("vm1"), 5] })).reason).toMatch(
      /data\.essentials\.alertTargetIDs\[1\]|alertTargetIDs/,
    );
    expect(decideAlert({ schemaId: "azureMonitorCommonAlertSchema" }).reason).toBe(
      "The common alert schema payload is invalid: data is missing.",
    );
  });

  it("is lenient with display fields of the wrong type or null", () => {
    const decision = decideAlert(commonAlert({ alertRule: null, severity: 3, description: { x: 1 }, firedDateTime: [] }));
    expect(decision.decision).toBe("capture");
    expect(decision.alert).toMatchObject({ ruleName: null, severity: "Sev3", description: "" });
    expect(decision.reason).toBe("Fired metric alert on VM vm1: capture");
  });

  it("accepts alertTargetIDs given as a single string, and ignores null", () => {
    expect(decideAlert(commonAlert({ alertTargetIDs: vmId("vm2") })).target).toBe(vmId("vm2"));
    expect(decideAlert(commonAlert({ alertTargetIDs: null })).reason).toMatch(/names no Azure resource: nothing to capture$/);
  });

  it("ignores subscriptions and other resources, and says what the alert is about", () => {
    const decision = decideAlert(commonAlert({ alertTargetIDs: [`/subscriptions/${SUB}`] }));
    expect(decision).toMatchObject({ decision: "ignore", target: null, targets: [] });
    expect(decision.reason).toBe("The fired metric alert 'rule' is about a subscription, not a VM or scale set: nothing to capture");
  });

  it("rejects a malformed target ID unless another target is capturable", () => {
    expect(decideAlert(commonAlert({ alertTargetIDs: ["not an id"] }))).toMatchObject({
      decision: "reject",
      alertId: `/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/1`,
    });
    expect(decideAlert(commonAlert({ alertTargetIDs: ["not an id", vmId("vm9")] })).target).toBe(vmId("vm9"));
  });

  it("de-duplicates targets case-insensitively and keeps the priority order", () => {
    const context = {
      condition: {
        allOf: [
          {
            dimensions: [
              { name: "_ResourceId", value: vmId("vm2").toLowerCase() },
              { name: "ResourceId", value: vmId("VM1").toUpperCase() },
              { name: "Computer", value: vmId("vm8") },
            ],
          },
        ],
      },
    };
    const decision = decideAlert(commonAlert({ alertTargetIDs: [WORKSPACE, vmId("vm1")] }, context));
    expect(decision.alert?.candidateTargetIds).toEqual([WORKSPACE, vmId("vm1"), vmId("vm2").toLowerCase()]);
    expect(decision.targets.map((t) => t.id)).toEqual([vmId("vm1"), vmId("vm2").toLowerCase()]);
    expect(decision.reason).toBe("Fired metric alert 'rule' on VM vm1 and 1 more target: capture");
  });

  it("does not take a metric's ResourceId dimension (a VM GUID) for a target", () => {
    const context = { condition: { allOf: [{ dimensions: [{ name: "ResourceId", value: "0d3f4e5a-6b7c-4d8e-9f01-a2b3c4d5e6f7" }] }] } };
    expect(decideAlert(commonAlert({ alertTargetIDs: [WORKSPACE] }, context)).decision).toBe("ignore");
  });

  it("bounds how many targets one alert can name", () => {
    const rows = Array.from({ length: 5000 }, (_, i) => [vmId(`vm${i}`)]);
    const context = { SearchResults: { tables: [{ columns: [{ name: "_ResourceId" }], rows }] } };
    const decision = decideAlert(commonAlert({ monitoringService: "Log Analytics", alertTargetIDs: [WORKSPACE] }, context));
    expect(decision.decision).toBe("capture");
    expect(decision.targets.length).toBeLessThanOrEqual(100);
  });

  it("reads search results tolerantly: odd columns and rows do not shift or hide the rest", () => {
    const context = {
      SearchResults: {
        tables: [
          null,
          { columns: [7, { name: "_ResourceId" }], rows: [null, "x", [vmId("vm1"), 5], [null, vmId("vm4")]] },
        ],
      },
    };
    const decision = decideAlert(commonAlert({ alertTargetIDs: [WORKSPACE] }, context));
    expect(decision.targets.map((t) => t.name)).toEqual(["vm4"]);
  });

  it("treats a resource health event that is over as resolved although monitorCondition says Fired", () => {
    const resourceHealth = (context: Record<string, unknown>) =>
      decideAlert(commonAlert({ monitoringService: "Resource Health", signalType: "Activity Log" }, { eventSource: "ResourceHealth", ...context }));
    expect(resourceHealth({ operationName: "Microsoft.Resourcehealth/healthevent/Activated/action", properties: { currentHealthStatus: "Unavailable" } }).decision).toBe("capture");
    expect(resourceHealth({ operationName: "Microsoft.Resourcehealth/healthevent/Resolved/action" }).decision).toBe("stop");
    expect(resourceHealth({ operationName: "Microsoft.Resourcehealth/healthevent/Updated/action", properties: { currentHealthStatus: "Available" } }).decision).toBe("stop");
    expect(resourceHealth({ status: "Resolved" }).decision).toBe("stop");
  });

  it("does not treat other activity log statuses as the end of an alert", () => {
    const context = { eventSource: "Security", status: "Resolved", operationName: "Microsoft.Security/locations/alerts/activate/action" };
    expect(decideAlert(commonAlert({ monitoringService: "Activity Log - Security" }, context)).decision).toBe("capture");
  });
});

describe("decideAlert on the other schemas", () => {
  it("stops on any non-Activated status of a non-common metric alert", () => {
    const alert = load("synthetic-noncommon-metric-vm-deactivated.json");
    expect(decideAlert(alert).decision).toBe("stop");
    alert["data"].status = "Activated";
    expect(decideAlert(alert).decision).toBe("capture");
    alert["data"].status = "Resolved";
    expect(decideAlert(alert).decision).toBe("stop");
  });

  it("rejects a non-common metric alert without a resourceId", () => {
    const alert = load("ncs-metric-static-storage.json");
    delete alert["data"].context.resourceId;
    expect(decideAlert(alert)).toMatchObject({
      schema: "AzureMonitorMetricAlert",
      decision: "reject",
      reason: "The metric alert payload is invalid: data.context.resourceId is missing.",
    });
  });

  it("uses the activity log's eventDataId as alertId and its level as severity", () => {
    const decision = decideAlert(load("ncs-activity-log-administrative-vm.json"));
    expect(decision.alertId).toBe("bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb");
    expect(decision.alert).toMatchObject({ severity: "Informational", condition: "Fired", ruleName: null });
  });

  it("stops on a non-common resource health event that resolved", () => {
    const alert = load("ncs-activity-log-resource-health-vm.json");
    alert["data"].context.activityLog.operationName = "Microsoft.Resourcehealth/healthevent/Resolved/action";
    expect(decideAlert(alert).decision).toBe("stop");
  });

  it("finds a VM in a legacy Log Analytics alert's _ResourceId column", () => {
    const alert = load("log-v1-log-analytics-legacy.json");
    alert["SearchResult"].tables[0].columns.push({ name: "_ResourceId", type: "string" });
    alert["SearchResult"].tables[0].rows[1].push(vmId("vm5"));
    expect(decideAlert(alert)).toMatchObject({ schema: "logAnalyticsV1Legacy", decision: "capture", target: vmId("vm5") });
  });

  it("rejects a classic alert with an unknown status or condition type", () => {
    const alert = load("classic-metric-alert-webhook.json");
    expect(decideAlert({ ...alert, status: "Fired" }).reason).toBe(
      'The classic alert payload is invalid: status must be "Activated" or "Resolved".',
    );
    expect(decideAlert({ ...alert, context: { ...alert["context"], conditionType: "Log" } }).reason).toMatch(/neither "Metric" nor "Event"/);
  });

  it("rejects a log alert without its rule name", () => {
    const alert = load("log-v1-application-insights.json");
    delete alert["data"].AlertRuleName;
    expect(decideAlert(alert).reason).toBe("The log alert payload is invalid: data.AlertRuleName is missing.");
  });

  it("explains shapes it does not know", () => {
    expect(decideAlert({}).reason).toMatch(/not a recognisable Azure Monitor alert/);
    expect(decideAlert({ data: { essentials: {} } }).reason).toMatch(/has no schemaId/);
  });

  it("never throws, even on objects whose properties throw", () => {
    const hostile = new Proxy({}, { get: () => { throw new Error("boom"); }, has: () => { throw new Error("boom"); } });
    expect(decideAlert(hostile)).toMatchObject({ decision: "reject" });
    expect(normalizeAlert(hostile).ok).toBe(false);
  });
});

describe("reasons", () => {
  it("keep payload text short and free of control characters", () => {
    const decision = decideAlert(commonAlert({ alertRule: `evil\nrule${"x".repeat(5000)}`, alertTargetIDs: [`/x\u0000${"y".repeat(5000)}`] }));
    expect(decision.decision).toBe("reject");
    expect(decision.reason).not.toMatch(/[\u0000-\u001f]/);
    expect(decision.reason.length).toBeLessThan(600);
  });
});

describe("nesting limit", () => {
  it("rejects a body nested deeper than 64 before parsing it", () => {
    const deep = decideAlertText(`${"[".repeat(65)}${"]".repeat(65)}`);
    expect(deep.decision).toBe("reject");
    expect(deep.reason).toMatch(/more than 64 deep/);
    const huge = decideAlertText("[".repeat(1024 * 1024));
    expect(huge.reason).toMatch(/more than 64 deep/);
  });

  it("counts only brackets outside strings, and lets 64 levels through to the alert checks", () => {
    expect(decideAlertText(`${"[".repeat(64)}${"]".repeat(64)}`).reason).not.toMatch(/deep/);
    expect(decideAlertText(JSON.stringify({ text: "[".repeat(500), quoted: '\\"[[[' })).reason).not.toMatch(/deep/);
  });
});
