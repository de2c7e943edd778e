// The emulated VM's traffic written straight into pcap records, for machines where tcpdump cannot record: the same
// profile, addresses and ports as the live generator (local/traffic/vmTraffic.ts), so a synthetic file shows the
// same DNS answers and failures, HTTP statuses, TLS handshake and alert, refused and silent connections.
//
// Rounds follow the profile's interval over the session's duration, at most MAX_ROUNDS of them (a long session
// would otherwise make a file of hundreds of MB that nobody recorded).

import { STATUS_CODES } from "node:http";
import {
  ethernetFrame,
  ipPacket,
  tcpSegment,
  udpDatagram,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  type Packet,
} from "../arm-emulator/capture/pcapFile.js";
import { homeAddresses, SILENT_HOST_KEY, TRAFFIC_PORTS, type BlockAddresses } from "./addresses.js";
import { matchesCaptureFilters, type FilterablePacket, type NetworkWatcherFilter } from "./captureFilterMatch.js";
import { dnsQuery, dnsResponse } from "./dnsMessage.js";
import { steadyProfile, type Exchange, type TrafficProfile } from "./profile.js";
import { changeCipherSpec, clientHello, encrypted, fatalAlert, PROTOCOL_VERSION_ALERT, serverHelloFlight } from "./tlsRecords.js";

export const MAX_ROUNDS = 30;

/** One loopback MAC for every frame, as tcpdump records on `lo`. */
const LOOPBACK_MAC = "00:00:00:00:00:00";
/** Spacing of the frames of one round. */
const FRAME_GAP_MS = 0.25;
const SYN_RETRANSMIT_MS = 1000;

interface Frame extends FilterablePacket {
  offsetMs: number;
  data: Buffer;
}

/** The packets `vmKey`'s VM exchanges between `startMs` and `endMs` that `filters` let through. */
export function syntheticVmTraffic(
  vmKey: string,
  filters: NetworkWatcherFilter[] | undefined,
  startMs: number,
  endMs: number,
  profile: TrafficProfile = steadyProfile,
): Packet[] {
  const rounds = Math.min(MAX_ROUNDS, Math.max(1, Math.floor((endMs - startMs) / profile.roundIntervalMs) + 1));
  const roundIndexes = Array.from({ length: rounds }, (_, round) => round);
  return roundsOfTraffic(vmKey, filters, startMs, roundIndexes, profile);
}

/**
 * The packets of the given rounds of a VM's traffic that started at `trafficStartMs` (round `r` starts at
 * `trafficStartMs + r × roundIntervalMs`), in time order.
 */
export function roundsOfTraffic(
  vmKey: string,
  filters: NetworkWatcherFilter[] | undefined,
  trafficStartMs: number,
  rounds: number[],
  profile: TrafficProfile,
): Packet[] {
  const addresses = homeAddresses(vmKey);
  const silentHost = homeAddresses(SILENT_HOST_KEY).silentHost;
  const packets: Packet[] = [];
  const writer = new FrameWriter(addresses, silentHost);
  for (const round of rounds) {
    const elapsedMs = round * profile.roundIntervalMs;
    const roundStart = trafficStartMs + elapsedMs;
    for (const frame of writer.round(profile.round(round, elapsedMs, roundStart))) {
      if (filters && !matchesCaptureFilters(frame, filters)) continue;
      packets.push({ timestampMs: roundStart + frame.offsetMs, data: frame.data });
    }
  }
  return packets.sort((a, b) => a.timestampMs - b.timestampMs);
}

/**
 * Which rounds one file of a continuous capture's ring holds, and when it is full. The file opens at round
 * `firstRound` and fills with whole rounds until the next would take it past `fileSizeBytes`; it closes when that
 * next round starts (and the next file opens with it), so files are contiguous. A file that would need more than
 * MAX_ROUNDS rounds (large files, e.g. the default 100 MB) spans the time those rounds would take but holds
 * MAX_ROUNDS of them, spread evenly over that span: a 30-day virtual-clock test cannot write gigabytes, and the
 * span, the close instant and the kinds of traffic over time stay what a full file would show.
 */
