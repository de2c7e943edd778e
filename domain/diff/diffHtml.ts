import { esc } from "../pcap/htmlReport.js";
import { size } from "../pcap/keyFindings.js";
import { grouped } from "../pcap/numberText.js";
import type { CaptureDiff } from "./captureDiff.js";
import { pText, share } from "./diffFindings.js";

const LISTED = 50;

/**
 * A small self-contained page (inline CSS, no script): findings, then tables. Everything that comes from the captures
 * (addresses, DNS names, Host headers, server names) is escaped; the full diff is embedded as JSON, with "<" escaped
 * so no packet text can end the script element.
 */
export function diffHtml(d: CaptureDiff, baselineName: string, incidentName: string): string {
  const rows = (cells: string[][]): string => cells.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  const table = (title: string, header: string[], cells: string[][]): string =>
    cells.length === 0 ? "" : `<h2>${esc(title)}</h2>\n<table><tr>${header.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>\n${rows(cells)}</table>`;
  const side = (label: string, s: CaptureDiff["baseline"]): string[] => [label, grouped(s.packets), size(s.bytes), `${s.durationSeconds.toFixed(0)} s`, grouped(s.talkers), grouped(s.services)];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>What changed: ${esc(baselineName)} → ${esc(incidentName)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; color: #111827; max-width: 1000px; margin: 0 auto; padding: 24px; }
  table { border-collapse: collapse; margin-bottom: 12px; } td, th { border-bottom: 1px solid #e5e7eb; padding: 4px 10px; text-align: left; }
  li { margin: 4px 0; }
</style>
</head>
<body>
<h1>What changed: ${esc(baselineName)} (baseline) → ${esc(incidentName)} (incident)</h1>
${table("Captures", ["", "packets", "bytes", "duration", "talkers", "services"], [side("baseline", d.baseline), side("incident", d.incident)])}
<h2>Findings</h2>
<ol id="findings">
${d.findings.map((f) => `<li>${esc(f)}</li>`).join("\n")}
</ol>
${table(
  "Failure rates",
  ["layer", "measure", "where", "baseline", "incident", "test", "p", "significant"],
  d.rateChanges.slice(0, LISTED).map((c) => [c.layer, c.metric, c.scope ?? "(all)", share(c.baseline), share(c.incident), c.test ?? "-", c.pValue === null ? "-" : pText(c.pValue), c.significant ? "yes" : "no"]),
)}
${table("New talkers", ["address", "packets", "bytes"], d.newTalkers.slice(0, LISTED).map((t) => [t.address, grouped(t.packets), size(t.bytes)]))}
${table("Gone talkers", ["address", "packets", "bytes"], d.goneTalkers.slice(0, LISTED).map((t) => [t.address, grouped(t.packets), size(t.bytes)]))}
${table("New services", ["service", "flows", "packets", "bytes"], d.newServices.slice(0, LISTED).map((s) => [s.service, grouped(s.flows), grouped(s.packets), size(s.bytes)]))}
${table(
  "Volume per service",
  ["service", "baseline packets/s", "incident packets/s", "ratio", "significant"],
  d.volumeShifts.slice(0, LISTED).map((v) => [v.service, String(v.baseline.packetsPerSecond), String(v.incident.packetsPerSecond), `${v.ratio}×`, v.significant ? "yes" : "no"]),
)}
${d.notes.map((n) => `<p class="note">${esc(n)}</p>`).join("\n")}
<script type="application/json" id="diff">${JSON.stringify(d).replace(/</g, "\\u003c")}</script>
</body>
</html>
`;
}
