import { size } from "../pcap/keyFindings.js";
import { grouped } from "../pcap/numberText.js";
import type { CaptureDiff } from "./captureDiff.js";
import { pText, share } from "./diffFindings.js";

const LISTED = 10;

/** The diff for a terminal: findings first, then the lists they come from, cut to their first entries. */
export function diffText(d: CaptureDiff, baselineName: string, incidentName: string): string {
  const lines = [
    `What changed: ${baselineName} (baseline) → ${incidentName} (incident)`,
    `  baseline: ${grouped(d.baseline.packets)} packets, ${size(d.baseline.bytes)} over ${d.baseline.durationSeconds.toFixed(0)} s, ${grouped(d.baseline.talkers)} talkers, ${grouped(d.baseline.services)} services`,
    `  incident: ${grouped(d.incident.packets)} packets, ${size(d.incident.bytes)} over ${d.incident.durationSeconds.toFixed(0)} s, ${grouped(d.incident.talkers)} talkers, ${grouped(d.incident.services)} services`,
    "",
    "Findings:",
    ...d.findings.map((f) => `  - ${f}`),
  ];
  const significant = d.rateChanges.filter((c) => c.significant);
  if (significant.length > 0) {
    lines.push("", "Failure rates that changed significantly:");
    for (const c of significant.slice(0, LISTED)) {
      lines.push(`  ${c.layer} ${c.metric}${c.scope ? ` [${c.scope}]` : ""}: ${share(c.baseline)} → ${share(c.incident)}, ${pText(c.pValue!)}`);
    }
  }
  if (d.newTalkerCount > 0) {
    lines.push("", `New talkers (${grouped(d.newTalkerCount)}):`);
    for (const t of d.newTalkers.slice(0, LISTED)) lines.push(`  ${t.address}  ${grouped(t.packets)} packets, ${size(t.bytes)}`);
  }
  if (d.goneTalkerCount > 0) {
    lines.push("", `Gone talkers (${grouped(d.goneTalkerCount)}):`);
    for (const t of d.goneTalkers.slice(0, LISTED)) lines.push(`  ${t.address}  ${grouped(t.packets)} packets, ${size(t.bytes)} in the baseline`);
  }
  if (d.newServiceCount > 0) {
    lines.push("", `New services (${grouped(d.newServiceCount)}):`);
    for (const s of d.newServices.slice(0, LISTED)) lines.push(`  ${s.service}  ${grouped(s.flows)} flows, ${grouped(s.packets)} packets, ${size(s.bytes)}`);
  }
  const shifts = d.volumeShifts.filter((v) => v.significant);
  if (shifts.length > 0) {
    lines.push("", "Traffic per service that changed significantly (packets/s):");
    for (const v of shifts.slice(0, LISTED)) lines.push(`  ${v.service}  ${v.baseline.packetsPerSecond} → ${v.incident.packetsPerSecond} (${v.ratio}×), ${pText(v.pValue)}`);
  }
  for (const note of d.notes) lines.push(`Note: ${note}`);
  return lines.join("\n") + "\n";
}