export interface RingFileRounds {
  rounds: number[];
  /** The round that opens the next file (its start is this file's close instant); undefined: this file never fills. */
  nextFirstRound: number | undefined;
}

export function ringFileRounds(
  vmKey: string,
  filters: NetworkWatcherFilter[] | undefined,
  trafficStartMs: number,
  firstRound: number,
  fileSizeBytes: number,
  snaplen: number,
  profile: TrafficProfile,
): RingFileRounds {
  // The round sizes vary by a few bytes (a request path grows with the round number): keep 2 % spare.
  const roundBytes = pcapBytes(roundsOfTraffic(vmKey, filters, trafficStartMs, [firstRound], profile), snaplen) * 1.02;
  if (roundBytes === 0) return { rounds: [], nextFirstRound: undefined };
  const count = Math.max(1, Math.floor((fileSizeBytes - PCAP_HEADER_BYTES) / roundBytes));
  const held = Math.min(count, MAX_ROUNDS);
  const rounds = Array.from({ length: held }, (_, k) => firstRound + Math.floor((k * count) / held));
  return { rounds, nextFirstRound: firstRound + count };
}

const PCAP_HEADER_BYTES = 24;
const PCAP_RECORD_HEADER_BYTES = 16;

/** Bytes the packets take in a pcap file (record headers included, each cut to `snaplen`). */
function pcapBytes(packets: Packet[], snaplen: number): number {
  return packets.reduce((sum, packet) => sum + PCAP_RECORD_HEADER_BYTES + Math.min(packet.data.length, snaplen), 0);
}

interface Peer {
  address: string;
  port: number;
}

class FrameWriter {
  private frames: Frame[] = [];
  private clock = 0;
  private nextPort = 49152;
  private nextId = 0x1a00;
  private seed = 1;

  constructor(
    private readonly addresses: BlockAddresses,
    private readonly silentHost: string,
  ) {}

  round(exchanges: Exchange[]): Frame[] {
    this.frames = [];
    this.clock = 0;
    for (const exchange of exchanges) this.exchange(exchange);
    return this.frames;
  }

  private exchange(exchange: Exchange): void {
    const vm = this.addresses.vm;
    switch (exchange.kind) {
      case "dns": {
        const id = this.id();
        const query = dnsQuery(id, exchange.name);
        const answer =
          exchange.outcome === "unanswered" ? undefined : dnsResponse(id, exchange.name, exchange.outcome, this.addresses.api);
        const client = this.client(vm);
        const resolver = { address: this.addresses.resolver, port: TRAFFIC_PORTS.dns };
        if (exchange.transport === "udp") {
          this.udp(client, resolver, query);
          if (answer) this.udp(resolver, client, answer);
        } else {
          this.tcp(client, resolver, [lengthPrefixed(query), answer && lengthPrefixed(answer)]);
        }
        return;
      }
      case "http": {
        const id = this.id();
        const body = exchange.method === "POST" ? '{"cart":"c-42","items":3}' : "";
        const request =
          `${exchange.method} ${exchange.path} HTTP/1.1\r\nHost: www.contoso.test\r\nUser-Agent: Azure-LoadBalancer/1.0\r\n` +
          `X-Request-Id: ${id}\r\n${body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : ""}Connection: close\r\n\r\n${body}`;
        const responseBody =
          exchange.status >= 500 ? '{"error":"upstream dependency failed"}' : exchange.status === 404 ? '{"error":"not found"}' : '{"status":"ok"}';
        const response =
          `HTTP/1.1 ${exchange.status} ${STATUS_CODES[exchange.status] ?? ""}\r\nContent-Type: application/json\r\nServer: nginx/1.24.0\r\n` +
          `Content-Length: ${responseBody.length}\r\nConnection: close\r\n\r\n${responseBody}`;
        this.tcp(this.client(this.addresses.loadBalancer), { address: vm, port: TRAFFIC_PORTS.http }, [
          Buffer.from(request),
          Buffer.from(response),
        ]);
        return;
      }
      case "tls": {
        const seed = this.seed++ * 97;
        const api = { address: this.addresses.api, port: TRAFFIC_PORTS.tls };
        const alert = exchange.outcome === "protocolVersionAlert";
        const hello = clientHello(exchange.serverName, alert, seed);
        const turns = alert
          ? [hello, fatalAlert(PROTOCOL_VERSION_ALERT)]
          : [hello, serverHelloFlight(seed), Buffer.concat([changeCipherSpec(), encrypted(74, seed + 6), encrypted(90, seed + 7)]), encrypted(140, seed + 8)];
        this.tcp(this.client(vm), api, turns);
        return;
      }
      case "refused": {
        const client = this.client(vm);
        const database = { address: this.addresses.refusedDatabase, port: TRAFFIC_PORTS.refusedDatabase };
        this.segment(client, database, 0x3c00_0000, 0, TCP_SYN);
        this.segment(database, client, 0, 0x3c00_0001, TCP_RST | TCP_ACK);
        return;
      }
      case "silent": {
        const client = this.client(vm);
        const host = { address: this.silentHost, port: TRAFFIC_PORTS.silentDatabase };
        this.segment(client, host, 0x5d00_0000, 0, TCP_SYN);
        this.segment(client, host, 0x5d00_0000, 0, TCP_SYN, SYN_RETRANSMIT_MS);
        return;
      }
    }
  }

