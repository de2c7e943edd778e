// Failures over time, counted in the same pass as the capture analysis: after each packet the analyser's running
// counters are compared with what they were before it, and what grew (a SERVFAIL answer, a 5xx, a TLS alert, a
// retransmission) is added to that packet's time bucket. A handful of number reads per packet, no second decoder.
// What is only known at the end (a SYN or a DNS query that never got an answer) is placed at the time it was sent.
import type { CaptureAnalyzer } from "../pcap/captureAnalyzer.js";
import { IPPROTO_TCP } from "../pcap/frameDecoder.js";
import type { PacketRecord } from "../pcap/packetRecord.js";
import { Timeline } from "../pcap/timeline.js";

/** The kinds of failure whose onset is looked for, most serious first (the order ties are broken in). */
export type FailureKind =
  | "dns-servfail"
  | "dns-refused"
  | "http-5xx"
  | "dns-unanswered"
  | "tcp-unanswered"
  | "tcp-refused"
  | "tls-alert"
  | "tcp-retransmissions"
  | "dns-nxdomain";

/** What a failure is counted against, per bucket: the share that failed is failures / that. */
export type Denominator = "dnsAnswers" | "dnsQueries" | "httpResponses" | "tcpPackets" | "connectionAttempts" | "none";

export interface FailureKindInfo {
  kind: FailureKind;
  /** How a sentence names it: "DNS SERVFAIL". */
  label: string;
  /** What one event is, singular and plural: "answer(s)". */
  unit: [string, string];
  of: Denominator;
  /** Importance in the ordering of findings (the same scale as domain/pcap/findings.ts). */
  weight: number;
  /** A bucket is failing when it holds at least this many events and at least this share of its denominator. */
  minCount: number;
  minShare: number;
}

export const FAILURE_KINDS: readonly FailureKindInfo[] = [
  { kind: "dns-servfail", label: "DNS SERVFAIL", unit: ["answer", "answers"], of: "dnsAnswers", weight: 90, minCount: 1, minShare: 0.02 },
  { kind: "dns-refused", label: "DNS REFUSED", unit: ["answer", "answers"], of: "dnsAnswers", weight: 88, minCount: 1, minShare: 0.02 },
  { kind: "http-5xx", label: "HTTP 5xx", unit: ["response", "responses"], of: "httpResponses", weight: 88, minCount: 1, minShare: 0.02 },
  { kind: "dns-unanswered", label: "Unanswered DNS queries", unit: ["query", "queries"], of: "dnsQueries", weight: 85, minCount: 1, minShare: 0.05 },
  { kind: "tcp-unanswered", label: "Unanswered SYNs", unit: ["connection attempt", "connection attempts"], of: "connectionAttempts", weight: 85, minCount: 1, minShare: 0.05 },
  { kind: "tcp-refused", label: "Refused connections (SYN answered by RST)", unit: ["connection attempt", "connection attempts"], of: "connectionAttempts", weight: 82, minCount: 1, minShare: 0.05 },
  { kind: "tls-alert", label: "TLS alerts", unit: ["alert", "alerts"], of: "none", weight: 80, minCount: 1, minShare: 0 },
  { kind: "tcp-retransmissions", label: "TCP retransmissions", unit: ["retransmission", "retransmissions"], of: "tcpPackets", weight: 70, minCount: 3, minShare: 0.05 },
  { kind: "dns-nxdomain", label: "DNS NXDOMAIN", unit: ["answer", "answers"], of: "dnsAnswers", weight: 60, minCount: 1, minShare: 0.05 },
];

const DENOMINATORS: readonly Exclude<Denominator, "none">[] = ["dnsAnswers", "dnsQueries", "httpResponses", "tcpPackets", "connectionAttempts"];

/** Series index of each failure kind and denominator in the timeline's extra series. */
const SERIES = new Map<FailureKind | Denominator, number>([...FAILURE_KINDS.map((k) => k.kind), ...DENOMINATORS].map((name, i) => [name, i]));
const SERIES_COUNT = SERIES.size;
const at = (name: FailureKind | Denominator): number => SERIES.get(name)!;

const S_SERVFAIL = at("dns-servfail");
const S_REFUSED = at("dns-refused");
const S_NXDOMAIN = at("dns-nxdomain");
const S_5XX = at("http-5xx");
const S_TLS = at("tls-alert");
const S_RETRANSMISSIONS = at("tcp-retransmissions");
const S_ANSWERS = at("dnsAnswers");
const S_QUERIES = at("dnsQueries");
const S_RESPONSES = at("httpResponses");
const S_TCP = at("tcpPackets");
const S_ATTEMPTS = at("connectionAttempts");

