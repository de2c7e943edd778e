// Baseline and incident captures for the `alertcap diff` tests, written with the repo's pcap writers: a client
// (10.0.0.4) that resolves names at a DNS server (10.0.0.53, UDP 53) and calls an HTTP API (10.0.0.80:80, one TCP
// connection per request, with a full handshake), optionally joined by a host that opens SSH connections to it.
import { ACK, ETHERTYPE_IPV4, ethernet, FIN, ipv4, pcapFile, PSH, RST, SYN, tcp, udp, type Packet } from "./pcap.synthetic.js";

export interface Scenario {
  dnsQueries: number;
  /** Of those, answered SERVFAIL (the rest NOERROR). */
  dnsServfail: number;
  httpRequests: number;
  /** Of those, answered 503 (the rest 200). */
  http5xx: number;
  /** Host header of the HTTP requests. */
  httpHost?: string;
  /** An address that opens `newTalkerConnections` SSH connections to the client. */
  newTalker?: string;
  newTalkerConnections?: number;
  /** Of the HTTP connection attempts, how many the server refuses (RST) and how many get no answer (the SYN is retried once). */
  httpRefused?: number;
  httpUnanswered?: number;
  /** Of the answered requests, how many responses are sent twice (a retransmission). */
  httpRetransmitted?: number;
  /** TLS handshakes to 10.0.0.90:443 for `tlsName`; the first `tlsFailed` get a handshake_failure alert, not a ServerHello. */
  tlsHandshakes?: number;
  tlsFailed?: number;
  tlsName?: string;
  /** SYNs from the client to this many ports of 10.0.0.99, none answered (a scan, or a service that is down). */
  scanPorts?: number;
  /** Seconds the traffic is spread over. */
  seconds?: number;
}

const CLIENT = "10.0.0.4";
const DNS_SERVER = "10.0.0.53";
const WEB_SERVER = "10.0.0.80";
const TLS_SERVER = "10.0.0.90";
const START = 1_800_000_000;

export function dnsMessage(id: number, name: string, response: boolean, rcode = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(response ? 0x8180 | rcode : 0x0100, 2);
  header.writeUInt16BE(1, 4); // one question
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]); // root, type A, class IN
}

