// `alertcap diff BASELINE INCIDENT [--json] [--html OUT]`: what changed between a baseline capture and an incident
// capture; either may be a folder of a scale set's instance files (merged, per instance, and instances against their
// siblings). `alertcap diff --siblings FILE|FOLDER...`: the instances of one capture against each other.
// Exit 0 with the diff; 1 with one line on stderr for a file that cannot be read or written; 2 for bad usage
// or input that is not a capture we can read (as `alertcap analyze`).
import { readdirSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { diffHtml } from "../domain/diff/diffHtml.js";
import { diffText } from "../domain/diff/diffText.js";
import { scaleSetDiff, type SideProfiles } from "../domain/diff/scaleSetDiff.js";
import { compareSiblings, type InstanceProfile } from "../domain/diff/siblingChanges.js";
import { analyzeInstances } from "../domain/pcap/analyzeInstances.js";
import { profileCapture } from "../domain/pcap/captureProfile.js";
import { CaptureFormatError } from "../domain/pcap/errors.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { describe } from "./analyze.js";
import { argumentsOrExit } from "./commandArguments.js";

const USAGE = "usage: alertcap diff BASELINE INCIDENT [--json] [--html OUT]\n       alertcap diff --siblings FOLDER|FILE... [--json]\n(BASELINE and INCIDENT: a capture file, or a folder of one file per scale-set instance)";
/** Longer lists than analyze's default top 10, so per-server and per-host rates cover more than the busiest few. */
const TOP_N = 64;

interface Arguments {
  files: string[];
  json: boolean;
  html: string | null;
  siblings: boolean;
}

function parseArguments(args: string[]): Arguments | string {
  const files: string[] = [];
  let json = false;
  let html: string | null = null;
  let siblings = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--json") json = true;
    else if (arg === "--siblings") siblings = true;
    else if (arg === "--html") {
      html = args[++i] ?? null;
      if (!html) return "--html needs an output file";
    } else if (arg.startsWith("-") && arg !== "-") return `unknown option ${arg}`;
    else files.push(arg);
  }
  if (siblings) {
    if (html) return "--html goes with BASELINE INCIDENT, not --siblings";
    if (files.length === 0) return "--siblings needs a folder of instance files, or several files";
    if (files.includes("-")) return "--siblings reads files, not stdin";
    return { files, json, html, siblings };
  }
  if (files.length < 2) return "needs two capture files, BASELINE and INCIDENT";
  if (files.length > 2) return `unexpected argument ${files[2]}`;
  if (files[0] === "-" && files[1] === "-") return "only one of the files can be stdin (-)";
  return { files, json, html, siblings };
}

class Failure {
  constructor(
    readonly exitCode: number,
    readonly line: string,
  ) {}
}

const CAPTURE_FILE = /\.(cap|pcap|pcapng)$/i;

function failure(file: string, error: unknown): Failure {
  if (error instanceof CaptureFormatError) return new Failure(2, `${file}: ${error.message}`);
  return new Failure(1, `${file}: ${describe(error)}`);
}

/**
 * The instance a file holds, by its name: `vmss-api_3_packetcapture_10_00_00_000.cap` (Network Watcher's scale-set
 * naming, the session folder's name repeated) and `vmss-api_3.cap` are instance 3; any other name stands for itself.
 * So the same instance matches across two captures whose session folders differ.
 */
export function instanceName(file: string): string {
  const stem = basename(file).replace(CAPTURE_FILE, "").replace(/_packetcapture_[\d_]+$/i, "");
  return /^(?:.*_)?(\d+)$/.exec(stem)?.[1] ?? stem;
}

function isFolder(path: string): boolean {
  try {
    return path !== "-" && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The capture files directly in a folder, in name order (numbers in names compared as numbers). */
function folderFiles(folder: string): string[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    throw failure(folder, error);
  }
  const files = names.filter((n) => CAPTURE_FILE.test(n)).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (files.length === 0) throw new Failure(2, `${folder}: no .cap, .pcap or .pcapng files in this folder`);
  return files.map((n) => join(folder, n));
}

/** Several files as one capture and per instance. A file that is not a capture stops the diff (as a single file does). */
async function instancesOf(files: string[]): Promise<SideProfiles> {
  const analysis = await analyzeInstances(
    files.map((file) => ({ instance: instanceName(file), open: async () => fileChunks(file) })),
    { topN: TOP_N, profiles: true },
  ).catch((error: unknown) => {
    throw failure(files.length === 1 ? files[0]! : "instance files", error);
  });
  const bad = analysis.instances.find((i) => i.error !== null);
  if (bad) throw new Failure(2, `${files[analysis.instances.indexOf(bad)]}: ${bad.error}`);
  const names = analysis.instances.map((i) => i.instance);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Failure(2, `two files hold instance ${twice}; name them apart`);
  const instances: InstanceProfile[] = analysis.instances.map((i) => ({ instance: i.instance, profile: i.profile! }));
  return { merged: analysis.mergedProfile!, instances };
}

/** A capture file (no instances), or a folder of instance files. */
async function side(path: string): Promise<SideProfiles> {
  if (isFolder(path)) return instancesOf(folderFiles(path));
  try {
    return { merged: await profileCapture(path === "-" ? process.stdin : fileChunks(path), { topN: TOP_N }), instances: [] };
  } catch (error) {
    throw failure(path, error);
  }
}

const name = (file: string): string => (file === "-" ? "stdin" : basename(file));

async function diffTwo(parsed: Arguments): Promise<void> {
  const [baselineFile, incidentFile] = parsed.files as [string, string];
  const diff = scaleSetDiff(await side(baselineFile), await side(incidentFile));
  if (parsed.html) {
    await writeFile(parsed.html, diffHtml(diff, name(baselineFile), name(incidentFile))).catch((error: unknown) => {
      throw new Failure(1, `cannot write ${parsed.html}: ${describe(error)}`);
    });
  }
  if (parsed.json) process.stdout.write(JSON.stringify(diff) + "\n");
  else process.stdout.write(diffText(diff, name(baselineFile), name(incidentFile)) + (parsed.html ? `HTML report written to ${parsed.html}\n` : ""));
}

async function diffSiblings(parsed: Arguments): Promise<void> {
  const files = parsed.files.length === 1 && isFolder(parsed.files[0]!) ? folderFiles(parsed.files[0]!) : parsed.files;
  if (files.length < 2) throw new Failure(2, "--siblings needs at least two instance files");
  const { instances } = await instancesOf(files);
  const siblings = compareSiblings(instances);
  if (parsed.json) {
    process.stdout.write(JSON.stringify({ ...siblings, instanceNames: instances.map((i) => i.instance) }) + "\n");
    return;
  }
  const lines = [`Instances against their siblings: ${instances.map((i) => i.instance).join(", ")}`, ""];
  if (siblings.findings.length === 0) lines.push(`  No instance's failure rates differ from its siblings' beyond chance (p < ${siblings.significanceLevel} each).`);
  else lines.push(...siblings.findings.map((f) => `  - ${f}`));
  process.stdout.write(lines.join("\n") + "\n");
}

async function run(args: string[]): Promise<number> {
  const parsed = argumentsOrExit("diff", USAGE, args, parseArguments);
  if (typeof parsed === "number") return parsed;
  try {
    await (parsed.siblings ? diffSiblings(parsed) : diffTwo(parsed));
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