/** Per-bucket counts of every failure kind and denominator, on one set of buckets. */
export interface FailureSeries {
  /** Start of the first bucket, seconds since the epoch. */
  startEpochSeconds: number;
  bucketSeconds: number;
  /** Packets per bucket (for the chart), then one array per failure kind and denominator, all of the same length. */
  packets: number[];
  counts: Record<FailureKind | Exclude<Denominator, "none">, number[]>;
}

/**
 * Follows one CaptureAnalyzer packet by packet. Call `packet(record)` after the analyser consumed the record, and
 * `finish()` after the analyser summarised (its TCP handshakes are settled then).
 */
export class FailureTracker {
  private readonly timeline: Timeline;
  private dnsQueries = 0;
  private dnsAnswers = 0;
  private servfail = 0;
  private refused = 0;
  private nxdomain = 0;
  private httpResponses = 0;
  private serverErrors = 0;
  private tlsAlerts = 0;
  private tcpPackets = 0;
  private retransmissions = 0;
  private attempts = 0;

  constructor(
    private readonly analyzer: CaptureAnalyzer,
    maxBuckets: number,
  ) {
    this.timeline = new Timeline(maxBuckets, SERIES_COUNT);
  }

  /** The packet the analyser has just consumed: what its counters gained goes to the packet's bucket. */
  packet(record: PacketRecord): void {
    if (!record.hasTime) return; // not on the timeline, as in the analyser
    const time = record.time;
    const t = this.timeline;
    t.add(record);
    const { dns, http, tls, tcp, tcpPackets } = this.analyzer.live;
    if (tcpPackets !== this.tcpPackets) {
      t.count(S_TCP, time, tcpPackets - this.tcpPackets);
      this.tcpPackets = tcpPackets;
      const c = tcp.counters;
      if (c.retransmissions !== this.retransmissions) {
        t.count(S_RETRANSMISSIONS, time, c.retransmissions - this.retransmissions);
        this.retransmissions = c.retransmissions;
      }
      if (c.connectionAttempts !== this.attempts) {
        t.count(S_ATTEMPTS, time, c.connectionAttempts - this.attempts);
        this.attempts = c.connectionAttempts;
      }
      if (http.responses !== this.httpResponses) {
        t.count(S_RESPONSES, time, http.responses - this.httpResponses);
        this.httpResponses = http.responses;
        if (http.serverErrors !== this.serverErrors) {
          t.count(S_5XX, time, http.serverErrors - this.serverErrors);
          this.serverErrors = http.serverErrors;
        }
      }
      if (tls.errorAlerts !== this.tlsAlerts) {
        t.count(S_TLS, time, tls.errorAlerts - this.tlsAlerts);
        this.tlsAlerts = tls.errorAlerts;
      }
    }
    if (dns.queries !== this.dnsQueries) {
      t.count(S_QUERIES, time, dns.queries - this.dnsQueries);
      this.dnsQueries = dns.queries;
    }
    if (dns.responses !== this.dnsAnswers) {
      t.count(S_ANSWERS, time, dns.responses - this.dnsAnswers);
      this.dnsAnswers = dns.responses;
      // Read only when an answer came: three lookups in a small map.
      const codes = dns.rcodes.counts;
      this.servfail = this.grew(S_SERVFAIL, time, codes.get("SERVFAIL") ?? 0, this.servfail);
      this.refused = this.grew(S_REFUSED, time, codes.get("REFUSED") ?? 0, this.refused);
      this.nxdomain = this.grew(S_NXDOMAIN, time, codes.get("NXDOMAIN") ?? 0, this.nxdomain);
    }
  }

  private grew(series: number, time: number, now: number, before: number): number {
    if (now > before) this.timeline.count(series, time, now - before);
    return now;
  }

  /** Places what only the end tells: queries never answered, and handshakes unanswered or refused, at their send time. */
  finish(): FailureSeries {
    const t = this.timeline;
    const { dns } = this.analyzer.live;
    for (const time of dns.unansweredQueryTimes()) t.count(at("dns-unanswered"), time);
    const { flows, tcp } = this.analyzer.tables;
    for (let f = 0; f < flows.size; f++) {
      if (flows.protocol(f) !== IPPROTO_TCP) continue;
      const outcome = tcp.outcome(f);
      // A flow's first packet is its (first) SYN for a failed attempt: nothing came back to make it later.
      if (outcome === "unanswered") t.count(at("tcp-unanswered"), flows.firstTime[f]!);
      else if (outcome === "refused") t.count(at("tcp-refused"), flows.firstTime[f]!);
    }
    const summary = t.summary();
    const series = t.seriesSummary();
    const counts = Object.fromEntries([...SERIES].map(([name, index]) => [name, series[index]!])) as FailureSeries["counts"];
    return { startEpochSeconds: summary.startEpochSeconds, bucketSeconds: summary.bucketSeconds, packets: summary.packets, counts };
  }
}
