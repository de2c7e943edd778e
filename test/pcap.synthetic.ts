// Builders for synthetic frames and capture files, for the pcap tests and the analyze benchmark. Plain and slow on
// purpose (one Buffer per header): they must be obviously right, since they are what the reader is checked against.

export interface TcpSegment {
  sourcePort: number;
  destinationPort: number;
  seq: number;
  ack?: number;
  /** FIN 1, SYN 2, RST 4, PSH 8, ACK 16. */
  flags: number;
  window?: number;
  payload?: Buffer | number;
}

export const FIN = 1;
export const SYN = 2;
export const RST = 4;
export const PSH = 8;
export const ACK = 16;

const bytesOf = (payload: Buffer | number | undefined): Buffer =>
  payload === undefined ? Buffer.alloc(0) : typeof payload === "number" ? Buffer.alloc(payload, 0x61) : payload;

export function tcp(s: TcpSegment): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(s.sourcePort, 0);
  h.writeUInt16BE(s.destinationPort, 2);
  h.writeUInt32BE(s.seq >>> 0, 4);
  h.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = s.flags;
  h.writeUInt16BE(s.window ?? 65535, 14);
  return Buffer.concat([h, bytesOf(s.payload)]);
}

export function udp(sourcePort: number, destinationPort: number, payload?: Buffer | number): Buffer {
  const body = bytesOf(payload);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sourcePort, 0);
  h.writeUInt16BE(destinationPort, 2);
  h.writeUInt16BE(8 + body.length, 4);
  return Buffer.concat([h, body]);
}

export function icmp(type: number, code: number, payload?: Buffer | number): Buffer {
  return Buffer.concat([Buffer.from([type, code, 0, 0, 0, 1, 0, 1]), bytesOf(payload)]);
}

export function ipv4Address(text: string): Buffer {
  return Buffer.from(text.split(".").map(Number));
}

export function ipv6Address(text: string): Buffer {
  const [head = "", tail] = text.split("::");
  const groups = (part: string): number[] => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

export interface Ipv4Options {
  source: string;
  destination: string;
  protocol: number;
  payload: Buffer;
  /** Fragment offset in 8-byte units and the more-fragments flag. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** Extra option bytes (multiple of 4) to exercise IHL > 5. */
  options?: Buffer;
  /** Override of the total-length field (0 = TSO). */
  totalLength?: number;
}

export function ipv4(o: Ipv4Options): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + options.length);
  h[0] = 0x40 | ((20 + options.length) / 4);
  h.writeUInt16BE(o.totalLength ?? h.length + o.payload.length, 2);
  h.writeUInt16BE(((o.moreFragments ? 0x2000 : 0) | (o.fragmentOffset ?? 0)) >>> 0, 6);
  h[8] = 64;
  h[9] = o.protocol;
  ipv4Address(o.source).copy(h, 12);
  ipv4Address(o.destination).copy(h, 16);
  options.copy(h, 20);
  return Buffer.concat([h, o.payload]);
}

/** An IPv6 extension header in the chain: [type, body] where the body excludes the next-header byte. */
export type Ipv6Extension = { type: 0 | 43 | 60 | 51 | 44; fragmentOffset?: number; moreFragments?: boolean };

export function ipv6(source: string, destination: string, protocol: number, payload: Buffer, extensions: Ipv6Extension[] = []): Buffer {
  const chain: Buffer[] = [];
  extensions.forEach((ext, i) => {
    const next = extensions[i + 1]?.type ?? protocol;
    let b: Buffer;
    if (ext.type === 44) {
      b = Buffer.alloc(8);
      b.writeUInt16BE(((ext.fragmentOffset ?? 0) << 3) | (ext.moreFragments ? 1 : 0), 2);
      b.writeUInt32BE(0x12345678, 4);
    } else if (ext.type === 51) {
      b = Buffer.alloc(16); // AH: (len + 2) * 4 = 16 → len = 2
      b[1] = 2;
    } else {
      b = Buffer.alloc(16); // (len + 1) * 8 = 16 → len = 1
      b[1] = 1;
    }
    b[0] = next;
    chain.push(b);
  });
  const body = Buffer.concat([...chain, payload]);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(body.length, 4);
  h[6] = extensions[0]?.type ?? protocol;
  h[7] = 64;
  ipv6Address(source).copy(h, 8);
  ipv6Address(destination).copy(h, 24);
  return Buffer.concat([h, body]);
}

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;

