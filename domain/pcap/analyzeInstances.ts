// A scale-set capture is one file per instance. Each file is read once: every packet goes both to its instance's
// analyser and to one analyser of all the files together, so the merged summary is that of the files taken as one
// capture (what mergecap then analyze would give, packet order aside), and every instance has its own summary too.
// Traffic between two instances of the set is in both their files, so it counts twice in the merged summary.
import { compareSiblings, type SiblingComparison } from "../diff/siblingChanges.js";
import { CaptureAnalyzer, type AnalyzeOptions } from "./captureAnalyzer.js";
import { readCapture, type CaptureReadResult } from "./captureReader.js";
import type { CaptureSummary } from "./captureSummary.js";
import { type CaptureProfile, profileOf } from "./captureProfile.js";
import { CaptureFormatError } from "./errors.js";
import { grouped } from "./numberText.js";

export interface InstanceSource {
  /** The instance's ID (or its file's name when the name shows no ID). */
  instance: string;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** One instance's part: its summary, or why its file could not be analysed (the others still are). */
export interface InstanceAnalysis {
  instance: string;
  summary: CaptureSummary | null;
  error: string | null;
  /** Its summary with every talker and service (what the sibling comparison reads), when asked for and readable. */
  profile?: CaptureProfile | null;
}

export interface InstancesAnalysis {
  /** All readable files as one capture; null when no file could be read. */
  merged: CaptureSummary | null;
  instances: InstanceAnalysis[];
  /** The merged profile, when profiles were asked for and a file could be read. */
  mergedProfile?: CaptureProfile | null;
}

export interface InstancesOptions extends AnalyzeOptions {
  /** Also keep each instance's and the merged profile (every talker and service): for diffs and sibling comparison. */
  profiles?: boolean;
}

/** Reads the instances' files one after the other (one download open at a time, two analysers in memory). */
export async function analyzeInstances(sources: InstanceSource[], options: InstancesOptions = {}): Promise<InstancesAnalysis> {
  const merged = new CaptureAnalyzer(options);
  const reads: CaptureReadResult[] = [];
  const instances: InstanceAnalysis[] = [];
  for (const source of sources) {
    const own = new CaptureAnalyzer(options);
    try {
      const read = await readCapture(await source.open(), (record) => {
        own.consume(record);
        merged.consume(record);
      });
      reads.push(read);
      const summary = own.summarize(read);
      instances.push({ instance: source.instance, summary, error: null, ...(options.profiles ? { profile: profileOf(own, summary) } : {}) });
    } catch (error) {
      // A file that is not a capture is that instance's problem; packets read before corrupt framing stay merged.
      if (!(error instanceof CaptureFormatError)) throw error;
      instances.push({ instance: source.instance, summary: null, error: error.message, ...(options.profiles ? { profile: null } : {}) });
    }
  }
  const summary = reads.length > 0 ? merged.summarize(mergedRead(reads)) : null;
  if (!options.profiles) return { merged: summary, instances };
  return { merged: summary, instances, mergedProfile: summary ? profileOf(merged, summary) : null };
}

/** The file facts of several reads as those of one capture. */
export function mergedRead(reads: CaptureReadResult[]): CaptureReadResult {
  const union = <T>(lists: T[][]): T[] => [...new Set(lists.flat())];
  const infos = reads.map((r) => r.info);
  return {
    info: {
      format: infos[0]!.format,
      variant: union(infos.map((i) => [i.variant])).join(" + "),
      byteOrders: union(infos.map((i) => i.byteOrders)),
      sections: infos.reduce((sum, i) => sum + i.sections, 0),
      interfaces: infos.reduce((sum, i) => sum + i.interfaces, 0),
      declaredLinkTypes: union(infos.map((i) => i.declaredLinkTypes)),
      snapLengths: union(infos.map((i) => i.snapLengths)),
    },
    truncatedTailBytes: reads.reduce((sum, r) => sum + r.truncatedTailBytes, 0),
  };
}

/** What the summary keeps about each instance: the counts a reader compares across instances. */
export interface InstanceFigures {
  instance: string;
  packets: number;
  bytes: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  tcp: number;
  udp: number;
  tcpSyn: number;
  tcpRst: number;
  tcpRetransmissions: number;
  synsWithoutAnswer: number;
  topTalker: string | null;
  truncated: boolean;
  error: string | null;
}

export function instanceFigures({ instance, summary: s, error }: InstanceAnalysis): InstanceFigures {
  return {
    instance,
    packets: s?.packets ?? 0,
    bytes: s?.bytes ?? 0,
    firstTimestamp: s?.firstTimestamp ?? null,
    lastTimestamp: s?.lastTimestamp ?? null,
    tcp: s?.tcp ?? 0,
    udp: s?.udp ?? 0,
    tcpSyn: s?.tcpSyn ?? 0,
    tcpRst: s?.tcpRst ?? 0,
    tcpRetransmissions: s?.tcpRetransmissions ?? 0,
    synsWithoutAnswer: s?.tcpHealth.synsWithoutAnswer ?? 0,
    topTalker: s?.topTalkers[0]?.address ?? null,
    truncated: s?.truncated ?? false,
    error,
  };
}

const MAX_DIFFERING = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Why one instance stands out from the others of its set, or null when it does not. */
function difference(one: InstanceFigures, others: InstanceFigures[]): string | null {
  if (one.error) return `its file could not be analysed: ${one.error}`;
  const readable = others.filter((o) => !o.error);
  if (readable.length === 0) return null;
  const typical = median(readable.map((o) => o.packets));
  if (one.packets === 0 && typical > 0) return `no packets, while the others have a median of ${grouped(typical)}`;
  if (typical > 0 && (one.packets > 4 * typical || one.packets < typical / 4)) {
    return `${grouped(one.packets)} packets, against a median of ${grouped(typical)} on the others`;
  }
  const unansweredElsewhere = Math.max(...readable.map((o) => o.synsWithoutAnswer));
  if (one.synsWithoutAnswer > 0 && unansweredElsewhere === 0) return `${grouped(one.synsWithoutAnswer)} SYNs unanswered, none on the others`;
  const resetsElsewhere = Math.max(...readable.map((o) => o.tcpRst));
  if (one.tcpRst > 0 && resetsElsewhere === 0) return `${grouped(one.tcpRst)} TCP resets, none on the others`;
  const rate = (f: InstanceFigures): number => (f.tcp > 0 ? f.tcpRetransmissions / f.tcp : 0);
  const worstElsewhere = Math.max(...readable.map(rate));
  if (rate(one) >= 0.05 && rate(one) > 4 * worstElsewhere) {
    return `${Math.round(100 * rate(one))}% of TCP packets retransmitted, at most ${Math.round(100 * worstElsewhere)}% on the others`;
  }
  return null;
}

/**
 * The lines a notification carries about a scale-set capture beyond the merged findings: how many instances, and
 * each instance that differs from the rest (the first three named).
 */
export function instanceFindings(instances: InstanceFigures[]): string[] {
  if (instances.length === 0) return [];
  const ids = instances.map((i) => i.instance);
  const lines = [
    `Scale-set capture: ${instances.length} instance file${instances.length === 1 ? "" : "s"} (${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}), analysed one by one and together.`,
  ];
  if (instances.length === 1) return lines;
  const differing = instances.flatMap((one) => {
    const why = difference(one, instances.filter((o) => o !== one));
    return why ? [`Instance ${one.instance} differs: ${why}.`] : [];
  });
  lines.push(...differing.slice(0, MAX_DIFFERING));
  if (differing.length > MAX_DIFFERING) lines.push(`${differing.length - MAX_DIFFERING} more instances differ; the summary lists every instance.`);
  return lines;
}

/** Differences listed in a scale-set analysis's JSON: it is kept in durable state, so it stays small. */
const MAX_LISTED_DIFFERENCES = 20;

/**
 * Each readable instance against its siblings together (analyzeInstances must have been asked for profiles): the
 * instances whose failure rates differ beyond chance, with their counts. See domain/diff/siblingChanges.ts.
 */
export function siblingComparison(analysis: InstancesAnalysis): SiblingComparison & { differenceCount: number } {
  const readable = analysis.instances.flatMap((i) => (i.profile ? [{ instance: i.instance, profile: i.profile }] : []));
  const comparison = compareSiblings(readable);
  return { ...comparison, differences: comparison.differences.slice(0, MAX_LISTED_DIFFERENCES), differenceCount: comparison.differences.length };
}
