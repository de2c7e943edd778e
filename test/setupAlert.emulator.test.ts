// The emulated Microsoft.Insights routes setup-alert calls: metric alert rules and action groups, through raw HTTPS
// (status codes, bodies, schema errors naming the path) and through @azure/arm-monitor 8 via the product's own client
// factory (which accepts only 200 for a metric alert PUT, 200/201 for an action group PUT).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MetricAlertResource } from "@azure/arm-monitor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { monitorClient } from "../azure/armClients.js";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { monitorSchemaProblems } from "../local/arm-emulator/monitor/monitorValidation.js";
import { rawArmRequest, type RawArmResponse } from "../local/arm-emulator/testing/rawArmRequest.js";
import { rejectionOf } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const EXAMPLES = join(process.cwd(), "local", "arm-emulator", "monitor", "examples");
const SUB = "00000000-0000-0000-0000-000000000001";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-app`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm-web-1`;
const ALERTS_API = "api-version=2026-01-01";
const GROUPS_API = "api-version=2024-10-01-preview";
// The SDK's spelling: lower-case `resourcegroups`.
const rulePath = (name: string) => `/subscriptions/${SUB}/resourcegroups/rg-app/providers/Microsoft.Insights/metricAlerts/${name}?${ALERTS_API}`;
const groupPath = (name: string) => `/subscriptions/${SUB}/resourcegroups/rg-app/providers/Microsoft.Insights/actionGroups/${name}?${GROUPS_API}`;
const groupId = (name: string) => `${RG}/providers/Microsoft.Insights/actionGroups/${name}`;

type Json = Record<string, unknown>;

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, packetSource: "synthetic", log: () => {} });
  await rawArmRequest(emulator, { method: "PUT", path: groupPath("ag-base"), body: actionGroup() });
});

afterAll(async () => {
  await emulator?.close();
});

function example(file: string): { request: Json; response: Json } {
  const document = JSON.parse(readFileSync(join(EXAMPLES, file), "utf8")) as { parameters: Json; responses: Record<string, { body: Json }> };
  const request = (document.parameters["parameters"] ?? document.parameters["actionGroup"]) as Json;
  return { request, response: (document.responses["200"]?.body ?? {}) as Json };
}

function actionGroup(shortName = "base"): Json {
  return {
    location: "Global",
    properties: {
      groupShortName: shortName,
      enabled: true,
      webhookReceivers: [{ name: "alertcap-webhook", serviceUri: "https://alertcap.example/api/alerts?code=k", useCommonAlertSchema: true }],
    },
  };
}

/** The official static single-resource example, on a VM and action group the emulator holds. */
function staticRule(): Json {
  const body = structuredClone(example("createOrUpdateMetricAlertSingleResource.json").request) as Json & { properties: Json };
  body.properties["scopes"] = [VM];
  body.properties["actions"] = [{ actionGroupId: groupId("ag-base"), webHookProperties: { key11: "value11" } }];
  return body;
}

function errorOf(response: RawArmResponse): { code: string; message: string; target?: string; details?: Array<{ target?: string }> } {
  return (response.json as { error: { code: string; message: string; target?: string; details?: Array<{ target?: string }> } }).error;
}

function withProperty(body: Json, path: string[], value: unknown): Json {
  const copy = structuredClone(body);
  let node = copy as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1) ?? "";
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

