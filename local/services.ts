// The local stack's three services, each its own process so that one can be killed and restarted alone (as a
// Functions host is in Azure while Storage and ARM carry on): Azurite, the ARM emulator, and the Functions host.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Service {
  name: string;
  /** What the ready patterns captured (their first group each). */
  ready: string[];
  output(): string;
  /** SIGKILL: nothing of the service's shutdown runs, as when a machine dies. */
  kill(): Promise<void>;
  stop(): Promise<void>;
  readonly process: ChildProcess;
}

export interface ServiceSpec {
  name: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Every pattern must match the service's output (its first group is kept) before it counts as ready. */
  readyPatterns: RegExp[];
  /** Called with each output line, e.g. to echo it with a prefix. */
  onLine?: (line: string) => void;
  timeoutMs?: number;
}

/** Every service child still running, so that a signal can stop them all, even those still starting. */
const running = new Set<ChildProcess>();
let shuttingDown = false;

/**
 * Stops every service this process started (SIGTERM, then SIGKILL with their descendants after the grace period)
 * and refuses to start more: for a signal that arrives while a stack is still starting.
 */
export async function stopAllServices(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  shuttingDown = true;
  await Promise.all([...running].map((child) => terminate(child, signal)));
}

/** Starts `node <args>` on the same Node binary as this process (Node 22 from node_modules). */
export function startService(spec: ServiceSpec): Promise<Service> {
  if (shuttingDown) return Promise.reject(new Error(`${spec.name} not started: shutting down`));
  const child = spawn(process.execPath, spec.args, { env: spec.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  // Output is kept as a list of chunks (the last ~4 MB): appending to one long string copies it on every chunk, and a
  // parent slow to read a chatty child's pipe blocks the child's own writes.
  const chunks: string[] = [];
  let kept = 0;
  const output = (): string => chunks.join("");
  let partial = "";
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    chunks.push(text);
    kept += text.length;
    while (kept > 4_000_000 && chunks.length > 1) kept -= chunks.shift()!.length;
    if (!spec.onLine) return;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) spec.onLine(line);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const service = (ready: string[]): Service => ({
    name: spec.name,
    ready,
    process: child,
    output,
    kill: () => terminate(child, "SIGKILL"),
    stop: () => terminate(child, "SIGTERM"),
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${spec.name} did not start within ${(spec.timeoutMs ?? 30_000) / 1000} s:\n${output()}`));
    }, spec.timeoutMs ?? 30_000);
    const check = (): void => {
      const text = output();
      const matches = spec.readyPatterns.map((p) => p.exec(text)?.[1]);
      if (matches.every((m) => m !== undefined)) {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        child.stderr!.off("data", check);
        child.off("exit", onExit);
        resolve(service(matches as string[]));
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code}) before it was ready:\n${output()}`));
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.once("exit", onExit);
  });
}

/** How long a service may take to shut down before it is killed: `npm start` promises to be gone within 5 s. */
const STOP_GRACE_MS = 3_500;

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => killTree(child), signal === "SIGKILL" ? 0 : STOP_GRACE_MS);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    if (signal === "SIGKILL") killTree(child);
    else child.kill(signal);
  });
}

/**
 * SIGKILL for a service and what it started: a killed ARM emulator cannot stop its tcpdumps, which run under
 * `timeout` in their own process group. Descendants are found through /proc (Linux); elsewhere only the service dies.
 */
function killTree(child: ChildProcess): void {
  if (child.pid !== undefined) {
    for (const pid of descendantsOf(child.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  child.kill("SIGKILL");
}

function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of entries) {
    try {
      // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // exited while listing
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of children.get(queue.shift()!) ?? []) {
      found.push(pid);
      queue.push(pid);
    }
  }
  return found;
}

/** Whether something already listens on 127.0.0.1:`port` (where every local service listens). */
export function portInUse(port: number): Promise<boolean> {
  if (port === 0) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? resolve(true) : reject(error)));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
  });
}

