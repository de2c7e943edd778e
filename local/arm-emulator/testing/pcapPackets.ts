// Reads the packets of a classic pcap file far enough to check what a capture holds: lengths and, for
// Ethernet/IPv4 frames, protocol and ports.

export interface PcapSummary {
  linkType: number;
  snaplen: number;
  packets: Array<{ capturedLength: number; originalLength: number; protocol?: "TCP" | "UDP" | "other"; sourcePort?: number; destinationPort?: number }>;
}

export function readPcap(file: Buffer): PcapSummary {
  if (file.length < 24) throw new Error(`not a pcap file: ${file.length} bytes`);
  const magic = file.readUInt32LE(0);
  const littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!littleEndian && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`not a pcap file: magic 0x${magic.toString(16)}`);
  }
  const u32 = (offset: number) => (littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  const linkType = u32(20);
  const summary: PcapSummary = { linkType, snaplen: u32(16), packets: [] };
  let offset = 24;
  while (offset + 16 <= file.length) {
    const capturedLength = u32(offset + 8);
    const originalLength = u32(offset + 12);
    const data = file.subarray(offset + 16, offset + 16 + capturedLength);
    if (data.length < capturedLength) throw new Error("truncated pcap record");
    summary.packets.push({ capturedLength, originalLength, ...(linkType === 1 ? ethernetPorts(data) : {}) });
    offset += 16 + capturedLength;
  }
  if (offset !== file.length) throw new Error(`trailing bytes after the last pcap record (${file.length - offset})`);
  return summary;
}

function ethernetPorts(frame: Buffer) {
  if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) return { protocol: "other" as const };
  const headerLength = (frame.readUInt8(14) & 0x0f) * 4;
  const protocolNumber = frame.readUInt8(23);
  const transport = 14 + headerLength;
  if ((protocolNumber !== 6 && protocolNumber !== 17) || frame.length < transport + 4) return { protocol: "other" as const };
  return {
    protocol: protocolNumber === 6 ? ("TCP" as const) : ("UDP" as const),
    sourcePort: frame.readUInt16BE(transport),
    destinationPort: frame.readUInt16BE(transport + 2),
  };
}