describe("metric alert routes", () => {
  it("PUT answers 200 on create and on update, GET/list/DELETE follow, paths in any case", async () => {
    const created = await rawArmRequest(emulator, { method: "PUT", path: rulePath("rule-a"), body: staticRule() });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      id: `${RG}/providers/Microsoft.Insights/metricAlerts/rule-a`,
      name: "rule-a",
      type: "Microsoft.Insights/metricAlerts",
      location: "global",
      tags: {},
      properties: { scopes: [VM], severity: 3 },
    });
    expect(monitorSchemaProblems("Validation.MetricAlertResource", created.json)).toEqual([]);

    const updated = await rawArmRequest(emulator, { method: "PUT", path: rulePath("RULE-A"), body: withProperty(staticRule(), ["properties", "severity"], 1) });
    expect(updated.status).toBe(200);
    // ARM keeps the name's casing from the create.
    expect(updated.json).toMatchObject({ name: "rule-a", properties: { severity: 1 } });

    const read = await rawArmRequest(emulator, { path: `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG-APP/providers/microsoft.insights/metricalerts/rule-a?${ALERTS_API}` });
    expect(read.status).toBe(200);
    expect(read.json).toEqual(updated.json);

    const list = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/resourcegroups/rg-app/providers/Microsoft.Insights/metricAlerts?${ALERTS_API}` });
    expect(list.status).toBe(200);
    expect((list.json as { value: Json[] }).value.map((rule) => rule["name"])).toContain("rule-a");
    const otherGroup = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/resourceGroups/rg-eu/providers/Microsoft.Insights/metricAlerts?${ALERTS_API}` });
    expect(otherGroup.json).toEqual({ value: [] });

    expect((await rawArmRequest(emulator, { method: "DELETE", path: rulePath("rule-a") })).status).toBe(200);
    expect((await rawArmRequest(emulator, { method: "DELETE", path: rulePath("rule-a") })).status).toBe(204);
    const gone = await rawArmRequest(emulator, { path: rulePath("rule-a") });
    expect(gone.status).toBe(404);
    expect(errorOf(gone)).toMatchObject({ code: "ResourceNotFound", message: expect.stringMatching(/^The Resource 'Microsoft.Insights\/metricAlerts\/rule-a' under resource group 'rg-app' was not found/) });
  });

  it("accepts the official dynamic single-resource example and fills in the target type and region", async () => {
    const body = structuredClone(example("createOrUpdateDynamicMetricAlertSingleResource.json").request) as Json & { properties: Json };
    body.properties["scopes"] = [VM];
    body.properties["actions"] = [{ actionGroupId: groupId("ag-base").toLowerCase(), webHookProperties: {} }];
    const response = await rawArmRequest(emulator, { method: "PUT", path: rulePath("dynamic-cpu"), body });
    expect(response.status).toBe(200);
    expect((response.json as { properties: Json }).properties).toMatchObject({
      targetResourceType: "Microsoft.Compute/virtualMachines",
      targetResourceRegion: "westus2",
      criteria: { allOf: [{ criterionType: "DynamicThresholdCriterion", ignoreDataBefore: "2019-04-04T21:00:00.000Z" }] },
    });
    expect(monitorSchemaProblems("Validation.MetricAlertResource", response.json)).toEqual([]);
  });

  it("answers 400 naming the path for a body that breaks the official schema", async () => {
    const cases: Array<[Json | string, string]> = [
      [withProperty(staticRule(), ["properties", "criteria"], undefined), "properties.criteria"],
      [withProperty(staticRule(), ["location"], undefined), "location"],
      [withProperty(staticRule(), ["properties", "severity"], "3"), "properties.severity"],
      [withProperty(staticRule(), ["properties", "evaluationFrequency"], "1 minute"), "properties.evaluationFrequency"],
      [withProperty(staticRule(), ["properties", "criteria", "allOf", "0", "operator"], "Bigger"), "properties.criteria.allOf[0].operator"],
      [withProperty(staticRule(), ["properties", "criteria", "allOf", "0", "threshold"], undefined), "properties.criteria.allOf[0].threshold"],
      [withProperty(staticRule(), ["properties", "criteria", "odata.type"], "Microsoft.Azure.Monitor.Everything"), "properties.criteria.odata.type"],
      [withProperty(staticRule(), ["properties", "criteria", "allOf", "0", "criterionType"], "DynamicThresholdCriterion"), "properties.criteria.allOf[0].criterionType"],
      ["[]", "(body)"],
    ];
    for (const [body, path] of cases) {
      const response = await rawArmRequest(emulator, { method: "PUT", path: rulePath("bad-rule"), body });
      expect(response.status, path).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe("InvalidRequestFormat");
      expect(error.target, JSON.stringify(error)).toBe(path);
      expect(error.message).toMatch(new RegExp(`^Cannot parse the request\\. '${path.replace(/[.[\]()]/g, "\\$&")}' `));
      expect(error.details?.map((detail) => detail.target)).toContain(path);
    }
    const notJson = await rawArmRequest(emulator, { method: "PUT", path: rulePath("bad-rule"), body: "{ nope" });
    expect([notJson.status, errorOf(notJson).code]).toEqual([400, "InvalidRequestContent"]);
    expect(emulator.metricAlerts().some((rule) => rule.name === "bad-rule")).toBe(false);
  });

  it("refuses a scope that is not a VM of the inventory with ARM's not-found error", async () => {
    const ghost = await rawArmRequest(emulator, {
      method: "PUT",
      path: rulePath("ghost-rule"),
      body: withProperty(staticRule(), ["properties", "scopes"], [VM.replace("vm-web-1", "vm-ghost")]),
    });
    expect(ghost.status).toBe(404);
    expect(errorOf(ghost)).toMatchObject({
      code: "ResourceNotFound",
      target: "properties.scopes[0]",
      message: expect.stringMatching(/^The Resource 'Microsoft.Compute\/virtualMachines\/vm-ghost' under resource group 'rg-app' was not found/),
    });
    const storage = `${RG}/providers/Microsoft.Storage/storageAccounts/alertcapcaptures`;
    const notVm = await rawArmRequest(emulator, { method: "PUT", path: rulePath("ghost-rule"), body: withProperty(staticRule(), ["properties", "scopes"], [storage]) });
    expect([notVm.status, errorOf(notVm).code]).toEqual([404, "ResourceNotFound"]);
  });

  it("refuses two scopes for single-resource criteria, a missing action group, and severity outside 0-4", async () => {
    const twoScopes = await rawArmRequest(emulator, {
      method: "PUT",
      path: rulePath("bad-rule"),
      body: withProperty(staticRule(), ["properties", "scopes"], [VM, VM.replace("vm-web-1", "vm-win-1")]),
    });
    expect([twoScopes.status, errorOf(twoScopes).target]).toEqual([400, "properties.scopes"]);
    const missingGroup = await rawArmRequest(emulator, {
      method: "PUT",
      path: rulePath("bad-rule"),
      body: withProperty(staticRule(), ["properties", "actions"], [{ actionGroupId: groupId("ag-none") }]),
    });
    expect(missingGroup.status).toBe(400);
    expect(errorOf(missingGroup)).toEqual({
      code: "BadRequest",
      message: `Arm resource ${groupId("ag-none")} is invalid or in a different subscription as alert rule.`,
      target: "properties.actions[0].actionGroupId",
    });
    const severity = await rawArmRequest(emulator, { method: "PUT", path: rulePath("bad-rule"), body: withProperty(staticRule(), ["properties", "severity"], 7) });
    expect([severity.status, errorOf(severity).target]).toEqual([400, "properties.severity"]);
  });
});

