// The few lines a notification carries about a capture: how much, who talked most, and whether TCP was failing.
// The person reading them at 2 AM decides from these whether to open the full report.
import { endpointText } from "./addressText.js";
import type { CaptureSummary } from "./captureSummary.js";
import { grouped } from "./numberText.js";

const MAX_LINES = 6;

export function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}

const share = (part: number, whole: number): string => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : "0%");

export function keyFindings(s: CaptureSummary): string[] {
  if (s.packets === 0) return ["The capture holds no packets: the filters matched nothing, or the VM sent and received nothing while it ran."];
  // The findings say what broke, most important first: they lead, and replace the generic TCP line below.
  const lines = s.findings.slice(0, MAX_LINES - 2);
  lines.push(
    `${grouped(s.packets)} packets, ${size(s.bytes)} over ${s.durationSeconds.toFixed(0)} s (TCP ${grouped(s.tcp)}, UDP ${grouped(s.udp)}, ICMP ${grouped(s.icmp + s.icmpv6)}; IPv4 ${grouped(s.ipv4)}, IPv6 ${grouped(s.ipv6)}).`,
  );
  const talker = s.topTalkers[0];
  if (talker) lines.push(`Top talker: ${talker.address} with ${size(talker.bytes)} (${share(talker.bytes, s.bytes)} of the traffic; sent ${size(talker.bytesSent)}).`);
  const conversation = s.topConversations[0];
  if (conversation) {
    lines.push(
      `Top conversation: ${endpointText(conversation.source, conversation.sourcePort, conversation.ipProtocol)} → ${endpointText(conversation.destination, conversation.destinationPort, conversation.ipProtocol)} ${conversation.protocol}, ${size(conversation.bytes)} in ${grouped(conversation.packets)} packets.`,
    );
  }
  const h = s.tcpHealth;
  const problems: string[] = [];
  if (h.synsWithoutAnswer > 0) problems.push(`${grouped(h.synsWithoutAnswer)} SYNs unanswered`);
  if (h.synsRefused > 0) problems.push(`${grouped(h.synsRefused)} refused with RST`);
  if (h.resets > 0) problems.push(`${grouped(h.resets)} resets`);
  if (s.tcpRetransmissions > 0) problems.push(`${grouped(s.tcpRetransmissions)} retransmissions (${share(s.tcpRetransmissions, s.tcp)} of TCP packets)`);
  if (s.findings.length > 0) {
    // already said, with numbers, in the findings
  } else if (problems.length > 0) {
    const target = h.failedHandshakeTargets[0];
    lines.push(`TCP trouble: ${problems.join(", ")}${target ? `; most failed connections went to ${endpointText(target.address, target.port, 6)}` : ""}.`);
  } else if (s.tcp > 0) {
    lines.push(`TCP looks healthy: ${grouped(h.handshakesCompleted)} handshakes completed, no resets or retransmissions.`);
  }
  for (const note of s.notes) if (lines.length < MAX_LINES) lines.push(note);
  return lines.slice(0, MAX_LINES);
}
