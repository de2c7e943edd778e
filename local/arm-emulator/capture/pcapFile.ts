// Classic pcap files: a synthetic capture for machines without tcpdump, trimming a recording to the session byte
// limit, and counting packets.
//
// The frame builders (Ethernet, IPv4, TCP, UDP with correct checksums) serve the synthetic emulated-VM traffic
// (local/traffic/syntheticTraffic.ts), so a pcap reader and tshark decode it like a real recording. The single
// conversation below is what a caller that passes no `filters` to the recorder still gets for a filtered session.

import { isIPv4 } from "node:net";

export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;
const LINKTYPE_ETHERNET = 1;

export interface SyntheticTrafficHints {
  protocol: "TCP" | "UDP";
  localAddress: string;
  remoteAddress: string;
  localPort: number;
  remotePort: number;
}

export interface Packet {
  timestampMs: number;
  data: Buffer;
}

export function pcapGlobalHeader(snaplen: number): Buffer {
  const header = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(snaplen, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return header;
}

/** A complete pcap file (little-endian, microsecond timestamps) holding `packets`, each cut to `snaplen`. */
export function buildPcap(packets: Packet[], snaplen: number): Buffer {
  const parts = [pcapGlobalHeader(snaplen)];
  for (const packet of packets) {
    const captured = packet.data.subarray(0, Math.min(packet.data.length, snaplen));
    const header = Buffer.alloc(PCAP_RECORD_HEADER_BYTES);
    header.writeUInt32LE(Math.floor(packet.timestampMs / 1000), 0);
    header.writeUInt32LE(Math.round((packet.timestampMs % 1000) * 1000), 4);
    header.writeUInt32LE(captured.length, 8);
    header.writeUInt32LE(packet.data.length, 12);
    parts.push(header, captured);
  }
  return Buffer.concat(parts);
}

/** Packets of a short conversation between `startMs` and `endMs`. */
export function syntheticConversation(hints: SyntheticTrafficHints, startMs: number, endMs: number): Packet[] {
  const frames = hints.protocol === "UDP" ? udpExchange(hints) : tcpConversation(hints);
  const span = Math.max(endMs - startMs, frames.length);
  return frames.map((data, i) => ({ timestampMs: startMs + Math.floor(((i + 1) * span) / (frames.length + 1)), data }));
}

/** Cuts a pcap after the last whole record that fits in `maxBytes` (never below the global header). */
export function trimPcap(file: Buffer, maxBytes: number): Buffer {
  if (file.length <= maxBytes) return file;
  const walk = walkRecords(file, maxBytes);
  return walk ? file.subarray(0, walk.end) : file.subarray(0, Math.max(maxBytes, 0));
}

/** Drops a record cut short (a recorder killed mid-write), keeping every whole one. */
export function dropPartialRecord(file: Buffer): Buffer {
  const walk = walkRecords(file);
  return walk ? file.subarray(0, walk.end) : file;
}

/**
 * Joins recording segments into one file: the first segment's header, then every whole record of each segment.
 * Segments written by the same kind of recorder on the same interface share link type and byte order.
 */
export function joinPcapSegments(segments: Buffer[]): Buffer {
  const usable = segments.map(dropPartialRecord).filter((segment) => readLayout(segment) !== undefined);
  const [first, ...rest] = usable;
  if (!first) return pcapGlobalHeader(262144);
  return Buffer.concat([first, ...rest.map((segment) => segment.subarray(PCAP_GLOBAL_HEADER_BYTES))]);
}

/** Number of whole records in a pcap file, or `undefined` when it is not a classic pcap. */
export function countPcapPackets(file: Buffer): number | undefined {
  return walkRecords(file)?.count;
}

/** Walks whole records that end within `maxBytes`: where the last one ends and how many there are. */
function walkRecords(file: Buffer, maxBytes = Number.POSITIVE_INFINITY): { end: number; count: number } | undefined {
  const layout = readLayout(file);
  if (!layout) return undefined;
  let end = PCAP_GLOBAL_HEADER_BYTES;
  let count = 0;
  while (end + PCAP_RECORD_HEADER_BYTES <= file.length) {
    const recordEnd = end + PCAP_RECORD_HEADER_BYTES + layout.readUInt32(file, end + 8);
    if (recordEnd > maxBytes || recordEnd > file.length) break;
    end = recordEnd;
    count++;
  }
  return { end, count };
}

function readLayout(file: Buffer): { readUInt32: (buffer: Buffer, offset: number) => number } | undefined {
  if (file.length < PCAP_GLOBAL_HEADER_BYTES) return undefined;
  const magicLE = file.readUInt32LE(0);
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) return { readUInt32: (b, o) => b.readUInt32LE(o) };
  const magicBE = file.readUInt32BE(0);
  if (magicBE === 0xa1b2c3d4 || magicBE === 0xa1b23c4d) return { readUInt32: (b, o) => b.readUInt32BE(o) };
  return undefined;
}

