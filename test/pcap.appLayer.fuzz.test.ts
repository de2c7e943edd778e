// Everything the DNS, HTTP and TLS decoders read is chosen by whoever sent the packets. Fuzzed with fast-check: any
// bytes, and any bytes behind a valid-looking header, never throw (each decoder gets a DataView exactly as long as
// the payload, so a read past it would throw), never loop, and leave only printable, length-capped text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyzeCapture, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import { DnsMessage } from "../domain/pcap/dnsDecoder.js";
import { DnsStats } from "../domain/pcap/dnsStats.js";
import { FrameDecoder } from "../domain/pcap/frameDecoder.js";
import { HttpStats } from "../domain/pcap/httpStats.js";
import { TlsStats } from "../domain/pcap/tlsStats.js";
import { ACK, ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, PSH, tcp, udp, type Packet } from "./pcap.synthetic.js";

const viewOf = (bytes: Uint8Array): DataView => new DataView(Uint8Array.from(bytes).buffer);

/** Bytes that look like the start of a DNS message, HTTP line or TLS record, then anything. */
const prefixed = fc.tuple(
  fc.constantFrom(
    [0x12, 0x34, 0x81, 0x82, 0, 1, 0, 1, 0, 0, 0, 1],
    [0xab, 0xcd, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x0c],
    [...Buffer.from("GET / HTTP/1.1\r\nHost: ")],
    [...Buffer.from("HTTP/1.1 503 ")],
    [22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xfc, 3, 3],
    [21, 3, 3, 0, 2, 2],
  ),
  fc.uint8Array({ maxLength: 600 }),
).map(([head, tail]) => Uint8Array.from([...head, ...tail]));
const payloads = fc.oneof(fc.uint8Array({ maxLength: 600 }), prefixed);

/** A decoded frame from 10.0.0.53:53 to 10.0.0.4:443, as the decoders' callers pass it. */
const frame = new FrameDecoder();
frame.ipVersion = 4;
frame.source[0] = 0x0a000035;
frame.destination[0] = 0x0a000004;
frame.sourcePort = 53;
frame.destinationPort = 443;

const printable = /^[\x20-\x7e…]*$/;

function checkText(s: CaptureSummary): void {
  for (const f of s.findings) expect(f).not.toMatch(/[\x00-\x1f\x7f-\x9f]/); // our words (×, →) around decoded text
  const texts = [
    ...Object.keys(s.tls.serverNames),
    ...Object.keys(s.http.methods),
    ...s.http.hosts.map((h) => h.host),
    ...s.dns.servers.flatMap((v) => v.failingNames.map((f) => f.name)),
  ];
  for (const t of texts) {
    expect(t).toMatch(printable);
    expect(t.length).toBeLessThan(2000);
  }
}

describe("application decoders on hostile input", () => {
  it("decode any payload without reading past it", () => {
    fc.assert(
      fc.property(payloads, fc.boolean(), (bytes, tcpSide) => {
        const view = viewOf(bytes);
        const message = new DnsMessage();
        if (message.decode(view, 0, bytes.length)) message.name();
        const dns = new DnsStats();
        if (tcpSide) dns.tcp(view, 0, bytes.length, 0, 1, frame);
        else dns.udp(view, 0, bytes.length, 0, 1, frame);
        new HttpStats().segment(view, 0, bytes.length, 0, 1);
        new TlsStats(4).segment(view, 0, bytes.length, 0, 0, true, frame);
      }),
      { numRuns: 3000 },
    );
  });

  it("analyse captures of hostile DNS, HTTP and TLS payloads into printable, bounded summaries", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(payloads, fc.constantFrom(53, 80, 443, 8080, 9999), fc.boolean()), { maxLength: 30 }), async (items) => {
        const packets: Packet[] = items.map(([bytes, port, overUdp], i) => {
          const body = Buffer.from(bytes);
          const transport = overUdp ? udp(40000 + i, port, body) : tcp({ sourcePort: 40000 + (i % 3), destinationPort: port, seq: i * 1000, ack: 1, flags: ACK | PSH, payload: body });
          return { seconds: 1_700_000_000, fraction: i, data: ethernet(ETHERTYPE_IPV4, ipv4({ source: "10.0.0.4", destination: "10.0.0.9", protocol: overUdp ? 17 : 6, payload: transport })) };
        });
        const s = await analyzeCapture(once(pcapFile(packets)), { flowTableCapacity: 64 });
        expect(s.packets).toBe(items.length);
        checkText(s);
      }),
      { numRuns: 200 },
    );
  });

  it("follows at most 16 DNS compression pointers (a pointer loop ends)", () => {
    // Question name = pointer to itself at offset 12.
    const loop = Uint8Array.from([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    const m = new DnsMessage();
    expect(m.decode(viewOf(loop), 0, loop.length)).toBe(true);
    expect(m.name()).toBe("");
  });

  it("keeps tables bounded when every packet carries a new name", async () => {
    const tls = new TlsStats(8);
    for (let i = 0; i < 5000; i++) {
      const name = Buffer.from(`host-${i}.example.test`);
      const hello = clientHello(name);
      tls.segment(viewOf(hello), 0, hello.length, -1, 0, true, frame);
    }
    expect(tls.clientHellos).toBe(5000);
    expect(tls.serverNames.counts.size).toBe(1024);
    expect(tls.serverNames.other).toBe(5000 - 1024);
  });
});

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** A minimal TLS 1.2 ClientHello record with one SNI extension. */
function clientHello(name: Buffer): Uint8Array {
  const sni = Buffer.concat([u16(0), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const body = Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.from([0]), u16(2), u16(0x1301), Buffer.from([1, 0]), u16(sni.length), sni]);
  const handshake = Buffer.concat([Buffer.from([1, 0]), u16(body.length), body]);
  return Uint8Array.from(Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]));
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
