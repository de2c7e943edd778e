// Runs the local host as a separate process (local/services.ts, as `npm start` does), so tests go through real
// HTTP and can kill it.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFunctionsHost } from "../../local/services.js";

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
  /** The app's main glob (the host's own tests run a sample app). */
  main?: string;
  dataDir?: string;
  env?: Record<string, string>;
}

export async function startHostProcess(options: HostProcessOptions = {}): Promise<HostProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "alertcap-host-"));
  const functionKey = options.env?.ALERTCAP_FUNCTION_KEY ?? "test-function-key";
  const host = await startFunctionsHost({
    dataDir,
    port: 0,
    ...(options.main ? { main: options.main } : {}),
    env: { ...options.env, ALERTCAP_FUNCTION_KEY: functionKey },
  });
  const keys = JSON.parse(readFileSync(join(dataDir, "host-keys.json"), "utf8")) as { systemKey: string };
  return { url: host.ready[0]!, functionKey, systemKey: keys.systemKey, dataDir, output: host.output, kill: host.kill, stop: host.stop };
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