/** Ethernet II with optional VLAN tags, outermost first: [tpid, vlanId]. */
export function ethernet(etherType: number, payload: Buffer, tags: Array<[tpid: number, vlan: number]> = []): Buffer {
  const h = Buffer.alloc(14 + tags.length * 4);
  Buffer.from([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]).copy(h, 0);
  let p = 12;
  for (const [tpid, vlan] of tags) {
    h.writeUInt16BE(tpid, p);
    h.writeUInt16BE(vlan, p + 2);
    p += 4;
  }
  h.writeUInt16BE(etherType, p);
  return Buffer.concat([h, payload]);
}

export function linuxSll(etherType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(etherType, 14);
  return Buffer.concat([h, payload]);
}

export function linuxSll2(etherType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(etherType, 0);
  h.writeUInt32BE(2, 4); // interface index
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 4; // outgoing
  h[11] = 6;
  return Buffer.concat([h, payload]);
}

/** BSD loopback header: the address family in the given byte order. */
export function nullLoopback(family: number, payload: Buffer, littleEndian: boolean): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(family, 0);
  else h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

export interface Packet {
  /** Seconds since the epoch. */
  seconds: number;
  /** Fraction in the file's unit (µs or ns for pcap). */
  fraction?: number;
  data: Buffer;
  /** Original length; defaults to data length. The data is cut to the snap length if one is given. */
  originalLength?: number;
}

export interface PcapOptions {
  littleEndian?: boolean;
  nanosecond?: boolean;
  linkType?: number;
  snapLength?: number;
}

