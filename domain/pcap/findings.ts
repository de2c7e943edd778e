// The findings: what most likely went wrong, in plain sentences with their numbers, most important first. They open
// the report and the notification, so the person woken at 2 AM reads the answer before the tables.
import { endpointText } from "./addressText.js";
import type { CaptureSummary } from "./captureSummary.js";
import { grouped } from "./numberText.js";

const MAX_FINDINGS = 10;
const SLOW_DNS_MS = 100;
const SLOW_HTTP_MS = 1000;
const SLOW_HANDSHAKE_MS = 200;

interface Finding {
  /** Higher first: hard failures (no answer, 5xx, SERVFAIL, alerts) before slowness before noise. */
  weight: number;
  text: string;
}

const plural = (count: number, word: string): string => `${grouped(count)} ${word}${count === 1 ? "" : "s"}`;
const percent = (part: number, whole: number): string => `${whole > 0 ? Math.round((100 * part) / whole) : 0} %`;

export function durationText(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms >= 10 ? Math.round(ms) : ms.toFixed(1)} ms`;
}

/** "all from X" when one entry holds the whole count, else "most from X (n)". */
function attribution(word: string, top: { label: string; count: number } | undefined, total: number): string {
  if (!top || top.count === 0) return "";
  if (top.count === total) return `, all ${word} ${top.label}`;
  // "most" only for a majority; otherwise say that it is spread, and name the largest share.
  return 2 * top.count > total ? `, most ${word} ${top.label} (${grouped(top.count)})` : `, spread out (the most, ${grouped(top.count)}, ${word} ${top.label})`;
}

function best<T>(items: T[], count: (item: T) => number): T | undefined {
  let winner: T | undefined;
  for (const item of items) if (count(item) > 0 && (winner === undefined || count(item) > count(winner))) winner = item;
  return winner;
}

function dnsFindings(s: CaptureSummary, out: Finding[]): void {
  const dns = s.dns;
  for (const [rcode, count] of Object.entries(dns.rcodes)) {
    if (rcode === "NOERROR" || count === 0) continue;
    const server = best(dns.servers, (v) => v.rcodes[rcode] ?? 0);
    const names = dns.servers.flatMap((v) => v.failingNames.filter((f) => f.rcode === rcode));
    const merged = new Map<string, number>();
    for (const f of names) merged.set(f.name, (merged.get(f.name) ?? 0) + f.count);
    const name = best([...merged], ([, c]) => c);
    let text = `${rcode} for ${grouped(count)} of ${grouped(dns.responses)} DNS answers (${percent(count, dns.responses)})`;
    text += attribution("from", server && { label: server.server, count: server.rcodes[rcode] ?? 0 }, count);
    if (name && name[1] === count) text += ` for ${name[0]}`;
    else if (name && name[1] > 1) text += `, most often for ${name[0]} (${grouped(name[1])})`;
    else if (name) text += `, for ${grouped(merged.size)} different names such as ${name[0]}`;
    const weight = rcode === "NXDOMAIN" ? 60 : 90;
    out.push({ weight: weight + (10 * count) / Math.max(1, dns.responses), text: `${text}.` });
  }
  if (dns.unanswered > 0) {
    const server = best(dns.servers, (v) => v.unanswered);
    const text = `${grouped(dns.unanswered)} of ${grouped(dns.queries)} DNS queries (${percent(dns.unanswered, dns.queries)}) got no answer in the capture` +
      attribution("to", server && { label: server.server, count: server.unanswered }, dns.unanswered);
    out.push({ weight: 85 + (10 * dns.unanswered) / Math.max(1, dns.queries), text: `${text}.` });
  }
  for (const v of dns.servers) {
    if (v.answerTimeP95Ms !== null && v.answerTimeP95Ms >= SLOW_DNS_MS) {
      out.push({
        weight: 55,
        text: `DNS answers from ${v.server} took ${durationText(v.answerTimeP95Ms)} at p95 (p50 ${durationText(v.answerTimeP50Ms ?? 0)}, ${plural(v.responses, "answer")}).`,
      });
    }
  }
}

function httpFindings(s: CaptureSummary, out: Finding[]): void {
  for (const h of s.http.hosts) {
    for (const [errors, family, weight] of [[h.serverErrors, "5xx", 88], [h.clientErrors, "4xx", 50]] as const) {
      if (errors === 0) continue;
      const codes = Object.entries(h.statusCodes)
        .filter(([code]) => code.startsWith(family[0]!))
        .map(([code, n]) => `${code} ×${grouped(n)}`)
        .join(", ");
      out.push({
        weight: weight + (10 * errors) / Math.max(1, h.responses),
        text: `HTTP ${family} for ${grouped(errors)} of ${grouped(h.responses)} responses (${percent(errors, h.responses)}) from ${h.host}: ${codes}.`,
      });
    }
    if (h.responseTimeP95Ms !== null && h.responseTimeP95Ms >= SLOW_HTTP_MS) {
      out.push({
        weight: 57,
        text: `HTTP responses from ${h.host} took ${durationText(h.responseTimeP95Ms)} at p95 (p50 ${durationText(h.responseTimeP50Ms ?? 0)}, ${plural(h.responses, "response")}).`,
      });
    }
  }
}

function tlsFindings(s: CaptureSummary, out: Finding[]): void {
  const tls = s.tls;
  const byAlert = new Map<string, { code: number; name: string; sender: string; from: string; count: number; topFrom: number }>();
  for (const a of tls.alerts) {
    if (a.code === 0 || a.code === 90) continue; // close_notify, user_canceled: an orderly end, not a failure
    const key = `${a.code} ${a.sender}`;
    const entry = byAlert.get(key);
    if (!entry) byAlert.set(key, { ...a, topFrom: a.count });
    else entry.count += a.count;
  }
  for (const a of byAlert.values()) {
    const who = a.sender === "unknown" ? a.from : `the ${a.sender} ${a.from}${a.topFrom < a.count ? " and others" : ""}`;
    out.push({ weight: 87, text: `TLS alert ${a.name} (${a.code}) ${plural(a.count, "time")}, sent by ${who}.` });
  }
  const h = tls.handshakes;
  const silent = h.reset + h.abandoned;
  if (silent > 0) {
    const name = best(tls.failedServerNames, (f) => f.reset + f.abandoned);
    const parts = [h.reset > 0 ? `${grouped(h.reset)} reset` : "", h.abandoned > 0 ? `${grouped(h.abandoned)} abandoned` : ""].filter(Boolean).join(", ");
    out.push({
      weight: 80,
      text: `${grouped(silent)} of ${grouped(h.started)} TLS handshakes (${percent(silent, h.started)}) ended after the ClientHello with no ServerHello (${parts})` +
        `${attribution("for", name && { label: name.name, count: name.reset + name.abandoned }, silent)}.`,
    });
  }
}

function tcpFindings(s: CaptureSummary, out: Finding[]): void {
  const h = s.tcpHealth;
  const failed = h.synsWithoutAnswer + h.synsRefused;
  if (failed > 0) {
    const target = h.failedHandshakeTargets[0];
    const parts = [h.synsWithoutAnswer > 0 ? `${grouped(h.synsWithoutAnswer)} unanswered` : "", h.synsRefused > 0 ? `${grouped(h.synsRefused)} refused with RST` : ""].filter(Boolean).join(", ");
    out.push({
      weight: 92 + (5 * failed) / Math.max(1, h.connectionAttempts),
      text: `${grouped(failed)} of ${grouped(h.connectionAttempts)} TCP connection attempts (${percent(failed, h.connectionAttempts)}) got no SYN-ACK (${parts})` +
        `${attribution("to", target && { label: endpointText(target.address, target.port, 6), count: target.attempts }, failed)}.`,
    });
  }
  for (const l of h.handshakeLatency) {
    if (l.p95Ms < SLOW_HANDSHAKE_MS) continue;
    out.push({
      weight: 62,
      text: `TCP handshakes to ${endpointText(l.address, l.port, 6)} took ${durationText(l.p95Ms)} SYN to SYN-ACK at p95 (p50 ${durationText(l.p50Ms)}, ${plural(l.handshakes, "handshake")}).`,
    });
  }
  if (h.zeroWindows > 0) {
    const top = h.zeroWindowSenders[0];
    out.push({
      weight: 52,
      text: `${grouped(h.zeroWindows)} TCP zero-window segments: a receiver could not keep up` + `${attribution("from", top && { label: top.endpoint, count: top.count }, h.zeroWindows)}.`,
    });
  }
  if (s.tcp > 0 && s.tcpRetransmissions / s.tcp >= 0.01) {
    out.push({ weight: 45, text: `${grouped(s.tcpRetransmissions)} TCP retransmissions (${percent(s.tcpRetransmissions, s.tcp)} of TCP packets).` });
  }
}

/** The summary's findings, most important first (at most 10). */
export function findingsOf(s: CaptureSummary): string[] {
  const out: Finding[] = [];
  dnsFindings(s, out);
  httpFindings(s, out);
  tlsFindings(s, out);
  tcpFindings(s, out);
  return out
    .sort((a, b) => b.weight - a.weight)
    .slice(0, MAX_FINDINGS)
    .map((f) => f.text);
}
