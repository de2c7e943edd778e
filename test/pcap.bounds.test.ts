// Bounds on large inputs (speed is measured by `npm run bench:analyze`, not here): a ~53 MB capture of many TCP flows,
// built in memory and streamed in 1 MB chunks, is counted whole, and a scan of more distinct flows than the table
// holds stays within the cap and says so.
import { describe, expect, it } from "vitest";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { ACK, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethernet, ipv4, ipv6, pcapHeader, SYN, tcp } from "./pcap.synthetic.js";

/** `count` records cycling through `templates`, each with its own source port and sequence number and time. */
function capture(templates: Buffer[], count: number, portOf: (i: number) => number): Buffer {
  const records = templates.map((frame) => Buffer.concat([Buffer.alloc(16), frame]));
  const size = records.reduce((sum, r) => sum + r.length, 0);
  const out = Buffer.allocUnsafe(24 + Math.ceil(count / records.length) * size);
  pcapHeader().copy(out, 0);
  let at = 24;
  for (let i = 0; i < count; i++) {
    const record = records[i % records.length]!;
    record.copy(out, at);
    const frame = at + 16;
    const l4 = frame + 14 + (out.readUInt16BE(frame + 12) === ETHERTYPE_IPV6 ? 40 : 20);
    out.writeUInt32LE(1_700_000_000 + Math.floor(i / 100_000), at);
    out.writeUInt32LE((i * 7) % 1_000_000, at + 4);
    out.writeUInt32LE(record.length - 16, at + 8);
    out.writeUInt32LE(record.length - 16, at + 12);
    out.writeUInt16BE(portOf(i), l4);
    out.writeUInt32BE((i * 1448) >>> 0, l4 + 4);
    at += record.length;
  }
  return out.subarray(0, at);
}

async function* chunks(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20));
}

describe("analyser bounds on large captures", () => {
  it("counts a ~53 MB many-flow capture streamed in 1 MB chunks", async () => {
    const data = (n: number): Buffer => tcp({ sourcePort: 1, destinationPort: 443, seq: 0, ack: 1, flags: ACK, payload: n });
    const templates = [
      ethernet(ETHERTYPE_IPV4, ipv4({ source: "10.0.0.1", destination: "10.0.1.1", protocol: 6, payload: data(1448) })),
      ethernet(ETHERTYPE_IPV4, ipv4({ source: "10.0.1.1", destination: "10.0.0.1", protocol: 6, payload: data(0) })),
      ethernet(ETHERTYPE_IPV6, ipv6("2001:db8::1", "2001:db8::2", 6, data(1200))),
      ethernet(ETHERTYPE_IPV4, ipv4({ source: "10.0.0.2", destination: "10.0.1.1", protocol: 6, payload: data(600) }), [[0x8100, 7]]),
    ];
    const bytes = capture(templates, 60_000, (i) => 1024 + (i % 5000));
    const s = await analyzeCapture(chunks(bytes));
    expect(s.packets).toBe(60_000);
    expect(s.conversations).toBeGreaterThan(5_000);
    expect(s.bytes).toBe(bytes.length - 24 - 60_000 * 16);
  });

  it("keeps a SYN scan of 150,000 distinct flows within a 20,000-flow table", async () => {
    const syn = ethernet(ETHERTYPE_IPV4, ipv4({ source: "10.9.0.1", destination: "10.9.0.2", protocol: 6, payload: tcp({ sourcePort: 1, destinationPort: 22, seq: 0, flags: SYN }) }));
    const bytes = capture([syn], 150_000, (i) => i % 65536);
    // Distinct flows: vary the destination's third octet too (10.9.1.2, 10.9.2.2, 10.9.3.2), as ports wrap at 65,536.
    for (let i = 0, at = 24; i < 150_000; i++, at += 16 + syn.length) bytes.writeUInt8(1 + (i >>> 16), at + 16 + 14 + 18);
    const s = await analyzeCapture(chunks(bytes), { flowTableCapacity: 20_000 });
    expect(s).toMatchObject({ packets: 150_000, tcpSyn: 150_000, conversations: 20_000, flowTableSaturated: true, flowTable: { untrackedPackets: 130_000 } });
    expect(s.tcpHealth.synsWithoutAnswer).toBe(20_000);
    expect(s.topTalkers[0]).toMatchObject({ address: "10.9.0.1", packets: 150_000 });
  });
});
