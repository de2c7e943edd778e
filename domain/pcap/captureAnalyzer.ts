import { addressText } from "./addressText.js";
import { DnsStats } from "./dnsStats.js";
import { findingsOf } from "./findings.js";
import { HttpStats } from "./httpStats.js";
import { handshakeLatency, zeroWindowSenders } from "./serviceLatency.js";
import { TlsStats } from "./tlsStats.js";
import type { CaptureReadResult } from "./captureReader.js";
import type { CaptureSummary, ProtocolMix, TcpHealth, TopConversation, TopTalker } from "./captureSummary.js";
import { failedHandshakeTargets } from "./failedHandshakes.js";
import { FlowTable } from "./flowTable.js";
import { FrameDecoder, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from "./frameDecoder.js";
import { HostTable } from "./hostTable.js";
import { linkTypeName } from "./linkTypes.js";
import { grouped } from "./numberText.js";
import { PacketClock } from "./packetClock.js";
import { noteDistinct, type PacketRecord } from "./packetRecord.js";
import { etherTypeName, ipProtocolName } from "./protocolNames.js";
import { TcpTracker } from "./tcpTracker.js";
import { isoOfSeconds, type TimeBase } from "./timeBase.js";
import { Timeline } from "./timeline.js";
import { topN } from "./topN.js";

export interface AnalyzeOptions {
  /** Most conversations tracked one by one (default 100,000); later flows count only in totals and top talkers. */
  flowTableCapacity?: number;
  /** Most hosts ranked for top talkers (default: the flow table capacity). */
  hostTableCapacity?: number;
  /** Length of the top talker / conversation / failed-handshake lists (default 10). */
  topN?: number;
  /** Most timeline buckets (default 600). */
  timelineBuckets?: number;
}

export const DEFAULT_FLOW_TABLE_CAPACITY = 100_000;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
const DNS_PORT = 53;
/** Ports where a lone TLS alert record is believed before any hello was seen (IANA TLS services, and openssl's 4433). */
const TLS_PORTS = new Uint8Array(65536);
for (const port of [261, 443, 448, 465, 563, 614, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 4433, 5061, 5671, 6697, 8443, 8883]) TLS_PORTS[port] = 1;

/**
 * Aggregates decoded packets into a CaptureSummary. `consume` is the per-packet hot path: counters, fixed-size
 * typed arrays and the capped flow table only; strings and objects are made once, in `summarize`.
 */
export class CaptureAnalyzer {
  private readonly frame = new FrameDecoder();
  private readonly clock = new PacketClock();
  private readonly hosts: HostTable;
  private readonly tcp: TcpTracker;
  private readonly flows: FlowTable;
  private readonly timeline: Timeline;
  private readonly topCount: number;
  private readonly dns = new DnsStats();
  private readonly http = new HttpStats();
  private readonly tls: TlsStats;

  private packets = 0;
  private bytes = 0;
  private capturedBytes = 0;
  private truncatedRecords = 0;
  private headerTruncated = 0;
  private malformed = 0;
  private untimed = 0;
  private vlanTagged = 0;
  private ipv4 = 0;
  private ipv4Bytes = 0;
  private ipv6 = 0;
  private ipv6Bytes = 0;
  private fragments = 0;
  private fragmentBytes = 0;
  private unknownTransport = 0;
  private unknownTransportBytes = 0;
  private readonly transportPackets = new Float64Array(256);
  private readonly transportBytes = new Float64Array(256);
  private readonly nonIp = new Map<number, { packets: number; bytes: number }>();
  private tcpSyn = 0;
  private tcpSynAck = 0;
  private tcpRst = 0;
  private tcpFin = 0;
  private icmpUnreachable = 0;
  private icmpTimeExceeded = 0;
  private readonly linkTypesSeen: number[] = [];
  private readonly linkTypesNoted = new Set<number>();
  private lastLinkType = -1;
  private minTime = Infinity;
  private maxTime = -Infinity;
  private first: { a: number; b: number; base: TimeBase | null } = { a: 0, b: 0, base: null };
  private last: { a: number; b: number; base: TimeBase | null } = { a: 0, b: 0, base: null };

  constructor(options: AnalyzeOptions = {}) {
    const flowCapacity = positive(options.flowTableCapacity, DEFAULT_FLOW_TABLE_CAPACITY);
    this.hosts = new HostTable(positive(options.hostTableCapacity, flowCapacity));
    this.flows = new FlowTable(flowCapacity, this.hosts, this.clock);
    this.tcp = new TcpTracker(flowCapacity, this.clock);
    this.timeline = new Timeline(positive(options.timelineBuckets, 600));
    this.topCount = positive(options.topN, 10);
    this.tls = new TlsStats(flowCapacity);
  }

  readonly consume = (record: PacketRecord): void => {
    const wire = record.originalLength;
    const captured = record.capturedLength;
    this.packets++;
    this.bytes += wire;
    this.capturedBytes += captured;
    if (captured < wire) this.truncatedRecords++;
    if (record.linkType !== this.lastLinkType) this.noteLinkType(record.linkType);

    if (record.hasTime) {
      const time = record.time;
      this.clock.now = time;
      if (time < this.minTime) this.noteFirst(record);
      if (time > this.maxTime) this.noteLast(record);
      this.timeline.add(record);
    } else {
      this.untimed++; // keeps the clock at the last timestamp seen
    }

    const f = this.frame;
    f.decode(record.view, record.offset, captured, wire, record.linkType);
    if (f.headerTruncated) this.headerTruncated++;
    if (f.malformed) this.malformed++;
    if (f.vlanTags > 0) this.vlanTagged++;
    if (f.ipVersion === 4) {
      this.ipv4++;
      this.ipv4Bytes += wire;
    } else if (f.ipVersion === 6) {
      this.ipv6++;
      this.ipv6Bytes += wire;
    } else {
      this.countNonIp(f.etherType, wire);
      return;
    }

    const protocol = f.ipProtocol;
    if (f.laterFragment) {
      this.fragments++;
      this.fragmentBytes += wire;
    } else if (protocol < 0) {
      this.unknownTransport++;
      this.unknownTransportBytes += wire;
    } else {
      this.transportPackets[protocol]!++;
      this.transportBytes[protocol]! += wire;
      if (f.tcpHeaderKnown) {
        const flags = f.tcpFlags;
        if ((flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) this.tcpSyn++;
        else if ((flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) this.tcpSynAck++;
        if ((flags & TCP_RST) !== 0) this.tcpRst++;
        if ((flags & TCP_FIN) !== 0) this.tcpFin++;
      } else if (f.icmpType >= 0) {
        this.countIcmp(protocol, f.icmpType);
      }
    }

    if (!f.addressesKnown) return;
    const flow = this.flows.observe(f, wire);
    let retransmitted = false;
    if (flow >= 0 && f.tcpHeaderKnown) {
      this.tcp.track(flow, this.flows.direction, f);
      retransmitted = this.tcp.lastWasRetransmission;
    }
    // A retransmitted segment repeats a message already counted (tshark does not dissect it again either).
    if (f.payloadCaptured > 0 && !retransmitted) this.application(f, record.view, flow);
  };

  /** DNS on port 53; TLS and HTTP/1 recognised by their first bytes on any TCP port. */
  private application(f: FrameDecoder, view: DataView, flow: number): void {
    const start = f.payloadOffset;
    const length = f.payloadCaptured;
    const sourcePort = f.sourcePort;
    const destinationPort = f.destinationPort;
    const time = this.clock.now;
    const udp = f.ipProtocol === IPPROTO_UDP;
    if (sourcePort === DNS_PORT || destinationPort === DNS_PORT) {
      if (udp) this.dns.udp(view, start, length, flow, time, f);
      else this.dns.tcp(view, start, length, flow, time, f);
      return;
    }
    if (udp) return;
    const first = view.getUint8(start);
    if (first === 22 || first === 21) {
      const tlsPort = TLS_PORTS[sourcePort] === 1 || TLS_PORTS[destinationPort] === 1;
      this.tls.segment(view, start, length, flow, flow >= 0 ? this.flows.direction : 0, tlsPort, f);
    } else if (first >= 0x41 && first <= 0x54) {
      this.http.segment(view, start, length, flow, time);
    }
  }

  /** Hash-table slots visited so far (flow and host tables): the work hashing costs, which crafted keys must not inflate. */
  get tableProbes(): number {
    return this.flows.index.probes + this.hosts.index.probes;
  }

  /** The per-host and per-flow tables, for passes that group them another way (`alertcap diff`'s services); read after `summarize`. */
  get tables(): { hosts: HostTable; flows: FlowTable; tcp: TcpTracker } {
    return { hosts: this.hosts, flows: this.flows, tcp: this.tcp };
  }

  /**
   * The running counters, for a pass that follows failures over time (domain/incident reads them between packets):
   * read only, never written.
   */
  get live(): { dns: DnsStats; http: HttpStats; tls: TlsStats; tcp: TcpTracker; tcpPackets: number } {
    return { dns: this.dns, http: this.http, tls: this.tls, tcp: this.tcp, tcpPackets: this.transportPackets[IPPROTO_TCP]! };
  }

  summarize(read: CaptureReadResult): CaptureSummary {
    const info = read.info;
    this.tcp.settleAll(this.flows.size);
    this.flows.creditHosts();
    const tcpCounters = this.tcp.counters;
    const hasTime = this.minTime !== Infinity;
    const timeline = this.timeline.summary();
    const linkTypes = this.linkTypesSeen.length > 0 ? [...this.linkTypesSeen] : [...info.declaredLinkTypes];

    const summary: CaptureSummary = {
      format: info.format,
      linkTypes,
      packets: this.packets,
      bytes: this.bytes,
      capturedBytes: this.capturedBytes,
      firstTimestamp: hasTime ? isoOf(this.first) : null,
      lastTimestamp: hasTime ? isoOf(this.last) : null,
      ipv4: this.ipv4,
      ipv6: this.ipv6,
      tcp: this.transportPackets[IPPROTO_TCP]!,
      udp: this.transportPackets[IPPROTO_UDP]!,
      icmp: this.transportPackets[IPPROTO_ICMP]!,
      tcpSyn: this.tcpSyn,
      tcpSynAck: this.tcpSynAck,
      tcpRst: this.tcpRst,
      tcpFin: this.tcpFin,
      tcpRetransmissions: tcpCounters.retransmissions,
      topTalkers: this.topTalkers(),
      topConversations: this.topConversations(),
      truncated: read.truncatedTailBytes > 0,

      formatVariant: info.variant,
      byteOrder: info.byteOrders.length === 1 ? info.byteOrders[0]! : info.byteOrders.length === 0 ? "little-endian" : "mixed",
      sections: info.sections,
      interfaces: info.interfaces,
      snapLengths: [...info.snapLengths],
      linkTypeNames: linkTypes.map(linkTypeName),
      durationSeconds: hasTime ? roundMicro(this.maxTime - this.minTime) : 0,
      nonIp: this.packets - this.ipv4 - this.ipv6,
      icmpv6: this.transportPackets[IPPROTO_ICMPV6]!,
      ipFragments: this.fragments,
      vlanTagged: this.vlanTagged,
      protocolMix: this.protocolMix(),
      tcpHealth: this.tcpHealth(),
      icmpErrors: { destinationUnreachable: this.icmpUnreachable, timeExceeded: this.icmpTimeExceeded },
      conversations: this.flows.size,
      flowTable: {
        capacity: this.flows.index.capacity,
        flows: this.flows.size,
        saturated: this.flows.saturated,
        untrackedPackets: this.flows.untrackedPackets,
        untrackedBytes: this.flows.untrackedBytes,
      },
      flowTableSaturated: this.flows.saturated,
      otherTalkers: { packets: this.hosts.otherPackets, bytes: this.hosts.otherBytes },
      timeline,
      truncatedTailBytes: read.truncatedTailBytes,
      truncatedRecords: this.truncatedRecords,
      headerTruncatedPackets: this.headerTruncated,
      malformedPackets: this.malformed,
      packetsWithoutTimestamp: this.untimed,
      notes: [],
      dns: this.dns.summary(this.topCount),
      http: this.http.summary(this.topCount),
      tls: this.tls.summary(this.flows.size, (flow) => this.tcp.reset(flow), this.topCount),
      findings: [],
    };
    summary.notes = this.notes(summary);
    summary.findings = findingsOf(summary);
    return summary;
  }

  private noteLinkType(linkType: number): void {
    this.lastLinkType = linkType;
    noteDistinct(this.linkTypesSeen, this.linkTypesNoted, linkType);
  }

  private noteFirst(record: PacketRecord): void {
    this.minTime = record.time;
    this.first.a = record.timeA;
    this.first.b = record.timeB;
    this.first.base = record.timeBase;
  }

  private noteLast(record: PacketRecord): void {
    this.maxTime = record.time;
    this.last.a = record.timeA;
    this.last.b = record.timeB;
    this.last.base = record.timeBase;
  }

  private countNonIp(etherType: number, wire: number): void {
    const entry = this.nonIp.get(etherType);
    if (entry) {
      entry.packets++;
      entry.bytes += wire;
    } else {
      this.nonIp.set(etherType, { packets: 1, bytes: wire });
    }
  }

  private countIcmp(protocol: number, type: number): void {
    if (protocol === IPPROTO_ICMP) {
      if (type === 3) this.icmpUnreachable++;
      else if (type === 11) this.icmpTimeExceeded++;
    } else if (protocol === IPPROTO_ICMPV6) {
      if (type === 1) this.icmpUnreachable++;
      else if (type === 3) this.icmpTimeExceeded++;
    }
  }

  private protocolMix(): ProtocolMix {
    const network = [
      { name: "IPv4", packets: this.ipv4, bytes: this.ipv4Bytes },
      { name: "IPv6", packets: this.ipv6, bytes: this.ipv6Bytes },
      ...[...this.nonIp].map(([etherType, c]) => ({ name: etherTypeName(etherType), packets: c.packets, bytes: c.bytes })),
    ].filter((s) => s.packets > 0);
    const transport: ProtocolMix["transport"] = [];
    for (let p = 0; p < 256; p++) {
      const packets = this.transportPackets[p]!;
      if (packets > 0) transport.push({ name: ipProtocolName(p), ipProtocol: p, packets, bytes: this.transportBytes[p]! });
    }
    if (this.fragments > 0) transport.push({ name: "IP fragments (after the first)", ipProtocol: null, packets: this.fragments, bytes: this.fragmentBytes });
    if (this.unknownTransport > 0) {
      transport.push({ name: "IP header cut", ipProtocol: null, packets: this.unknownTransport, bytes: this.unknownTransportBytes });
    }
    const byBytes = (a: { bytes: number }, b: { bytes: number }): number => b.bytes - a.bytes;
    return { network: network.sort(byBytes), transport: transport.sort(byBytes) };
  }

  private topTalkers(): TopTalker[] {
    const hosts = this.hosts;
    const total = (h: number): number => hosts.bytesSent[h]! + hosts.bytesReceived[h]!;
    return topN(hosts.index.size, this.topCount, total).map((h) => ({
      address: addressText(hosts.version(h), hosts.addressWords(h)),
      packets: hosts.packetsSent[h]! + hosts.packetsReceived[h]!,
      bytes: total(h),
      packetsSent: hosts.packetsSent[h]!,
      bytesSent: hosts.bytesSent[h]!,
      packetsReceived: hosts.packetsReceived[h]!,
      bytesReceived: hosts.bytesReceived[h]!,
    }));
  }

  private topConversations(): TopConversation[] {
    const flows = this.flows;
    const total = (f: number): number => flows.bytes[f * 2]! + flows.bytes[f * 2 + 1]!;
    return topN(flows.size, this.topCount, total).map((f) => {
      const protocol = flows.protocol(f);
      const client = protocol === IPPROTO_TCP ? this.tcp.clientDirection(f) : -1;
      const from = client >= 0 ? client : flows.firstDirection[f]!;
      const to = from ^ 1;
      const version = flows.version(f);
      const conversation: TopConversation = {
        protocol: ipProtocolName(protocol),
        ipProtocol: protocol,
        source: addressText(version, flows.address(f, from)),
        sourcePort: flows.port(f, from),
        destination: addressText(version, flows.address(f, to)),
        destinationPort: flows.port(f, to),
        packets: flows.packets[f * 2]! + flows.packets[f * 2 + 1]!,
        bytes: total(f),
        packetsFromSource: flows.packets[f * 2 + from]!,
        bytesFromSource: flows.bytes[f * 2 + from]!,
        packetsFromDestination: flows.packets[f * 2 + to]!,
        bytesFromDestination: flows.bytes[f * 2 + to]!,
        start: isoOfSeconds(flows.firstTime[f]!),
        durationSeconds: roundMicro(flows.lastTime[f]! - flows.firstTime[f]!),
      };
      if (protocol === IPPROTO_TCP) {
        conversation.tcpHandshake = this.tcp.outcome(f);
        conversation.tcpReset = this.tcp.reset(f);
      }
      return conversation;
    });
  }

  private tcpHealth(): TcpHealth {
    const c = this.tcp.counters;
    const failed = failedHandshakeTargets(this.flows, this.tcp, this.topCount);
    return {
      connectionAttempts: c.connectionAttempts,
      handshakesCompleted: c.handshakesAnswered,
      synsWithoutAnswer: c.handshakesUnanswered,
      synsRefused: c.handshakesRefused,
      handshakesWithoutSynAck: c.handshakesUnanswered + c.handshakesRefused,
      synRetransmissions: c.synRetransmissions,
      payloadRetransmissions: c.payloadRetransmissions,
      outOfOrder: c.outOfOrder,
      spuriousRetransmissions: c.spuriousRetransmissions,
      duplicateAcks: c.duplicateAcks,
      resets: this.tcpRst,
      handshakeLatency: handshakeLatency(this.flows, this.tcp, this.topCount),
      zeroWindows: c.zeroWindows,
      zeroWindowSenders: zeroWindowSenders(this.flows, this.tcp, this.topCount),
      failedHandshakeTargets: failed,
    };
  }

  private notes(s: CaptureSummary): string[] {
    const notes: string[] = [];
    const n = grouped;
    if (s.truncated) notes.push(`The file ends inside a record (${n(s.truncatedTailBytes)} bytes of it): it was cut off; everything before that point is counted.`);
    if (s.truncatedRecords > 0) {
      notes.push(
        `${n(s.truncatedRecords)} of ${n(s.packets)} packets were cut by the snap length (${n(s.capturedBytes)} of ${n(s.bytes)} bytes kept); byte counts use the original lengths` +
          (s.headerTruncatedPackets > 0 ? `, and ${n(s.headerTruncatedPackets)} packets lost part of their headers, so ports, flags and retransmissions are unknown for them.` : "."),
      );
    }
    if (s.flowTableSaturated) {
      notes.push(
        `The flow table reached its cap of ${n(s.flowTable.capacity)} conversations: ${n(s.flowTable.untrackedPackets)} packets of later flows count in totals and top talkers but not in conversations or TCP health.`,
      );
    }
    const overlong = this.flows.index.overlongProbes + this.hosts.index.overlongProbes;
    if (overlong > 0) {
      notes.push(`${n(overlong)} packets carried addresses and ports crafted to collide in the analyser's hash tables (hash flooding): they count in totals but not per conversation or host.`);
    }
    if (this.hosts.saturated) notes.push(`More hosts than the host table holds: ${n(s.otherTalkers.bytes)} bytes belong to hosts not ranked.`);
    if (s.packetsWithoutTimestamp > 0) notes.push(`${n(s.packetsWithoutTimestamp)} packets (pcapng simple packet blocks) carry no timestamp and are not on the timeline.`);
    if (s.malformedPackets > 0) notes.push(`${n(s.malformedPackets)} packets have impossible headers.`);
    return notes;
  }
}

function isoOf(t: { a: number; b: number; base: TimeBase | null }): string | null {
  return t.base ? t.base.isoOf(t.a, t.b) : null;
}

function roundMicro(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