describe("action group routes", () => {
  it("PUT answers 201 on create and 200 on update; GET and DELETE follow", async () => {
    const created = await rawArmRequest(emulator, { method: "PUT", path: groupPath("ag-one"), body: actionGroup("one") });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: groupId("ag-one"), name: "ag-one", type: "Microsoft.Insights/ActionGroups", location: "Global" });
    const updated = await rawArmRequest(emulator, { method: "PUT", path: groupPath("ag-one"), body: actionGroup("uno") });
    expect(updated.status).toBe(200);
    const read = await rawArmRequest(emulator, { path: groupPath("AG-ONE").replace("actionGroups", "actiongroups") });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ properties: { groupShortName: "uno" } });
    expect(monitorSchemaProblems("ActionGroupResource", read.json)).toEqual([]);
    expect((await rawArmRequest(emulator, { method: "DELETE", path: groupPath("ag-one") })).status).toBe(200);
    expect((await rawArmRequest(emulator, { method: "DELETE", path: groupPath("ag-one") })).status).toBe(204);
    expect((await rawArmRequest(emulator, { path: groupPath("ag-one") })).status).toBe(404);
  });

  it("accepts the official example with every kind of receiver", async () => {
    const response = await rawArmRequest(emulator, { method: "PUT", path: groupPath("ag-example"), body: example("createOrUpdateActionGroup.json").request });
    expect(response.status).toBe(201);
    expect((response.json as { properties: { emailReceivers: Json[] } }).properties.emailReceivers[0]).toMatchObject({ status: "Enabled" });
    expect(monitorSchemaProblems("ActionGroupResource", response.json)).toEqual([]);
  });

  it("answers 400 naming the path for a body that breaks the official schema", async () => {
    const cases: Array<[Json, string]> = [
      [withProperty(actionGroup(), ["properties", "groupShortName"], "alertcap-webhook"), "properties.groupShortName"],
      [withProperty(actionGroup(), ["properties", "enabled"], undefined), "properties.enabled"],
      [withProperty(actionGroup(), ["properties", "webhookReceivers", "0", "serviceUri"], undefined), "properties.webhookReceivers[0].serviceUri"],
      [withProperty(actionGroup(), ["properties", "webhookReceivers", "0", "useCommonAlertSchema"], "yes"), "properties.webhookReceivers[0].useCommonAlertSchema"],
      [withProperty(actionGroup(), ["location"], undefined), "location"],
      [withProperty(actionGroup(), ["identity"], { type: "Bogus" }), "identity.type"],
      [withProperty(actionGroup(), ["properties"], undefined), "properties"],
    ];
    for (const [body, path] of cases) {
      const response = await rawArmRequest(emulator, { method: "PUT", path: groupPath("ag-bad"), body });
      expect(response.status, path).toBe(400);
      expect(errorOf(response)).toMatchObject({ code: "InvalidRequestFormat", target: path });
    }
    expect(emulator.actionGroups().some((group) => group.name === "ag-bad")).toBe(false);
  });
});

