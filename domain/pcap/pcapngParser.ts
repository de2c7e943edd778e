import { CaptureFormatError } from "./errors.js";
import { noteDistinct, noteOnce, type CaptureFileInfo, type PacketConsumer, type PacketRecord } from "./packetRecord.js";
import { MAX_RECORD_BYTES, walkRecords, type RecordParser } from "./recordParser.js";
import { PcapngTimeBase } from "./timeBase.js";

// pcapng (IETF draft-ietf-opsawg-pcapng): a sequence of blocks `type, total length, body, total length`, grouped in
// sections. Each Section Header Block sets the byte order of its section and starts a fresh interface list.
export const PCAPNG_SHB_TYPE = 0x0a0d0d0a; // a palindrome, so it reads the same in either byte order
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SIMPLE_PACKET = 3;
const BLOCK_ENHANCED_PACKET = 6;
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;
const DEFAULT_TSRESOL = 6; // microseconds
/**
 * Most Interface Description Blocks in one section. Real captures have a handful (a few hundred on a big router);
 * each costs a small object, so the cap bounds memory on a crafted file while 100k+ IDBs still read in linear time.
 */
export const MAX_INTERFACES_PER_SECTION = 262_144;
/** Distinct time bases (if_tsresol, if_tsoffset) shared between interfaces; past this each IDB gets its own. */
const MAX_SHARED_TIME_BASES = 1024;

interface Interface {
  linkType: number;
  snapLength: number;
  timeBase: PcapngTimeBase;
}

export class PcapngParser implements RecordParser {
  readonly info: CaptureFileInfo = {
    format: "pcapng",
    variant: "pcapng",
    byteOrders: [],
    sections: 0,
    interfaces: 0,
    declaredLinkTypes: [],
    snapLengths: [],
  };
  private littleEndian = true;
  private interfaces: Interface[] = [];
  private readonly timeBases = new Map<string, PcapngTimeBase>();
  private readonly linkTypesNoted = new Set<number>();
  private readonly snapLengthsNoted = new Set<number>();
  /** Stream offsets of the block being read and of the next one, for error messages. */
  private blockStart = 0;
  private position = 0;

  constructor(
    private readonly record: PacketRecord,
    private readonly consumer: PacketConsumer,
  ) {}

  measure(view: DataView, off: number, available: number): number {
    if (available < 8) return -8;
    let le = this.littleEndian;
    if (view.getUint32(off, true) === PCAPNG_SHB_TYPE) {
      // The block length is in the new section's byte order, which only its byte-order magic tells.
      if (available < 12) return -12;
      le = this.sectionByteOrder(view, off);
    }
    const length = view.getUint32(off + 4, le);
    if (length < 12 || length % 4 !== 0 || length > MAX_RECORD_BYTES) {
      throw new CaptureFormatError("corrupt", `pcapng block at byte ${this.position} has an impossible length ${length}`, this.position);
    }
    return length;
  }

  consume(view: DataView, off: number, length: number): void {
    this.blockStart = this.position;
    this.position += length;
    if (view.getUint32(off, true) === PCAPNG_SHB_TYPE) {
      this.readSectionHeader(view, off, length);
    } else if (this.info.sections === 0) {
      throw this.corrupt("pcapng file does not start with a Section Header Block");
    }
    const le = this.littleEndian;
    if (view.getUint32(off + length - 4, le) !== length) {
      throw this.corrupt(`pcapng block at byte ${this.blockStart}: its leading and trailing lengths differ`);
    }
    switch (view.getUint32(off, le)) {
      case BLOCK_ENHANCED_PACKET:
        this.emitPacket(view, off, length, view.getUint32(off + 8, le), off + 12, off + 20, 28);
        break;
      case BLOCK_SIMPLE_PACKET:
        this.emitSimplePacket(view, off, length);
        break;
      case BLOCK_OBSOLETE_PACKET:
        this.emitPacket(view, off, length, view.getUint16(off + 8, le), off + 12, off + 20, 28);
        break;
      case BLOCK_IDB:
        this.readInterface(view, off, length);
        break;
      default:
        break; // name resolution, statistics, custom and unknown blocks carry no packets
    }
  }

  walk(view: DataView, start: number, end: number): number {
    return walkRecords(this, view, start, end);
  }

  finish(): void {
    // A cut-off block is a truncated file, which the framer reports; a file cut inside its first section header has
    // nothing to read.
    if (this.info.sections === 0) throw this.corrupt("the file ends inside its first pcapng Section Header Block");
  }

  private sectionByteOrder(view: DataView, off: number): boolean {
    const magic = view.getUint32(off + 8, true);
    if (magic === BYTE_ORDER_MAGIC) return true;
    if (magic === 0x4d3c2b1a) return false;
    throw new CaptureFormatError("corrupt", `pcapng Section Header Block at byte ${this.position} has no valid byte-order magic`, this.position);
  }

