// `alertcap diff BASELINE INCIDENT [--json] [--html OUT]`: what changed between a baseline capture and an incident
// capture. Exit 0 with the diff; 1 with one line on stderr for a file that cannot be read or written; 2 for bad usage
// or input that is not a capture we can read (as `alertcap analyze`).
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { diffCaptures } from "../domain/diff/captureDiff.js";
import { diffHtml } from "../domain/diff/diffHtml.js";
import { diffText } from "../domain/diff/diffText.js";
import { profileCapture, type CaptureProfile } from "../domain/pcap/captureProfile.js";
import { CaptureFormatError } from "../domain/pcap/errors.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { describe } from "./analyze.js";
import { argumentsOrExit } from "./commandArguments.js";

const USAGE = "usage: alertcap diff BASELINE INCIDENT [--json] [--html OUT]";
/** Longer lists than analyze's default top 10, so per-server and per-host rates cover more than the busiest few. */
const TOP_N = 64;

interface Arguments {
  files: string[];
  json: boolean;
  html: string | null;
}

function parseArguments(args: string[]): Arguments | string {
  const files: string[] = [];
  let json = false;
  let html: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--json") json = true;
    else if (arg === "--html") {
      html = args[++i] ?? null;
      if (!html) return "--html needs an output file";
    } else if (arg.startsWith("-") && arg !== "-") return `unknown option ${arg}`;
    else files.push(arg);
  }
  if (files.length < 2) return "needs two capture files, BASELINE and INCIDENT";
  if (files.length > 2) return `unexpected argument ${files[2]}`;
  if (files[0] === "-" && files[1] === "-") return "only one of the files can be stdin (-)";
  return { files, json, html };
}

class Failure {
  constructor(
    readonly exitCode: number,
    readonly line: string,
  ) {}
}

async function profile(file: string): Promise<CaptureProfile> {
  try {
    return await profileCapture(file === "-" ? process.stdin : fileChunks(file), { topN: TOP_N });
  } catch (error) {
    if (error instanceof CaptureFormatError) throw new Failure(2, `${file}: ${error.message}`);
    throw new Failure(1, `${file}: ${describe(error)}`);
  }
}

async function run(args: string[]): Promise<number> {
  const parsed = argumentsOrExit("diff", USAGE, args, parseArguments);
  if (typeof parsed === "number") return parsed;
  const [baselineFile, incidentFile] = parsed.files as [string, string];
  const name = (file: string): string => (file === "-" ? "stdin" : basename(file));
  try {
    const diff = diffCaptures(await profile(baselineFile), await profile(incidentFile));
    if (parsed.html) {
      await writeFile(parsed.html, diffHtml(diff, name(baselineFile), name(incidentFile))).catch((error: unknown) => {
        throw new Failure(1, `cannot write ${parsed.html}: ${describe(error)}`);
      });
    }
    if (parsed.json) process.stdout.write(JSON.stringify(diff) + "\n");
    else process.stdout.write(diffText(diff, name(baselineFile), name(incidentFile)) + (parsed.html ? `HTML report written to ${parsed.html}\n` : ""));
    return 0;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    console.error(`alertcap diff: ${error.line}`);
    return error.exitCode;
  }
}

export const diff = {
  run,
};
