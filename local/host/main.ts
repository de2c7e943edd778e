// `node dist/local/host/main.js [--script-root DIR] [--main GLOB] [--port N] [--data-dir DIR]`: the local Functions
// host on its own, for any app folder (the test suite runs it on a small sample app this way).
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startHost } from "./host.js";
import { redactSecrets } from "./log.js";

// Last line of defence: Node's own crash report prints an error's properties (a URL error carries the whole request
// target, `code=` key and all). Every request path answers by itself; anything that still escapes is reported as
// one redacted line, and a failed promise does not take the host down.
process.on("unhandledRejection", (reason) => console.error(redactSecrets(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`)));
process.on("uncaughtException", (error) => {
  console.error(redactSecrets(`fatal: ${error.stack ?? error.message}`));
  process.exit(1);
});

const { values } = parseArgs({
  options: {
    "script-root": { type: "string", default: "." },
    main: { type: "string" },
    port: { type: "string", default: process.env.PORT ?? "7071" },
    "data-dir": { type: "string", default: process.env.ALERTCAP_DATA_DIR ?? ".alertcap" },
  },
});

const host = await startHost({
  scriptRoot: values["script-root"],
  dataDir: values["data-dir"],
  port: Number(values.port),
  ...(values.main ? { main: values.main } : {}),
  ...(process.env.ALERTCAP_FUNCTION_KEY ? { functionKey: process.env.ALERTCAP_FUNCTION_KEY } : {}),
  // The app setting Azure reads to change the host's 100 MB request body limit.
  // Test switch: accept this many concurrent starts of one absent instance ID, as Azure Storage can.
  ...(process.env.ALERTCAP_HOST_START_RACE ? { startRace: Number(process.env.ALERTCAP_HOST_START_RACE) } : {}),
  ...(process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT ? { maxRequestBodyBytes: Number(process.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT) } : {}),
});
// Where the system key is, never the key itself: it opens every durable instance (start, terminate, purge, events).
console.log(`durable management API (/runtime/webhooks/durabletask): system key in ${join(resolve(values["data-dir"]), "host-keys.json")} ("systemKey")`);
console.log(`alertcap local host ready at ${host.url} (functions: ${host.functionNames.join(", ")})`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void host.close().then(() => process.exit(0)));
}
