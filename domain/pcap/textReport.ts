import { endpointText } from "./addressText.js";
import { grouped } from "./numberText.js";
import type { CaptureSummary } from "./captureSummary.js";

const n = grouped;

/** The summary as a terminal report: headline lines, then the ranked tables. */
export function textReport(s: CaptureSummary, fileName: string): string {
  const lines: string[] = [];
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
  if (s.notes.length > 0) lines.push("", "Notes", ...s.notes.map((note) => `  - ${note}`));
  return lines.join("\n") + "\n";
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
