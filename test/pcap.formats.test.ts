// Edge cases built here byte by byte: every container variant, link type, encapsulation and truncation the reader
// claims to handle, the inputs it must refuse cleanly, and chunking at every possible record boundary.
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { analyzeCapture, CaptureFormatError, type AnalyzeOptions, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import {
  ACK,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ethernet,
  FIN,
  icmp,
  ipv4,
  ipv6,
  linuxSll,
  linuxSll2,
  nullLoopback,
  pcapFile,
  pcapngFile,
  RST,
  SYN,
  tcp,
  udp,
  type Packet,
} from "./pcap.synthetic.js";

async function analyzeBytes(bytes: Buffer, chunkSize = 64 * 1024, options: AnalyzeOptions = {}): Promise<CaptureSummary> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  return analyzeCapture(chunks(), options);
}

async function formatError(bytes: Buffer): Promise<CaptureFormatError> {
  const error = await analyzeBytes(bytes).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CaptureFormatError);
  return error as CaptureFormatError;
}

const syn = (sourcePort = 40000, destinationPort = 443, seq = 1000): Buffer => tcp({ sourcePort, destinationPort, seq, flags: SYN });
const v4 = (payload: Buffer, protocol = 6, source = "10.0.0.1", destination = "10.0.0.2"): Buffer => ipv4({ source, destination, protocol, payload });
const v6 = (payload: Buffer, protocol = 6): Buffer => ipv6("2001:db8::1", "2001:db8::2", protocol, payload);
const at = (seconds: number, data: Buffer, fraction = 0): Packet => ({ seconds, fraction, data });

describe("classic pcap variants", () => {
  it("reads nanosecond timestamps exactly", async () => {
    const file = pcapFile([at(1_700_000_000, ethernet(ETHERTYPE_IPV4, v4(syn())), 123_456_789), at(1_700_000_001, ethernet(ETHERTYPE_IPV4, v4(syn())), 999_999_999)], { nanosecond: true });
    const s = await analyzeBytes(file);
    expect(s).toMatchObject({
      format: "pcap",
      formatVariant: "pcap, nanosecond",
      firstTimestamp: "2023-11-14T22:13:20.123456789Z",
      lastTimestamp: "2023-11-14T22:13:21.999999999Z",
      durationSeconds: 1.876543,
    });
  });

  it("reads big-endian files of either precision", async () => {
    for (const nanosecond of [false, true]) {
      const file = pcapFile([at(1_000, ethernet(ETHERTYPE_IPV4, v4(syn())), 5)], { littleEndian: false, nanosecond });
      const s = await analyzeBytes(file);
      expect(s).toMatchObject({ byteOrder: "big-endian", packets: 1, tcpSyn: 1, firstTimestamp: nanosecond ? "1970-01-01T00:16:40.000000005Z" : "1970-01-01T00:16:40.000005Z" });
    }
  });

  it("reads Kuznetzov's modified pcap (24-byte record headers)", async () => {
    const frame = ethernet(ETHERTYPE_IPV4, v4(syn()));
    const header = pcapFile([], {});
    header.writeUInt32LE(0xa1b2cd34, 0);
    const record = Buffer.alloc(24);
    record.writeUInt32LE(10, 0);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length, 12);
    const s = await analyzeBytes(Buffer.concat([header, record, frame, record, frame]));
    expect(s).toMatchObject({ formatVariant: "modified pcap (Kuznetzov)", packets: 2, tcpSyn: 2, tcp: 2 });
  });

  it("counts an empty capture (header only)", async () => {
    const s = await analyzeBytes(pcapFile([]));
    expect(s).toMatchObject({ packets: 0, bytes: 0, firstTimestamp: null, lastTimestamp: null, linkTypes: [1], truncated: false });
  });
});

