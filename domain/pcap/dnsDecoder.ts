import { safeAscii } from "./safeText.js";

const MAX_NAME_CHARS = 255;
const MAX_POINTER_JUMPS = 16;
const MAX_RECORDS_WALKED = 256;
const TYPE_OPT = 41;

/** RFC 1035 / 6895 mnemonics of the codes the brief names; any other code is RCODE<n>. */
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

export function rcodeName(code: number): string {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

/**
 * One DNS message's header and first question, decoded in place (one instance, reused). Every read is bounded by the
 * message length; names follow at most 16 compression pointers and are cut at 255 characters, so a hostile message
 * costs a bounded amount of work whatever its counts say.
 */
export class DnsMessage {
  id = 0;
  response = false;
  opcode = 0;
  /** The header's 4-bit RCODE, extended by an EDNS OPT record's upper 8 bits when there is one (RFC 6891). */
  rcode = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private start = 0;
  private end = 0;
  private questionAt = -1;
  questionType = 0;
  edns = false;

  /**
   * First question's name ("" when there is none or it cannot be read), printable ASCII with dots. Made on demand,
   * while the message's bytes are still valid (only failed answers need it: no string per packet otherwise).
   */
  name(): string {
    return this.questionAt < 0 ? "" : readName(this.view, this.start, this.end, this.questionAt);
  }

  /** Decodes the message at [start, start + length); false when it is too short or its header impossible. */
  decode(view: DataView, start: number, length: number): boolean {
    if (length < 12) return false;
    const flags = view.getUint16(start + 2);
    this.id = view.getUint16(start);
    this.response = (flags & 0x8000) !== 0;
    this.opcode = (flags >>> 11) & 15;
    this.rcode = flags & 15;
    this.view = view;
    this.start = start;
    this.questionAt = -1;
    this.questionType = 0;
    this.edns = false;
    const questions = view.getUint16(start + 4);
    const records = view.getUint16(start + 6) + view.getUint16(start + 8);
    const additional = view.getUint16(start + 10);
    const end = start + length;
    this.end = end;
    let p = start + 12;
    for (let q = 0; q < questions; q++) {
      if (q === 0) this.questionAt = p;
      p = skipName(view, p, end);
      if (p < 0 || p + 4 > end) return true; // the header is still good
      if (q === 0) this.questionType = view.getUint16(p);
      p += 4;
      if (q >= MAX_RECORDS_WALKED) return true;
    }
    // Walk answers and authority to the additional section, for the OPT record's extended RCODE.
    const total = Math.min(records + additional, MAX_RECORDS_WALKED);
    for (let r = 0; r < total; r++) {
      p = skipName(view, p, end);
      if (p < 0 || p + 10 > end) return true;
      const type = view.getUint16(p);
      if (r >= records && type === TYPE_OPT) {
        this.edns = true;
        this.rcode |= view.getUint8(p + 4) << 4;
        return true;
      }
      p += 10 + view.getUint16(p + 8);
    }
    return true;
  }
}

/** Offset just past the (possibly compressed) name at p, or -1 when it runs off the end. */
function skipName(view: DataView, p: number, end: number): number {
  for (let labels = 0; labels < 128 && p < end; labels++) {
    const length = view.getUint8(p);
    if (length === 0) return p + 1;
    if ((length & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if ((length & 0xc0) !== 0) return -1;
    p += 1 + length;
  }
  return -1;
}

/** Dotted text of the name at p, following compression pointers within [message, end); "" if unreadable. */
function readName(view: DataView, message: number, end: number, p: number): string {
  let name = "";
  for (let jumps = 0, labels = 0; p < end && labels < 128; labels++) {
    const length = view.getUint8(p);
    if (length === 0) return name === "" ? "." : name;
    if ((length & 0xc0) === 0xc0) {
      if (p + 2 > end || ++jumps > MAX_POINTER_JUMPS) return name;
      p = message + (view.getUint16(p) & 0x3fff);
      continue;
    }
    if ((length & 0xc0) !== 0 || p + 1 + length > end) return name;
    if (name.length > 0) name += ".";
    name += safeAscii(view, p + 1, length, MAX_NAME_CHARS - name.length);
    if (name.length >= MAX_NAME_CHARS) return name;
    p += 1 + length;
  }
  return name;
}
