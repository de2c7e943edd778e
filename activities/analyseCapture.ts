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
import { ANALYSE_CAPTURE, type AnalyseInput, type AnalyseOutput } from "./contracts.js";

/** The output is kept in durable state: the summary without its timeline buckets stays small. */
function compact(summary: CaptureSummary): Omit<CaptureSummary, "timeline"> {
  const { timeline: _timeline, ...rest } = summary;
  return rest;
}

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

export async function analyseCaptureFile({ storagePath }: AnalyseInput): Promise<AnalyseOutput> {
  let files: CaptureFile[];
  try {
    files = await listCaptureFiles(storagePath);
  } catch (error) {
    // A storagePath outside the configured capture accounts stays refused however often it is asked.
    if (error instanceof StoragePathRefusedError) return unreadable(error.message);
    throw error;
  }
  if (files.length === 0) return unreadable(`nothing is stored at ${storagePath} any more.`);
  const single = files.length === 1 && files[0]!.instance === null;
  return single ? analyseOne(storagePath, files[0]!) : analyseInstances(storagePath, files);
}

df.app.activity(ANALYSE_CAPTURE, { handler: analyseCaptureFile });
