import { open } from "node:fs/promises";
import { decideAlertText, MAX_ALERT_BODY_BYTES, type AlertDecision } from "../domain/alerts/decide.js";

// `alertcap explain-alert FILE|-`: what the webhook would do with that body (same decideAlertText), as one JSON
// object on stdout. Exit 0 for capture, stop and ignore; 2 for reject or when the body cannot be read, with one
// line on stderr.

const USAGE = "usage: alertcap explain-alert FILE   (or - to read the alert body from stdin)";

export const explainAlert = {
  run: async (args: string[]): Promise<number> => {
    if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
      console.log(USAGE);
      return 0;
    }
    const [source, ...extra] = args;
    if (source === undefined || extra.length > 0) {
      console.error(USAGE);
      return 2;
    }
    let text: string;
    try {
      text = decodeUtf8(source === "-" ? await readStdin() : await readFileBounded(source));
    } catch (error) {
      const what = source === "-" ? "stdin" : source;
      // A file that cannot be read is an I/O error (exit 1), not an alert the webhook would reject (exit 2).
      if ((error as NodeJS.ErrnoException).code) {
        process.stderr.write(`alertcap explain-alert: cannot read ${what}: ${messageOf(error)}\n`);
        return 1;
      }
      return report(unreadable(`Cannot read ${what}: ${messageOf(error)}`));
    }
    return report(decideAlertText(text));
  },
};

function report(decision: AlertDecision): number {
  const { schema, decision: verdict, target, alertId, reason } = decision;
  process.stdout.write(`${JSON.stringify({ schema, decision: verdict, target, alertId, reason })}\n`);
  if (verdict !== "reject") return 0;
  process.stderr.write(`alertcap explain-alert: reject: ${reason.replace(/[\r\n]+/g, " ")}\n`);
  return 2;
}

function unreadable(reason: string): AlertDecision {
  return { schema: null, decision: "reject", target: null, alertId: null, reason, targets: [] };
}

class BodyTooLarge extends Error {
  constructor() {
    super(`it is larger than ${MAX_ALERT_BODY_BYTES} bytes, more than any Azure Monitor alert`);
  }
}

// Reads at most one byte past the limit, so pointing the command at a huge file (or /dev/zero) stays cheap.
async function readFileBounded(path: string): Promise<Uint8Array> {
  const file = await open(path, "r");
  try {
    const buffer = new Uint8Array(MAX_ALERT_BODY_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_ALERT_BODY_BYTES) throw new BodyTooLarge();
    return buffer.subarray(0, length);
  } finally {
    await file.close();
  }
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of process.stdin as AsyncIterable<Uint8Array>) {
    length += chunk.length;
    if (length > MAX_ALERT_BODY_BYTES) {
      process.stdin.destroy();
      throw new BodyTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // The decoder drops a leading byte-order mark, which some editors add to saved payloads.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error("it is not UTF-8 text");
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const known: Record<string, string> = {
      ENOENT: "no such file",
      EACCES: "permission denied",
      EISDIR: "it is a directory",
    };
    return (code && known[code]) ?? error.message;
  }
  return String(error);
}
