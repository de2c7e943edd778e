// The message for a Slack incoming webhook: `text` (what notifications and screen readers show) plus Block Kit
// `blocks`. Limits (shared docs notifications.md §2): ≤ 50 blocks, header text ≤ 150, section text ≤ 3000, ≤ 10
// section fields of ≤ 2000, and an undocumented aggregate limit (`msg_blocks_too_long` near 13,200 characters), so
// the whole JSON is kept under 10,000 characters by shortening, then dropping, the long lists.
// Links are mrkdwn `<url|label>` rather than buttons: a button on an incoming webhook without interactivity set up
// shows a warning when clicked.

import { truncate, type CaptureSummary } from "./summary.js";

export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_TEXT_MAX = 3000;
export const SLACK_HEADER_TEXT_MAX = 150;
export const SLACK_FIELD_TEXT_MAX = 2000;
export const SLACK_MAX_FIELDS = 10;
export const SLACK_MESSAGE_MAX_CHARS = 10_000;

export interface SlackText {
  readonly type: "mrkdwn" | "plain_text";
  readonly text: string;
}

export type SlackBlock =
  | { readonly type: "header"; readonly text: SlackText & { readonly type: "plain_text" } }
  | { readonly type: "section"; readonly text: SlackText }
  | { readonly type: "section"; readonly fields: readonly SlackText[] }
  | { readonly type: "context"; readonly elements: readonly SlackText[] }
  | { readonly type: "divider" };

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

const SHRINK_STEPS: readonly { readonly lines: number; readonly lineChars: number }[] = [
  { lines: 20, lineChars: 400 },
  { lines: 10, lineChars: 250 },
  { lines: 5, lineChars: 150 },
  { lines: 0, lineChars: 0 },
];
// Keeps the ten fields together well under the aggregate budget whatever the inputs.
const FIELD_VALUE_CHARS = 300;
const FALLBACK_TEXT_CHARS = 500;

export function buildSlackMessage(s: CaptureSummary): SlackMessage {
  let message: SlackMessage | undefined;
  for (const step of SHRINK_STEPS) {
    message = { text: fallbackText(s), blocks: blocks(s, step) };
    if (JSON.stringify(message).length < SLACK_MESSAGE_MAX_CHARS) return message;
  }
  // The last step lists nothing, and every other part is bounded, so it always fits.
  return message ?? { text: fallbackText(s), blocks: blocks(s, { lines: 0, lineChars: 0 }) };
}

function fallbackText(s: CaptureSummary): string {
  const parts = [s.headline];
  if (s.alert.rule !== null) parts.push(`alert ${s.alert.rule}`);
  if (s.reason !== null) parts.push(s.reason);
  return mrkdwn(parts.join(" — "), FALLBACK_TEXT_CHARS);
}

function blocks(s: CaptureSummary, limits: { lines: number; lineChars: number }): SlackBlock[] {
  const out: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: truncate(s.headline, SLACK_HEADER_TEXT_MAX) } },
  ];
  if (s.reason !== null) out.push(section(mrkdwn(s.reason, SLACK_SECTION_TEXT_MAX)));
  out.push({ type: "section", fields: fields(s) });
  out.push(section(listText("Findings", s.findings, limits, "_No findings were reported._")));
  if (s.packetCaptureErrors.length > 0) {
    out.push(section(listText("Network Watcher errors", s.packetCaptureErrors, limits, "")));
  }
  // One context element per item, so a long link is never cut in the middle (which would break its markup).
  const context: SlackText[] = [];
  for (const [url, label] of [[s.reportUrl, "Open report"], [s.statusUrl, "Capture status"]] as const) {
    const markup = url === null ? null : link(url, label);
    if (markup !== null && markup.length <= SLACK_SECTION_TEXT_MAX) context.push({ type: "mrkdwn", text: markup });
  }
  context.push({ type: "mrkdwn", text: `Resource: ${mrkdwn(s.target, 1000)}` });
  out.push({ type: "context", elements: context });
  return out.slice(0, SLACK_MAX_BLOCKS);
}

function fields(s: CaptureSummary): SlackText[] {
  const window =
    s.startedAt === null
      ? null
      : `${s.startedAt} → ${s.stoppedAt ?? (s.outcome === "running" ? "still running" : "?")}${s.duration === null ? "" : ` (${s.duration})`}`;
  const rows: [string, string | null][] = [
    ["Target", s.targetName],
    ["Alert rule", s.alert.rule],
    ["Severity", s.alert.severity],
    ["Alert fired", s.alert.firedAt],
    ["Capture", s.captureName],
    ["Outcome", s.outcome],
    ["Window", window],
    ["Capture file", s.storagePath],
    ["Stop reason", s.stopReason],
    ["Failure", s.outcome === "failed" ? null : s.failureReason],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== null && row[1] !== "")
    .slice(0, SLACK_MAX_FIELDS)
    .map(([title, value]) => ({ type: "mrkdwn", text: `*${title}*\n${mrkdwn(value, FIELD_VALUE_CHARS)}` }));
}

function listText(
  title: string,
  lines: readonly string[],
  limits: { lines: number; lineChars: number },
  emptyText: string,
): string {
  if (lines.length === 0) return `*${title}*\n${emptyText}`;
  const shown: string[] = [];
  let text = `*${title}*`;
  // Leave room for the "…and N more" line within the section limit.
  const budget = SLACK_SECTION_TEXT_MAX - 100;
  for (const line of lines.slice(0, limits.lines)) {
    const next = `\n• ${mrkdwn(line, limits.lineChars)}`;
    if (text.length + next.length > budget) break;
    text += next;
    shown.push(line);
  }
  const hidden = lines.length - shown.length;
  if (hidden > 0) text += `\n_${shown.length === 0 ? `${hidden} lines` : `…and ${hidden} more`} not shown here; see the full report._`;
  return text;
}

function section(text: string): SlackBlock {
  return { type: "section", text: { type: "mrkdwn", text: truncate(text, SLACK_SECTION_TEXT_MAX) } };
}

// Slack's three control characters; escaping them also stops `<!channel>`-style mentions and fake links coming
// from alert or analysis text.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escaped text of at most `maxChars` after escaping, cut before escaping so no entity is split. */
function mrkdwn(text: string, maxChars: number): string {
  let keep = maxChars;
  let escaped = escapeMrkdwn(truncate(text, keep));
  while (escaped.length > maxChars && keep > 1) {
    keep = Math.floor(keep * 0.8);
    escaped = escapeMrkdwn(truncate(text, keep));
  }
  return escaped;
}

function link(url: string, label: string): string {
  return `<${escapeMrkdwn(url).replace(/\|/g, "%7C")}|${label}>`;
}
