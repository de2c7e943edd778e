import { CaptureFormatError } from "./errors.js";
import type { PacketConsumer, PacketRecord } from "./packetRecord.js";
import { PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_MODIFIED, PCAP_MAGIC_NANOSECONDS, PcapParser } from "./pcapParser.js";
import { PCAPNG_SHB_TYPE, PcapngParser } from "./pcapngParser.js";
import type { RecordParser } from "./recordParser.js";

/** Bytes needed to tell the formats apart. */
export const MAGIC_BYTES = 4;

// Formats recognised only to say clearly what they are. Network Watcher's `.cap` format is undocumented (see
// shared/docs/pcap-analysis.md §1), so a Windows agent's NetMon file is a real possibility.
const KNOWN_UNSUPPORTED: Array<[prefix: number[], what: string]> = [
  [[0x47, 0x4d, 0x42, 0x55], "Microsoft Network Monitor 2.x capture (convert it with `editcap -F pcapng`)"],
  [[0x52, 0x54, 0x53, 0x53], "Microsoft Network Monitor 1.x capture (convert it with `editcap -F pcapng`)"],
  [[0x1f, 0x8b], "gzip-compressed file (decompress it first)"],
  [[0x73, 0x6e, 0x6f, 0x6f], "Sun snoop capture"],
  [[0x50, 0x4b, 0x03, 0x04], "zip archive"],
];

/** Picks the parser from the first four bytes, never from a file name. */
export function parserForMagic(magic: Uint8Array, record: PacketRecord, consumer: PacketConsumer): RecordParser {
  if (magic.length < MAGIC_BYTES) {
    throw new CaptureFormatError(
      "unsupported-format",
      magic.length === 0 ? "unsupported format: the input is empty" : `unsupported format: only ${magic.length} bytes, too short for a capture file`,
      0,
    );
  }
  const view = new DataView(magic.buffer, magic.byteOffset, MAGIC_BYTES);
  const big = view.getUint32(0, false);
  const little = view.getUint32(0, true);
  for (const candidate of [PCAP_MAGIC_MICROSECONDS, PCAP_MAGIC_NANOSECONDS, PCAP_MAGIC_MODIFIED]) {
    if (big === candidate) return new PcapParser(candidate, false, record, consumer);
    if (little === candidate) return new PcapParser(candidate, true, record, consumer);
  }
  if (big === PCAPNG_SHB_TYPE) return new PcapngParser(record, consumer);
  const hex = Array.from(magic.subarray(0, MAGIC_BYTES), (b) => b.toString(16).padStart(2, "0")).join("");
  const known = KNOWN_UNSUPPORTED.find(([prefix]) => prefix.every((b, i) => magic[i] === b));
  throw new CaptureFormatError(
    "unsupported-format",
    `unsupported format: ${known ? known[1] : "not a pcap or pcapng file"} (first bytes ${hex})`,
    0,
  );
}