/** Splits a pcap byte stream (tcpdump `-w -`) into its global header and whole records. */
export class PcapStream {
  header: Buffer | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private littleEndian = true;
  private nanoseconds = false;

  push(chunk: Buffer, onRecord: (record: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.header) {
      if (this.pending.length < PCAP_GLOBAL_HEADER_BYTES) return;
      this.header = Buffer.from(this.pending.subarray(0, PCAP_GLOBAL_HEADER_BYTES));
      const magic = this.header.readUInt32LE(0);
      this.littleEndian = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
      this.nanoseconds = magic === 0xa1b23c4d || this.header.readUInt32BE(0) === 0xa1b23c4d;
      this.pending = this.pending.subarray(PCAP_GLOBAL_HEADER_BYTES);
    }
    let offset = 0;
    while (offset + PCAP_RECORD_HEADER_BYTES <= this.pending.length) {
      const length = this.littleEndian ? this.pending.readUInt32LE(offset + 8) : this.pending.readUInt32BE(offset + 8);
      const end = offset + PCAP_RECORD_HEADER_BYTES + length;
      if (end > this.pending.length) break;
      onRecord(Buffer.from(this.pending.subarray(offset, end)));
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
  }

  /** A record's capture time in epoch ms (microsecond pcap; nanosecond when the magic says so). */
  timestampMs(record: Buffer): number {
    const read = (offset: number) => (this.littleEndian ? record.readUInt32LE(offset) : record.readUInt32BE(offset));
    return read(0) * 1000 + read(4) / (this.nanoseconds ? 1_000_000 : 1000);
  }
}

// ---- frames -------------------------------------------------------------------------------------------------

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

function tcpConversation(h: SyntheticTrafficHints): Buffer[] {
  const request = Buffer.from(`GET /health HTTP/1.1\r\nHost: ${h.localAddress}\r\nUser-Agent: probe/1.0\r\n\r\n`);
  const response = Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
  // The remote side opens the connection to the local (VM) port, like a client calling a service on the VM.
  const client = { address: h.remoteAddress, port: h.remotePort, mac: "12:34:56:78:9a:bc" };
  const server = { address: h.localAddress, port: h.localPort, mac: "00:0d:3a:12:34:56" };
  let clientSeq = 0x1a2b3c4d;
  let serverSeq = 0x5e6f7081;
  const frames: Buffer[] = [];
  const send = (from: typeof client, to: typeof client, seq: number, ack: number, flags: number, payload = Buffer.alloc(0)) =>
    frames.push(ethernetFrame(from.mac, to.mac, ipPacket(from.address, to.address, 6, tcpSegment(from, to, seq, ack, flags, payload))));
  send(client, server, clientSeq, 0, TCP_SYN);
  clientSeq++;
  send(server, client, serverSeq, clientSeq, TCP_SYN | TCP_ACK);
  serverSeq++;
  send(client, server, clientSeq, serverSeq, TCP_ACK);
  send(client, server, clientSeq, serverSeq, TCP_PSH | TCP_ACK, request);
  clientSeq += request.length;
  send(server, client, serverSeq, clientSeq, TCP_ACK);
  send(server, client, serverSeq, clientSeq, TCP_PSH | TCP_ACK, response);
  serverSeq += response.length;
  send(client, server, clientSeq, serverSeq, TCP_ACK);
  send(client, server, clientSeq, serverSeq, TCP_FIN | TCP_ACK);
  clientSeq++;
  send(server, client, serverSeq, clientSeq, TCP_FIN | TCP_ACK);
  serverSeq++;
  send(client, server, clientSeq, serverSeq, TCP_ACK);
  return frames;
}

function udpExchange(h: SyntheticTrafficHints): Buffer[] {
  const client = { address: h.remoteAddress, port: h.remotePort, mac: "12:34:56:78:9a:bc" };
  const server = { address: h.localAddress, port: h.localPort, mac: "00:0d:3a:12:34:56" };
  const query = Buffer.from("00010100000100000000000007616c65727463617005746573740000010001", "hex");
  const answer = Buffer.from(
    "00018180000100010000000007616c65727463617005746573740000010001c00c000100010000003c00040a000004",
    "hex",
  );
  return [
    ethernetFrame(client.mac, server.mac, ipPacket(client.address, server.address, 17, udpDatagram(client, server, query))),
    ethernetFrame(server.mac, client.mac, ipPacket(server.address, client.address, 17, udpDatagram(server, client, answer))),
  ];
}

export function ethernetFrame(sourceMac: string, destinationMac: string, ipv4Packet: Buffer): Buffer {
  const header = Buffer.alloc(14);
  Buffer.from(destinationMac.replaceAll(":", ""), "hex").copy(header, 0);
  Buffer.from(sourceMac.replaceAll(":", ""), "hex").copy(header, 6);
  header.writeUInt16BE(0x0800, 12);
  return Buffer.concat([header, ipv4Packet]);
}

let ipIdentification = 0x4a00;

export function ipPacket(source: string, destination: string, protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt8(0x45, 0);
  header.writeUInt16BE(20 + payload.length, 2);
  header.writeUInt16BE(ipIdentification++ & 0xffff, 4);
  header.writeUInt16BE(0x4000, 6); // don't fragment
  header.writeUInt8(64, 8);
  header.writeUInt8(protocol, 9);
  ipv4Bytes(source).copy(header, 12);
  ipv4Bytes(destination).copy(header, 16);
  header.writeUInt16BE(internetChecksum([header]), 10);
  return Buffer.concat([header, payload]);
}

export type Endpoint = { address: string; port: number };

export function tcpSegment(from: Endpoint, to: Endpoint, seq: number, ack: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(from.port, 0);
  header.writeUInt16BE(to.port, 2);
  header.writeUInt32BE(seq >>> 0, 4);
  header.writeUInt32BE(ack >>> 0, 8);
  header.writeUInt8(5 << 4, 12);
  header.writeUInt8(flags, 13);
  header.writeUInt16BE(64240, 14);
  const segment = Buffer.concat([header, payload]);
  segment.writeUInt16BE(internetChecksum([pseudoHeader(from.address, to.address, 6, segment.length), segment]), 16);
  return segment;
}

export function udpDatagram(from: Endpoint, to: Endpoint, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(from.port, 0);
  header.writeUInt16BE(to.port, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  const datagram = Buffer.concat([header, payload]);
  datagram.writeUInt16BE(internetChecksum([pseudoHeader(from.address, to.address, 17, datagram.length), datagram]) || 0xffff, 6);
  return datagram;
}

function pseudoHeader(source: string, destination: string, protocol: number, length: number): Buffer {
  const header = Buffer.alloc(12);
  ipv4Bytes(source).copy(header, 0);
  ipv4Bytes(destination).copy(header, 4);
  header.writeUInt8(protocol, 9);
  header.writeUInt16BE(length, 10);
  return header;
}

function internetChecksum(buffers: Buffer[]): number {
  let sum = 0;
  const bytes = Buffer.concat(buffers);
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] ?? 0) * 256 + (bytes[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function ipv4Bytes(address: string): Buffer {
  // The synthetic conversation is IPv4; an IPv6 filter address falls back to documentation addresses.
  const usable = isIPv4(address) ? address : "192.0.2.1";
  return Buffer.from(usable.split(".").map(Number));
}