describe("pcapng", () => {
  const frame = ethernet(ETHERTYPE_IPV4, v4(syn()));
  const file = pcapngFile([
    {
      littleEndian: true,
      interfaces: [
        { linkType: 1, tsresol: 9 }, // nanoseconds
        { linkType: 101, tsresol: 0x80 | 20 }, // 2^-20 s
      ],
      otherBlocks: [
        [4, Buffer.alloc(4)], // name resolution block, empty
        [0x00000bad, Buffer.from("custom block, not a packet")],
      ],
      packets: [
        { interfaceId: 0, units: 1_700_000_000_123_456_789n, data: frame },
        { interfaceId: 1, units: (1_700_000_000n << 20n) + (1n << 19n), data: v6(syn()) }, // +0.5 s
        { kind: "obsolete", interfaceId: 0, units: 1_700_000_002_000_000_000n, data: frame },
      ],
    },
    {
      littleEndian: false, // a new section may switch byte order and restarts the interface list
      interfaces: [{ linkType: 113, snapLength: 40 }, { linkType: 276, tsoffset: 1_000 }],
      packets: [
        { kind: "simple", data: linuxSll(ETHERTYPE_IPV4, v4(udp(53, 5353, 100), 17)) },
        { interfaceId: 1, units: 1_699_999_000_000_000n, data: linuxSll2(ETHERTYPE_IPV6, v6(udp(1, 2, 10), 17)) }, // µs default + 1,000 s offset
      ],
    },
  ]);

  it("walks several sections, byte orders, interfaces and block kinds", async () => {
    const s = await analyzeBytes(file);
    expect(s).toMatchObject({
      format: "pcapng",
      sections: 2,
      interfaces: 4,
      byteOrder: "mixed",
      linkTypes: [1, 101, 113, 276],
      packets: 5,
      ipv4: 3,
      ipv6: 2,
      tcp: 3,
      udp: 2,
      tcpSyn: 3,
      packetsWithoutTimestamp: 1,
      firstTimestamp: "2023-11-14T22:13:20.000000Z", // section 2's µs interface, through its 1,000 s offset
      lastTimestamp: "2023-11-14T22:13:22.000000000Z", // section 1's obsolete packet block, ns interface
    });
    // The SPB is cut to its interface's 40-byte snap length; its original length still counts.
    expect(s.truncatedRecords).toBe(1);
    expect(s.bytes - s.capturedBytes).toBe(16 + 20 + 8 + 100 - 40);
  });

  it("honours if_tsresol as a power of two and if_tsoffset", async () => {
    const halfSecond = pcapngFile([{ littleEndian: true, interfaces: [{ linkType: 101, tsresol: 0x80 | 20 }], packets: [{ units: (1_700_000_000n << 20n) + (1n << 19n), data: v4(syn()) }] }]);
    expect((await analyzeBytes(halfSecond)).firstTimestamp).toBe("2023-11-14T22:13:20.5000000Z"); // 2^-20 s needs 7 digits
    const offset = pcapngFile([{ littleEndian: false, interfaces: [{ linkType: 101, tsoffset: 1_000 }], packets: [{ units: 1_699_999_000_000_001n, data: v4(syn()) }] }]);
    expect((await analyzeBytes(offset)).firstTimestamp).toBe("2023-11-14T22:13:20.000001Z");
  });

  it("rejects a packet block for an interface its section does not declare", async () => {
    const bad = pcapngFile([{ littleEndian: true, interfaces: [{ linkType: 1 }], packets: [{ interfaceId: 3, data: frame }] }]);
    const error = await formatError(bad);
    expect(error.kind).toBe("corrupt");
    expect(error.message).toMatch(/interface 3/);
  });

  it("rejects impossible block lengths and a bad byte-order magic", async () => {
    const misaligned = Buffer.from(file);
    misaligned.writeUInt32LE(30, 4); // the SHB's length, not a multiple of 4
    expect((await formatError(misaligned)).kind).toBe("corrupt");
    const noMagic = Buffer.from(file);
    noMagic.writeUInt32LE(0x12345678, 8);
    expect((await formatError(noMagic)).message).toMatch(/byte-order magic/);
  });
});

