// The local Functions host, through real HTTP on a running host process, on a small sample durable app.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type HostProcess, startHostProcess } from "./support/hostProcess.js";

const SAMPLE_APP = "dist/test/fixtures/sample-app/*.js";

interface Status {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

function sampleInput(overrides: Record<string, unknown> = {}) {
  return { value: 3, traceDir: mkdtempSync(join(tmpdir(), "alertcap-trace-")), flakyFailures: 2, slowMs: 200, ...overrides };
}

const traceLines = (dir: string): string[] =>
  existsSync(join(dir, "trace.log")) ? readFileSync(join(dir, "trace.log"), "utf8").trim().split("\n") : [];

async function start(host: HostProcess, orchestrator: string, input: unknown): Promise<{ id: string; statusQueryGetUri: string; sendEventPostUri: string; terminatePostUri: string }> {
  const res = await fetch(`${host.url}/api/samples/${orchestrator}`, {
    method: "POST",
    headers: { "x-functions-key": host.functionKey, "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  expect(res.status).toBe(202);
  expect(res.headers.get("location")).toMatch(/\/runtime\/webhooks\/durabletask\/instances\//);
  expect(res.headers.get("retry-after")).toBe("10");
  return (await res.json()) as { id: string; statusQueryGetUri: string; sendEventPostUri: string; terminatePostUri: string };
}

async function status(host: HostProcess, id: string, query = ""): Promise<{ code: number; body: Status }> {
  const res = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}?code=${host.systemKey}${query}`);
  return { code: res.status, body: (await res.json()) as Status };
}

const waitFor = (host: HostProcess, id: string, wanted: string[], timeoutMs = 30_000) =>
  eventually(async () => {
    const { body } = await status(host, id, "&showHistory=true&showHistoryOutput=true");
    return wanted.includes(body.runtimeStatus) ? body : undefined;
  }, `instance ${id} to reach ${wanted.join("/")}`, timeoutMs);

const raise = (host: HostProcess, id: string, event: string, data: unknown, contentType = "application/json") =>
  fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}/raiseEvent/${event}?code=${host.systemKey}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: JSON.stringify(data),
  });

describe("local Functions host", () => {
  let host: HostProcess;
  beforeAll(async () => {
    host = await startHostProcess({ main: SAMPLE_APP });
  });
  afterAll(async () => {
    await host?.stop();
  });

  it("runs on Node 22", () => {
    expect(process.versions.node.split(".")[0]).toBe("22");
  });

  it("runs an orchestration with an activity, a timer, continueAsNew, an external event and retries to completion", async () => {
    const input = sampleInput();
    const started = await start(host, "SampleWorkflow", input);
    // Round 0 doubles and waits 1 s on a durable timer, then continues as new; round 1 waits for approval.
    const waiting = await eventually(async () => {
      const { code, body } = await status(host, started.id);
      return code === 202 && (body.customStatus as { round?: number } | null)?.round === 1 ? body : undefined;
    }, "the second generation");
    expect(waiting.runtimeStatus).toBe("Running");
    expect((waiting.input as { value: number }).value).toBe(6);

    // The client's sendEventPostUri template, as a real caller would use it.
    const raised = await fetch(started.sendEventPostUri.replace("{eventName}", "approve"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify("alice"),
    });
    expect(raised.status).toBe(202);

    const done = await waitFor(host, started.id, ["Completed", "Failed"]);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.output).toEqual({ doubled: 12, approvedBy: "alice", flakyResult: "ok after 3", slowResult: "slow done", rounds: 2 });
    expect(done.customStatus).toEqual({ round: 1, doubled: 12 });
    expect(done.createdTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    // History of the last generation, shaped like the extension's status API.
    const types = done.historyEvents!.map((e) => e.EventType);
    expect(types[0]).toBe("ExecutionStarted");
    expect(types.at(-1)).toBe("ExecutionCompleted");
    expect(types).toContain("EventRaised");
    expect(types).not.toContain("OrchestratorStarted");
    const failedAttempts = done.historyEvents!.filter((e) => e.EventType === "TaskFailed");
    expect(failedAttempts.map((e) => e.FunctionName)).toEqual(["Flaky", "Flaky"]);
    expect(failedAttempts[0]!.Reason).toBe("Activity function 'Flaky' failed: flaky failure 1");
    // A back-off timer between attempts: 200 ms (first interval), coefficient 1.
    const retryTimers = done.historyEvents!.filter((e) => e.EventType === "TimerFired");
    expect(retryTimers.length).toBe(2);
    const completed = done.historyEvents!.filter((e) => e.EventType === "TaskCompleted").map((e) => [e.FunctionName, e.Result]);
    expect(completed).toEqual([["Double", 12], ["Flaky", "ok after 3"], ["Slow", "slow done"]]);
    expect(traceLines(input.traceDir)).toEqual(["Double 3", "Double 6", "Flaky attempt 1", "Flaky attempt 2", "Flaky attempt 3", "Slow started", "Slow finished"]);

    // A finished instance refuses events.
    expect((await raise(host, started.id, "approve", "bob")).status).toBe(410);
  });

  it("fails a retried activity after maxNumberOfAttempts, and the orchestrator sees the error", async () => {
    const input = sampleInput({ flakyFailures: 10 });
    const { id } = await start(host, "RetryExhausted", input);
    const done = await waitFor(host, id, ["Completed", "Failed"]);
    expect(done.output).toBe("gave up: Activity function 'Flaky' failed: flaky failure 2 ");
    expect(traceLines(input.traceDir)).toEqual(["Flaky attempt 1", "Flaky attempt 2"]);
  });

  it("fails a non-deterministic orchestrator loudly, naming it and the diverging action", async () => {
    const { id } = await start(host, "WallClockWorkflow", sampleInput());
    const done = await waitFor(host, id, ["Completed", "Failed"]);
    expect(done.runtimeStatus).toBe("Failed");
    expect(done.output).toMatch(/Non-deterministic orchestrator "WallClockWorkflow"/);
    expect(done.output).toMatch(/CreateTimer/);
    expect(host.output()).toMatch(/WallClockWorkflow \(.*\) failed: Non-deterministic/);
  });

  it("catches an orchestrator whose next episode no longer schedules what history holds", async () => {
    const { id } = await start(host, "EnvReadingWorkflow", sampleInput());
    const done = await waitFor(host, id, ["Completed", "Failed"]);
    expect(done.runtimeStatus).toBe("Failed");
    expect(done.output).toMatch(/Non-deterministic orchestrator "EnvReadingWorkflow": it now schedules CallActivity "Slow" where history holds TaskScheduled "Double"/);
  });

  it("refuses calls without the right key", async () => {
    const body = JSON.stringify(sampleInput());
    const noKey = await fetch(`${host.url}/api/samples/SampleWorkflow`, { method: "POST", body });
    expect(noKey.status).toBe(401);
    const wrongKey = await fetch(`${host.url}/api/samples/SampleWorkflow?code=not-the-key`, { method: "POST", body });
    expect(wrongKey.status).toBe(401);
    // The function key does not open the management API; the system key does.
    const mgmt = await fetch(`${host.url}/runtime/webhooks/durabletask/instances?code=${host.functionKey}`);
    expect(mgmt.status).toBe(401);
    const withQueryKey = await fetch(`${host.url}/api/samples/status/nope?code=${host.functionKey}`);
    expect(withQueryKey.status).not.toBe(401);
  });

  it("serves routes with parameters and answers 404 for unknown routes and methods", async () => {
    const wrongMethod = await fetch(`${host.url}/api/samples/SampleWorkflow?code=${host.functionKey}`);
    expect(wrongMethod.status).toBe(404);
    const unknown = await fetch(`${host.url}/api/nothing/here?code=${host.functionKey}`, { method: "POST" });
    expect(unknown.status).toBe(404);
  });

  it("lets a function read status through the durable client (RPC routes)", async () => {
    const input = sampleInput({ flakyFailures: 0 });
    const { id } = await start(host, "SampleWorkflow", input);
    const seen = await eventually(async () => {
      const res = await fetch(`${host.url}/api/samples/status/${id}?code=${host.functionKey}`);
      const body = (await res.json()) as { runtimeStatus: string; customStatus: { round: number } | null };
      return body.customStatus?.round === 1 ? body : undefined;
    }, "customStatus through getStatus");
    expect(seen.runtimeStatus).toBe("Running");
    await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}/terminate?reason=test&code=${host.systemKey}`, { method: "POST" });
  });

  it("lists, terminates and purges instances through the management API", async () => {
    const { id } = await start(host, "SampleWorkflow", sampleInput());
    await eventually(async () => ((await status(host, id)).body.customStatus ? true : undefined), "the instance to run");
    const running = await fetch(`${host.url}/runtime/webhooks/durabletask/instances?runtimeStatus=Running,Pending&code=${host.systemKey}`);
    expect(running.status).toBe(200);
    expect(((await running.json()) as Status[]).map((s) => s.instanceId)).toContain(id);

    expect((await raise(host, id, "approve", "x", "text/plain")).status).toBe(400);
    const stillRunning = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}?code=${host.systemKey}`, { method: "DELETE" });
    expect(stillRunning.status).toBe(412);

    const term = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}/terminate?reason=operator%20said%20so&code=${host.systemKey}`, { method: "POST" });
    expect(term.status).toBe(202);
    const done = await waitFor(host, id, ["Terminated"]);
    expect(done.output).toBe("operator said so");
    expect(done.historyEvents!.map((e) => e.EventType)).toContain("ExecutionTerminated");

    const again = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}/terminate?code=${host.systemKey}`, { method: "POST" });
    expect(again.status).toBe(410);
    const purged = await fetch(`${host.url}/runtime/webhooks/durabletask/instances/${id}?code=${host.systemKey}`, { method: "DELETE" });
    expect(await purged.json()).toEqual({ instancesDeleted: 1 });
    expect((await status(host, id).catch(() => ({ code: 404 }))).code).toBe(404);
  });
});

describe("local Functions host: starts and purges as the Azure Storage backend does them", () => {
  let host: HostProcess;
  beforeAll(async () => {
    host = await startHostProcess({ main: SAMPLE_APP });
  });
  afterAll(async () => {
    await host?.stop();
  });

  const startAs = (id: string, input: unknown) =>
    fetch(`${host.url}/runtime/webhooks/durabletask/orchestrators/SampleWorkflow/${id}?code=${host.systemKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });

  it("refuses to start over a running instance with 500 (not 409), and starts over a terminated one", async () => {
    const first = sampleInput({ value: 1 });
    expect((await startAs("singleton-1", first)).status).toBe(202);
    await eventually(async () => ((await status(host, "singleton-1")).body.customStatus ? true : undefined), "the instance to run");
    const again = await startAs("singleton-1", sampleInput({ value: 2 }));
    expect(again.status).toBe(500);
    expect(((await status(host, "singleton-1")).body.input as { value: number }).value).toBe(1);

    await fetch(`${host.url}/runtime/webhooks/durabletask/instances/singleton-1/terminate?reason=done&code=${host.systemKey}`, { method: "POST" });
    await waitFor(host, "singleton-1", ["Terminated"]);
    expect((await startAs("singleton-1", sampleInput({ value: 5 }))).status).toBe(202);
    const restarted = await eventually(async () => {
      const { body } = await status(host, "singleton-1");
      return (body.customStatus as { doubled?: number } | null)?.doubled === 10 ? body : undefined;
    }, "the new execution to run");
    expect(restarted.runtimeStatus).toBe("Running");
  });

  it("purges by filter with only finished statuses in the filter, so a filter of running statuses purges running instances too", async () => {
    const from = new Date().toISOString();
    expect((await startAs("purge-running-1", sampleInput())).status).toBe(202);
    await eventually(async () => ((await status(host, "purge-running-1")).body.customStatus ? true : undefined), "the instance to run");
    const purge = await fetch(`${host.url}/runtime/webhooks/durabletask/instances?createdTimeFrom=${from}&runtimeStatus=Running&code=${host.systemKey}`, { method: "DELETE" });
    expect(purge.status).toBe(200);
    expect(await purge.json()).toEqual({ instancesDeleted: 1 });
    expect((await fetch(`${host.url}/runtime/webhooks/durabletask/instances/purge-running-1?code=${host.systemKey}`)).status).toBe(404);
    const noFrom = await fetch(`${host.url}/runtime/webhooks/durabletask/instances?code=${host.systemKey}`, { method: "DELETE" });
    expect(noFrom.status).toBe(400);
  });
});

