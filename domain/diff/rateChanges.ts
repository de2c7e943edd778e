import type { CaptureProfile } from "../pcap/captureProfile.js";
import type { CaptureSummary } from "../pcap/captureSummary.js";
import { compareProportions, SIGNIFICANCE_LEVEL, type ProportionTest } from "./statistics.js";

/** A significant change must also move the rate by at least this much (1 percentage point): on millions of packets a 0.01-point wobble is "significant" and useless. */
export const MIN_RATE_DELTA = 0.01;

export type Layer = "DNS" | "HTTP" | "TLS" | "TCP";

export interface Proportion {
  count: number;
  of: number;
  /** count / of, or null when `of` is 0 (nothing to fail in that capture). */
  rate: number | null;
}

export interface RateChange {
  layer: Layer;
  /** What fails, e.g. "SERVFAIL answers", "5xx responses", "connection attempts refused". */
  metric: string;
  /** Where: null for the whole capture, else the DNS server, HTTP Host, TLS server name or TCP service. */
  scope: string | null;
  baseline: Proportion;
  incident: Proportion;
  change: "rose" | "fell" | "same";
  /** The test used (see statistics.ts), or null when one capture had nothing to compare (`of` = 0). */
  test: ProportionTest | null;
  pValue: number | null;
  /** p < SIGNIFICANCE_LEVEL and the rate moved by at least MIN_RATE_DELTA. */
  significant: boolean;
  /** Failures in the incident beyond what the baseline rate predicts for its volume: how the changes are ranked. */
  excessFailures: number;
}

export interface Counted {
  count: number;
  of: number;
}

/** One failure measure, read from either capture; absent (undefined) when that capture has no such scope. */
export interface Measure {
  layer: Layer;
  metric: string;
  scope: string | null;
  read: (p: CaptureProfile) => Counted | undefined;
}

/** Every failure rate compared, per layer for the whole capture and per server / host / service. */
export function rateChanges(baseline: CaptureProfile, incident: CaptureProfile): RateChange[] {
  const changes: RateChange[] = [];
  for (const m of measures([baseline, incident])) {
    const b = m.read(baseline) ?? { count: 0, of: 0 };
    const i = m.read(incident) ?? { count: 0, of: 0 };
    if (b.count === 0 && i.count === 0) continue;
    changes.push(compare(m, b, i));
  }
  return changes.sort((a, b) => Number(b.significant) - Number(a.significant) || b.excessFailures - a.excessFailures);
}

/** Compares one measure's counts: `b` the reference (a baseline, or an instance's siblings), `i` the one looked at. */
export function compare(m: Measure, b: Counted, i: Counted): RateChange {
  const baseline = proportion(b);
  const incident = proportion(i);
  const comparable = b.of > 0 && i.of > 0;
  const result = comparable ? compareProportions(b.count, b.of, i.count, i.of) : null;
  const delta = comparable ? incident.rate! - baseline.rate! : 0;
  return {
    layer: m.layer,
    metric: m.metric,
    scope: m.scope,
    baseline,
    incident,
    change: delta > 0 ? "rose" : delta < 0 ? "fell" : "same",
    test: result?.test ?? null,
    pValue: result ? round(result.pValue) : null,
    significant: result !== null && result.pValue < SIGNIFICANCE_LEVEL && Math.abs(delta) >= MIN_RATE_DELTA,
    excessFailures: comparable ? Math.round(i.count - i.of * baseline.rate!) : 0,
  };
}

function proportion(c: Counted): Proportion {
  return { count: c.count, of: c.of, rate: c.of > 0 ? round(c.count / c.of) : null };
}

const round = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(4)));

const sum = (counts: Record<string, number>, keep: (code: string) => boolean): number =>
  Object.entries(counts).reduce((total, [code, n]) => (keep(code) ? total + n : total), 0);

const union = <T>(lists: T[][]): T[] => [...new Set(lists.flat())];

/** Plaintext alerts that are not failures: the orderly end of a connection. */
const BENIGN_ALERTS = new Set(["close_notify", "user_canceled"]);

