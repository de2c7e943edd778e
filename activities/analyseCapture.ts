// Analyses the capture where it lies in Blob storage, streaming it (never the whole file in memory), keeps the
// summary in the orchestration's output, and writes the HTML report next to the capture. A scale-set capture is a
// folder of one file per instance: every instance is analysed, and the summary is that of all of them together plus
// `instances` (one line of figures each); the findings name the instances that differ from the rest.
import * as df from "durable-functions";
import { type CaptureFile, listCaptureFiles, openListedCaptureFile, StoragePathRefusedError, writeReportBeside } from "../azure/captureFiles.js";
import { analyzeCapture, CaptureFormatError, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import { analyzeInstances, instanceFigures, instanceFindings, type InstanceFigures, siblingComparison } from "../domain/pcap/analyzeInstances.js";
import { htmlReport } from "../domain/pcap/htmlReport.js";
import { keyFindings } from "../domain/pcap/keyFindings.js";
import { readIncidentManifest } from "../azure/lookbackManifest.js";
import { analyzeIncident, type IncidentFile } from "../domain/incident/analyzeIncident.js";
import { lookbackInOrder, lookbackSecondsOf } from "../domain/incident/lookbackManifest.js";
import { ANALYSE_CAPTURE, type AnalyseInput, type AnalyseOutput, type LookbackInput } from "./contracts.js";

/** The output is kept in durable state: the summary without its timeline buckets stays small. */
function compact(summary: CaptureSummary): Omit<CaptureSummary, "timeline"> {
  const { timeline: _timeline, ...rest } = summary;
  return rest;
}

const MAX_FILES_IN_SUMMARY = 50;

const unreadable = (why: string): AnalyseOutput => ({ summary: null, findings: [`The capture file could not be analysed: ${why}`], reportPath: null });

async function analyseOne(storagePath: string, file: CaptureFile): Promise<AnalyseOutput> {
  let summary: CaptureSummary;
  try {
    summary = await analyzeCapture(await openListedCaptureFile(storagePath, file));
  } catch (error) {
    // A file we cannot read will not become readable by retrying: report it rather than fail the activity.
    if (error instanceof CaptureFormatError) return unreadable(error.message);
    throw error;
  }
  const name = file.blobName.split("/").at(-1) ?? "capture";
  const reportPath = await writeReportBeside(storagePath, htmlReport(summary, { title: name }));
  return { summary: compact(summary), findings: keyFindings(summary), reportPath };
}

async function analyseInstances(storagePath: string, files: CaptureFile[]): Promise<AnalyseOutput> {
  const analysis = await analyzeInstances(
    files.map((file) => ({ instance: file.instance ?? file.blobName, open: () => openListedCaptureFile(storagePath, file) })),
    { profiles: true },
  );
  const { merged, instances } = analysis;
  const siblings = siblingComparison(analysis);
  // Each line also names its blob, for whoever wants to open one instance's file.
  const figures: Array<InstanceFigures & { file: string }> = instances.map((analysis, i) => ({ ...instanceFigures(analysis), file: files[i]!.blobName }));
  const perInstance = [...instanceFindings(figures), ...siblings.findings];
  if (!merged) return { summary: { instances: figures }, findings: [...perInstance, "No instance's capture file could be analysed."], reportPath: null };
  const folder = new URL(storagePath).pathname.replace(/\/+$/, "").split("/").at(-1) ?? "capture";
  const reportPath = await writeReportBeside(storagePath, htmlReport(merged, { title: `${folder} (${files.length} instances)` }));
  return { summary: { ...compact(merged), instances: figures, siblings }, findings: [...perInstance, ...keyFindings(merged)], reportPath };
}

/**
 * The recorder's lookback files (from its manifest, each path checked as a capture's is) and the capture's own, as
 * one timeline with the alert marked; the onsets lead the findings. Without a readable manifest: the capture alone.
 */
async function analyseWithLookback(storagePath: string, files: CaptureFile[], lookback: LookbackInput): Promise<AnalyseOutput | null> {
  const manifest = await readIncidentManifest(storagePath, lookback.incidentId, lookback.firedAt);
  if (manifest === null || typeof manifest === "string") return null;
  const notes = [...manifest.notes, ...lookback.notes];
  const incidentFiles: IncidentFile[] = [];
  for (const secured of lookbackInOrder(manifest)) {
    try {
      const [listed] = await listCaptureFiles(secured.url);
      if (!listed) {
        notes.push(`The secured file ${secured.url.split("/").at(-1)} is no longer there.`);
        continue;
      }
      incidentFiles.push({ part: "lookback", instance: secured.instance, label: listed.blobName.split("/").at(-1)!, open: () => openListedCaptureFile(secured.url, listed) });
    } catch (error) {
      if (!(error instanceof StoragePathRefusedError)) throw error;
      notes.push(error.message);
    }
  }
  for (const file of files) {
    incidentFiles.push({ part: "forward", instance: file.instance, label: file.blobName.split("/").at(-1)!, open: () => openListedCaptureFile(storagePath, file) });
  }
  const lookbackSeconds = lookbackSecondsOf(manifest);
  const result = await analyzeIncident(incidentFiles, { alertAt: manifest.firedAt, lookbackSeconds });
  if (!result.merged) return unreadable("none of the lookback or capture files could be read.");
  const onsets = result.onsets.map((o) => o.text);
  const incident = { alertAt: manifest.firedAt, lookbackSeconds, onsets: result.onsets, failures: result.failures, files: result.files, notes };
  const name = new URL(storagePath).pathname.replace(/\/+$/, "").split("/").at(-1) ?? "capture";
  const reportPath = await writeReportBeside(storagePath, htmlReport(result.merged, { title: `${name} with ${result.files.filter((f) => f.part === "lookback").length} lookback files`, incident }));
  const figures = result.instances.map((analysis) => instanceFigures(analysis));
  const siblings = siblingComparison({ merged: result.merged, instances: result.instances });
  const summary = {
    ...compact(result.merged),
    ...(figures.length > 0 ? { instances: figures, siblings } : {}),
    // Bounded for durable state (a scale set's ring can be thousands of files): the report lists them all.
    incident: {
      alertAt: manifest.firedAt,
      lookbackSeconds,
      fileCount: result.files.length,
      files: result.files.slice(0, MAX_FILES_IN_SUMMARY),
      onsets: result.onsets.map(({ weight: _weight, ...onset }) => onset),
      notes: notes.slice(0, MAX_FILES_IN_SUMMARY),
    },
  };
  return { summary, findings: [...onsets, ...notes, ...instanceFindings(figures), ...siblings.findings, ...keyFindings(result.merged)], reportPath, onsets };
}

export async function analyseCaptureFile({ storagePath, lookback, lookbackOnly }: AnalyseInput): Promise<AnalyseOutput> {
  if (lookbackOnly === true && lookback) {
    try {
      return (await analyseWithLookback(storagePath, [], lookback)) ?? unreadable("the recorder's lookback manifest is gone or unreadable.");
    } catch (error) {
      if (error instanceof StoragePathRefusedError) return unreadable(error.message);
      throw error;
    }
  }
  let files: CaptureFile[];
  try {
    files = await listCaptureFiles(storagePath);
  } catch (error) {
    // A storagePath outside the configured capture accounts stays refused however often it is asked.
    if (error instanceof StoragePathRefusedError) return unreadable(error.message);
    throw error;
  }
  if (files.length === 0) return unreadable(`nothing is stored at ${storagePath} any more.`);
  if (lookback) {
    const withLookback = await analyseWithLookback(storagePath, files, lookback);
    if (withLookback) return withLookback;
  }
  const single = files.length === 1 && files[0]!.instance === null;
  return single ? analyseOne(storagePath, files[0]!) : analyseInstances(storagePath, files);
}

df.app.activity(ANALYSE_CAPTURE, { handler: analyseCaptureFile });
