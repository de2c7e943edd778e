import type { CaptureFileInfo } from "./packetRecord.js";

/**
 * A capture format as a sequence of self-delimiting records (the pcap file header and packet records, or pcapng
 * blocks). The framer asks `measure` how long the record at `off` is and calls `consume` once all of it is in one
 * buffer; parsers never see a record split across chunks.
 */
export interface RecordParser {
  readonly info: CaptureFileInfo;
  /**
   * Total length of the record starting at `off`, given `available` bytes there; or, when `available` does not yet
   * cover the record header, minus the number of header bytes needed. Throws CaptureFormatError("corrupt") for a
   * length that cannot be right.
   */
  measure(view: DataView, off: number, available: number): number;
  consume(view: DataView, off: number, length: number): void;
  /**
   * Consumes every whole record in [start, end) and returns the offset of the first incomplete one (or `end`). The
   * framer's hot loop: one call per chunk, so the per-record path is one tight loop the JIT optimises early.
   */
  walk(view: DataView, start: number, end: number): number;
  /** At end of stream (possibly inside a record): throws if what was read is not a usable capture. */
  finish(): void;
}

/**
 * Largest record we buffer. Wireshark caps standard packets at 256 KiB and a few exotic link types at 128 MiB; IP
 * captures never come near this, and a bigger length is far more likely a corrupt header than a real packet.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** `walk` from `measure` and `consume`, for formats whose records are not worth a fused loop. */
export function walkRecords(parser: RecordParser, view: DataView, start: number, end: number): number {
  let pos = start;
  while (pos < end) {
    const available = end - pos;
    const length = parser.measure(view, pos, available);
    if (length < 0 || length > available) break;
    parser.consume(view, pos, length);
    pos += length;
  }
  return pos;
}
