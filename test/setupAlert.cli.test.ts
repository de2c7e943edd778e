// `alertcap setup-alert` as a user runs it (the real bin script on the compiled output), against the local ARM
// emulator started in this process: ALERTCAP_ARM_ENDPOINT / ALERTCAP_ARM_CA_CERT point the product at it exactly as
// the local stack does. What the emulator stored is checked against the official Monitor schema.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { actionGroupBody } from "../domain/alertRule/actionGroupBody.js";
import { metricAlertBody } from "../domain/alertRule/metricAlertBody.js";
import { resolveRuleSettings } from "../domain/alertRule/ruleSettings.js";
import { startArmEmulator, type ArmEmulator, type MonitorResourceSnapshot } from "../local/arm-emulator/armEmulator.js";
import { monitorSchemaProblems } from "../local/arm-emulator/monitor/monitorValidation.js";

const ROOT = process.cwd();
const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const RG_APP = `/subscriptions/${SUB}/resourceGroups/rg-app`;
const vmId = (name: string, rg = "rg-app") => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const ruleId = (name: string, rg = "rg-app") => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Insights/metricAlerts/${name}`;
const ACTION_GROUP_ID = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Insights/actionGroups/alertcap-ag`;
const KEY = "c2V0dXAtYWxlcnQta2V5LWZvci10ZXN0cw==";
const WEBHOOK = `https://alertcap-func.azurewebsites.net/api/alerts?code=${KEY}`;

let emulator: ArmEmulator;

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, packetSource: "synthetic", log: () => {} });
});

afterAll(async () => {
  await emulator?.close();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in a child process; asynchronously, since the emulator answering it lives in this process. */
function alertcap(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "alertcap.js"), "setup-alert", ...args], {
      cwd: ROOT,
      env: { ...process.env, ALERTCAP_ARM_ENDPOINT: emulator.url, ALERTCAP_ARM_CA_CERT: emulator.caCertPath },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function expectOneErrorLine(run: Run, status: number): void {
  expect(run.status).toBe(status);
  expect(run.stderr.endsWith("\n")).toBe(true);
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe("");
}

/** `created   metric alert /subscriptions/…` lines as [outcome, kind, id]. */
function outcomes(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const match = /^(created|updated|unchanged) +(action group|metric alert) (\S+)/.exec(line);
      if (!match) throw new Error(`unexpected output line: ${line}`);
      return [match[1] ?? "", match[2] ?? "", match[3] ?? ""];
    });
}

const metricAlert = (id: string): MonitorResourceSnapshot | undefined =>
  emulator.metricAlerts().find((rule) => rule.id.toLowerCase() === id.toLowerCase());
const actionGroup = (): MonitorResourceSnapshot | undefined =>
  emulator.actionGroups().find((group) => group.id.toLowerCase() === ACTION_GROUP_ID.toLowerCase());

const target = (id: string) => {
  const parsed = parseCaptureTarget(id);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.target;
};

