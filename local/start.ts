// `npm start`: the whole alertcap workflow on this machine, no Azure needed — Azurite, the ARM emulator with a
// sample inventory, and the local Functions host running the app. Prints the webhook and a curl that fires an alert.
import { resolve } from "node:path";
import { SAMPLE_INVENTORY, startLocalStack } from "./stack.js";

const dataDir = resolve(process.env.ALERTCAP_DATA_DIR ?? ".alertcap");

function armPortFromEnv(value: string | undefined): number {
  const port = Number(value || "0");
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  console.error(`ALERTCAP_ARM_PORT must be an integer from 0 to 65535, got '${value}'`);
  process.exit(2);
}
const stack = await startLocalStack({
  dataDir,
  port: Number(process.env.PORT ?? "7071"),
  // The contract's fixed emulator port for curl, the Azure CLI and SDK scripts (a free one when unset).
  armPort: armPortFromEnv(process.env.ALERTCAP_ARM_PORT),
  inventoryPath: process.env.ALERTCAP_EMULATOR_INVENTORY ?? SAMPLE_INVENTORY,
  ...(process.env.ALERTCAP_EMULATOR_FAULTS ? { faults: process.env.ALERTCAP_EMULATOR_FAULTS } : {}),
  ...(process.env.ALERTCAP_FUNCTION_KEY ? { functionKey: process.env.ALERTCAP_FUNCTION_KEY } : {}),
  // The sample alerts capture for 60 s and poll every 10 s unless configured otherwise.
  appSettings: {
    ALERTCAP_CAPTURE_SECONDS: process.env.ALERTCAP_CAPTURE_SECONDS ?? "60",
    ALERTCAP_POLL_SECONDS: process.env.ALERTCAP_POLL_SECONDS ?? "10",
  },
  onLine: (service, line) => console.log(`[${service}] ${line}`),
});

const sample = resolve(import.meta.dirname, "../../local/samples/alert-vm-web-1-fired.json");
console.log(`
alertcap local stack is up
  webhook:        ${stack.url}/api/alerts?code=${stack.functionKey}
  captures:       ${stack.url}/api/captures?code=${stack.functionKey}
  function key:   ${stack.functionKey}${process.env.ALERTCAP_FUNCTION_KEY ? " (ALERTCAP_FUNCTION_KEY)" : " (generated; set ALERTCAP_FUNCTION_KEY to choose)"}
  ARM emulator:   ${stack.armUrl} (certificate ${stack.armCaCertPath})
  durable state:  ${dataDir}
  reports:        ${/BlobEndpoint=([^;]+)/.exec(stack.blobConnectionString)?.[1]}/network-watcher-logs/…report.html (Azurite; open one from the reportUrl of GET /api/captures/{id})

Fire a sample alert (VM vm-web-1 in the sample inventory):
  curl -s -X POST '${stack.url}/api/alerts?code=${stack.functionKey}' -H 'Content-Type: application/json' --data @${sample}
`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void stack.stop().then(() => process.exit(0)));
}