  /** Handshake, the turns (client, server, client, …; an absent turn = no answer), then a FIN exchange. */
  private tcp(client: Peer, server: Peer, turns: Array<Buffer | undefined>): void {
    let clientSeq = 0x1000_0000 + client.port * 7919;
    let serverSeq = 0x2000_0000 + client.port * 104729;
    this.segment(client, server, clientSeq++, 0, TCP_SYN);
    this.segment(server, client, serverSeq++, clientSeq, TCP_SYN | TCP_ACK);
    this.segment(client, server, clientSeq, serverSeq, TCP_ACK);
    turns.forEach((payload, i) => {
      if (!payload) return;
      if (i % 2 === 0) {
        this.segment(client, server, clientSeq, serverSeq, TCP_PSH | TCP_ACK, 0, payload);
        clientSeq += payload.length;
        this.segment(server, client, serverSeq, clientSeq, TCP_ACK);
      } else {
        this.segment(server, client, serverSeq, clientSeq, TCP_PSH | TCP_ACK, 0, payload);
        serverSeq += payload.length;
        this.segment(client, server, clientSeq, serverSeq, TCP_ACK);
      }
    });
    this.segment(client, server, clientSeq++, serverSeq, TCP_FIN | TCP_ACK);
    this.segment(server, client, serverSeq++, clientSeq, TCP_FIN | TCP_ACK);
    this.segment(client, server, clientSeq, serverSeq, TCP_ACK);
  }

  private segment(from: Peer, to: Peer, seq: number, ack: number, flags: number, delayMs = 0, payload: Buffer = Buffer.alloc(0)): void {
    const ip = ipPacket(from.address, to.address, 6, tcpSegment(from, to, seq, ack, flags, payload));
    this.push("TCP", from, to, ip, delayMs);
  }

  private udp(from: Peer, to: Peer, payload: Buffer): void {
    this.push("UDP", from, to, ipPacket(from.address, to.address, 17, udpDatagram(from, to, payload)), 0);
  }

  private push(protocol: "TCP" | "UDP", from: Peer, to: Peer, ip: Buffer, delayMs: number): void {
    this.clock += FRAME_GAP_MS;
    this.frames.push({
      protocol,
      source: from.address,
      destination: to.address,
      sourcePort: from.port,
      destinationPort: to.port,
      offsetMs: this.clock + delayMs,
      data: ethernetFrame(LOOPBACK_MAC, LOOPBACK_MAC, ip),
    });
  }

  private client(address: string): Peer {
    const port = this.nextPort;
    this.nextPort = this.nextPort >= 60999 ? 49152 : this.nextPort + 1;
    return { address, port };
  }

  private id(): number {
    this.nextId = (this.nextId + 1) & 0xffff;
    return this.nextId;
  }
}

function lengthPrefixed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}
