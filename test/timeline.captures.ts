// Capture files for the incident-timeline tests: a client (10.0.0.4) that asks a DNS server (10.0.0.53) a name every
// second and calls an HTTP API (10.0.0.80:80) on one kept-alive connection every `httpEvery` seconds; from
// `failFrom` on, the DNS answers are SERVFAIL (or the HTTP answers 503). Cut into files by time range, with overlaps,
// as a recorder's ring and a forward capture are.
import { dnsMessage } from "./diff.captures.js";
import { ACK, ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, PSH, SYN, tcp, udp, type Packet } from "./pcap.synthetic.js";

export const T0 = 1_800_000_000;

export interface Traffic {
  /** Seconds from T0, [from, to). */
  from: number;
  to: number;
  dnsFailFrom?: number;
  dnsRcode?: number;
  http5xxFrom?: number;
  httpEvery?: number;
  /** A second, quieter kind of failure present the whole time (NXDOMAIN every tenth answer). */
  backgroundNxdomain?: boolean;
}

interface Timed {
  time: number;
  data: Buffer;
}

function frame(time: number, source: string, destination: string, protocol: number, payload: Buffer): Timed {
  return { time, data: ethernet(ETHERTYPE_IPV4, ipv4({ source, destination, protocol, payload })) };
}

/** Every packet of the traffic, in time order (times in seconds from T0). */
export function trafficPackets(t: Traffic): Timed[] {
  const out: Timed[] = [];
  let seq = 1000;
  let serverSeq = 5000;
  const every = t.httpEvery ?? 0;
  if (every > 0) {
    out.push(frame(t.from, "10.0.0.4", "10.0.0.80", 6, tcp({ sourcePort: 40000, destinationPort: 80, seq: seq - 1, flags: SYN })));
    out.push(frame(t.from + 0.001, "10.0.0.80", "10.0.0.4", 6, tcp({ sourcePort: 80, destinationPort: 40000, seq: serverSeq - 1, ack: seq, flags: SYN | ACK })));
    out.push(frame(t.from + 0.002, "10.0.0.4", "10.0.0.80", 6, tcp({ sourcePort: 40000, destinationPort: 80, seq, ack: serverSeq, flags: ACK })));
  }
  for (let s = t.from; s < t.to; s++) {
    const id = s & 0xffff;
    const rcode = t.dnsFailFrom !== undefined && s >= t.dnsFailFrom ? (t.dnsRcode ?? 2) : t.backgroundNxdomain && s % 10 === 0 ? 3 : 0;
    out.push(frame(s + 0.1, "10.0.0.4", "10.0.0.53", 17, udp(30000 + (s % 1000), 53, dnsMessage(id, "api.contoso.test", false))));
    out.push(frame(s + 0.102, "10.0.0.53", "10.0.0.4", 17, udp(53, 30000 + (s % 1000), dnsMessage(id, "api.contoso.test", true, rcode))));
    if (every > 0 && s % every === 0) {
      const request = Buffer.from("GET /orders HTTP/1.1\r\nHost: api.contoso.test\r\n\r\n");
      const status = t.http5xxFrom !== undefined && s >= t.http5xxFrom ? "503 Service Unavailable" : "200 OK";
      const response = Buffer.from(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`);
      out.push(frame(s + 0.2, "10.0.0.4", "10.0.0.80", 6, tcp({ sourcePort: 40000, destinationPort: 80, seq, ack: serverSeq, flags: PSH | ACK, payload: request })));
      seq += request.length;
      out.push(frame(s + 0.25, "10.0.0.80", "10.0.0.4", 6, tcp({ sourcePort: 80, destinationPort: 40000, seq: serverSeq, ack: seq, flags: PSH | ACK, payload: response })));
      serverSeq += response.length;
      out.push(frame(s + 0.26, "10.0.0.4", "10.0.0.80", 6, tcp({ sourcePort: 40000, destinationPort: 80, seq, ack: serverSeq, flags: ACK })));
    }
  }
  return out;
}

/** The packets within [from, to) seconds from T0 as one pcap file. */
export function captureOf(packets: Timed[], from: number, to: number): Buffer {
  const chosen: Packet[] = packets
    .filter((p) => p.time >= from && p.time < to)
    .map((p) => {
      const micros = Math.round((T0 + p.time) * 1e6);
      return { seconds: Math.floor(micros / 1e6), fraction: micros % 1e6, data: p.data };
    });
  return pcapFile(chosen);
}

export function iso(secondsFromT0: number): string {
  return new Date((T0 + secondsFromT0) * 1000).toISOString();
}
