import { endpointText } from "./addressText.js";
import { grouped } from "./numberText.js";
import type { CaptureSummary } from "./captureSummary.js";

const n = grouped;

/** The summary as a terminal report: headline lines, then the ranked tables. */
export function textReport(s: CaptureSummary, fileName: string): string {
  const lines: string[] = [];
  if (s.findings.length > 0) lines.push("Findings", ...s.findings.map((f) => `  - ${terminalSafe(f)}`), "");
  const linkTypes = s.linkTypes.map((t, i) => `${s.linkTypeNames[i] ?? ""} (${t})`).join(", ") || "none";
  const tcpHealth = s.tcpHealth;
  lines.push(
    `Capture      ${fileName}: ${s.formatVariant}, ${s.byteOrder}; ${s.sections} section(s), ${s.interfaces} interface(s); link ${linkTypes}`,
    `Packets      ${n(s.packets)}    bytes ${n(s.bytes)} on the wire, ${n(s.capturedBytes)} captured`,
    `Time         ${s.firstTimestamp ?? "-"} → ${s.lastTimestamp ?? "-"} (${s.durationSeconds} s), peak ${n(s.timeline.peakPacketsPerSecond)} packets/s`,
    `Network      IPv4 ${n(s.ipv4)}   IPv6 ${n(s.ipv6)}   non-IP ${n(s.nonIp)}   VLAN-tagged ${n(s.vlanTagged)}`,
    `Transport    TCP ${n(s.tcp)}   UDP ${n(s.udp)}   ICMP ${n(s.icmp)}   ICMPv6 ${n(s.icmpv6)}   later fragments ${n(s.ipFragments)}`,
    `TCP flags    SYN ${n(s.tcpSyn)}   SYN-ACK ${n(s.tcpSynAck)}   RST ${n(s.tcpRst)}   FIN ${n(s.tcpFin)}`,
    `TCP health   retransmissions ${n(s.tcpRetransmissions)} (payload ${n(tcpHealth.payloadRetransmissions)}, SYN ${n(tcpHealth.synRetransmissions)}), ` +
      `out of order ${n(tcpHealth.outOfOrder)}, duplicate ACKs ${n(tcpHealth.duplicateAcks)}`,
    `Handshakes   ${n(tcpHealth.connectionAttempts)} attempts: ${n(tcpHealth.handshakesCompleted)} answered, ` +
      `${n(tcpHealth.synsWithoutAnswer)} without answer, ${n(tcpHealth.synsRefused)} refused (RST)`,
    `ICMP errors  unreachable ${n(s.icmpErrors.destinationUnreachable)}   time exceeded ${n(s.icmpErrors.timeExceeded)}`,
    `Flows        ${n(s.conversations)} conversations${s.flowTableSaturated ? ` (table full at ${n(s.flowTable.capacity)})` : ""}`,
    `Truncated    ${s.truncated ? `yes, file cut inside a record` : "no"}; ${n(s.truncatedRecords)} records cut by snap length`,
  );

  lines.push("", "Top talkers");
  lines.push(
    ...table(
      ["address", "bytes", "packets", "bytes sent", "bytes received"],
      s.topTalkers.map((t) => [t.address, n(t.bytes), n(t.packets), n(t.bytesSent), n(t.bytesReceived)]),
    ),
  );
  lines.push("", "Top conversations");
  lines.push(
    ...table(
      ["protocol", "source", "destination", "bytes", "packets", "seconds", "TCP"],
      s.topConversations.map((c) => [
        c.protocol,
        endpointText(c.source, c.sourcePort, c.ipProtocol),
        endpointText(c.destination, c.destinationPort, c.ipProtocol),
        n(c.bytes),
        n(c.packets),
        String(c.durationSeconds),
        c.tcpHandshake ? `${c.tcpHandshake}${c.tcpReset ? ", reset" : ""}` : "",
      ]),
    ),
  );
  if (tcpHealth.failedHandshakeTargets.length > 0) {
    lines.push("", "Failed handshakes (SYN without SYN-ACK)");
    lines.push(
      ...table(
        ["destination", "attempts", "no answer", "refused"],
        tcpHealth.failedHandshakeTargets.map((t) => [endpointText(t.address, t.port, 6), n(t.attempts), n(t.unanswered), n(t.refused)]),
      ),
    );
  }
  if (s.dns.queries + s.dns.responses > 0) {
    lines.push("", `DNS          ${n(s.dns.queries)} queries, ${n(s.dns.responses)} answers (${Object.entries(s.dns.rcodes).map(([k, v]) => `${k} ${n(v)}`).join(", ") || "none"}), ${n(s.dns.unanswered)} unanswered`);
    lines.push(
      ...table(
        ["server", "queries", "answers", "unanswered", "p50 ms", "p95 ms", "failing names"],
        s.dns.servers.map((v) => [v.server, n(v.queries), n(v.responses), n(v.unanswered), String(v.answerTimeP50Ms ?? "-"), String(v.answerTimeP95Ms ?? "-"),
          terminalSafe(v.failingNames.slice(0, 3).map((f) => `${f.name} ${f.rcode} ×${f.count}`).join("; "))]),
      ),
    );
  }
  if (s.http.requests + s.http.responses > 0) {
    lines.push("", `HTTP         ${n(s.http.requests)} requests, ${n(s.http.responses)} responses (${Object.entries(s.http.statusCodes).map(([k, v]) => `${k} ×${n(v)}`).join(", ") || "none"})`);
    lines.push(
      ...table(
        ["host", "requests", "responses", "4xx", "5xx", "p50 ms", "p95 ms"],
        s.http.hosts.map((h) => [terminalSafe(h.host), n(h.requests), n(h.responses), n(h.clientErrors), n(h.serverErrors), String(h.responseTimeP50Ms ?? "-"), String(h.responseTimeP95Ms ?? "-")]),
      ),
    );
  }
  if (s.tls.clientHellos + s.tls.alerts.length > 0) {
    const hs = s.tls.handshakes;
    lines.push("", `TLS          ${n(s.tls.clientHellos)} ClientHellos, ${n(s.tls.serverHellos)} ServerHellos; no ServerHello: ${n(hs.endedByAlert)} alert, ${n(hs.reset)} reset, ${n(hs.abandoned)} abandoned`);
    lines.push(...table(["server name (SNI)", "ClientHellos"], Object.entries(s.tls.serverNames).slice(0, 10).map(([name, count]) => [terminalSafe(name), n(count)])));
    if (s.tls.alerts.length > 0) lines.push(...table(["alert", "sender", "from", "count"], s.tls.alerts.map((a) => [`${a.name} (${a.code})`, a.sender, a.from, n(a.count)])));
  }
  if (tcpHealth.handshakeLatency.length > 0) {
    lines.push("", "TCP handshake time (SYN → SYN-ACK), slowest first");
    lines.push(...table(["service", "handshakes", "p50 ms", "p95 ms"], tcpHealth.handshakeLatency.map((l) => [endpointText(l.address, l.port, 6), n(l.handshakes), String(l.p50Ms), String(l.p95Ms)])));
  }
  if (s.notes.length > 0) lines.push("", "Notes", ...s.notes.map((note) => `  - ${note}`));
  return lines.join("\n") + "\n";
}


/** Decoded text is printable ASCII already; this also drops anything a terminal could act on, should that change. */
function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** Columns padded to their widest cell; the first column left-aligned, numbers right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ["  (none)"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: string[]): string =>
    "  " +
    cells
      .map((cell, i) => (i === 0 || !/^[\d,.]+$/.test(cell) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [format(header), ...rows.map(format)];
}