export function pcapHeader(o: PcapOptions = {}): Buffer {
  const le = o.littleEndian ?? true;
  const h = Buffer.alloc(24);
  const u32 = (v: number, at: number): number => (le ? h.writeUInt32LE(v >>> 0, at) : h.writeUInt32BE(v >>> 0, at));
  const u16 = (v: number, at: number): number => (le ? h.writeUInt16LE(v, at) : h.writeUInt16BE(v, at));
  u32(o.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u16(2, 4);
  u16(4, 6);
  u32(o.snapLength ?? 262144, 16);
  u32(o.linkType ?? 1, 20);
  return h;
}

export function pcapRecord(p: Packet, o: PcapOptions = {}): Buffer {
  const le = o.littleEndian ?? true;
  const data = o.snapLength !== undefined && p.data.length > o.snapLength ? p.data.subarray(0, o.snapLength) : p.data;
  const h = Buffer.alloc(16);
  const u32 = (v: number, at: number): number => (le ? h.writeUInt32LE(v >>> 0, at) : h.writeUInt32BE(v >>> 0, at));
  u32(p.seconds, 0);
  u32(p.fraction ?? 0, 4);
  u32(data.length, 8);
  u32(p.originalLength ?? p.data.length, 12);
  return Buffer.concat([h, data]);
}

export function pcapFile(packets: Packet[], o: PcapOptions = {}): Buffer {
  return Buffer.concat([pcapHeader(o), ...packets.map((p) => pcapRecord(p, o))]);
}

export interface PcapngInterface {
  linkType: number;
  snapLength?: number;
  /** if_tsresol byte: 6 = µs, 9 = ns, 0x80 | n = 2^-n. Omitted → no option (µs). */
  tsresol?: number;
  /** if_tsoffset seconds. */
  tsoffset?: number;
}

export interface PcapngPacket {
  kind?: "enhanced" | "simple" | "obsolete";
  interfaceId?: number;
  /** Timestamp in the interface's units. */
  units?: bigint;
  data: Buffer;
  originalLength?: number;
}

export interface PcapngSection {
  littleEndian: boolean;
  interfaces: PcapngInterface[];
  packets: PcapngPacket[];
  /** Extra non-packet blocks (type, body) after the interfaces: name resolution, statistics, custom. */
  otherBlocks?: Array<[type: number, body: Buffer]>;
}

export function pcapngFile(sections: PcapngSection[]): Buffer {
  const blocks: Buffer[] = [];
  for (const section of sections) {
    const le = section.littleEndian;
    const block = (type: number, body: Buffer): Buffer => {
      const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
      const b = Buffer.alloc(12 + padded.length);
      const u32 = (v: number, at: number): number => (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
      u32(type, 0);
      u32(b.length, 4);
      padded.copy(b, 8);
      u32(b.length, b.length - 4);
      return b;
    };
    const w = (size: number, fill: (b: Buffer, u16: (v: number, at: number) => void, u32: (v: number, at: number) => void) => void): Buffer => {
      const b = Buffer.alloc(size);
      fill(
        b,
        (v, at) => void (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at)),
        (v, at) => void (le ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at)),
      );
      return b;
    };
    const option = (code: number, value: Buffer): Buffer =>
      Buffer.concat([w(4, (_b, u16) => (u16(code, 0), u16(value.length, 2))), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
    // SHB: byte-order magic, version 1.0, section length unknown (-1).
    blocks.push(block(0x0a0d0d0a, w(16, (b, u16, u32) => (u32(0x1a2b3c4d, 0), u16(1, 4), u16(0, 6), b.fill(0xff, 8, 16)))));
    for (const iface of section.interfaces) {
      const options: Buffer[] = [option(2, Buffer.from("eth-test"))];
      if (iface.tsresol !== undefined) options.push(option(9, Buffer.from([iface.tsresol])));
      if (iface.tsoffset !== undefined) {
        const v = Buffer.alloc(8);
        if (le) v.writeBigInt64LE(BigInt(iface.tsoffset));
        else v.writeBigInt64BE(BigInt(iface.tsoffset));
        options.push(option(14, v));
      }
      options.push(Buffer.alloc(4)); // opt_endofopt
      blocks.push(block(1, Buffer.concat([w(8, (_b, u16, u32) => (u16(iface.linkType, 0), u32(iface.snapLength ?? 0, 4))), ...options])));
    }
    for (const [type, body] of section.otherBlocks ?? []) blocks.push(block(type, body));
    for (const p of section.packets) {
      const snap = section.interfaces[p.interfaceId ?? 0]?.snapLength ?? 0; // (an undeclared interface is a test case)
      const data = snap > 0 && p.data.length > snap ? p.data.subarray(0, snap) : p.data;
      const original = p.originalLength ?? p.data.length;
      const units = p.units ?? 0n;
      const high = Number(units >> 32n);
      const low = Number(units & 0xffffffffn);
      if ((p.kind ?? "enhanced") === "simple") {
        blocks.push(block(3, Buffer.concat([w(4, (_b, _u16, u32) => u32(original, 0)), data])));
      } else if (p.kind === "obsolete") {
        const head = w(20, (_b, u16, u32) => (u16(p.interfaceId ?? 0, 0), u16(0, 2), u32(high, 4), u32(low, 8), u32(data.length, 12), u32(original, 16)));
        blocks.push(block(2, Buffer.concat([head, data])));
      } else {
        const head = w(20, (_b, _u16, u32) => (u32(p.interfaceId ?? 0, 0), u32(high, 4), u32(low, 8), u32(data.length, 12), u32(original, 16)));
        blocks.push(block(6, Buffer.concat([head, data])));
      }
    }
  }
  return Buffer.concat(blocks);
}
