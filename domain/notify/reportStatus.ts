// The capture's status, as a section at the top of its HTML report. The report is what people open from a
// notification (alertcap's status route needs a function key), so it says what the notification said: the outcome and
// why, the target, the alert, the capture window and the key findings, as of the notification.
import type { CaptureSummary } from "./summary.js";

const START = "<!--alertcap:capture-status-->";
const END = "<!--/alertcap:capture-status-->";

const esc = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The status section for a report, from the same summary the notification was built from. */
export function reportStatusSection(s: CaptureSummary): string {
  const window = s.startedAt === null ? null : `${s.startedAt} → ${s.stoppedAt ?? "?"}${s.duration === null ? "" : ` (${s.duration})`}`;
  const rows: Array<[string, string, string | null]> = [
    ["Outcome", "outcome", s.outcome],
    ["Target", "target", s.target],
    ["Alert rule", "alertRule", s.alert.rule],
    ["Severity", "severity", s.alert.severity],
    ["Alert fired", "alertFiredAt", s.alert.firedAt],
    ["Capture", "captureName", s.captureName],
    ["Network Watcher", "networkWatcher", s.networkWatcher],
    ["Window", "window", window],
    ["Capture file", "storagePath", s.storagePath],
  ];
  const list = (title: string, lines: readonly string[]) =>
    lines.length === 0 ? "" : `<h2>${esc(title)}</h2><ul class="notes">${lines.map((line) => `<li>${esc(line)}</li>`).join("")}</ul>`;
  return `${START}
<section id="capture-status" data-outcome="${esc(s.outcome)}">
<h2>Capture status: ${esc(s.headline)}</h2>
${s.reason === null ? "" : `<p data-field="reason">${esc(s.reason)}</p>\n`}<table><tbody>
${rows
  .filter(([, , value]) => value !== null)
  .map(([label, field, value]) => `<tr><th>${esc(label)}</th><td data-field="${field}">${esc(value!)}</td></tr>`)
  .join("\n")}
</tbody></table>
${list("When it began", s.onsets)}${list("Key findings", s.findings)}${list("Network Watcher errors", s.packetCaptureErrors)}
<p class="meta">Status as of ${esc(s.occurredAt)}.</p>
</section>
${END}
`;
}

/**
 * The report with `section` as its status: replacing the one an earlier run wrote (so a re-run leaves one), else at the
 * top of `<main>` (or `<body>`); a document with neither gets it in front.
 */
export function withReportStatus(html: string, section: string): string {
  const start = html.indexOf(START);
  const end = html.indexOf(END, start);
  if (start >= 0 && end >= 0) {
    const after = end + END.length + (html[end + END.length] === "\n" ? 1 : 0);
    return `${html.slice(0, start)}${section}${html.slice(after)}`;
  }
  const anchor = /<main[^>]*>\n?/i.exec(html) ?? /<body[^>]*>\n?/i.exec(html);
  if (!anchor) return `${section}${html}`;
  const at = anchor.index + anchor[0].length;
  return `${html.slice(0, at)}${section}${html.slice(at)}`;
}