/** Azurite's well-known development account (public, documented; not a secret). */
const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export function azuriteConnectionString(blobUrl: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${blobUrl}/${AZURITE_ACCOUNT};`;
}

/**
 * Creates the capture container in Azurite, as `azd up` creates it in every capture account (infra/main.json,
 * `captureContainerName`): in Azure it exists before Network Watcher's first upload, so a recorder can secure a
 * lookback (and write its manifest) before any ring file has been uploaded.
 */
export async function provisionCaptureContainer(blobConnectionString: string): Promise<void> {
  const { BlobServiceClient } = await import("@azure/storage-blob");
  await BlobServiceClient.fromConnectionString(blobConnectionString).getContainerClient("network-watcher-logs").createIfNotExists();
}

/** Azurite's Blob service, data under `{dataDir}/azurite`. Ready value: its base URL. */
export function startAzurite(dataDir: string, port = 0, onLine?: (line: string) => void): Promise<Service> {
  const location = join(dataDir, "azurite");
  mkdirSync(location, { recursive: true });
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js");
  return startService({
    name: "azurite",
    args: [main, "--blobHost", "127.0.0.1", "--blobPort", String(port), "--location", location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    readyPatterns: [/successfully listens on (http:\/\/127\.0\.0\.1:\d+)/],
    ...(onLine ? { onLine } : {}),
  });
}

/** Azurite's default ports (blob, queue, table): what `UseDevelopmentStorage=true` means. */
export const AZURITE_DEFAULT_PORTS = { blob: 10000, queue: 10001, table: 10002 } as const;

export type AzuritePorts = { blob: number; queue: number; table: number };

/**
 * Azurite with Blob, Queue and Table (what the Durable extension under `func start` needs for
 * `AzureWebJobsStorage`), data under `{dataDir}/azurite`. Ready values: the three base URLs, in that order.
 */
export function startAzuriteForFunctions(dataDir: string, ports: AzuritePorts, onLine?: (line: string) => void): Promise<Service> {
  const location = join(dataDir, "azurite");
  mkdirSync(location, { recursive: true });
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const hosts = (["blob", "queue", "table"] as const).flatMap((kind) => [`--${kind}Host`, "127.0.0.1", `--${kind}Port`, String(ports[kind])]);
  return startService({
    name: "azurite",
    args: [main, ...hosts, "--location", location, "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    readyPatterns: (["Blob", "Queue", "Table"] as const).map((kind) => new RegExp(`Azurite ${kind} service is successfully listening at (http://127\\.0\\.0\\.1:\\d+)`)),
    ...(onLine ? { onLine } : {}),
  });
}

export interface EmulatorProcessOptions {
  dataDir: string;
  inventoryPath: string;
  blobConnectionString: string;
  port?: number;
  faults?: string;
  speed?: number;
  /** Where capture files come from: tcpdump on loopback (default when it can run) or synthetic packets. */
  packetSource?: "auto" | "tcpdump" | "synthetic";
  /** How a scale-set capture's storagePath ends (`ALERTCAP_EMULATOR_VMSS_STORAGE_PATH`): `cap` (default) or `folder`. */
  scaleSetStoragePath?: "cap" | "folder";
  onLine?: (line: string) => void;
}

/** The ARM emulator. Ready values: its HTTPS URL and the path of its certificate. */
export function startEmulator(options: EmulatorProcessOptions): Promise<Service> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ALERTCAP_DATA_DIR: options.dataDir,
    ALERTCAP_EMULATOR_INVENTORY: options.inventoryPath,
    ALERTCAP_EMULATOR_BLOB_CONNECTION: options.blobConnectionString,
    ALERTCAP_ARM_PORT: String(options.port ?? 0),
  };
  if (options.faults) env.ALERTCAP_EMULATOR_FAULTS = options.faults;
  if (options.speed) env.ALERTCAP_EMULATOR_SPEED = String(options.speed);
  if (options.packetSource) env.ALERTCAP_EMULATOR_PACKET_SOURCE = options.packetSource;
  if (options.scaleSetStoragePath) env.ALERTCAP_EMULATOR_VMSS_STORAGE_PATH = options.scaleSetStoragePath;
  return startService({
    name: "arm-emulator",
    args: [join(import.meta.dirname, "arm-emulator", "main.js")],
    env,
    readyPatterns: [/ARM emulator listening on (https:\/\/\S+)/, /ARM emulator certificate: (\S+)/],
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
}

export interface HostProcessOptions {
  dataDir: string;
  port?: number;
  /** A different app's main glob (the host's own tests run a sample app). */
  main?: string;
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
}

/** The local Functions host on this repository's app. Ready value: its base URL. */
export function startFunctionsHost(options: HostProcessOptions): Promise<Service> {
  const args = [join(import.meta.dirname, "host", "main.js"), "--port", String(options.port ?? 0), "--data-dir", options.dataDir];
  if (options.main) args.push("--main", options.main);
  return startService({
    name: "functions-host",
    args,
    env: { ...process.env, ...options.env },
    readyPatterns: [/ready at (http:\/\/127\.0\.0\.1:\d+)/],
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
}
