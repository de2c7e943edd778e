// Analyses the capture file where it lies in Blob storage, streaming it.
import * as df from "durable-functions";
import { captureFileProperties } from "../azure/captureFiles.js";
import { ANALYSE_CAPTURE, type AnalyseInput, type AnalyseOutput } from "./contracts.js";

df.app.activity(ANALYSE_CAPTURE, {
  handler: async ({ storagePath }: AnalyseInput): Promise<AnalyseOutput> => {
    const file = await captureFileProperties(storagePath);
    if (!file) throw new Error(`The capture file ${storagePath} is no longer in Blob storage.`);
    return { summary: { sizeBytes: file.sizeBytes }, findings: [`Capture file: ${file.sizeBytes} bytes.`], reportPath: null };
  },
});