describe("link types and encapsulations", () => {
  const cases: Array<[label: string, linkType: number, frame: Buffer, expected: Partial<CaptureSummary>]> = [
    ["Ethernet + 802.1Q", 1, ethernet(ETHERTYPE_IPV4, v4(syn()), [[0x8100, 100]]), { ipv4: 1, tcpSyn: 1, vlanTagged: 1 }],
    ["Ethernet + QinQ (802.1ad over 802.1Q)", 1, ethernet(ETHERTYPE_IPV6, v6(syn()), [[0x88a8, 10], [0x8100, 20]]), { ipv6: 1, tcpSyn: 1, vlanTagged: 1 }],
    ["Ethernet + old QinQ 0x9100", 1, ethernet(ETHERTYPE_IPV4, v4(syn()), [[0x9100, 10], [0x8100, 20]]), { ipv4: 1, tcpSyn: 1 }],
    ["Ethernet + MPLS label stack", 1, ethernet(0x8847, Buffer.concat([Buffer.from([0, 1, 0x20, 64, 0, 2, 0x21, 64]), v4(syn())])), { ipv4: 1, tcpSyn: 1 }],
    ["Ethernet + PPPoE session", 1, ethernet(0x8864, Buffer.concat([Buffer.from([0x11, 0, 0, 1, 0, 0, 0, 0x57]), v6(syn())])), { ipv6: 1, tcpSyn: 1 }],
    ["Ethernet ARP (not IP)", 1, ethernet(ETHERTYPE_ARP, Buffer.alloc(28)), { ipv4: 0, nonIp: 1 }],
    ["Linux SLL", 113, linuxSll(ETHERTYPE_IPV4, v4(syn())), { ipv4: 1, tcpSyn: 1 }],
    ["Linux SLL2", 276, linuxSll2(ETHERTYPE_IPV6, v6(syn())), { ipv6: 1, tcpSyn: 1 }],
    ["NULL, little-endian family", 0, nullLoopback(2, v4(syn()), true), { ipv4: 1, tcpSyn: 1 }],
    ["NULL, big-endian family (BSD IPv6 = 24)", 0, nullLoopback(24, v6(syn()), false), { ipv6: 1, tcpSyn: 1 }],
    ["NULL, macOS IPv6 = 30", 0, nullLoopback(30, v6(syn()), true), { ipv6: 1, tcpSyn: 1 }],
    ["OpenBSD LOOP", 108, nullLoopback(2, v4(syn()), false), { ipv4: 1, tcpSyn: 1 }],
    ["raw IP (101) carrying IPv6", 101, v6(syn()), { ipv6: 1, tcpSyn: 1 }],
    ["raw IP (DLT 12)", 12, v4(syn()), { ipv4: 1, tcpSyn: 1 }],
    ["raw IP (DLT 14)", 14, v4(syn()), { ipv4: 1, tcpSyn: 1 }],
    ["raw IPv4 (228)", 228, v4(syn()), { ipv4: 1, tcpSyn: 1 }],
    ["raw IPv6 (229)", 229, v6(syn()), { ipv6: 1, tcpSyn: 1 }],
    ["a link type not decoded (802.11)", 105, Buffer.alloc(40), { ipv4: 0, ipv6: 0, nonIp: 1 }],
  ];
  for (const [label, linkType, frame, expected] of cases) {
    it(label, async () => {
      const s = await analyzeBytes(pcapFile([at(1, frame)], { linkType }));
      expect(s).toMatchObject({ packets: 1, linkTypes: [linkType], malformedPackets: 0, headerTruncatedPackets: 0, ...expected });
      if ((expected.ipv4 ?? 0) + (expected.ipv6 ?? 0) > 0) expect(s.topConversations[0]).toMatchObject({ protocol: "TCP", sourcePort: 40000, destinationPort: 443 });
    });
  }
});