describe("through @azure/arm-monitor 8 (the product's client factory)", () => {
  beforeAll(() => {
    process.env.ALERTCAP_ARM_ENDPOINT = emulator.url;
    process.env.ALERTCAP_ARM_CA_CERT = emulator.caCertPath;
  });

  it("creates, updates, lists and deletes with the status codes the SDK accepts", async () => {
    const client = monitorClient(SUB);
    const group = await client.actionGroups.createOrUpdate("rg-app", "ag-sdk", {
      location: "Global",
      groupShortName: "sdk",
      enabled: true,
      webhookReceivers: [{ name: "hook", serviceUri: "https://alertcap.example/api/alerts", useCommonAlertSchema: true }],
    });
    expect(group.id).toBe(groupId("ag-sdk"));
    const rule: MetricAlertResource = {
      location: "global",
      severity: 2,
      enabled: true,
      scopes: [VM],
      evaluationFrequency: "PT1M",
      windowSize: "PT5M",
      autoMitigate: true,
      criteria: {
        odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
        allOf: [{ criterionType: "StaticThresholdCriterion", name: "NetIn", metricName: "Network In Total", timeAggregation: "Total", operator: "GreaterThan", threshold: 500_000_000 }],
      },
      actions: [{ actionGroupId: group.id ?? "" }],
    };
    const created = await client.metricAlerts.createOrUpdate("rg-app", "rule-sdk", rule);
    expect(created).toMatchObject({ name: "rule-sdk", severity: 2, criteria: { odataType: "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria" } });
    const updated = await client.metricAlerts.createOrUpdate("rg-app", "rule-sdk", { ...rule, severity: 4 });
    expect(updated.severity).toBe(4);
    const names: string[] = [];
    for await (const listed of client.metricAlerts.listByResourceGroup("rg-app")) names.push(listed.name ?? "");
    expect(names).toContain("rule-sdk");
    await client.metricAlerts.delete("rg-app", "rule-sdk");
    await client.metricAlerts.delete("rg-app", "rule-sdk");
    const missing = await rejectionOf(client.metricAlerts.get("rg-app", "rule-sdk"));
    expect([missing.statusCode, missing.code]).toEqual([404, "ResourceNotFound"]);
    await client.actionGroups.delete("rg-app", "ag-sdk");
  });
});

describe("persistence", () => {
  it("keeps metric alert rules and action groups across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "alertcap-monitor-state-"));
    try {
      const options = { inventory: SAMPLE_INVENTORY, packetSource: "synthetic" as const, dataDir, persistState: true, log: () => {} };
      const first = await startArmEmulator(options);
      await rawArmRequest(first, { method: "PUT", path: groupPath("ag-base"), body: actionGroup() });
      await rawArmRequest(first, { method: "PUT", path: rulePath("kept"), body: staticRule() });
      await first.close();
      const second = await startArmEmulator(options);
      try {
        expect(second.metricAlerts().map((rule) => rule.id)).toEqual([`${RG}/providers/Microsoft.Insights/metricAlerts/kept`]);
        expect(second.actionGroups().map((group) => group.name)).toEqual(["ag-base"]);
        // An update after the restart is an update (201 would mean the group was forgotten).
        expect((await rawArmRequest(second, { method: "PUT", path: groupPath("ag-base"), body: actionGroup() })).status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
