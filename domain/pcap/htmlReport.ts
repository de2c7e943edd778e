import { endpointText } from "./addressText.js";
import { grouped } from "./numberText.js";
import { isoOfSeconds } from "./timeBase.js";
import type { CaptureSummary, ProtocolShare } from "./captureSummary.js";

// A self-contained HTML report: inline CSS and SVG only (no script, font or image from anywhere), so it can be
// attached to a notification or opened from a blob container offline. Every number shown carries
// `data-field`/`data-value` with the raw value, and the JSON summary is embedded, so tools can read the page back.

const PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#4b5563"];
const n = grouped;

export interface HtmlReportOptions {
  /** Shown in the title: the capture's file or blob name. */
  title: string;
  /** When the report was made (ISO 8601); defaults to now. */
  generatedAt?: string;
  /** Several files analysed as one incident timeline (a flight recorder's lookback and the forward capture). */
  incident?: IncidentView;
}

/** What the report shows of an incident timeline (domain/incident's analysis, structurally). */
export interface IncidentView {
  alertAt: string;
  lookbackSeconds: number;
  /** Onset sentences, most important first, with when each began. */
  onsets: Array<{ kind: string; label: string; began: string; offsetSeconds: number; text: string }>;
  /** Failures per bucket, per kind (only the kinds with an onset are drawn). */
  failures: { startEpochSeconds: number; bucketSeconds: number; counts: Record<string, number[]> } | null;
  files: Array<{ part: string; instance: string | null; label: string; packets: number; duplicates: number; firstTimestamp: string | null; lastTimestamp: string | null; error: string | null }>;
  /** What is missing from the lookback, in plain words (the recorder's notes, a wait that ended). */
  notes: string[];
}