describe("IP and transport decoding", () => {
  it("walks IPv6 extension headers (hop-by-hop, routing, destination options, AH) to the transport", async () => {
    const hops = ipv6("2001:db8::1", "2001:db8::2", 6, syn(), [{ type: 0 }, { type: 43 }, { type: 60 }]);
    const ah = ipv6("2001:db8::1", "2001:db8::2", 17, udp(1, 2, 5), [{ type: 51 }]);
    const s = await analyzeBytes(pcapFile([at(1, ethernet(ETHERTYPE_IPV6, hops)), at(2, ethernet(ETHERTYPE_IPV6, ah))]));
    expect(s).toMatchObject({ ipv6: 2, tcp: 1, tcpSyn: 1, udp: 1, ipFragments: 0 });
    expect(s.topConversations.map((c) => `${c.protocol} ${c.source} ${c.sourcePort}`).sort()).toEqual(["TCP 2001:db8::1 40000", "UDP 2001:db8::1 1"]);
  });

  it("counts a fragmented datagram's transport once, in its first fragment (IPv4 and IPv6)", async () => {
    const frames = [
      ipv4({ source: "10.0.0.1", destination: "10.0.0.2", protocol: 17, payload: udp(1, 2, 1472), moreFragments: true }),
      ipv4({ source: "10.0.0.1", destination: "10.0.0.2", protocol: 17, payload: Buffer.alloc(100), fragmentOffset: 185 }),
      ipv6("2001:db8::1", "2001:db8::2", 17, udp(1, 2, 1400), [{ type: 44, moreFragments: true }]),
      ipv6("2001:db8::1", "2001:db8::2", 17, Buffer.alloc(100), [{ type: 44, fragmentOffset: 176 }]),
    ];
    const s = await analyzeBytes(pcapFile(frames.map((f, i) => at(i, f)), { linkType: 101 }));
    expect(s).toMatchObject({ ipv4: 2, ipv6: 2, udp: 2, ipFragments: 2 });
  });

  it("honours IPv4 options (IHL > 5) and TSO's zero total length", async () => {
    const withOptions = ipv4({ source: "10.0.0.1", destination: "10.0.0.2", protocol: 6, payload: tcp({ sourcePort: 1, destinationPort: 2, seq: 1, flags: ACK, payload: 100 }), options: Buffer.from([1, 1, 1, 0]) });
    const tso = ipv4({ source: "10.0.0.1", destination: "10.0.0.2", protocol: 6, payload: tcp({ sourcePort: 1, destinationPort: 2, seq: 101, flags: ACK, payload: 3000 }), totalLength: 0 });
    const s = await analyzeBytes(pcapFile([at(1, withOptions), at(2, tso)], { linkType: 101 }));
    expect(s).toMatchObject({ tcp: 2, malformedPackets: 0, tcpRetransmissions: 0, conversations: 1 });
  });

  it("counts ICMP and ICMPv6 apart and notes unreachable / time-exceeded errors", async () => {
    const quoted = v4(syn(), 6, "10.0.0.2", "10.0.0.1");
    const frames = [v4(icmp(8, 0), 1), v4(icmp(3, 3, quoted), 1), v4(icmp(11, 0, quoted), 1), v6(icmp(1, 4), 58)];
    const s = await analyzeBytes(pcapFile(frames.map((f, i) => at(i, f)), { linkType: 101 }));
    expect(s).toMatchObject({ icmp: 3, icmpv6: 1, tcp: 0, tcpSyn: 0, icmpErrors: { destinationUnreachable: 2, timeExceeded: 1 } });
  });

  it("takes TCP payload length from the IP header, not the captured length (Ethernet padding)", async () => {
    // A 40-byte segment padded to Ethernet's 60-byte minimum, sent twice: the copy is a retransmission only if the
    // padding is ignored (payload 0 would make it a plain ACK).
    const ack = tcp({ sourcePort: 1, destinationPort: 2, seq: 5, ack: 9, flags: ACK | 8, payload: 6 });
    const frame = Buffer.concat([ethernet(ETHERTYPE_IPV4, v4(ack)), Buffer.alloc(4)]);
    const s = await analyzeBytes(pcapFile([at(1, frame), at(2, frame)]));
    expect(s).toMatchObject({ tcpRetransmissions: 1, tcpHealth: { payloadRetransmissions: 1 } });
  });
});

