// `alertcap recorder arm|disarm|list`: the flight recorder's API (functions/recorders.ts) from the command line. The
// app is named by its URL (or the webhook URL `setup-alert` takes, whose `?code=` is the function key); the key goes
// in the x-functions-key header, never in a printed URL. Exit 0 when done; 2 with one line for bad arguments; 1 with
// one line for an answer that is not a success.
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { isRecorderId, targetRef } from "../domain/recorder/armRequest.js";
import { recorderInstanceId } from "../domain/recorder/plan.js";

const COMMAND = "alertcap recorder";

const HELP = `usage: ${COMMAND} arm TARGET_ID [--app URL] [--key KEY]
       ${COMMAND} disarm TARGET_ID|RECORDER_ID [--app URL] [--key KEY]
       ${COMMAND} list [TARGET_ID|RECORDER_ID] [--app URL] [--key KEY] [--json]

Arms a flight recorder (a Network Watcher continuous capture kept running and renewed) on a VM or scale set, disarms
it, or shows what recorders do. When an alert fires on an armed target, the minutes before it are secured with the
capture (docs/flight-recorder.md).

  TARGET_ID      /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<vm>
                 (or …/virtualMachineScaleSets/<vmss>)
  RECORDER_ID    rec-<name>-<hash>, as arm and list print it
  --app URL      the Function App: https://<app>.azurewebsites.net, or the webhook URL with ?code=<key>
                 (default $ALERTCAP_APP_URL; the local stack prints its URL when it starts)
  --key KEY      a function key (default: the URL's code=, else $ALERTCAP_FUNCTION_KEY)
  --json         list: print the API's JSON answer
  -h, --help     this text`;

interface RecorderArguments {
  action: "arm" | "disarm" | "list";
  /** The recorder ID (arm: null, the target goes in the body). */
  id: string | null;
  target: string | null;
  app: URL;
  key: string;
  json: boolean;
}

class UsageError extends Error {}

export const recorder = {
  run: async (args: string[]): Promise<number> => {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(HELP);
      return 0;
    }
    let parsed: RecorderArguments;
    try {
      parsed = parseArguments(args, process.env);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`${COMMAND}: ${error.message} (see --help)\n`);
      return 2;
    }
    try {
      return await send(parsed, (line) => process.stdout.write(`${line}\n`));
    } catch (error) {
      process.stderr.write(`${COMMAND}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]!.replaceAll(parsed.key, "***")}\n`);
      return 1;
    }
  },
};

export function parseArguments(args: string[], env: Record<string, string | undefined>): RecorderArguments {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name === "--json") json = true;
    else if (name === "--app" || name === "--key") {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else if (name.startsWith("-")) throw new UsageError(`unknown option ${name}`);
    else positional.push(arg);
  }
  const [action, subject, ...extra] = positional;
  if (action !== "arm" && action !== "disarm" && action !== "list") throw new UsageError(action ? `unknown action '${action.slice(0, 40)}': use arm, disarm or list` : "arm, disarm or list is required");
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]!.slice(0, 80)}'`);
  if (action !== "list" && subject === undefined) throw new UsageError(`${action} needs the target's ARM ID${action === "disarm" ? " or the recorder ID" : ""}`);
  if (json && action !== "list") throw new UsageError("--json goes with list");

  let id: string | null = null;
  let target: string | null = null;
  if (subject !== undefined) {
    if (isRecorderId(subject)) {
      if (action === "arm") throw new UsageError("arm takes the target's ARM ID, not a recorder ID");
      id = subject;
    } else {
      const parsed = parseCaptureTarget(subject);
      if (!parsed.ok) throw new UsageError(parsed.error.replace(/\.$/, ""));
      target = parsed.target.id;
      id = action === "arm" ? null : recorderInstanceId(targetRef(parsed.target));
    }
  }

  const appText = values.get("--app") ?? env.ALERTCAP_APP_URL;
  if (!appText) throw new UsageError("--app is required (or set ALERTCAP_APP_URL): the Function App's URL");
  let app: URL;
  try {
    app = new URL(appText);
  } catch {
    throw new UsageError("--app must be a URL such as https://<app>.azurewebsites.net");
  }
  if (app.protocol !== "https:" && !(app.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(app.hostname))) {
    throw new UsageError("--app must be an https URL (plain http only for the local stack on this machine): the function key must not cross the network in clear");
  }
  const key = values.get("--key") ?? app.searchParams.get("code") ?? env.ALERTCAP_FUNCTION_KEY;
  if (!key) throw new UsageError("--key is required (or a --app URL with ?code=, or ALERTCAP_FUNCTION_KEY): a function key of the app");
  return { action, id, target, app: new URL(app.origin), key, json };
}

async function send(args: RecorderArguments, print: (line: string) => void): Promise<number> {
  const path = args.id ? `/api/recorders/${encodeURIComponent(args.id)}` : "/api/recorders";
  const method = args.action === "arm" ? "POST" : args.action === "disarm" ? "DELETE" : "GET";
  const response = await fetch(new URL(path, args.app), {
    method,
    headers: { "x-functions-key": args.key, ...(method === "POST" ? { "content-type": "application/json" } : {}) },
    ...(method === "POST" ? { body: JSON.stringify({ target: args.target }) } : {}),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A gateway's HTML page, an empty 401: the status says it.
  }
  if (!response.ok) {
    const why = typeof body.error === "string" ? body.error : response.status === 401 ? "the function key was refused" : `${response.status} ${response.statusText}`;
    throw new Error(`${method} ${path} answered ${response.status}: ${why}`);
  }
  if (args.action === "list" && args.json) {
    print(JSON.stringify(body, null, 2));
    return 0;
  }
  if (args.action === "arm") {
    print(`${body.outcome === "already-armed" ? "already armed" : "arming"}  ${String(body.id)}  ${String(body.target)}`);
    print(`status: ${COMMAND} list ${String(body.id)}`);
    return 0;
  }
  if (args.action === "disarm") {
    print(`disarming  ${String(body.id)}`);
    return 0;
  }
  const recorders = Array.isArray(body.recorders) ? (body.recorders as Array<Record<string, unknown>>) : [body];
  if (recorders.length === 0) print("no recorders");
  for (const r of recorders) print(describe(r));
  return 0;
}

/** One recorder in a few lines: what it records now, how often it renewed and re-armed, what went wrong last. */
function describe(r: Record<string, unknown>): string {
  const session = r.session as { name?: string } | null | undefined;
  const lines = [
    `${String(r.id)}  ${String(r.phase ?? r.runtimeStatus)}  ${String(r.target ?? "")}`,
    `  session ${session?.name ?? "none"} (${String(r.sessionStatus ?? "-")}), renewals ${Number(r.renewals ?? 0)}, re-arms ${Number(r.rearms ?? 0)}`,
  ];
  if (Array.isArray(r.files)) lines.push(`  ring files uploaded: ${r.files.length}`);
  if (typeof r.lastError === "string") lines.push(`  last error: ${r.lastError}`);
  const notes = Array.isArray(r.notes) ? (r.notes as string[]) : [];
  if (notes.length > 0) lines.push(`  last: ${notes.at(-1)}`);
  return lines.join("\n");
}