export function scenarioCapture(s: Scenario): Buffer {
  const packets: Packet[] = [];
  const seconds = s.seconds ?? 100;
  const at = (time: number, source: string, destination: string, protocol: number, payload: Buffer): void => {
    const micros = Math.round(time * 1e6);
    packets.push({ seconds: START + Math.floor(micros / 1e6), fraction: micros % 1e6, data: ethernet(ETHERTYPE_IPV4, ipv4({ source, destination, protocol, payload })) });
  };
  const name = s.httpHost ?? "api.contoso.test";

  for (let i = 0; i < s.dnsQueries; i++) {
    const t = (i * seconds) / s.dnsQueries;
    const port = 30_000 + (i % 20_000);
    at(t, CLIENT, DNS_SERVER, 17, udp(port, 53, dnsMessage(i, name, false)));
    at(t + 0.002, DNS_SERVER, CLIENT, 17, udp(53, port, dnsMessage(i, name, true, i < s.dnsServfail ? 2 : 0)));
  }

  for (let i = 0; i < s.httpRequests; i++) {
    const t = (i * seconds) / s.httpRequests + 0.0005;
    const port = 10_000 + i;
    const request = Buffer.from(`GET /orders/${i} HTTP/1.1\r\nHost: ${name}\r\n\r\n`);
    const failed = i < s.http5xx;
    const response = Buffer.from(failed ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    const c = 1000;
    const v = 5000;
    const toServer = (dt: number, seq: number, ack: number, flags: number, payload?: Buffer): void =>
      at(t + dt, CLIENT, WEB_SERVER, 6, tcp({ sourcePort: port, destinationPort: 80, seq, ack, flags, ...(payload ? { payload } : {}) }));
    const toClient = (dt: number, seq: number, ack: number, flags: number, payload?: Buffer): void =>
      at(t + dt, WEB_SERVER, CLIENT, 6, tcp({ sourcePort: 80, destinationPort: port, seq, ack, flags, ...(payload ? { payload } : {}) }));
    toServer(0, c, 0, SYN);
    const refused = s.httpRefused ?? 0;
    const unanswered = s.httpUnanswered ?? 0;
    if (i >= s.httpRequests - refused) {
      toClient(0.001, 0, c + 1, RST | ACK);
      continue;
    }
    if (i >= s.httpRequests - refused - unanswered) {
      toServer(1, c, 0, SYN);
      continue;
    }
    toClient(0.001, v, c + 1, SYN | ACK);
    toServer(0.0011, c + 1, v + 1, ACK);
    toServer(0.0012, c + 1, v + 1, PSH | ACK, request);
    toClient(0.01, v + 1, c + 1 + request.length, PSH | ACK, response);
    if (i < (s.httpRetransmitted ?? 0)) toClient(0.0101, v + 1, c + 1 + request.length, PSH | ACK, response);
    toServer(0.0103, c + 1 + request.length, v + 1 + response.length, FIN | ACK);
    toClient(0.0104, v + 1 + response.length, c + 2 + request.length, FIN | ACK);
  }

  for (let i = 0; i < (s.newTalker ? (s.newTalkerConnections ?? 20) : 0); i++) {
    const t = (i * seconds) / 20 + 0.0007;
    const port = 40_000 + i;
    at(t, s.newTalker!, CLIENT, 6, tcp({ sourcePort: port, destinationPort: 22, seq: 7, flags: SYN }));
    at(t + 0.001, CLIENT, s.newTalker!, 6, tcp({ sourcePort: 22, destinationPort: port, seq: 9, ack: 8, flags: SYN | ACK }));
    at(t + 0.0015, s.newTalker!, CLIENT, 6, tcp({ sourcePort: port, destinationPort: 22, seq: 8, ack: 10, flags: ACK }));
  }

  for (let i = 0; i < (s.tlsHandshakes ?? 0); i++) {
    const t = (i * seconds) / (s.tlsHandshakes ?? 1) + 0.0009;
    const port = 20_000 + i;
    const hello = clientHello(s.tlsName ?? "login.contoso.test");
    const answer = i < (s.tlsFailed ?? 0) ? Buffer.from([21, 3, 3, 0, 2, 2, 40]) : serverHello();
    at(t, CLIENT, TLS_SERVER, 6, tcp({ sourcePort: port, destinationPort: 443, seq: 100, flags: SYN }));
    at(t + 0.001, TLS_SERVER, CLIENT, 6, tcp({ sourcePort: 443, destinationPort: port, seq: 900, ack: 101, flags: SYN | ACK }));
    at(t + 0.0011, CLIENT, TLS_SERVER, 6, tcp({ sourcePort: port, destinationPort: 443, seq: 101, ack: 901, flags: ACK }));
    at(t + 0.0012, CLIENT, TLS_SERVER, 6, tcp({ sourcePort: port, destinationPort: 443, seq: 101, ack: 901, flags: PSH | ACK, payload: hello }));
    at(t + 0.005, TLS_SERVER, CLIENT, 6, tcp({ sourcePort: 443, destinationPort: port, seq: 901, ack: 101 + hello.length, flags: PSH | ACK, payload: answer }));
  }

  for (let i = 0; i < (s.scanPorts ?? 0); i++) {
    at((i * seconds) / (s.scanPorts ?? 1) + 0.0003, CLIENT, "10.0.0.99", 6, tcp({ sourcePort: 45_000, destinationPort: 1 + i, seq: 1, flags: SYN }));
  }

  packets.sort((a, b) => a.seconds - b.seconds || (a.fraction ?? 0) - (b.fraction ?? 0));
  return pcapFile(packets);
}

const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 255]);

/** A TLS 1.2 ClientHello record with one SNI extension. */
function clientHello(name: string): Buffer {
  const host = Buffer.from(name, "ascii");
  const sni = Buffer.concat([u16(0), u16(host.length + 5), u16(host.length + 3), Buffer.from([0]), u16(host.length), host]);
  const body = Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.from([0]), u16(2), u16(0xc02f), Buffer.from([1, 0]), u16(sni.length), sni]);
  const handshake = Buffer.concat([Buffer.from([1, 0]), u16(body.length), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(handshake.length), handshake]);
}

/** A TLS 1.2 ServerHello record (no extensions). */
function serverHello(): Buffer {
  const body = Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.from([0]), u16(0xc02f), Buffer.from([0])]);
  const handshake = Buffer.concat([Buffer.from([2, 0]), u16(body.length), body]);
  return Buffer.concat([Buffer.from([22, 3, 3]), u16(handshake.length), handshake]);
}