describe("truncation", () => {
  it("counts a 34-byte snap length the way Network Watcher's IPv4-header setting produces it", async () => {
    const frames = [
      ethernet(ETHERTYPE_IPV4, v4(tcp({ sourcePort: 40000, destinationPort: 443, seq: 1, flags: SYN }))),
      ethernet(ETHERTYPE_IPV4, v4(udp(5000, 53, 200), 17)),
      ethernet(ETHERTYPE_IPV6, v6(syn())),
    ];
    const s = await analyzeBytes(pcapFile(frames.map((f, i) => at(i, f)), { snapLength: 34 }));
    expect(s).toMatchObject({
      packets: 3,
      capturedBytes: 34 * 3,
      bytes: frames.reduce((sum, f) => sum + f.length, 0),
      truncatedRecords: 3,
      headerTruncatedPackets: 3,
      ipv4: 2,
      ipv6: 1,
      tcp: 1, // from the IPv4 protocol field; the IPv6 header is cut before its next-header chain is known
      udp: 1,
      tcpSyn: 0, // the flags are gone
      truncated: false,
    });
    // Host pairs remain, without ports.
    expect(s.topConversations.map((c) => [c.protocol, c.source, c.sourcePort, c.destination, c.destinationPort])).toEqual([
      ["UDP", "10.0.0.1", 0, "10.0.0.2", 0],
      ["TCP", "10.0.0.1", 0, "10.0.0.2", 0],
    ]);
    expect(s.notes.join(" ")).toMatch(/snap length/);
  });

  it("reports a file cut inside its last record, counting everything before", async () => {
    const file = pcapFile([at(1, ethernet(ETHERTYPE_IPV4, v4(syn()))), at(2, ethernet(ETHERTYPE_IPV4, v4(syn(40001))))]);
    for (const cut of [1, 10, 20, 50]) {
      const s = await analyzeBytes(file.subarray(0, file.length - cut), 7);
      expect(s).toMatchObject({ packets: 1, truncated: true, tcpSyn: 1 });
      expect(s.truncatedTailBytes).toBe(file.length - cut - (24 + 16 + 54));
    }
    const pcapng = pcapngFile([{ littleEndian: true, interfaces: [{ linkType: 1 }], packets: [{ data: ethernet(ETHERTYPE_IPV4, v4(syn())) }, { data: ethernet(ETHERTYPE_IPV4, v4(syn())) }] }]);
    expect(await analyzeBytes(pcapng.subarray(0, pcapng.length - 3))).toMatchObject({ packets: 1, truncated: true });
  });

  it("refuses a file that ends inside its pcap file header or first pcapng section header", async () => {
    expect((await formatError(pcapFile([]).subarray(0, 20))).kind).toBe("corrupt");
    const pcapng = pcapngFile([{ littleEndian: true, interfaces: [], packets: [] }]);
    expect((await formatError(pcapng.subarray(0, 10))).kind).toBe("corrupt");
    expect(await analyzeBytes(pcapng)).toMatchObject({ format: "pcapng", packets: 0, sections: 1, linkTypes: [] });
  });

  it("refuses a record whose length is impossible", async () => {
    const file = pcapFile([at(1, ethernet(ETHERTYPE_IPV4, v4(syn())))]);
    file.writeUInt32LE(0x7fffffff, 24 + 8);
    expect((await formatError(file)).message).toMatch(/damaged/);
  });
});

describe("inputs that are not captures", () => {
  const cases: Array<[label: string, bytes: Buffer, message: RegExp]> = [
    ["gzip-compressed pcap", gzipSync(pcapFile([])), /gzip/],
    ["NetMon 2.x", Buffer.concat([Buffer.from("GMBU"), Buffer.alloc(200)]), /Network Monitor 2/],
    ["NetMon 1.x", Buffer.concat([Buffer.from("RTSS"), Buffer.alloc(200)]), /Network Monitor 1/],
    ["text", Buffer.from("this is not a capture file\n"), /not a pcap or pcapng file \(first bytes 74686973\)/],
    ["random bytes", Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]), /unsupported format/],
    ["an empty file", Buffer.alloc(0), /empty/],
    ["three bytes", Buffer.from([0xd4, 0xc3, 0xb2]), /too short/],
  ];
  for (const [label, bytes, message] of cases) {
    it(`${label} → unsupported format`, async () => {
      const error = await formatError(bytes);
      expect(error.kind).toBe("unsupported-format");
      expect(error.message).toMatch(message);
    });
  }
});

describe("streaming", () => {
  const file = pcapFile(
    Array.from({ length: 40 }, (_, i) => at(1_700_000_000 + i, ethernet(ETHERTYPE_IPV4, v4(tcp({ sourcePort: 1000 + (i % 5), destinationPort: 80, seq: i * 100, flags: i % 7 === 0 ? SYN : ACK, payload: i * 3 }))))),
  );
  const pcapng = pcapngFile([{ littleEndian: false, interfaces: [{ linkType: 1, tsresol: 9 }], packets: Array.from({ length: 30 }, (_, i) => ({ units: BigInt(i) * 1_000_000n, data: ethernet(ETHERTYPE_IPV6, v6(udp(i, 53, i))) })) }]);

  it("gives the same summary whatever the chunk size, records split anywhere", async () => {
    for (const bytes of [file, pcapng]) {
      const whole = await analyzeBytes(bytes, bytes.length);
      for (const size of [1, 2, 3, 5, 16, 17, 100, 1000]) expect(await analyzeBytes(bytes, size)).toEqual(whole);
      // random chunking
      let seed = 7;
      const sizes = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % 97 + 1;
      async function* randomChunks(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < bytes.length; ) {
          const n = sizes();
          yield new Uint8Array(bytes.subarray(i, i + n)); // plain Uint8Array, not Buffer
          i += n;
        }
      }
      expect(await analyzeCapture(randomChunks())).toEqual(whole);
    }
  });

  it("reads a Node Readable (file stream, Readable.from)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alertcap-stream-"));
    try {
      const path = join(dir, "f.pcap");
      writeFileSync(path, file);
      const expected = await analyzeBytes(file);
      expect(await analyzeCapture(createReadStream(path, { highWaterMark: 33 }))).toEqual(expected);
      expect(await analyzeCapture(Readable.from([file.subarray(0, 50), file.subarray(50)]))).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a stream with a string encoding", async () => {
    await expect(analyzeCapture(Readable.from(["text"]) as AsyncIterable<Uint8Array>)).rejects.toThrow(/binary/);
  });
});

