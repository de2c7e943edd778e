// An incident's capture files as ONE timeline: the flight recorder's lookback ring files (in time order), then the
// forward capture, read one after the other into one analyser (per scale-set instance, and all together, as
// analyzeInstances does for a single capture), with failures counted per time bucket in the same pass.
//
// The files overlap: the recorder's cut starts a new session before it stops the old one, and the forward capture
// starts while the ring is still recording. A packet is therefore skipped when its source (the VM, or one scale-set
// instance) already gave a packet at that time or later in an earlier file: each source's files are read in order,
// and a file only contributes what comes after the latest timestamp of that source's earlier files. (Two different
// packets with the very same timestamp at a file boundary would lose one; packets without a timestamp cannot be
// matched and are all kept.)
import { CaptureAnalyzer, type AnalyzeOptions } from "../pcap/captureAnalyzer.js";
import { readCapture, type CaptureReadResult } from "../pcap/captureReader.js";
import { type CaptureProfile, profileOf } from "../pcap/captureProfile.js";
import type { CaptureSummary } from "../pcap/captureSummary.js";
import { CaptureFormatError } from "../pcap/errors.js";
import { mergedRead } from "../pcap/analyzeInstances.js";
import type { PacketRecord } from "../pcap/packetRecord.js";
import { FailureTracker, type FailureSeries } from "./failureSeries.js";
import { findOnsets, type Onset } from "./onsets.js";

/** Which part of the incident a file covers. */
export type FilePart = "lookback" | "forward";

export interface IncidentFile {
  part: FilePart;
  /** The scale-set instance it holds, null for a VM. */
  instance: string | null;
  /** Shown in the report: the blob name. */
  label: string;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export interface IncidentOptions extends AnalyzeOptions {
  /** When the alert fired (ISO 8601). */
  alertAt: string;
  /** How far before the alert the lookback reaches (ALERTCAP_LOOKBACK_SECONDS): for the wording only. */
  lookbackSeconds: number;
  /** Most buckets of the failure timeline (default 3,600: one-second buckets for up to an hour). */
  failureBuckets?: number;
}

/** What one file gave: packets taken, packets skipped as already read from an earlier file, or why it was unreadable. */
export interface FileReading {
  part: FilePart;
  instance: string | null;
  label: string;
  packets: number;
  duplicates: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  error: string | null;
}

export interface IncidentAnalysis {
  alertAt: string;
  lookbackSeconds: number;
  /** All files as one capture (null when none could be read). */
  merged: CaptureSummary | null;
  /** Per scale-set instance (empty for a VM). */
  instances: Array<{ instance: string; summary: CaptureSummary | null; error: string | null; profile: CaptureProfile | null }>;
  files: FileReading[];
  failures: FailureSeries | null;
  /** When failures began relative to the alert, most important first. */
  onsets: Onset[];
}

const DEFAULT_FAILURE_BUCKETS = 3_600;

/** Reads the files one at a time (one download open), lookback before forward, each source's files in the order given. */
export async function analyzeIncident(files: IncidentFile[], options: IncidentOptions): Promise<IncidentAnalysis> {
  const merged = new CaptureAnalyzer(options);
  const tracker = new FailureTracker(merged, options.failureBuckets ?? DEFAULT_FAILURE_BUCKETS);
  const sources = new Map<string, { analyzer: CaptureAnalyzer | null; reads: CaptureReadResult[]; latest: number; error: string | null; instance: string | null }>();
  const reads: CaptureReadResult[] = [];
  const readings: FileReading[] = [];
  const ordered = [...files.filter((f) => f.part === "lookback"), ...files.filter((f) => f.part === "forward")];
  // A VM's files need one analyser; a scale set's also one per instance.
  const scaleSet = files.some((f) => f.instance !== null);

  for (const file of ordered) {
    const key = file.instance ?? "";
    let source = sources.get(key);
    if (!source) sources.set(key, (source = { analyzer: scaleSet ? new CaptureAnalyzer(options) : null, reads: [], latest: -Infinity, error: null, instance: file.instance }));
    const cutoff = source.latest; // the source's earlier files, not this one: times step back inside a file
    const reading: FileReading = { part: file.part, instance: file.instance, label: file.label, packets: 0, duplicates: 0, firstTimestamp: null, lastTimestamp: null, error: null };
    readings.push(reading);
    let first = Infinity;
    let last = -Infinity;
    const own = source.analyzer;
    const consume = (record: PacketRecord): void => {
      if (record.hasTime) {
        const time = record.time;
        if (time <= cutoff) {
          reading.duplicates++;
          return;
        }
        if (time < first) first = time;
        if (time > last) last = time;
      }
      reading.packets++;
      own?.consume(record);
      merged.consume(record);
      tracker.packet(record);
    };
    try {
      const read = await readCapture(await file.open(), consume);
      source.reads.push(read);
      reads.push(read);
    } catch (error) {
      // One unreadable file is that file's problem: the packets read before its broken framing stay counted.
      if (!(error instanceof CaptureFormatError)) throw error;
      reading.error = error.message;
      source.error ??= `${file.label}: ${error.message}`;
    }
    if (last > source.latest) source.latest = last;
    if (Number.isFinite(first)) {
      reading.firstTimestamp = new Date(first * 1000).toISOString();
      reading.lastTimestamp = new Date(last * 1000).toISOString();
    }
  }

  const summary = reads.length > 0 ? merged.summarize(mergedRead(reads)) : null;
  const failures = summary ? tracker.finish() : null;
  const instances = scaleSet
    ? [...sources.values()].map((s) => {
        const own = s.reads.length > 0 && s.analyzer ? s.analyzer.summarize(mergedRead(s.reads)) : null;
        // With its talkers and services, for the comparison of each instance with its siblings.
        return { instance: s.instance ?? "(no instance)", summary: own, error: s.error, profile: own && s.analyzer ? profileOf(s.analyzer, own) : null };
      })
    : [];
  const onsets = failures && summary?.firstTimestamp
    ? findOnsets(failures, { alertAt: options.alertAt, lookbackSeconds: options.lookbackSeconds, dataStart: summary.firstTimestamp, hasLookback: readings.some((r) => r.part === "lookback" && r.packets > 0) })
    : [];
  return { alertAt: options.alertAt, lookbackSeconds: options.lookbackSeconds, merged: summary, instances, files: readings, failures, onsets };
}
