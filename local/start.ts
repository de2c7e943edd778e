// `npm start`: the whole alertcap workflow on this machine, no Azure needed — Azurite, the ARM emulator with a
// sample inventory, and the local Functions host running the app. Prints the webhook and a curl that fires an alert.
// Ctrl-C, SIGINT, SIGTERM or SIGHUP stops every child (and what the emulator started) within 5 s.
import { resolve } from "node:path";
import { portFromEnv, stopOnSignals } from "./launcher.js";
import { portInUse } from "./services.js";
import { SAMPLE_CAPTURE_SETTINGS, SAMPLE_INVENTORY, startLocalStack } from "./stack.js";

const stopping = stopOnSignals();
const dataDir = resolve(process.env.ALERTCAP_DATA_DIR ?? ".alertcap");
const port = portFromEnv("PORT", 7071);
// The contract's fixed emulator port for curl, the Azure CLI and SDK scripts (a free one when unset).
const armPort = portFromEnv("ALERTCAP_ARM_PORT", 0);
for (const [setting, value] of [["PORT", port], ["ALERTCAP_ARM_PORT", armPort]] as const) {
  if (await portInUse(value)) {
    console.error(`alertcap: port ${value} is already in use (${setting}): stop what listens there or set ${setting} to a free port.`);
    process.exit(1);
  }
}
const appSettings = {
  ALERTCAP_CAPTURE_SECONDS: process.env.ALERTCAP_CAPTURE_SECONDS ?? SAMPLE_CAPTURE_SETTINGS.ALERTCAP_CAPTURE_SECONDS,
  ALERTCAP_POLL_SECONDS: process.env.ALERTCAP_POLL_SECONDS ?? SAMPLE_CAPTURE_SETTINGS.ALERTCAP_POLL_SECONDS,
};

const stack = await startLocalStack({
  dataDir,
  port,
  armPort,
  inventoryPath: process.env.ALERTCAP_EMULATOR_INVENTORY ?? SAMPLE_INVENTORY,
  ...(process.env.ALERTCAP_EMULATOR_FAULTS ? { faults: process.env.ALERTCAP_EMULATOR_FAULTS } : {}),
  ...(process.env.ALERTCAP_FUNCTION_KEY ? { functionKey: process.env.ALERTCAP_FUNCTION_KEY } : {}),
  appSettings,
  onLine: (service, line) => console.log(`[${service}] ${line}`),
}).catch(async (error: unknown) => {
  // A signal during start-up makes the services starting fail: that is the stop asked for, not an error.
  if (stopping.requested) return stopping.done;
  console.error(`alertcap: the local stack did not start: ${(error as Error).message.split("\n")[0]}`);
  process.exit(1);
});

const sample = resolve(import.meta.dirname, "../../local/samples/alert-vm-web-1-fired.json");
const captureSeconds = Number(appSettings.ALERTCAP_CAPTURE_SECONDS);
const pollSeconds = Number(appSettings.ALERTCAP_POLL_SECONDS);
const speed = Number(process.env.ALERTCAP_EMULATOR_SPEED || "1");
const [fastest, slowest] = sampleDurationSeconds(captureSeconds, pollSeconds, speed);
const blobAccountUrl = /BlobEndpoint=([^;]+)/.exec(stack.blobConnectionString)?.[1];
console.log(`
alertcap local stack is up
  webhook:        ${stack.url}/api/alerts?code=${stack.functionKey}
  captures:       ${stack.url}/api/captures?code=${stack.functionKey}
  function key:   ${stack.functionKey}${process.env.ALERTCAP_FUNCTION_KEY ? " (ALERTCAP_FUNCTION_KEY)" : " (generated; set ALERTCAP_FUNCTION_KEY to choose)"}
  system key:     kept in ${resolve(dataDir, "host-keys.json")} (durable management API)
  ARM emulator:   ${stack.armUrl} (certificate ${stack.armCaCertPath}; emulator speed ${speed})
  durable state:  ${dataDir}
  capture:        ${captureSeconds} s (ALERTCAP_CAPTURE_SECONDS), status polled at most every ${pollSeconds} s (ALERTCAP_POLL_SECONDS)
  sample takes:   about ${fastest}–${slowest} s from the curl to "completed" (an estimate: capture time + Azure-paced create, status queries and delete + analysis)
  reports:        Azurite container network-watcher-logs (${blobAccountUrl}/network-watcher-logs), <capture>.report.html beside each capture file; open one from the reportUrl of GET /api/captures/{id}
  traffic:        the emulated capture records traffic generated for the emulated VMs only, nothing else on this machine

Fire a sample alert (VM vm-web-1 in the sample inventory):
  curl -s -X POST '${stack.url}/api/alerts?code=${stack.functionKey}' -H 'Content-Type: application/json' --data @${sample}
Ctrl-C stops everything.
`);

/**
 * How long the sample capture takes from the alert to `completed`, fastest and slowest, at the emulator's recorded
 * pace: the create (~2 s) and the capture's start (~1 s), the capture itself, the status query that sees it stopped
 * (it answers ~10 s after it was asked: at best just after the stop, at worst a poll interval and a query later),
 * analysis (well under a second for a minute's capture) and the delete (~10 s; the report exists before it).
 * Emulated durations, capture time included, are divided by the emulator speed; the poll interval is real time.
 * Measured: 78 s for 60 s / 10 s at speed 1.
 */
function sampleDurationSeconds(capture: number, poll: number, emulatorSpeed: number): [number, number] {
  const [create, captureStart, statusQuery, remove] = [2, 1, 10, 10];
  const fastest = Math.ceil((create + captureStart + capture + remove) / emulatorSpeed) + 1;
  return [fastest, Math.ceil(fastest + poll + statusQuery / emulatorSpeed)];
}
