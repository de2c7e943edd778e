import { CaptureAnalyzer, type AnalyzeOptions } from "./captureAnalyzer.js";
import { readCapture } from "./captureReader.js";
import type { CaptureSummary } from "./captureSummary.js";

export type { AnalyzeOptions } from "./captureAnalyzer.js";
export type { CaptureSummary } from "./captureSummary.js";
export { CaptureFormatError } from "./errors.js";

/**
 * Triage summary of a pcap or pcapng capture read from `source`: a Node Readable (file, blob download body) or any
 * async iterable of byte chunks. Streams in constant memory (one record beyond the current chunk, a capped flow
 * table). Throws CaptureFormatError for input that is not a capture ("unsupported-format") or whose framing is
 * broken ("corrupt"); a file cut off mid-record is not an error but `truncated: true`.
 */
export async function analyzeCapture(source: AsyncIterable<Uint8Array>, options: AnalyzeOptions = {}): Promise<CaptureSummary> {
  const analyzer = new CaptureAnalyzer(options);
  const read = await readCapture(source, analyzer.consume);
  return analyzer.summarize(read);
}
