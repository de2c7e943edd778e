// `alertcap analyze FILE [--json] [--html OUT] [--flows N] [--top N]`: triage summary of a pcap/pcapng capture.
// Exit 0 with a summary (also for a truncated file, flagged in it); 2 with one line on stderr for bad usage, an
// unreadable file, or input that is not a capture we can read.
// The HTML and text reports are imported when asked for (start-up is a good part of a run on a small capture).
import { basename } from "node:path";
import { analyzeCapture, CaptureFormatError, type AnalyzeOptions } from "../domain/pcap/analyzeCapture.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { argumentsOrExit } from "./commandArguments.js";

const USAGE = "usage: alertcap analyze FILE|- [--json] [--html OUT] [--flows N] [--top N]";

interface Arguments {
  file: string;
  json: boolean;
  html: string | null;
  options: AnalyzeOptions;
}

function parseArguments(args: string[]): Arguments | string {
  let file: string | null = null;
  let json = false;
  let html: string | null = null;
  const options: AnalyzeOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string | null => args[++i] ?? null;
    if (arg === "--json") json = true;
    else if (arg === "--html") {
      html = value();
      if (!html) return "--html needs an output file";
    } else if (arg === "--flows" || arg === "--top") {
      const count = Number(value());
      if (!Number.isInteger(count) || count < 1) return `${arg} needs a positive whole number`;
      if (arg === "--flows") options.flowTableCapacity = count;
      else options.topN = count;
    } else if (arg.startsWith("-") && arg !== "-") return `unknown option ${arg}`;
    else if (file === null) file = arg;
    else return `unexpected argument ${arg}`;
  }
  if (file === null) return "missing FILE";
  return { file, json, html, options };
}

async function run(args: string[]): Promise<number> {
  const parsed = argumentsOrExit("analyze", USAGE, args, parseArguments);
  if (typeof parsed === "number") return parsed;
  const source = parsed.file === "-" ? process.stdin : fileChunks(parsed.file);
  const name = parsed.file === "-" ? "stdin" : basename(parsed.file);
  let summary;
  try {
    summary = await analyzeCapture(source, parsed.options);
  } catch (error) {
    console.error(`alertcap analyze: ${parsed.file}: ${describe(error)}`);
    return exitCodeFor(error);
  }
  if (parsed.html) {
    const [{ htmlReport }, { writeFile }] = await Promise.all([import("../domain/pcap/htmlReport.js"), import("node:fs/promises")]);
    try {
      await writeFile(parsed.html, htmlReport(summary, { title: name }));
    } catch (error) {
      console.error(`alertcap analyze: cannot write ${parsed.html}: ${describe(error)}`);
      return 1;
    }
  }
  if (parsed.json) writeStdout(JSON.stringify(summary) + "\n");
  else {
    const { textReport } = await import("../domain/pcap/textReport.js");
    writeStdout(textReport(summary, name) + (parsed.html ? `\nHTML report written to ${parsed.html}\n` : ""));
  }
  return 0;
}

/**
 * Writes straight to file descriptor 1. process.stdout on a pipe is a net.Socket, whose first use loads net and the
 * stream modules (~5 ms of a run on a small capture). Should a write fail (a full non-blocking pipe: EAGAIN; a closed
 * one: EPIPE), the rest goes through process.stdout, which waits for room or reports the error as it always did.
 */
function writeStdout(text: string): void {
  const { writeSync } = process.getBuiltinModule("node:fs");
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch {
    process.stdout.write(bytes.subarray(written));
  }
}

/** The contract's exit codes: 1 for a file that cannot be read (I/O), 2 for input that is not a capture alertcap reads. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof CaptureFormatError ? 2 : (error as NodeJS.ErrnoException | null)?.code ? 1 : 2;
}

export function describe(error: unknown): string {
  if (error instanceof CaptureFormatError) return error.message;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EISDIR") return "is a directory, not a capture file";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}

export const analyze = {
  run,
};
