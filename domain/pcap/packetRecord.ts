import type { TimeBase } from "./timeBase.js";

/**
 * One captured packet, as the record readers hand it to their consumer. A single instance is reused for every packet
 * (no per-packet allocation): its fields, and the bytes `view` points at, are valid only during the consumer call.
 */
export class PacketRecord {
  /** The bytes of the chunk (or of the reader's carry buffer) that holds the packet. */
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Offset of the first packet byte in `view`. */
  offset = 0;
  /** Bytes present in the file (incl_len / captured length). */
  capturedLength = 0;
  /** Bytes the packet had on the wire (orig_len); what byte counts add up. */
  originalLength = 0;
  linkType = 0;
  /** pcapng Simple Packet Blocks carry no timestamp. */
  hasTime = false;
  /** Seconds since the epoch as a double, for aggregation; exact time is (timeA, timeB) read through `timeBase`. */
  time = 0;
  timeA = 0;
  timeB = 0;
  timeBase: TimeBase | null = null;
}

export type PacketConsumer = (record: PacketRecord) => void;

/** What the file header(s) said, filled in as the reader meets them. */
export interface CaptureFileInfo {
  format: "pcap" | "pcapng";
  /** Human-readable flavour: "pcap, microsecond", "pcap, nanosecond", "modified pcap (Kuznetzov)", "pcapng". */
  variant: string;
  byteOrders: Array<"little-endian" | "big-endian">;
  /** pcapng Section Header Blocks seen (1 for pcap). */
  sections: number;
  /** pcapng Interface Description Blocks seen, over all sections (1 for pcap). */
  interfaces: number;
  /** Link types declared by the file header or the IDBs, in order of first appearance. */
  declaredLinkTypes: number[];
  /** Snap lengths declared (0 = not set), distinct. */
  snapLengths: number[];
}

export function noteOnce<T>(list: T[], value: T): void {
  if (!list.includes(value)) list.push(value);
}

/** Most distinct values `noteDistinct` lists: the summary names link types and snap lengths, not every IDB's. */
export const MAX_DISTINCT_LISTED = 64;

/** noteOnce in constant time (a Set beside the list), listing at most MAX_DISTINCT_LISTED values. */
export function noteDistinct<T>(list: T[], seen: Set<T>, value: T): void {
  if (seen.has(value) || seen.size >= MAX_DISTINCT_LISTED) return;
  seen.add(value);
  list.push(value);
}
