// `npm start` stops cleanly: Ctrl-C, SIGINT or SIGTERM (to npm or to the node process), at any point, ends every
// process it started (Azurite, the ARM emulator, the Functions host, the emulator's tcpdumps) without a stack trace;
// a busy port is one line naming its setting. Real processes; "left behind" is any process whose command line or
// environment names the run's data directory (every service gets it in one or the other, tcpdump in both).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../local/arm-emulator/testing/waiting.js";
import { freePort } from "./support/freePort.js";

const REPOSITORY = fileURLToPath(new URL("../../", import.meta.url));
const START = join(REPOSITORY, "dist/local/start.js");
const SAMPLE_ALERT = readFileSync(join(REPOSITORY, "local/samples/alert-vm-web-1-fired.json"), "utf8");
const dataDirs: string[] = [];
const launched: Run[] = [];

afterAll(async () => {
  for (const run of launched) if (run.child.exitCode === null && run.child.signalCode === null) process.kill(-run.child.pid!, "SIGKILL");
  for (const dir of dataDirs) {
    for (const pid of processesNaming(dir)) process.kill(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Run {
  child: ChildProcess;
  dataDir: string;
  output(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** `node dist/local/start.js` or `npm start` (without its prestart build), in its own process group like a shell job. */
async function launch(how: "node" | "npm", env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), "alertcap-stop-"));
  dataDirs.push(dataDir);
  const [command, args] = how === "node" ? [process.execPath, [START]] : ["npm", ["start", "--ignore-scripts"]];
  const child = spawn(command, args, {
    cwd: REPOSITORY,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: String(await freePort()),
      ALERTCAP_ARM_PORT: String(await freePort()),
      ALERTCAP_DATA_DIR: dataDir,
      ALERTCAP_EMULATOR_SPEED: "10",
      ALERTCAP_CAPTURE_SECONDS: "600",
      ...env,
    },
  });
  let all = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (all += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    all += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const run = { child, dataDir, output: () => all, stderr: () => stderr, exited };
  launched.push(run);
  return run;
}

/** Processes (other than this one) whose command line or environment names `dir`. */
function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmdline === "") continue; // a zombie: already dead, waiting to be reaped
      if (cmdline.includes(dir) || readFileSync(`/proc/${name}/environ`, "utf8").includes(dir)) found.push(pid);
    } catch {
      // exited while listing
    }
  }
  return found;
}

function describeProcesses(pids: number[]): string {
  return pids.map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").slice(0, 160)}`).join("\n");
}

async function nothingLeftOf(run: Run): Promise<void> {
  const code = await run.exited;
  await until(() => processesNaming(run.dataDir).length === 0, `every process to end:\n${describeProcesses(processesNaming(run.dataDir))}`, 30_000).catch(
    () => {
      throw new Error(`left behind after exit (${code}):\n${describeProcesses(processesNaming(run.dataDir))}\n--- output:\n${run.output()}`);
    },
  );
}

const STACK_TRACE = /^\s+at .*(\d+:\d+\)?|<anonymous>\)?)$/m;

async function upAndCapturing(run: Run): Promise<void> {
  await until(() => /alertcap local stack is up/.test(run.output()), "the stack to be up", 60_000);
  const url = /webhook:\s+(\S+)/.exec(run.output())![1]!;
  const accepted = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: SAMPLE_ALERT });
  expect(accepted.status).toBe(202);
  const { statusUrl, id } = (await accepted.json()) as { id: string; statusUrl: string };
  expect(statusUrl).toMatch(new RegExp(`/api/captures/${id}$`));
  const status = url.replace("/api/alerts?", `/api/captures/${id}?`);
  // Network Watcher says Running once the emulated capture records (tcpdump, where it can run here).
  await until(
    async () => ((await (await fetch(status)).json()) as { networkWatcherStatus?: string }).networkWatcherStatus === "Running",
    "the capture to run",
    60_000,
  );
}

describe("npm start stops every process it started", () => {
  // Where tcpdump can record, the capture's tcpdump (under `timeout`) is among the processes that must end.
  it("on SIGINT to the node process while a capture records", async () => {
    const run = await launch("node");
    await upAndCapturing(run);
    process.kill(run.child.pid!, "SIGINT");
    await nothingLeftOf(run);
    expect(await run.exited).toBe(0);
    expect(run.stderr()).not.toMatch(STACK_TRACE);
    expect(run.output()).not.toMatch(STACK_TRACE);
  }, 120_000);

  it("on SIGTERM to npm (npm's sh dies without passing it on)", async () => {
    const run = await launch("npm");
    await upAndCapturing(run);
    process.kill(run.child.pid!, "SIGTERM");
    await nothingLeftOf(run);
    expect(run.output()).not.toMatch(STACK_TRACE);
  }, 120_000);

  it("on Ctrl-C in the terminal running npm start (SIGINT to its whole process group)", async () => {
    const run = await launch("npm");
    await until(() => /alertcap local stack is up/.test(run.output()), "the stack to be up", 60_000);
    process.kill(-run.child.pid!, "SIGINT");
    await nothingLeftOf(run);
    expect(run.output()).not.toMatch(STACK_TRACE);
  }, 120_000);

  it("on SIGTERM to the node process while the stack is still starting", async () => {
    const run = await launch("node");
    // Azurite is up, the emulator or the host may be starting.
    await until(() => /\[azurite\]/.test(run.output()), "Azurite to be up", 60_000);
    process.kill(run.child.pid!, "SIGTERM");
    await nothingLeftOf(run);
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toMatch(STACK_TRACE);
    expect(run.output()).not.toMatch(/did not start/);
  }, 120_000);
});

describe("a busy port", () => {
  for (const setting of ["PORT", "ALERTCAP_ARM_PORT"]) {
    it(`is one line naming ${setting}, exit code non-zero, nothing started`, async () => {
      const busy: Server = createServer();
      await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
      const port = (busy.address() as { port: number }).port;
      try {
        const run = await launch("node", { [setting]: String(port) });
        const code = await run.exited;
        expect(code).not.toBe(0);
        const lines = run.stderr().trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(setting);
        expect(lines[0]).toContain(String(port));
        await nothingLeftOf(run);
      } finally {
        busy.close();
      }
    }, 60_000);
  }
});