describe("local Functions host durability", () => {
  it("finishes an orchestration after the host is killed mid-activity and restarted, losing no activity result", async () => {
    let host = await startHostProcess({ main: SAMPLE_APP });
    const input = sampleInput({ flakyFailures: 0, slowMs: 1500 });
    const { id } = await start(host, "SampleWorkflow", input);
    await eventually(async () => ((await status(host, id)).body.customStatus as { round?: number } | null)?.round === 1 || undefined, "round 1");
    expect((await raise(host, id, "approve", "carol")).status).toBe(202);
    await eventually(async () => (traceLines(input.traceDir).includes("Slow started") ? true : undefined), "the slow activity to start");
    await host.kill();
    expect(traceLines(input.traceDir)).not.toContain("Slow finished");

    host = await startHostProcess({ main: SAMPLE_APP, dataDir: host.dataDir });
    try {
      const done = await waitFor(host, id, ["Completed", "Failed"]);
      expect(done.runtimeStatus).toBe("Completed");
      expect(done.output).toMatchObject({ approvedBy: "carol", flakyResult: "ok after 1", slowResult: "slow done" });
      // Completed activities are not run again; the one in flight is (at least once, as in Azure).
      const lines = traceLines(input.traceDir);
      expect(lines.filter((l) => l.startsWith("Double"))).toEqual(["Double 3", "Double 6"]);
      expect(lines.filter((l) => l.startsWith("Flaky"))).toEqual(["Flaky attempt 1"]);
      expect(lines.filter((l) => l === "Slow started")).toHaveLength(2);
      expect(host.output()).toMatch(/resumed 1 unfinished orchestration/);
    } finally {
      await host.stop();
    }
  });

  it("answers 413 above the request body limit", async () => {
    const host = await startHostProcess({ main: SAMPLE_APP, env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: "1024" } });
    try {
      const res = await fetch(`${host.url}/api/samples/SampleWorkflow?code=${host.functionKey}`, { method: "POST", body: "x".repeat(4096) });
      expect(res.status).toBe(413);
    } finally {
      await host.stop();
    }
  });
});