describe("TCP health", () => {
  const client = "10.0.0.1";
  const server = "10.0.0.2";
  const c2s = (t: number, flags: number, seq: number, ack = 0, payload = 0, sourcePort = 40000, destinationPort = 443): Packet =>
    at(Math.floor(t), v4(tcp({ sourcePort, destinationPort, seq, ack, flags, payload }), 6, client, server), Math.round((t % 1) * 1e6));
  const s2c = (t: number, flags: number, seq: number, ack = 0, payload = 0, sourcePort = 443, destinationPort = 40000): Packet =>
    at(Math.floor(t), v4(tcp({ sourcePort, destinationPort, seq, ack, flags, payload }), 6, server, client), Math.round((t % 1) * 1e6));

  it("separates SYN retransmissions, unanswered and refused handshakes", async () => {
    const packets = [
      c2s(100, SYN, 1000), c2s(101, SYN, 1000), c2s(103, SYN, 1000), // blocked: no answer, retried twice
      c2s(104, SYN, 5000, 0, 0, 40001, 8081), s2c(104.0001, RST | ACK, 0, 5001, 0, 8081, 40001), // refused
      c2s(105, SYN, 7000, 0, 0, 40002), s2c(105.001, SYN | ACK, 9000, 7001, 0, 443, 40002), c2s(105.002, ACK, 7001, 9001, 0, 40002), // fine
    ];
    const s = await analyzeBytes(pcapFile(packets, { linkType: 101 }));
    expect(s).toMatchObject({
      tcpSyn: 5,
      tcpSynAck: 1,
      tcpRst: 1,
      tcpRetransmissions: 2,
      tcpHealth: { connectionAttempts: 3, handshakesCompleted: 1, synsWithoutAnswer: 1, synsRefused: 1, handshakesWithoutSynAck: 2, synRetransmissions: 2 },
    });
    expect(s.tcpHealth.failedHandshakeTargets).toEqual([
      { address: "10.0.0.2", port: 443, attempts: 1, unanswered: 1, refused: 0 },
      { address: "10.0.0.2", port: 8081, attempts: 1, unanswered: 0, refused: 1 },
    ]);
    const states = Object.fromEntries(s.topConversations.map((c) => [c.destinationPort, c.tcpHandshake]));
    expect(states).toEqual({ 443: "established", 8081: "refused" });
  });

  it("tells payload retransmissions from out-of-order segments, and restarts on a reused port", async () => {
    const packets = [
      c2s(200, SYN, 1), s2c(200.1, SYN | ACK, 500, 2), c2s(200.2, ACK, 2, 501), // handshake RTT 0.2 s
      s2c(201, ACK, 501, 2, 1000), s2c(201.0001, ACK, 2501, 2, 1000), s2c(201.0002, ACK, 1501, 2, 1000), // 1501 arrives late, within the RTT: out of order
      s2c(202, ACK, 501, 2, 1000), // 1 s later: a retransmission
      c2s(203, FIN | ACK, 2, 3501), s2c(203.1, FIN | ACK, 3501, 3), c2s(203.2, ACK, 3, 3502),
      c2s(210, SYN, 90_000), // same 4-tuple, new initial sequence number: a new connection
    ];
    const s = await analyzeBytes(pcapFile(packets, { linkType: 101 }));
    expect(s.tcpHealth).toMatchObject({ connectionAttempts: 2, handshakesCompleted: 1, synsWithoutAnswer: 1, outOfOrder: 1, payloadRetransmissions: 1 });
    expect(s.tcpRetransmissions).toBe(1);
    expect(s.conversations).toBe(1);
  });
});

