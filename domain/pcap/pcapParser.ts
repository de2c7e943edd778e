import { CaptureFormatError } from "./errors.js";
import type { CaptureFileInfo, PacketConsumer, PacketRecord } from "./packetRecord.js";
import { MAX_RECORD_BYTES, walkRecords, type RecordParser } from "./recordParser.js";
import { PcapTimeBase } from "./timeBase.js";

export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** Alexey Kuznetzov's patched libpcap: same header, 8 more bytes (ifindex, protocol, pkt_type) per record. */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

const FILE_HEADER_BYTES = 24;

/** Classic libpcap files (tcpdump.org/manpages/pcap-savefile.5.html). */
export class PcapParser implements RecordParser {
  readonly info: CaptureFileInfo;
  private readonly littleEndian: boolean;
  private readonly recordHeaderBytes: number;
  private readonly timeBase: PcapTimeBase;
  private headerDone = false;
  private linkType = 0;
  /** Stream offset of the record being measured, for error messages. */
  private position = 0;

  constructor(
    magic: number,
    littleEndian: boolean,
    private readonly record: PacketRecord,
    private readonly consumer: PacketConsumer,
  ) {
    this.littleEndian = littleEndian;
    this.recordHeaderBytes = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    const nanosecond = magic === PCAP_MAGIC_NANOSECONDS;
    this.timeBase = new PcapTimeBase(nanosecond);
    this.info = {
      format: "pcap",
      variant: magic === PCAP_MAGIC_MODIFIED ? "modified pcap (Kuznetzov)" : nanosecond ? "pcap, nanosecond" : "pcap, microsecond",
      byteOrders: [littleEndian ? "little-endian" : "big-endian"],
      sections: 1,
      interfaces: 1,
      declaredLinkTypes: [],
      snapLengths: [],
    };
  }

  measure(view: DataView, off: number, available: number): number {
    if (!this.headerDone) return available < FILE_HEADER_BYTES ? -FILE_HEADER_BYTES : FILE_HEADER_BYTES;
    const headerBytes = this.recordHeaderBytes;
    if (available < headerBytes) return -headerBytes;
    return headerBytes + this.capturedLength(view, off, this.position);
  }

  consume(view: DataView, off: number, length: number): void {
    if (!this.headerDone) {
      this.position += length;
      this.readFileHeader(view, off);
      return;
    }
    this.walk(view, off, off + length);
  }

  walk(view: DataView, start: number, end: number): number {
    if (!this.headerDone) return walkRecords(this, view, start, end);
    const le = this.littleEndian;
    const headerBytes = this.recordHeaderBytes;
    const timeBase = this.timeBase;
    const r = this.record;
    const consumer = this.consumer;
    r.view = view;
    r.linkType = this.linkType;
    r.hasTime = true;
    r.timeBase = this.timeBase;
    let pos = start;
    while (end - pos >= headerBytes) {
      const captured = this.capturedLength(view, pos, this.position + (pos - start));
      const next = pos + headerBytes + captured;
      if (next > end) break;
      const seconds = view.getUint32(pos, le);
      const fraction = view.getUint32(pos + 4, le);
      r.offset = pos + headerBytes;
      r.capturedLength = captured;
      r.originalLength = view.getUint32(pos + 12, le);
      r.timeA = seconds;
      r.timeB = fraction;
      r.time = timeBase.toSeconds(seconds, fraction);
      consumer(r);
      pos = next;
    }
    this.position += pos - start;
    return pos;
  }

  private capturedLength(view: DataView, off: number, position: number): number {
    const capturedLength = view.getUint32(off + 8, this.littleEndian);
    if (capturedLength > MAX_RECORD_BYTES) {
      throw new CaptureFormatError(
        "corrupt",
        `pcap record at byte ${position} claims ${capturedLength} captured bytes (limit ${MAX_RECORD_BYTES}): the file is damaged`,
        position,
      );
    }
    return capturedLength;
  }

  finish(): void {
    // A cut-off last record is a truncated file, which the framer reports; a cut-off file header leaves nothing to read.
    if (!this.headerDone) {
      throw new CaptureFormatError("corrupt", `the file ends inside the ${FILE_HEADER_BYTES}-byte pcap file header`, 0);
    }
  }

  private readFileHeader(view: DataView, off: number): void {
    const le = this.littleEndian;
    const major = view.getUint16(off + 4, le);
    if (major !== 2 && major !== 1) {
      throw new CaptureFormatError("unsupported-format", `pcap version ${major}.${view.getUint16(off + 6, le)} is not supported`, 4);
    }
    const snapLength = view.getUint32(off + 16, le);
    // The upper bits of the link-type word carry FCS information (pcap draft §4); the type is the low 16 bits.
    this.linkType = view.getUint32(off + 20, le) & 0xffff;
    this.info.declaredLinkTypes.push(this.linkType);
    this.info.snapLengths.push(snapLength);
    this.headerDone = true;
  }
}
