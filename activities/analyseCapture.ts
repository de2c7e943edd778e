// Analyses the capture file where it lies in Blob storage, streaming it (never the whole file in memory), keeps the
// summary in the orchestration's output, and writes the HTML report next to the capture.
import * as df from "durable-functions";
import { openCaptureFile, writeReportBeside } from "../azure/captureFiles.js";
import { analyzeCapture, CaptureFormatError } from "../domain/pcap/analyzeCapture.js";
import { htmlReport } from "../domain/pcap/htmlReport.js";
import { keyFindings } from "../domain/pcap/keyFindings.js";
import { ANALYSE_CAPTURE, type AnalyseInput, type AnalyseOutput } from "./contracts.js";

df.app.activity(ANALYSE_CAPTURE, {
  handler: async ({ storagePath }: AnalyseInput): Promise<AnalyseOutput> => {
    let summary;
    try {
      summary = await analyzeCapture(await openCaptureFile(storagePath));
    } catch (error) {
      // A file we cannot read will not become readable by retrying: report it rather than fail the activity.
      if (error instanceof CaptureFormatError) {
        return { summary: null, findings: [`The capture file could not be analysed: ${error.message}`], reportPath: null };
      }
      throw error;
    }
    const name = new URL(storagePath).pathname.split("/").at(-1) ?? "capture";
    const reportPath = await writeReportBeside(storagePath, htmlReport(summary, { title: name }));
    // The output is kept in durable state: the summary without its timeline buckets stays small.
    const { timeline: _timeline, ...compact } = summary;
    return { summary: compact, findings: keyFindings(summary), reportPath };
  },
});
