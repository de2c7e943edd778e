// Runs the local host as a separate process, as `npm start` does, so tests go through real HTTP and can kill it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface HostProcess {
  url: string;
  functionKey: string;
  systemKey: string;
  dataDir: string;
  output(): string;
  /** SIGKILL: no shutdown code runs, as when a machine dies. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface HostProcessOptions {
  main?: string;
  dataDir?: string;
  env?: Record<string, string>;
  /** The script to run (default: the bare host); `dist/local/start.js` runs the whole local stack. */
  entry?: string;
  args?: string[];
  readyPattern?: RegExp;
}

export async function startHostProcess(options: HostProcessOptions = {}): Promise<HostProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "alertcap-host-"));
  const functionKey = options.env?.ALERTCAP_FUNCTION_KEY ?? "test-function-key";
  const args = [options.entry ?? "dist/local/host/main.js", "--port", "0", "--data-dir", dataDir, ...(options.args ?? [])];
  if (options.main) args.push("--main", options.main);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env, ALERTCAP_FUNCTION_KEY: functionKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitForReady(child, () => output, options.readyPattern ?? /ready at (http:\/\/127\.0\.0\.1:\d+)/);
  const keys = JSON.parse(readFileSync(join(dataDir, "host-keys.json"), "utf8")) as { systemKey: string };
  return {
    url,
    functionKey,
    systemKey: keys.systemKey,
    dataDir,
    output: () => output,
    kill: () => terminate(child, "SIGKILL"),
    stop: () => terminate(child, "SIGTERM"),
  };
}

function waitForReady(child: ChildProcess, output: () => string, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not start within 30 s:\n${output()}`)), 30_000);
    const check = (): void => {
      const match = pattern.exec(output());
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code} before it was ready:\n${output()}`));
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Polls `probe` until it returns a value (not undefined) or the time runs out. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
