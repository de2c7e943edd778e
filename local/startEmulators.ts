// `npm run start:emulators`: Azurite (Blob, Queue, Table on their default ports 10000-10002) and the ARM emulator on
// a fixed port (ALERTCAP_ARM_PORT, default 7443), for running the app under Azure Functions Core Tools (`func start`,
// or F5 in VS Code) instead of the local host. Prints the app settings that point the app at them: they are
// local.settings.json.example's, so `cp local.settings.json.example local.settings.json` is all the setup.
// ALERTCAP_AZURITE_PORTS ("blob,queue,table") moves Azurite; ALERTCAP_DATA_DIR moves the data (default .alertcap/).
import { relative, resolve } from "node:path";
import { portFromEnv, stopOnSignals } from "./launcher.js";
import { AZURITE_DEFAULT_PORTS, type AzuritePorts, azuriteConnectionString, portInUse, provisionCaptureContainer, startAzuriteForFunctions, startEmulator } from "./services.js";
import { localAppSettings, SAMPLE_CAPTURE_SETTINGS, SAMPLE_INVENTORY } from "./stack.js";

/** The ARM emulator's port in local.settings.json.example. */
const DEFAULT_ARM_PORT = 7443;
const repositoryRoot = resolve(import.meta.dirname, "../..");

const stopping = stopOnSignals();
const dataDir = resolve(repositoryRoot, process.env.ALERTCAP_DATA_DIR ?? ".alertcap");
const armPort = portFromEnv("ALERTCAP_ARM_PORT", DEFAULT_ARM_PORT);
const azuritePorts = azuritePortsFromEnv(process.env.ALERTCAP_AZURITE_PORTS);
const wanted: [string, number][] = [
  ["ALERTCAP_ARM_PORT", armPort],
  ...Object.entries(azuritePorts).map(([kind, port]): [string, number] => [`Azurite's ${kind} port (ALERTCAP_AZURITE_PORTS)`, port]),
];
for (const [setting, port] of wanted) {
  if (await portInUse(port)) {
    console.error(`alertcap: port ${port} is already in use (${setting}): stop what listens there (another Azurite?) or set ${setting.replace(/.*\((.*)\)/, "$1")} to free ones.`);
    process.exit(1);
  }
}

const echo = (service: string) => (line: string) => console.log(`[${service}] ${line}`);
const started = await (async () => {
  const azurite = await startAzuriteForFunctions(dataDir, azuritePorts, echo("azurite"));
  const blobConnectionString = azuriteConnectionString(azurite.ready[0]!);
  await provisionCaptureContainer(blobConnectionString);
  const emulator = await startEmulator({
    dataDir,
    inventoryPath: process.env.ALERTCAP_EMULATOR_INVENTORY ?? SAMPLE_INVENTORY,
    blobConnectionString,
    port: armPort,
    ...(process.env.ALERTCAP_EMULATOR_FAULTS ? { faults: process.env.ALERTCAP_EMULATOR_FAULTS } : {}),
    onLine: echo("arm"),
  });
  const [armUrl, armCaCertPath] = emulator.ready as [string, string];
  return { azurite: azurite.ready, armUrl, armCaCertPath, blobConnectionString };
})().catch(async (error: unknown) => {
  if (stopping.requested) return stopping.done;
  console.error(`alertcap: the emulators did not start: ${(error as Error).message.split("\n")[0]}`);
  process.exit(1);
});

// Inside the repository the certificate is named relative to it: `func start` runs there, and the example stays
// the same on every machine.
const certPath = relative(repositoryRoot, started.armCaCertPath).startsWith("..") ? started.armCaCertPath : relative(repositoryRoot, started.armCaCertPath);
const values = {
  FUNCTIONS_WORKER_RUNTIME: "node",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
  ...localAppSettings({ armUrl: started.armUrl, armCaCertPath: certPath, blobConnectionString: started.blobConnectionString }, SAMPLE_CAPTURE_SETTINGS),
};
const defaults = armPort === DEFAULT_ARM_PORT && azuritePorts.blob === AZURITE_DEFAULT_PORTS.blob && !process.env.ALERTCAP_DATA_DIR;
console.log(`
alertcap emulators are up
  Azurite:       blob ${started.azurite[0]}, queue ${started.azurite[1]}, table ${started.azurite[2]} (data in ${resolve(dataDir, "azurite")})
  ARM emulator:  ${started.armUrl} (certificate ${started.armCaCertPath}; sample inventory, VM vm-web-1)

local.settings.json "Values" for func start${defaults ? " (local.settings.json.example has exactly these: cp local.settings.json.example local.settings.json)" : " (these ports or paths differ from local.settings.json.example's)"}:
${JSON.stringify(values, null, 2)}

Then, in another terminal: npm run build && func start   (or F5 in VS Code: .vscode/ starts these emulators itself)
Fire the sample alert (Core Tools does not enforce function keys locally):
  curl -s -X POST 'http://localhost:7071/api/alerts' -H 'Content-Type: application/json' --data @local/samples/alert-vm-web-1-fired.json
Ctrl-C stops both emulators.
`);

function azuritePortsFromEnv(value: string | undefined): AzuritePorts {
  if (!value) return { ...AZURITE_DEFAULT_PORTS };
  const ports = value.split(",").map((part) => Number(part.trim()));
  if (ports.length === 3 && ports.every((port) => Number.isInteger(port) && port >= 0 && port <= 65535)) {
    const [blob, queue, table] = ports as [number, number, number];
    return { blob, queue, table };
  }
  console.error(`alertcap: ALERTCAP_AZURITE_PORTS must be three ports "blob,queue,table", got '${value}'`);
  process.exit(2);
}