  private readSectionHeader(view: DataView, off: number, length: number): void {
    if (length < 28) throw this.corrupt(`pcapng Section Header Block at byte ${this.blockStart} is too short`);
    this.littleEndian = this.sectionByteOrder(view, off);
    const major = view.getUint16(off + 12, this.littleEndian);
    if (major !== 1) {
      throw new CaptureFormatError("unsupported-format", `pcapng version ${major} is not supported`, this.blockStart);
    }
    this.interfaces = [];
    this.info.sections++;
    noteOnce(this.info.byteOrders, this.littleEndian ? "little-endian" : "big-endian");
  }

  private readInterface(view: DataView, off: number, length: number): void {
    if (length < 20) throw this.corrupt(`pcapng Interface Description Block at byte ${this.blockStart} is too short`);
    const le = this.littleEndian;
    const linkType = view.getUint16(off + 8, le);
    const snapLength = view.getUint32(off + 12, le);
    let tsresol = DEFAULT_TSRESOL;
    let tsoffset = 0;
    const end = off + length - 4;
    for (let p = off + 16; p + 4 <= end; ) {
      const code = view.getUint16(p, le);
      const optionLength = view.getUint16(p + 2, le);
      if (code === OPTION_END || p + 4 + optionLength > end) break;
      if (code === OPTION_IF_TSRESOL && optionLength >= 1) tsresol = view.getUint8(p + 4);
      if (code === OPTION_IF_TSOFFSET && optionLength >= 8) {
        const high = view.getInt32(le ? p + 8 : p + 4, le);
        const low = view.getUint32(le ? p + 4 : p + 8, le);
        tsoffset = high * 4294967296 + low;
      }
      p += 4 + ((optionLength + 3) & ~3);
    }
    if (this.interfaces.length >= MAX_INTERFACES_PER_SECTION) {
      throw this.corrupt(`pcapng section declares more than ${MAX_INTERFACES_PER_SECTION} interfaces (at byte ${this.blockStart}): not a real capture`);
    }
    this.interfaces.push({ linkType, snapLength, timeBase: this.timeBase(tsresol, tsoffset) });
    this.info.interfaces++;
    noteDistinct(this.info.declaredLinkTypes, this.linkTypesNoted, linkType);
    noteDistinct(this.info.snapLengths, this.snapLengthsNoted, snapLength);
  }

  private timeBase(tsresol: number, tsoffset: number): PcapngTimeBase {
    const key = `${tsresol}/${tsoffset}`;
    let base = this.timeBases.get(key);
    if (!base) {
      base = new PcapngTimeBase(tsresol, tsoffset);
      if (this.timeBases.size < MAX_SHARED_TIME_BASES) this.timeBases.set(key, base);
    }
    return base;
  }

  /** Enhanced (6) and obsolete (2) packet blocks share the layout after the interface id. */
  private emitPacket(view: DataView, off: number, length: number, interfaceId: number, timeAt: number, lengthsAt: number, dataAt: number): void {
    const le = this.littleEndian;
    const iface = this.interfaceAt(interfaceId);
    const capturedLength = view.getUint32(lengthsAt, le);
    if (dataAt + capturedLength + 4 > length) {
      throw this.corrupt(`pcapng packet block at byte ${this.blockStart} claims more captured bytes than it holds`);
    }
    const r = this.record;
    r.view = view;
    r.offset = off + dataAt;
    r.capturedLength = capturedLength;
    r.originalLength = view.getUint32(lengthsAt + 4, le);
    r.linkType = iface.linkType;
    const high = view.getUint32(timeAt, le);
    const low = view.getUint32(timeAt + 4, le);
    r.hasTime = true;
    r.timeA = high;
    r.timeB = low;
    r.time = iface.timeBase.toSeconds(high, low);
    r.timeBase = iface.timeBase;
    this.consumer(r);
  }

  private emitSimplePacket(view: DataView, off: number, length: number): void {
    const iface = this.interfaceAt(0);
    const originalLength = view.getUint32(off + 8, this.littleEndian);
    // An SPB has no captured-length field: it is the original length, cut by the interface's snap length, within the block.
    let capturedLength = Math.min(originalLength, length - 16);
    if (iface.snapLength > 0 && iface.snapLength < capturedLength) capturedLength = iface.snapLength;
    const r = this.record;
    r.view = view;
    r.offset = off + 12;
    r.capturedLength = capturedLength;
    r.originalLength = originalLength;
    r.linkType = iface.linkType;
    r.hasTime = false;
    r.timeBase = null;
    this.consumer(r);
  }

  private interfaceAt(id: number): Interface {
    const iface = this.interfaces[id];
    if (!iface) throw this.corrupt(`pcapng packet block at byte ${this.blockStart} refers to interface ${id}, which its section does not declare`);
    return iface;
  }

  private corrupt(message: string): CaptureFormatError {
    return new CaptureFormatError("corrupt", message, this.blockStart);
  }
}