describe("alertcap setup-alert against the local ARM emulator", () => {
  it("creates the action group and the VM's rule, whose stored bodies pass the official schema", async () => {
    const run = await alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(outcomes(run.stdout)).toEqual([
      ["created", "action group", ACTION_GROUP_ID],
      ["created", "metric alert", ruleId("alertcap-vm-web-1-network-out-total")],
    ]);
    expect(run.stdout).not.toContain(KEY);

    const rule = metricAlert(ruleId("alertcap-vm-web-1-network-out-total"));
    const group = actionGroup();
    expect(monitorSchemaProblems("Validation.MetricAlertResource", rule?.body)).toEqual([]);
    expect(monitorSchemaProblems("ActionGroupResource", group?.body)).toEqual([]);
    // What arrived is exactly what the domain built: the SDK model mapping loses and adds nothing.
    const expectedRule = metricAlertBody(target(vmId("vm-web-1")), resolveRuleSettings({}), ACTION_GROUP_ID);
    expect(rule?.body).toMatchObject({ type: "Microsoft.Insights/metricAlerts", location: "global", tags: {} });
    expect(rule?.body["properties"]).toEqual(expectedRule.properties);
    expect(group?.body["properties"]).toEqual(actionGroupBody({ webhookUrl: WEBHOOK }).properties);
    expect(rule?.body["properties"]).toMatchObject({ autoMitigate: true, scopes: [vmId("vm-web-1")] });
  });

  it("reports unchanged on a second run and writes nothing", async () => {
    const putsBefore = emulator.requests().filter((request) => request.method === "PUT").length;
    const run = await alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"));
    expect(run.status).toBe(0);
    expect(outcomes(run.stdout)).toEqual([
      ["unchanged", "action group", ACTION_GROUP_ID],
      ["unchanged", "metric alert", ruleId("alertcap-vm-web-1-network-out-total")],
    ]);
    expect(emulator.requests().filter((request) => request.method === "PUT")).toHaveLength(putsBefore);
  });

  it("updates only what differs and names the changed fields, not their values", async () => {
    const run = await alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--threshold", "2000000000", "--severity", "1");
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^unchanged +action group /);
    expect(lines[1]).toMatch(/^updated +metric alert \S+alertcap-vm-web-1-network-out-total \(changed: (.*)\)$/);
    expect(lines[1]).toContain("properties.severity");
    expect(lines[1]).toContain("properties.criteria.allOf[0].threshold");
    expect(metricAlert(ruleId("alertcap-vm-web-1-network-out-total"))?.body["properties"]).toMatchObject({
      severity: 1,
      criteria: { allOf: [{ threshold: 2_000_000_000 }] },
    });
  });

  it("creates one rule per VM of a resource group (dynamic threshold, Secure webhook)", async () => {
    const run = await alertcap(
      "--webhook-url", WEBHOOK,
      "--resource-group", RG_APP,
      "--metric", "Inbound Flows Maximum Creation Rate",
      "--dynamic", "--sensitivity", "High",
      "--aad-tenant-id", "68a4459a-ccb8-493c-b9da-dd30457d1b84",
      "--aad-object-id", "d3bb868c-fe44-452c-aa26-769a6538c808",
      "--aad-identifier-uri", "api://alertcap-webhook",
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const vms = ["vm-web-1", "vm-noagent", "vm-stopped", "vm-win-1"];
    expect(outcomes(run.stdout)).toEqual([
      ["updated", "action group", ACTION_GROUP_ID],
      ...vms.map((vm) => ["created", "metric alert", ruleId(`alertcap-${vm}-inbound-flows-maximum-creation-rate`)]),
    ]);
    for (const vm of vms) {
      const rule = metricAlert(ruleId(`alertcap-${vm}-inbound-flows-maximum-creation-rate`));
      expect(monitorSchemaProblems("Validation.MetricAlertResource", rule?.body)).toEqual([]);
      expect(rule?.body["properties"]).toMatchObject({
        scopes: [vmId(vm)],
        criteria: {
          "odata.type": "Microsoft.Azure.Monitor.MultipleResourceMultipleMetricCriteria",
          allOf: [{ criterionType: "DynamicThresholdCriterion", alertSensitivity: "High" }],
        },
        // Filled in by the service for multi-resource criteria, as in the official example.
        targetResourceType: "Microsoft.Compute/virtualMachines",
        targetResourceRegion: "westus2",
      });
    }
    const group = actionGroup();
    expect(monitorSchemaProblems("ActionGroupResource", group?.body)).toEqual([]);
    expect(group?.body["properties"]).toMatchObject({
      webhookReceivers: [{ serviceUri: WEBHOOK, useAadAuth: true, objectId: "d3bb868c-fe44-452c-aa26-769a6538c808", tenantId: "68a4459a-ccb8-493c-b9da-dd30457d1b84" }],
    });
    // The scale set of the resource group gets no rule: setup-alert watches VMs.
    expect(emulator.metricAlerts().some((rule) => rule.name.includes("vmss"))).toBe(false);
  });

  it("--dry-run prints each PUT with its URL and body, the key masked, and creates nothing; the real run sends just that", async () => {
    const before = { requests: emulator.requests().length, rules: emulator.metricAlerts().length };
    const [run, dry] = await Promise.all([
      alertcap("--webhook-url", WEBHOOK, "--resource-group", `/subscriptions/${SUB}/resourceGroups/rg-eu`, "--action-group-name", "alertcap-eu", "--dry-run"),
      alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-eu-1", "rg-eu"), "--dry-run"),
    ]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain(KEY);
    expect(run.stdout).toContain("?code=***");
    const blocks = run.stdout.trimEnd().split("\n\n");
    expect(blocks.at(-1)).toBe("dry run: 2 requests shown, nothing was created or changed");
    const requests = blocks.slice(0, -1).map((block) => {
      const [requestLine = "", ...json] = block.split("\n");
      return { requestLine, body: JSON.parse(json.join("\n")) as Record<string, unknown> };
    });
    expect(requests.map((request) => request.requestLine)).toEqual([
      `PUT ${emulator.url}/subscriptions/${SUB}/resourcegroups/rg-eu/providers/Microsoft.Insights/actionGroups/alertcap-eu?api-version=2024-10-01-preview`,
      `PUT ${emulator.url}/subscriptions/${SUB}/resourcegroups/rg-eu/providers/Microsoft.Insights/metricAlerts/alertcap-vm-eu-1-network-out-total?api-version=2026-01-01`,
    ]);
    const masked = WEBHOOK.replace(KEY, "***");
    expect(requests[0]?.body).toEqual(actionGroupBody({ webhookUrl: masked }));
    const actionGroupEu = `/subscriptions/${SUB}/resourceGroups/rg-eu/providers/Microsoft.Insights/actionGroups/alertcap-eu`;
    expect(requests[1]?.body).toEqual(metricAlertBody(target(vmId("vm-eu-1", "rg-eu")), resolveRuleSettings({}), actionGroupEu));
    // Only the VM list was read; nothing was written.
    const sent = emulator.requests().slice(before.requests);
    expect(sent.map((request) => `${request.method} ${request.operationId}`)).toEqual(["GET VirtualMachines_List"]);
    expect(emulator.metricAlerts()).toHaveLength(before.rules);

    // The real run sends exactly the PUTs the dry run showed, with the api-versions of @azure/arm-monitor 8.
    expect([dry.status, dry.stderr, dry.stdout.includes(KEY)]).toEqual([0, "", false]);
    const shown = dry.stdout.split("\n").filter((line) => line.startsWith("PUT ")).map((line) => new URL(line.slice(4)));
    const from = emulator.requests().length;
    const real = await alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-eu-1", "rg-eu"));
    expect(real.status).toBe(0);
    const puts = emulator.requests().slice(from).filter((request) => request.method === "PUT");
    expect(puts.map((request) => [request.path, request.apiVersion, request.status])).toEqual(
      shown.map((url) => [url.pathname, url.searchParams.get("api-version"), url.pathname.includes("actionGroups") ? 201 : 200]),
    );
  });

  it("answers bad arguments with exit 2 and one line, before calling Azure", async () => {
    const from = emulator.requests().length;
    const cases: Array<[string[], RegExp]> = [
      [[], /--webhook-url is required/],
      [["--webhook-url", WEBHOOK], /--vm or --resource-group is required/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--resource-group", RG_APP], /either --vm or --resource-group, not both/],
      [["--webhook-url", WEBHOOK, "--vm", "vm-web-1"], /--vm: 'vm-web-1' is not a valid resource ID/],
      [["--webhook-url", WEBHOOK, "--vm", `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`], /must name a virtual machine/],
      [["--webhook-url", WEBHOOK, "--resource-group", "rg-app"], /is not a resource group ID/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--metric", "Network Bytes"], /unknown VM metric 'Network Bytes'/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--threshold", "lots"], /--threshold must be a number/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--severity", "high"], /--severity must be one of 0, 1, 2, 3, 4/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--aad-tenant-id", "68a4459a-ccb8-493c-b9da-dd30457d1b84"], /go together/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--action-group-name", "a/b"], /--action-group-name 'a\/b' breaks/],
      [["--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--frobnicate"], /unknown option --frobnicate/],
      [["--webhook-url", WEBHOOK, "--vm"], /--vm needs a value/],
      [["--webhook-url", `http://alertcap.example.com/api/alerts?code=${KEY}`, "--vm", vmId("vm-web-1")], /must be https/],
    ];
    const runs = await Promise.all(cases.map(([args]) => alertcap(...args)));
    runs.forEach((run, index) => {
      const [args, message] = cases[index] ?? [[], /never/];
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stderr).toMatch(/^alertcap setup-alert: /);
      expect(run.stderr).not.toContain(KEY);
      expectOneErrorLine(run, 2);
    });
    expect(emulator.requests().slice(from)).toEqual([]);
  });

  it("answers an Azure error with exit 1 and one line naming the call and ARM's error", async () => {
    const [ghost, noGroup, agElsewhere] = await Promise.all([
      alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-ghost")),
      alertcap("--webhook-url", WEBHOOK, "--resource-group", `/subscriptions/${SUB}/resourceGroups/rg-none`),
      alertcap("--webhook-url", WEBHOOK, "--vm", vmId("vm-web-1"), "--action-group-rg", "rg-none"),
    ]);
    expectOneErrorLine(ghost, 1);
    expect(ghost.stderr).toMatch(/^alertcap setup-alert: GET VM vm-ghost failed: 404 ResourceNotFound: The Resource 'Microsoft.Compute\/virtualMachines\/vm-ghost'/);
    expectOneErrorLine(noGroup, 1);
    expect(noGroup.stderr).toBe("alertcap setup-alert: list the VMs of resource group rg-none failed: 404 ResourceGroupNotFound\n");
    expectOneErrorLine(agElsewhere, 1);
    expect(agElsewhere.stderr).toMatch(/PUT action group alertcap-ag failed: 404 ResourceGroupNotFound: Resource group 'rg-none' could not be found\./);
    expect(ghost.stderr + noGroup.stderr + agElsewhere.stderr).not.toContain(KEY);
  });

  it("prints its usage with --help", async () => {
    const run = await alertcap("--help");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: alertcap setup-alert --webhook-url URL \(--vm VM_ID \| --resource-group RG_ID\)/);
    expect(run.stdout).toContain("--dry-run");
    expect(run.stderr).toBe("");
  });
});