export function htmlReport(s: CaptureSummary, options: HtmlReportOptions): string {
  const generatedAt = options.generatedAt ?? new Date().toISOString();
  const h = s.tcpHealth;
  const headline: Array<[label: string, field: string, value: number]> = [
    ["Packets", "packets", s.packets],
    ["Bytes on the wire", "bytes", s.bytes],
    ["Bytes captured", "capturedBytes", s.capturedBytes],
    ["IPv4 packets", "ipv4", s.ipv4],
    ["IPv6 packets", "ipv6", s.ipv6],
    ["TCP packets", "tcp", s.tcp],
    ["UDP packets", "udp", s.udp],
    ["ICMP packets", "icmp", s.icmp],
    ["SYN (no ACK)", "tcpSyn", s.tcpSyn],
    ["SYN-ACK", "tcpSynAck", s.tcpSynAck],
    ["RST", "tcpRst", s.tcpRst],
    ["FIN", "tcpFin", s.tcpFin],
    ["Retransmissions", "tcpRetransmissions", s.tcpRetransmissions],
    ["Conversations", "conversations", s.conversations],
  ];
  const health: Array<[label: string, field: string, value: number]> = [
    ["Connection attempts (SYN)", "tcpHealth.connectionAttempts", h.connectionAttempts],
    ["Answered with SYN-ACK", "tcpHealth.handshakesCompleted", h.handshakesCompleted],
    ["SYNs without any answer", "tcpHealth.synsWithoutAnswer", h.synsWithoutAnswer],
    ["SYNs refused (RST)", "tcpHealth.synsRefused", h.synsRefused],
    ["SYN retransmissions", "tcpHealth.synRetransmissions", h.synRetransmissions],
    ["Payload retransmissions", "tcpHealth.payloadRetransmissions", h.payloadRetransmissions],
    ["Out-of-order segments", "tcpHealth.outOfOrder", h.outOfOrder],
    ["Duplicate ACKs", "tcpHealth.duplicateAcks", h.duplicateAcks],
    ["Resets", "tcpHealth.resets", h.resets],
  ];

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Capture triage: ${esc(options.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 0; background: #f9fafb; }
  main { max-width: 1000px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
  .meta { color: #4b5563; margin: 0 0 16px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 8px; margin: 0; }
  .cards div { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; }
  .cards dt { color: #6b7280; font-size: 12px; } .cards dd { margin: 0; font-size: 18px; font-weight: 600; }
  section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px 16px; margin-top: 16px; }
  section h2 { margin-top: 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #f3f4f6; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .findings li { margin: 6px 0; font-size: 15px; } .notes li { margin: 4px 0; } .warn { color: #b45309; } svg text { font: 11px system-ui, sans-serif; fill: #374151; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 0; padding: 0; list-style: none; font-size: 13px; }
  .legend span.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
</style>
</head>
<body>
<main>
<h1>Capture triage: ${esc(options.title)}</h1>
<p class="meta">${esc(s.formatVariant)}, ${esc(s.byteOrder)}; link ${esc(s.linkTypes.map((t, i) => `${s.linkTypeNames[i] ?? ""} (${t})`).join(", ") || "none")};
${esc(s.firstTimestamp ?? "no timestamps")} → ${esc(s.lastTimestamp ?? "-")} (<span data-field="durationSeconds" data-value="${s.durationSeconds}">${s.durationSeconds}</span> s).
Generated ${esc(generatedAt)}.${s.truncated ? ` <strong class="warn" data-field="truncated" data-value="true">The file is truncated.</strong>` : ""}</p>
${options.incident ? incidentSections(options.incident) : ""}
${s.findings.length > 0 ? `<section id="findings"><h2>Findings</h2><ol class="findings">${s.findings.map((f) => `<li>${esc(f)}</li>`).join("")}</ol></section>` : ""}
${applicationSections(s)}
<dl class="cards" id="headline">
${headline.map(([label, field, value]) => `<div><dt>${esc(label)}</dt><dd data-field="${field}" data-value="${value}">${n(value)}</dd></div>`).join("\n")}
</dl>
${s.notes.length > 0 ? `<section><h2>Notes</h2><ul class="notes">${s.notes.map((note) => `<li>${esc(note)}</li>`).join("")}</ul></section>` : ""}
<section><h2>Packets per second</h2>${timelineChart(s, options.incident?.alertAt)}</section>
${options.incident ? incidentFilesSection(options.incident) : ""}
<section><h2>Protocol mix (by bytes)</h2>${mixChart("protocol-chart", "Transport protocols", s.protocolMix.transport)}${mixChart("network-chart", "Network layer", s.protocolMix.network)}</section>
<section><h2>Top talkers (by bytes)</h2>${talkersChart(s)}
${dataTable(
  "talkers-table",
  ["Address", "Bytes", "Packets", "Bytes sent", "Bytes received"],
  s.topTalkers.map((t) => [text(t.address), num(t.bytes), num(t.packets), num(t.bytesSent), num(t.bytesReceived)]),
)}</section>
<section><h2>Top conversations (by bytes)</h2>
${dataTable(
  "conversations-table",
  ["Protocol", "Source", "Destination", "Bytes", "Packets", "Seconds", "TCP"],
  s.topConversations.map((c) => [
    text(c.protocol),
    text(endpointText(c.source, c.sourcePort, c.ipProtocol)),
    text(endpointText(c.destination, c.destinationPort, c.ipProtocol)),
    num(c.bytes),
    num(c.packets),
    num(c.durationSeconds),
    text(c.tcpHandshake ? `${c.tcpHandshake}${c.tcpReset ? ", reset" : ""}` : ""),
  ]),
)}</section>
<section><h2>TCP health</h2>
<dl class="cards" id="tcp-health">
${health.map(([label, field, value]) => `<div><dt>${esc(label)}</dt><dd data-field="${field}" data-value="${value}">${n(value)}</dd></div>`).join("\n")}
</dl>
${h.failedHandshakeTargets.length > 0 ? `<h2>Destinations with failed handshakes</h2>${dataTable(
  "failed-handshakes-table",
  ["Destination", "Attempts", "No answer", "Refused (RST)"],
  h.failedHandshakeTargets.map((t) => [text(endpointText(t.address, t.port, 6)), num(t.attempts), num(t.unanswered), num(t.refused)]),
)}` : ""}
</section>
<script type="application/json" id="summary">${JSON.stringify(s).replace(/</g, "\\u003c")}</script>
</main>
</body>
</html>
`;
}

type Cell = { text: string; numeric: boolean; value?: number };
const text = (t: string): Cell => ({ text: t, numeric: false });
const num = (v: number): Cell => ({ text: n(v), numeric: true, value: v });

function dataTable(id: string, header: string[], rows: Cell[][]): string {
  if (rows.length === 0) return `<p id="${id}">None.</p>`;
  const head = header.map((label, i) => `<th${rows[0]?.[i]?.numeric ? ' class="num"' : ""}>${esc(label)}</th>`).join("");
  const body = rows
    .map((row) => `<tr>${row.map((c) => (c.numeric ? `<td class="num" data-value="${c.value}">${esc(c.text)}</td>` : `<td>${esc(c.text)}</td>`)).join("")}</tr>`)
    .join("\n");
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function timelineChart(s: CaptureSummary, alertAt?: string): string {
  const t = s.timeline;
  if (t.packets.length === 0) return `<p id="timeline-chart">No timestamped packets.</p>`;
  const width = 940;
  const height = 220;
  const left = 56;
  const bottom = 28;
  const top = 10;
  const plotWidth = width - left - 10;
  const plotHeight = height - top - bottom;
  const rates = t.packets.map((p) => p / t.bucketSeconds);
  const max = Math.max(1, ...rates);
  const step = plotWidth / rates.length;
  const y = (rate: number): number => top + plotHeight - (rate / max) * plotHeight;
  let path = `M${left},${top + plotHeight}`;
  rates.forEach((rate, i) => {
    path += ` L${(left + i * step).toFixed(1)},${y(rate).toFixed(1)} L${(left + (i + 1) * step).toFixed(1)},${y(rate).toFixed(1)}`;
  });
  path += ` L${left + plotWidth},${top + plotHeight} Z`;
  const end = t.startEpochSeconds + t.packets.length * t.bucketSeconds;
  const clock = (seconds: number): string => isoOfSeconds(seconds)?.slice(11, t.bucketSeconds >= 1 ? 19 : 23) ?? "?";
  const ticks = [0, 0.5, 1]
    .map((f) => `<text x="${left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end">${esc(compact(max * f))}</text>` +
      `<line x1="${left}" x2="${left + plotWidth}" y1="${y(max * f).toFixed(1)}" y2="${y(max * f).toFixed(1)}" stroke="#e5e7eb"/>`)
    .join("");
  return `<svg id="timeline-chart" role="img" aria-label="Packets per second over time" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<title>Packets per second, ${esc(String(t.bucketSeconds))} s buckets</title>
${ticks}
<path class="series" d="${path}" fill="#bfdbfe" stroke="#2563eb" stroke-width="1"/>
<text x="${left}" y="${height - 8}">${esc(clock(t.startEpochSeconds))}</text>
<text x="${left + plotWidth}" y="${height - 8}" text-anchor="end">${esc(clock(end))}</text>
<text x="${left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">${esc(`${t.bucketSeconds} s per bucket, UTC`)}</text>
${alertAt ? alertMarker(alertAt, t.startEpochSeconds, end, left, plotWidth, top, plotHeight) : ""}
</svg>
<p>Peak <span data-field="timeline.peakPacketsPerSecond" data-value="${t.peakPacketsPerSecond}">${n(t.peakPacketsPerSecond)}</span> packets/s over ${t.packets.length} buckets of ${t.bucketSeconds} s.</p>`;
}

function mixChart(id: string, label: string, shares: ProtocolShare[]): string {
  const total = shares.reduce((sum, share) => sum + share.bytes, 0);
  if (total === 0) return `<p id="${id}">${esc(label)}: no traffic.</p>`;
  const width = 940;
  let x = 0;
  const rects = shares
    .map((share, i) => {
      const w = (share.bytes / total) * width;
      const rect = `<rect class="share" x="${x.toFixed(2)}" y="0" width="${Math.max(w, 0.5).toFixed(2)}" height="26" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(`${share.name}: ${n(share.bytes)} bytes, ${n(share.packets)} packets`)}</title></rect>`;
      x += w;
      return rect;
    })
    .join("");
  const legend = shares
    .map((share, i) => `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${esc(share.name)}: <span data-protocol="${esc(share.name)}" data-value="${share.packets}">${n(share.packets)}</span> packets, ${n(share.bytes)} bytes (${((share.bytes / total) * 100).toFixed(1)} %)</li>`)
    .join("");
  return `<h3>${esc(label)}</h3><svg id="${id}" role="img" aria-label="${esc(label)} by bytes" viewBox="0 0 ${width} 26" width="100%" xmlns="http://www.w3.org/2000/svg">${rects}</svg><ul class="legend">${legend}</ul>`;
}

function talkersChart(s: CaptureSummary): string {
  const talkers = s.topTalkers;
  if (talkers.length === 0) return `<p id="talkers-chart">No IP traffic.</p>`;
  const width = 940;
  const labelWidth = 260;
  const rowHeight = 22;
  const max = Math.max(1, ...talkers.map((t) => t.bytes));
  const rows = talkers
    .map((t, i) => {
      const y = i * rowHeight;
      const sent = (t.bytesSent / max) * (width - labelWidth - 110);
      const received = (t.bytesReceived / max) * (width - labelWidth - 110);
      return `<g class="talker"><text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${esc(t.address)}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${sent.toFixed(1)}" height="16" fill="${PALETTE[0]}"><title>${esc(`sent ${n(t.bytesSent)} bytes`)}</title></rect>` +
        `<rect x="${(labelWidth + sent).toFixed(1)}" y="${y + 3}" width="${received.toFixed(1)}" height="16" fill="${PALETTE[1]}"><title>${esc(`received ${n(t.bytesReceived)} bytes`)}</title></rect>` +
        `<text x="${(labelWidth + sent + received + 6).toFixed(1)}" y="${y + 15}">${esc(compact(t.bytes))}B</text></g>`;
    })
    .join("\n");
  return `<svg id="talkers-chart" role="img" aria-label="Top talkers by bytes" viewBox="0 0 ${width} ${talkers.length * rowHeight}" width="100%" xmlns="http://www.w3.org/2000/svg">
${rows}
</svg>
<ul class="legend"><li><span class="swatch" style="background:${PALETTE[0]}"></span>sent</li><li><span class="swatch" style="background:${PALETTE[1]}"></span>received</li></ul>`;
}


/** One section per layer that saw traffic: DNS answers by RCODE, HTTP responses by status, TLS names and alerts, TCP handshake time. */
function applicationSections(s: CaptureSummary): string {
  const parts: string[] = [];
  const dns = s.dns;
  if (dns.queries + dns.responses > 0) {
    parts.push(`<section id="dns"><h2>DNS: <span data-field="dns.queries" data-value="${dns.queries}">${n(dns.queries)}</span> queries, <span data-field="dns.responses" data-value="${dns.responses}">${n(dns.responses)}</span> answers, <span data-field="dns.unanswered" data-value="${dns.unanswered}">${n(dns.unanswered)}</span> unanswered</h2>
${barChart("dns-chart", "DNS answers by response code", Object.entries(dns.rcodes))}
${dataTable(
  "dns-servers-table",
  ["Server", "Queries", "Answers", "Unanswered", "p50 ms", "p95 ms", "Names that failed most"],
  dns.servers.map((v) => [text(v.server), num(v.queries), num(v.responses), num(v.unanswered), optional(v.answerTimeP50Ms), optional(v.answerTimeP95Ms),
    text(v.failingNames.slice(0, 3).map((f) => `${f.name} (${f.rcode} ×${f.count})`).join(", "))]),
)}</section>`);
  }
  const http = s.http;
  if (http.requests + http.responses > 0) {
    parts.push(`<section id="http"><h2>HTTP: <span data-field="http.requests" data-value="${http.requests}">${n(http.requests)}</span> requests, <span data-field="http.responses" data-value="${http.responses}">${n(http.responses)}</span> responses</h2>
${barChart("http-chart", "HTTP responses by status code", Object.entries(http.statusCodes))}
${dataTable(
  "http-hosts-table",
  ["Host", "Requests", "Responses", "4xx", "5xx", "p50 ms", "p95 ms"],
  http.hosts.map((h) => [text(h.host), num(h.requests), num(h.responses), num(h.clientErrors), num(h.serverErrors), optional(h.responseTimeP50Ms), optional(h.responseTimeP95Ms)]),
)}</section>`);
  }
  const tls = s.tls;
  if (tls.clientHellos + tls.alerts.length > 0) {
    const hs = tls.handshakes;
    parts.push(`<section id="tls"><h2>TLS: <span data-field="tls.clientHellos" data-value="${tls.clientHellos}">${n(tls.clientHellos)}</span> ClientHellos, ${n(hs.answered)} answered, ${n(hs.endedByAlert)} ended by an alert, ${n(hs.reset)} reset, ${n(hs.abandoned)} abandoned</h2>
${barChart("tls-chart", "ClientHellos by server name (SNI)", Object.entries(tls.serverNames).slice(0, 10))}
${tls.alerts.length > 0 ? barChart("tls-alerts-chart", "Plaintext TLS alerts", tls.alerts.map((a) => [`${a.name} (${a.code}) from ${a.sender} ${a.from}`, a.count])) : ""}
<p>Offered versions: ${esc(Object.entries(tls.offeredVersions).map(([v, c]) => `${v} ×${c}`).join(", ") || "none")}.</p></section>`);
  }
  const latency = s.tcpHealth.handshakeLatency;
  if (latency.length > 0) {
    parts.push(`<section id="tcp-latency"><h2>TCP handshake time (SYN → SYN-ACK, p95 ms)</h2>
${barChart("tcp-latency-chart", "Handshake p95 per service, ms", latency.map((l) => [`${endpointText(l.address, l.port, 6)} (${l.handshakes}, p50 ${l.p50Ms} ms)`, l.p95Ms]))}</section>`);
  }
  return parts.join("\n");
}

const optional = (value: number | null): Cell => (value === null ? text("-") : num(value));

/** Horizontal bars, one per entry, labelled with the (escaped) key and the value. */
function barChart(id: string, label: string, entries: Array<[string, number]>): string {
  if (entries.length === 0) return `<p id="${id}">${esc(label)}: none.</p>`;
  const width = 940;
  const labelWidth = 360;
  const rowHeight = 22;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const rows = entries
    .map(([key, value], i) => {
      const y = i * rowHeight;
      const w = (value / max) * (width - labelWidth - 90);
      const shown = key.length > 60 ? `${key.slice(0, 59)}…` : key;
      return `<g class="bar"><text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${esc(shown)}</text>` +
        `<rect x="${labelWidth}" y="${y + 3}" width="${Math.max(w, 0.5).toFixed(1)}" height="16" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(`${key}: ${n(value)}`)}</title></rect>` +
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 15}" data-value="${value}">${esc(n(value))}</text></g>`;
    })
    .join("\n");
  return `<h3>${esc(label)}</h3><svg id="${id}" role="img" aria-label="${esc(label)}" viewBox="0 0 ${width} ${entries.length * rowHeight}" width="100%" xmlns="http://www.w3.org/2000/svg">
${rows}
</svg>`;
}

/** 1234567 → "1.2 M": axis labels, where exact digits are noise. */
function compact(value: number): string {
  for (const [unit, size] of [["G", 1e9], ["M", 1e6], ["k", 1e3]] as const) {
    if (value >= size) return `${(value / size).toFixed(value >= size * 10 ? 0 : 1)} ${unit}`;
  }
  return value >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(1);
}

export function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A dashed red line at the alert's time on a chart spanning [from, to] seconds, labelled with its clock time. */
function alertMarker(alertAt: string, from: number, to: number, left: number, plotWidth: number, top: number, plotHeight: number): string {
  const alert = Date.parse(alertAt) / 1000;
  if (!Number.isFinite(alert) || to <= from || alert < from || alert > to) return "";
  const x = (left + ((alert - from) / (to - from)) * plotWidth).toFixed(1);
  const anchor = alert - from > (to - from) / 2 ? "end" : "start";
  return `<g class="alert-marker" data-field="alertAt" data-value="${esc(alertAt)}"><line x1="${x}" x2="${x}" y1="${top}" y2="${top + plotHeight}" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 3"/>` +
    `<text x="${x}" y="${top + 12}" dx="${anchor === "end" ? -4 : 4}" text-anchor="${anchor}" style="fill:#dc2626;font-weight:600">${esc(`alert ${alertAt.slice(11, 19)}`)}</text></g>`;
}

/** The onsets (first thing read) and the failures over time with the alert marked. */
function incidentSections(incident: IncidentView): string {
  const onsets = incident.onsets.length > 0
    ? `<ol class="findings">${incident.onsets.map((o) => `<li data-kind="${esc(o.kind)}" data-offset-seconds="${o.offsetSeconds}">${esc(o.text)}</li>`).join("")}</ol>`
    : `<p>No failure (DNS errors or silence, HTTP 5xx, TLS alerts, failed handshakes, retransmissions) stands out before or after the alert.</p>`;
  const notes = incident.notes.length > 0 ? `<ul class="notes">${incident.notes.map((note) => `<li class="warn">${esc(note)}</li>`).join("")}</ul>` : "";
  return `<section id="onsets"><h2>When it began (alert at ${esc(incident.alertAt.slice(11, 19))} UTC, ${esc(lookbackText(incident.lookbackSeconds))} of lookback)</h2>${onsets}${notes}${failureChart(incident)}</section>`;
}

function lookbackText(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${n(seconds)} s`;
}

const FAILURE_COLORS = ["#dc2626", "#ea580c", "#9333ea", "#0891b2", "#ca8a04", "#4b5563"];

/** One step line per kind that has an onset (failures per bucket), with the alert marked and each onset ticked. */
function failureChart(incident: IncidentView): string {
  const f = incident.failures;
  const kinds = incident.onsets.slice(0, FAILURE_COLORS.length);
  if (!f || kinds.length === 0) return "";
  const length = Math.max(0, ...kinds.map((o) => f.counts[o.kind]?.length ?? 0));
  if (length === 0) return "";
  const width = 940;
  const height = 200;
  const left = 56;
  const top = 10;
  const bottom = 28;
  const plotWidth = width - left - 10;
  const plotHeight = height - top - bottom;
  const max = Math.max(1, ...kinds.flatMap((o) => f.counts[o.kind] ?? []));
  const step = plotWidth / length;
  const y = (count: number): number => top + plotHeight - (count / max) * plotHeight;
  const from = f.startEpochSeconds;
  const to = from + length * f.bucketSeconds;
  const lines = kinds
    .map((o, k) => {
      const counts = f.counts[o.kind] ?? [];
      let path = `M${left},${y(0).toFixed(1)}`;
      for (let i = 0; i < length; i++) path += ` L${(left + i * step).toFixed(1)},${y(counts[i] ?? 0).toFixed(1)} L${(left + (i + 1) * step).toFixed(1)},${y(counts[i] ?? 0).toFixed(1)}`;
      const began = Date.parse(o.began) / 1000;
      const x = (left + ((began - from) / (to - from)) * plotWidth).toFixed(1);
      return `<path class="failure-series" data-kind="${esc(o.kind)}" d="${path}" fill="none" stroke="${FAILURE_COLORS[k]}" stroke-width="1.5"/>` +
        `<circle class="onset" data-kind="${esc(o.kind)}" cx="${x}" cy="${y(0).toFixed(1)}" r="4" fill="${FAILURE_COLORS[k]}"><title>${esc(`${o.label} began ${o.began}`)}</title></circle>`;
    })
    .join("\n");
  const clock = (seconds: number): string => isoOfSeconds(seconds)?.slice(11, 19) ?? "?";
  const legend = kinds.map((o, k) => `<li><span class="swatch" style="background:${FAILURE_COLORS[k]}"></span>${esc(o.label)}</li>`).join("");
  return `<h3>Failures per ${esc(String(f.bucketSeconds))} s</h3><svg id="failure-chart" role="img" aria-label="Failures over time, with the alert marked" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">
<text x="${left - 6}" y="${(y(max) + 4).toFixed(1)}" text-anchor="end">${esc(compact(max))}</text><line x1="${left}" x2="${left + plotWidth}" y1="${y(max).toFixed(1)}" y2="${y(max).toFixed(1)}" stroke="#e5e7eb"/>
<line x1="${left}" x2="${left + plotWidth}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#9ca3af"/>
${lines}
<text x="${left}" y="${height - 8}">${esc(clock(from))}</text>
<text x="${left + plotWidth}" y="${height - 8}" text-anchor="end">${esc(clock(to))}</text>
${alertMarker(incident.alertAt, from, to, left, plotWidth, top, plotHeight)}
</svg><ul class="legend">${legend}</ul>`;
}

/** Which files made the timeline, and what each gave once the overlaps were removed. */
function incidentFilesSection(incident: IncidentView): string {
  return `<section id="incident-files"><h2>Files on this timeline</h2>
<p>The recorder's lookback files, then the capture started by the alert, read as one capture. Where files overlap (the recorder's cut, the forward capture's start), each source's packets at or before the last time already read from it are skipped.</p>
${dataTable(
  "incident-files-table",
  ["Part", "File", "Instance", "Packets", "Skipped (overlap)", "First", "Last", "Problem"],
  incident.files.map((f) => [text(f.part), text(f.label), text(f.instance ?? ""), num(f.packets), num(f.duplicates), text(f.firstTimestamp ?? "-"), text(f.lastTimestamp ?? "-"), text(f.error ?? "")]),
)}</section>`;
}
