// `npm start`: the whole alertcap workflow on this machine, no Azure needed. Today it runs the local Functions host
// on the app; the ARM emulator and Azurite join it as they land.
import { startHost } from "./host/host.js";

const dataDir = process.env.ALERTCAP_DATA_DIR ?? ".alertcap";
// host.json takes the task hub name from this app setting, as in Azure.
process.env.ALERTCAP_TASK_HUB ??= "alertcaplocal";
const host = await startHost({
  scriptRoot: ".",
  dataDir,
  port: Number(process.env.PORT ?? "7071"),
  ...(process.env.ALERTCAP_FUNCTION_KEY ? { functionKey: process.env.ALERTCAP_FUNCTION_KEY } : {}),
  ...(process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT ? { maxRequestBodyBytes: Number(process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT) } : {}),
});

console.log(`alertcap local stack ready at ${host.url}`);
console.log(`  functions: ${host.functionNames.join(", ")}`);
console.log(`  function key: ${host.keys.functionKey}${process.env.ALERTCAP_FUNCTION_KEY ? " (from ALERTCAP_FUNCTION_KEY)" : " (generated; set ALERTCAP_FUNCTION_KEY to choose one)"}`);
console.log(`  durable state: ${dataDir}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void host.close().then(() => process.exit(0)));
}
