// Azurite's blob service as a child process, for tests that need capture files in Blob storage
// (shared/docs/toolchain.md: --skipApiVersionCheck is required with @azure/storage-blob 12.34).

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ACCOUNT = "devstoreaccount1";
const WELL_KNOWN_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface RunningAzurite {
  port: number;
  connectionString: string;
  stop(): Promise<void>;
}

export async function startAzuriteBlob(): Promise<RunningAzurite> {
  const location = mkdtempSync(join(tmpdir(), "alertcap-azurite-"));
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js");
  const child = spawn(
    process.execPath,
    [main, "--blobHost", "127.0.0.1", "--blobPort", "0", "--location", location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`Azurite did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}: ${output}`));
    });
  });
  return {
    port,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${WELL_KNOWN_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
    stop: () => stopChild(child).finally(() => rmSync(location, { recursive: true, force: true })),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
