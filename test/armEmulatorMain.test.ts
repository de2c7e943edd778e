// The standalone emulator (`node dist/local/arm-emulator/main.js`): settings from the environment, URL and
// certificate path printed, certificate kept across restarts, clean exit on SIGTERM, one-line errors.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";

const MAIN = fileURLToPath(new URL("../local/arm-emulator/main.js", import.meta.url));
const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";

const children: ChildProcess[] = [];
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "arm-emulator-test-"));
  tempDirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  }
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  certPath: string;
}

function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /listening on (https:\/\/\S+)/.exec(stdout)?.[1];
      const certPath = /certificate: (\S+)/.exec(stdout)?.[1];
      if (url && certPath) resolve({ child, url, certPath });
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("standalone emulator", () => {
  it("reads its settings from the environment and prints URL and certificate path", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const env = {
      ALERTCAP_DATA_DIR: dataDir,
      ALERTCAP_ARM_PORT: String(port),
      ALERTCAP_EMULATOR_INVENTORY: SAMPLE_INVENTORY,
      ALERTCAP_EMULATOR_FAULTS: JSON.stringify({ seed: 3, rules: [{ kind: "throttle", operation: "NetworkWatchers_Get", times: 1 }] }),
      ALERTCAP_EMULATOR_SPEED: "10",
    };
    const first = await startMain(env);
    expect(first.url).toBe(`https://127.0.0.1:${port}`);
    expect(first.certPath).toBe(join(dataDir, "arm-emulator-cert.pem"));
    const endpoint = { url: first.url, caCertPem: readFileSync(first.certPath, "utf8") };
    const watcherPath = `/subscriptions/${SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westus2?api-version=2026-01-01`;
    expect((await rawArmRequest(endpoint, { path: watcherPath })).status).toBe(429);
    expect((await rawArmRequest(endpoint, { path: watcherPath })).status).toBe(200);
    first.child.kill("SIGTERM");
    expect(await exitOf(first.child)).toBe(0);

    // Restarted with the same data directory, it keeps its certificate, so clients that trust it keep working.
    const second = await startMain({ ...env, ALERTCAP_ARM_PORT: "0" });
    expect(readFileSync(second.certPath, "utf8")).toBe(endpoint.caCertPem);
    expect(second.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await rawArmRequest({ url: second.url, caCertPem: endpoint.caCertPem }, { path: watcherPath })).status).toBe(429);
    second.child.kill("SIGTERM");
    expect(await exitOf(second.child)).toBe(0);
  });

  it("fails with one line and exit status 2 on a broken inventory", async () => {
    const dataDir = tempDir();
    const inventory = join(dataDir, "inventory.json");
    writeFileSync(inventory, JSON.stringify({ virtualMachines: [{ id: "not-an-id", location: "westus2" }] }));
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env["PATH"] ?? "", ALERTCAP_DATA_DIR: dataDir, ALERTCAP_EMULATOR_INVENTORY: inventory },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(child)).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("virtualMachines[].id: 'not-an-id' is not a Microsoft.Compute/virtualMachines resource ID");
  });
});