/** Every failure measure any of `profiles` has (each scope that one of them saw). */
export function measures(profiles: CaptureProfile[]): Measure[] {
  const summaries = profiles.map((p) => p.summary);
  const list: Measure[] = [];
  const add = (layer: Layer, metric: string, scope: string | null, read: (s: CaptureSummary, p: CaptureProfile) => Counted | undefined): void =>
    void list.push({ layer, metric, scope, read: (p) => read(p.summary, p) });

  // DNS: each failing RCODE and queries left unanswered, for all servers and per server.
  const rcodes = union(summaries.map((s) => Object.keys(s.dns.rcodes))).filter((r) => r !== "NOERROR");
  for (const rcode of rcodes) add("DNS", `${rcode} answers`, null, (s) => ({ count: s.dns.rcodes[rcode] ?? 0, of: s.dns.responses }));
  add("DNS", "queries without an answer", null, (s) => ({ count: s.dns.unanswered, of: s.dns.queries }));
  for (const server of union(summaries.map((s) => s.dns.servers.map((d) => d.server)))) {
    const of = (s: CaptureSummary): CaptureSummary["dns"]["servers"][number] | undefined => s.dns.servers.find((d) => d.server === server);
    for (const rcode of rcodes) add("DNS", `${rcode} answers`, `DNS server ${server}`, (s) => mapped(of(s), (d) => ({ count: d.rcodes[rcode] ?? 0, of: d.responses })));
    add("DNS", "queries without an answer", `DNS server ${server}`, (s) => mapped(of(s), (d) => ({ count: d.unanswered, of: d.queries })));
  }

  // HTTP: 5xx and 4xx responses, in all and per Host.
  const is5xx = (code: string): boolean => code.startsWith("5");
  const is4xx = (code: string): boolean => code.startsWith("4");
  add("HTTP", "5xx responses", null, (s) => ({ count: sum(s.http.statusCodes, is5xx), of: s.http.responses }));
  add("HTTP", "4xx responses", null, (s) => ({ count: sum(s.http.statusCodes, is4xx), of: s.http.responses }));
  for (const host of union(summaries.map((s) => s.http.hosts.map((h) => h.host)))) {
    const of = (s: CaptureSummary): CaptureSummary["http"]["hosts"][number] | undefined => s.http.hosts.find((h) => h.host === host);
    add("HTTP", "5xx responses", host, (s) => mapped(of(s), (h) => ({ count: h.serverErrors, of: h.responses })));
    add("HTTP", "4xx responses", host, (s) => mapped(of(s), (h) => ({ count: h.clientErrors, of: h.responses })));
  }

  // TLS: handshakes that got no ServerHello, in all and per server name, and each failure alert per handshake.
  add("TLS", "handshakes without a ServerHello", null, (s) => ({ count: s.tls.handshakes.started - s.tls.handshakes.answered, of: s.tls.handshakes.started }));
  for (const name of union(summaries.map((s) => Object.keys(s.tls.serverNames)))) {
    add("TLS", "handshakes without a ServerHello", name, (s) => {
      const started = s.tls.serverNames[name];
      if (started === undefined) return undefined;
      const failed = s.tls.failedServerNames.find((f) => f.name === name);
      return { count: Math.min(started, failed ? failed.alert + failed.reset + failed.abandoned : 0), of: started };
    });
  }
  const alertNames = union(summaries.map((s) => s.tls.alerts.map((a) => a.name))).filter((n) => !BENIGN_ALERTS.has(n));
  for (const name of alertNames) {
    add("TLS", `${name} alerts`, null, (s) => {
      const count = s.tls.alerts.filter((a) => a.name === name).reduce((total, a) => total + a.count, 0);
      const of = Math.max(s.tls.handshakes.started, s.tls.clientHellos);
      return { count: Math.min(count, of), of };
    });
  }

  // TCP: refused and unanswered connection attempts, in all and per service; retransmitted segments.
  add("TCP", "connection attempts refused (RST)", null, (s) => ({ count: s.tcpHealth.synsRefused, of: s.tcpHealth.connectionAttempts }));
  add("TCP", "connection attempts unanswered", null, (s) => ({ count: s.tcpHealth.synsWithoutAnswer, of: s.tcpHealth.connectionAttempts }));
  add("TCP", "retransmitted segments", null, (s) => ({ count: s.tcpRetransmissions, of: s.tcp }));
  // By name, once: a scan leaves tens of thousands of services, and a linear search per service would be quadratic.
  const byName = new Map(profiles.map((p) => [p, new Map(p.services.filter((v) => v.tcpAttempts > 0).map((v) => [serviceName(v), v]))]));
  for (const name of union([...byName.values()].map((m) => [...m.keys()]))) {
    const of = (p: CaptureProfile): CaptureProfile["services"][number] | undefined => byName.get(p)!.get(name);
    add("TCP", "connection attempts refused (RST)", name, (_, p) => mapped(of(p), (v) => ({ count: v.tcpRefused, of: v.tcpAttempts })));
    add("TCP", "connection attempts unanswered", name, (_, p) => mapped(of(p), (v) => ({ count: v.tcpUnanswered, of: v.tcpAttempts })));
  }
  return list;
}

function mapped<T>(value: T | undefined, f: (value: T) => Counted): Counted | undefined {
  return value === undefined ? undefined : f(value);
}

/** "10.0.0.9 TCP/443", "[2001:db8::1] UDP/53", "10.0.0.9 ICMP". */
export function serviceName(service: { address: string; protocol: string; port: number | null }): string {
  const address = service.address.includes(":") && service.port !== null ? `[${service.address}]` : service.address;
  return service.port === null ? `${address} ${service.protocol}` : `${address} ${service.protocol}/${service.port}`;
}