describe("bounded aggregation", () => {
  it("caps the flow table and still counts every packet and host", async () => {
    const packets = Array.from({ length: 50 }, (_, i) => at(i, v4(udp(1000 + i, 53, 10), 17, `10.0.${i}.1`, "10.1.0.1")));
    const s = await analyzeBytes(pcapFile(packets, { linkType: 101 }), 1 << 16, { flowTableCapacity: 10, topN: 3 });
    expect(s).toMatchObject({ packets: 50, udp: 50, conversations: 10, flowTableSaturated: true, flowTable: { capacity: 10, untrackedPackets: 40 } });
    expect(s.topTalkers[0]).toMatchObject({ address: "10.1.0.1", packets: 50, bytesReceived: s.bytes });
    expect(s.topTalkers).toHaveLength(3);
    expect(s.notes.join(" ")).toMatch(/flow table reached its cap of 10/);
  });

  it("keeps the timeline within its bucket budget on a long capture", async () => {
    const packets = Array.from({ length: 2000 }, (_, i) => at(1_700_000_000 + i * 18, v4(udp(1, 2, 1), 17))); // 10 hours
    const s = await analyzeBytes(pcapFile(packets, { linkType: 101 }));
    expect(s.timeline.bucketSeconds).toBe(600); // 1-minute buckets would need 600 of them, one too many
    expect(s.timeline.packets.length).toBe(61); // buckets start on a multiple of 600 s, so 36,000 s touch 61
    expect(s.timeline.packets.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(s.timeline.bytes.reduce((a, b) => a + b, 0)).toBe(s.bytes);
  });

  it("puts packets whose clock steps back on the timeline too", async () => {
    const packets = [at(1_000, v4(syn())), at(1_000, v4(syn()), 500_000), at(999, v4(syn())), at(1_001, v4(syn()))];
    const s = await analyzeBytes(pcapFile(packets, { linkType: 101 }));
    expect(s.timeline.packets.reduce((a, b) => a + b, 0)).toBe(4);
    expect(s.firstTimestamp).toBe("1970-01-01T00:16:39.000000Z");
    expect(s.lastTimestamp).toBe("1970-01-01T00:16:41.000000Z");
  });
});

describe("robustness", () => {
  it("never throws anything but CaptureFormatError on damaged captures", async () => {
    const { readFileSync } = await import("node:fs");
    const fixtures = ["dpkt-http.pcap", "gopacket-be-test202.pcapng", "generated-vlan100-nsec.pcap"].map((f) =>
      readFileSync(new URL(`../../test/fixtures/pcaps/${f}`, import.meta.url)),
    );
    let seed = 12345;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let summaries = 0;
    for (let round = 0; round < 300; round++) {
      const source = fixtures[round % fixtures.length]!;
      const bytes = Buffer.from(source.subarray(0, Math.min(source.length, 4000 + next(4000))));
      for (let flips = 1 + next(8); flips > 0; flips--) bytes[next(bytes.length)] = next(256);
      try {
        // A small flow table: 300 default-sized ones (~26 MB of address space each) would make this about GC.
        await analyzeBytes(bytes.subarray(0, bytes.length - next(50)), 1 + next(700), { flowTableCapacity: 1000 });
        summaries++;
      } catch (error) {
        expect(error, String(error)).toBeInstanceOf(CaptureFormatError);
      }
    }
    expect(summaries).toBeGreaterThan(50); // most damage lands in packet bytes, which must decode without complaint
  });
});

describe("absurd timestamps", () => {
  it("summarises (and reports) a capture whose clock is far outside any calendar", async () => {
    const { htmlReport } = await import("../domain/pcap/htmlReport.js");
    const far = pcapngFile([{ littleEndian: true, interfaces: [{ linkType: 101, tsresol: 0 }], packets: [{ units: 1n << 60n, data: v4(syn()) }, { units: 5n, data: v4(syn()) }] }]);
    const s = await analyzeBytes(far);
    expect(s).toMatchObject({ packets: 2, firstTimestamp: "1970-01-01T00:00:05Z", lastTimestamp: null });
    expect(htmlReport(s, { title: "far" })).toMatch(/<\/html>/);
  });
});
