// POST /api/alerts through the running local stack: dedupe under concurrent deliveries, the scope allowlist, and
// clear 4xx answers for bodies that are not alerts (never a 5xx). A Resolved alert reaching the running capture as
// an event is in workflow.test.ts, with the early stop it causes.
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricAlert, vmId } from "./support/alerts.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";

describe("alert webhook on the local stack", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      appSettings: {
        ALERTCAP_ALLOWED_SCOPES: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-app`,
        ALERTCAP_CAPTURE_SECONDS: "600",
        // As Azure Storage can: the first two concurrent starts of an absent instance ID are both accepted.
        ALERTCAP_HOST_START_RACE: "2",
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const instancesWithPrefix = async (prefix: string): Promise<string[]> => {
    const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances?instanceIdPrefix=${prefix}&code=${stack.systemKey}`);
    return ((await res.json()) as Array<{ instanceId: string }>).map((i) => i.instanceId);
  };

  it("starts exactly one capture for 50 concurrent deliveries of one alert", async () => {
    const body = metricAlert(vmId("vm-web-1"));
    const answers = await Promise.all(Array.from({ length: 50 }, () => stack.postAlert(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const ids = new Set(answers.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    const outcomes = answers.map((a) => (a.body.targets as Array<{ outcome: string }>)[0]!.outcome);
    expect(outcomes.filter((o) => o === "started")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "already-running")).toHaveLength(49);
    expect(await instancesWithPrefix("cap-vm-vm-web-1-")).toEqual([...ids]);
    // The host accepted two starts; one ExecutionStarted was discarded, so one orchestration made one capture.
    const [id] = [...ids] as string[];
    await stack.waitForCapture(id!, (c) => c.captureName !== null, "the capture to be created");
    const { armClients } = await import("../azure/armClients.js");
    const captures = [];
    for await (const capture of armClients(SUBSCRIPTION).network.packetCaptures.list("NetworkWatcherRG", "NetworkWatcher_westus2")) captures.push(capture);
    expect(captures.filter((c) => c.name?.startsWith("alertcap-vm-web-1-"))).toHaveLength(1);
  });

  it("links only to alertcap's own status route: no answer carries the durable system key or a management URL", async () => {
    const res = await fetch(`${stack.url}/api/alerts?code=${stack.functionKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: metricAlert(vmId("vm-win-1")),
    });
    expect(res.status).toBe(202);
    const text = await res.text();
    const body = JSON.parse(text) as { id: string; statusUrl: string };
    const headers = [...res.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
    for (const answer of [text, headers]) {
      expect(answer).not.toContain(stack.systemKey);
      expect(answer).not.toMatch(/runtime\/webhooks|statusQueryGetUri|code=/);
    }
    expect(body.statusUrl).toBe(`${stack.url}/api/captures/${body.id}`);
    expect(res.headers.get("location")).toBe(body.statusUrl);

    const status = await fetch(`${body.statusUrl}?code=${stack.functionKey}`);
    expect(status.status).toBe(200);
    const statusText = await status.text();
    for (const answer of [text, headers, statusText]) {
      expect(answer).not.toContain(stack.systemKey);
      expect(answer).not.toContain(stack.masterKey);
      expect(answer).not.toMatch(/runtime\/webhooks|statusQueryGetUri|code=/);
    }
    expect(JSON.parse(statusText)).toMatchObject({ id: body.id });
  });

  it("refuses a target outside ALERTCAP_ALLOWED_SCOPES with 403 and starts nothing", async () => {
    const before = await instancesWithPrefix("cap-vm-vm-eu-1-");
    const answer = await stack.postAlert(metricAlert(vmId("vm-eu-1", "rg-eu")));
    expect(answer.status).toBe(403);
    expect(answer.body.reason).toMatch(/outside ALERTCAP_ALLOWED_SCOPES/);
    expect(await instancesWithPrefix("cap-vm-vm-eu-1-")).toEqual(before);
  });

  it("answers 413 for a 2 MB body", async () => {
    const answer = await stack.postAlert(JSON.stringify({ schemaId: "azureMonitorCommonAlertSchema", padding: "x".repeat(2 * 1024 * 1024) }));
    expect(answer.status).toBe(413);
    expect(answer.body.reason).toMatch(/accepts alerts up to \d+ bytes/);
  });

  it("answers 413 just above 256 KiB by default (the most an action group sends)", async () => {
    const alert = JSON.parse(metricAlert(vmId("vm-web-1"))) as Record<string, unknown>;
    const padded = (size: number) => {
      const base = JSON.stringify({ ...alert, padding: "" });
      return JSON.stringify({ ...alert, padding: "x".repeat(size - base.length) });
    };
    const over = await stack.postAlert(padded(256 * 1024 + 1));
    expect(over.status).toBe(413);
    expect(over.body.reason).toMatch(/accepts alerts up to 262144 bytes/);
    expect((await stack.postAlert(padded(256 * 1024))).status).not.toBe(413);
  });

  it("acts on at most ALERTCAP_MAX_TARGETS_PER_ALERT (10) targets of one alert and reports the rest as skipped", async () => {
    const targets = Array.from({ length: 12 }, (_, i) => vmId(`vm-many-${i}`));
    const alert = JSON.parse(metricAlert(targets[0]!, "Resolved")) as { data: { essentials: { alertTargetIDs: string[]; configurationItems: string[] } } };
    alert.data.essentials.alertTargetIDs = targets;
    alert.data.essentials.configurationItems = targets.map((t) => t.split("/").at(-1)!);
    const answer = await stack.postAlert(JSON.stringify(alert));
    expect(answer.status).toBe(200);
    const outcomes = (answer.body.targets as Array<{ target: string; outcome: string }>).map((t) => [t.target.split("/").at(-1), t.outcome]);
    expect(outcomes.filter(([, o]) => o === "nothing-to-stop")).toHaveLength(10);
    expect(outcomes.filter(([, o]) => o === "skipped")).toEqual([["vm-many-10", "skipped"], ["vm-many-11", "skipped"]]);
  });

  it("explains what is wrong with bodies that are not alerts", async () => {
    const notJson = await stack.postAlert("{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ decision: "reject", reason: expect.stringMatching(/not JSON/) });

    const wrongType = await stack.postAlert(metricAlert(vmId("vm-web-1")), "text/plain");
    expect(wrongType.status).toBe(415);

    const res = await fetch(`${stack.url}/api/alerts?code=${stack.functionKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/UTF-8/);

    const noKey = await fetch(`${stack.url}/api/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(noKey.status).toBe(401);
  });

  it("gives the same decision as `alertcap explain-alert` for every shared sample", async () => {
    const dir = join(process.cwd(), "test", "fixtures", "alerts");
    const { decideAlertText } = await import("../domain/alerts/decide.js");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const text = readFileSync(join(dir, file), "utf8");
      const expected = decideAlertText(text);
      const answer = await stack.postAlert(text);
      const inScope = expected.targets.every((t) => t.key.startsWith(`/subscriptions/${SUBSCRIPTION}/resourcegroups/rg-app/`));
      if (expected.decision === "reject") expect(answer.status, file).toBe(400);
      else if (expected.decision === "ignore") expect(answer.status, file).toBe(200);
      else if (!inScope) expect(answer.status, file).toBe(403);
      else expect([200, 202], file).toContain(answer.status);
      if (answer.status !== 403) expect(answer.body.decision, file).toBe(expected.decision);
    }
  });

  it("never answers 5xx to random and mutated payloads", async () => {
    const sample = JSON.parse(metricAlert(vmId("vm-east-1", "rg-east"))) as unknown;
    const mutated = fc.tuple(fc.constantFrom("schemaId", "data", "essentials", "alertTargetIDs", "monitorCondition"), fc.jsonValue()).map(([key, value]) => {
      const copy = JSON.parse(JSON.stringify(sample)) as Record<string, unknown> & { data: Record<string, unknown> & { essentials: Record<string, unknown> } };
      if (key === "schemaId" || key === "data") (copy as Record<string, unknown>)[key] = value;
      else if (key === "essentials") (copy.data as Record<string, unknown>)[key] = value;
      else copy.data.essentials[key] = value;
      return JSON.stringify(copy);
    });
    const anyBody = fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), mutated);
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const answer = await stack.postAlert(body);
        expect(answer.status).toBeLessThan(500);
        expect(typeof answer.body.reason).toBe("string");
      }),
      { numRuns: 150 },
    );
  });

  it("wires a VM's alert rule and action group to this webhook with `alertcap setup-alert`, and a second run changes nothing", () => {
    const setupAlert = () =>
      spawnSync(process.execPath, ["bin/alertcap.js", "setup-alert", "--webhook-url", `${stack.url}/api/alerts?code=${stack.functionKey}`, "--vm", vmId("vm-web-1")], {
        env: { ...process.env, ALERTCAP_ARM_ENDPOINT: stack.armUrl, ALERTCAP_ARM_CA_CERT: stack.armCaCertPath },
        encoding: "utf8",
      });
    // The emulator validates both bodies against the official Monitor schema: a "created" is a body that passed.
    const first = setupAlert();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/created .*actionGroups\/alertcap-ag/i);
    expect(first.stdout).toMatch(/created .*metricAlerts\/alertcap-vm-web-1-/i);
    const second = setupAlert();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).not.toMatch(/created|updated/);
    expect(second.stdout.match(/unchanged/g)).toHaveLength(2);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(stack.functionKey);
  });
});
