// The whole alertcap workflow on one machine: Azurite for Blob storage, the ARM emulator in place of Azure Resource
// Manager, and the local Functions host running the app with the app settings that point it at both.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { azuriteConnectionString, provisionCaptureContainer, type Service, startAzurite, startEmulator, startFunctionsHost } from "./services.js";

export interface LocalStackOptions {
  dataDir: string;
  /** The Functions host's port (default 7071; 0 picks a free one). */
  port?: number;
  /** The ARM emulator's port (`ALERTCAP_ARM_PORT`; default 0: a free one, printed). */
  armPort?: number;
  inventoryPath?: string;
  faults?: string;
  /** Emulated Network Watcher runs this many times faster than the real service. */
  emulatorSpeed?: number;
  /**
   * Synthetic capture files instead of tcpdump: for load tests, where a hundred tcpdumps each copying all loopback
   * traffic would measure tcpdump rather than alertcap.
   */
  packetSource?: "auto" | "tcpdump" | "synthetic";
  /** The storagePath form of the emulator's scale-set captures (see local/arm-emulator/README.md). */
  scaleSetStoragePath?: "cap" | "folder";
  functionKey?: string;
  /** App settings for the Functions host on top of the stack's own. */
  appSettings?: NodeJS.ProcessEnv;
  onLine?: (service: string, line: string) => void;
}

export interface LocalStack {
  url: string;
  functionKey: string;
  systemKey: string;
  /** The host's master key (admin level: /admin/host/status). */
  masterKey: string;
  armUrl: string;
  armCaCertPath: string;
  blobConnectionString: string;
  host: Service;
  /** Starts the Functions host again on the same durable state (after a kill, say). */
  restartHost(): Promise<Service>;
  stop(): Promise<void>;
}

export const SAMPLE_INVENTORY = resolve(import.meta.dirname, "../../local/samples/inventory.json");
/** The storage account the sample inventory offers for captures. */
export const SAMPLE_STORAGE_ID =
  "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/alertcapcaptures";

/** The sample alerts capture for 60 s and poll every 10 s unless configured otherwise (`npm start`, `func start`). */
export const SAMPLE_CAPTURE_SETTINGS = { ALERTCAP_CAPTURE_SECONDS: "60", ALERTCAP_POLL_SECONDS: "10" } as const;

export interface EmulatorEndpoints {
  armUrl: string;
  armCaCertPath: string;
  blobConnectionString: string;
}

/**
 * The app settings that point the app at the local emulators: what the local host runs the app with, and what
 * `local.settings.json.example` gives `func start` (test/localSettingsExample.test.ts keeps the two the same).
 */
export function localAppSettings(endpoints: EmulatorEndpoints, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ALERTCAP_TASK_HUB: "alertcaplocal",
    ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID,
    // The local stack captures anywhere in its emulated inventory unless told otherwise (Azure fails closed).
    ...(process.env.ALERTCAP_ALLOWED_SCOPES ? {} : { ALERTCAP_ALLOW_ANY_SCOPE: "true" }),
    ...overrides,
    ALERTCAP_ARM_ENDPOINT: endpoints.armUrl,
    ALERTCAP_ARM_CA_CERT: endpoints.armCaCertPath,
    ALERTCAP_CAPTURE_BLOB_CONNECTION: endpoints.blobConnectionString,
  };
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const echo = (service: string) => (options.onLine ? (line: string) => options.onLine!(service, line) : undefined);
  const started: Service[] = [];
  try {
    const azurite = await startAzurite(dataDir, 0, echo("azurite"));
    started.push(azurite);
    const blobConnectionString = azuriteConnectionString(azurite.ready[0]!);
    await provisionCaptureContainer(blobConnectionString);
    const emulator = await startEmulator({
      dataDir,
      inventoryPath: options.inventoryPath ?? SAMPLE_INVENTORY,
      blobConnectionString,
      ...(options.armPort ? { port: options.armPort } : {}),
      ...(options.faults ? { faults: options.faults } : {}),
      ...(options.emulatorSpeed ? { speed: options.emulatorSpeed } : {}),
      ...(options.packetSource ? { packetSource: options.packetSource } : {}),
      ...(options.scaleSetStoragePath ? { scaleSetStoragePath: options.scaleSetStoragePath } : {}),
      ...(echo("arm") ? { onLine: echo("arm")! } : {}),
    });
    started.push(emulator);
    const [armUrl, armCaCertPath] = emulator.ready as [string, string];

    const hostEnv: NodeJS.ProcessEnv = {
      ...localAppSettings({ armUrl, armCaCertPath, blobConnectionString }, options.appSettings),
      ...(options.functionKey ? { ALERTCAP_FUNCTION_KEY: options.functionKey } : {}),
    };
    const launchHost = (): Promise<Service> =>
      startFunctionsHost({ dataDir, port: options.port ?? 7071, env: hostEnv, ...(echo("host") ? { onLine: echo("host")! } : {}) });
    let host = await launchHost();
    started.push(host);
    const keys = JSON.parse(readFileSync(join(dataDir, "host-keys.json"), "utf8")) as { functionKey: string; systemKey: string; masterKey: string };
    const stack: LocalStack = {
      url: host.ready[0]!,
      functionKey: options.functionKey ?? keys.functionKey,
      systemKey: keys.systemKey,
      masterKey: keys.masterKey,
      armUrl,
      armCaCertPath,
      blobConnectionString,
      host,
      async restartHost() {
        await host.stop();
        host = await launchHost();
        stack.host = host;
        stack.url = host.ready[0]!;
        return host;
      },
      async stop() {
        await Promise.all([stack.host.stop(), emulator.stop(), azurite.stop()]);
      },
    };
    return stack;
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
}
