// The message for a Slack incoming webhook: `text` (what notifications and screen readers show) plus Block Kit
// `blocks`. Limits (shared docs notifications.md §2): ≤ 50 blocks, header text ≤ 150, section text ≤ 3000, ≤ 10
// section fields of ≤ 2000, and an undocumented aggregate limit (`msg_blocks_too_long` near 13,200 characters), so
// the whole JSON is kept under 10,000 characters by shortening every text and the long lists.
// Links are mrkdwn `<url|label>` rather than buttons: a button on an incoming webhook without interactivity set up
// shows a warning when clicked.

import type { CaptureSummary } from "./summary.js";
import { firstThatFits, type TextLimits } from "./shrink.js";
import { truncate } from "../truncate.js";
import { defangUrls, fitEscaped, oneLine } from "./text.js";

export const SLACK_MAX_BLOCKS = 50;
export const SLACK_SECTION_TEXT_MAX = 3000;
export const SLACK_HEADER_TEXT_MAX = 150;
export const SLACK_FIELD_TEXT_MAX = 2000;
export const SLACK_MAX_FIELDS = 10;
export const SLACK_MESSAGE_MAX_CHARS = 10_000;

export interface SlackText {
  readonly type: "mrkdwn" | "plain_text";
  readonly text: string;
  /** On every mrkdwn object: Slack then leaves bare URLs, channel names and mentions as text (our own <url|label> links still work). */
  readonly verbatim?: true;
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

// Tried in order until the message fits. Every text is bounded at every step, so the last one fits whatever the
// input: counted as JSON, each character is at most 2 (a quote or backslash), escaping is counted before that, and
// the parts add up to well under 10,000.
// Field values (names, times, IDs) are cut to idChars.
const SHRINK_STEPS: readonly TextLimits[] = [
  { lines: 20, lineChars: 400, textChars: 1000, idChars: 300 },
  { lines: 10, lineChars: 250, textChars: 500, idChars: 200 },
  { lines: 5, lineChars: 150, textChars: 300, idChars: 150 },
  { lines: 3, lineChars: 100, textChars: 200, idChars: 100 },
];
const FALLBACK_TEXT_CHARS = 300;
// A link longer than this is left out rather than cut (a cut URL leads somewhere else). Room for a report link with its
// user-delegation SAS (~450 characters) on a long Network Watcher blob path; a context element takes 3000.
const LINK_MARKUP_MAX_CHARS = 2500;

export function buildSlackMessage(s: CaptureSummary): SlackMessage {
  return firstThatFits(
    SHRINK_STEPS,
    (limits): SlackMessage => ({ text: fallbackText(s), blocks: blocks(s, limits) }),
    (message) => JSON.stringify(message).length < SLACK_MESSAGE_MAX_CHARS,
  );
}

function fallbackText(s: CaptureSummary): string {
  const parts = [s.headline];
  if (s.alert.rule !== null) parts.push(`alert ${s.alert.rule}`);
  if (s.reason !== null) parts.push(s.reason);
  return mrkdwn(parts.join(" — "), FALLBACK_TEXT_CHARS);
}

// Findings first: they answer "what broke?", the fields below say where and when.
function blocks(s: CaptureSummary, limits: TextLimits): SlackBlock[] {
  const out: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: truncate(oneLine(s.headline), SLACK_HEADER_TEXT_MAX) } },
  ];
  // When the failure began leads, even before why the capture ended: it is what a recorder's lookback adds.
  if (s.onsets.length > 0) {
    const title = s.alert.firedAt === null ? "When it began" : `When it began (alert fired ${mrkdwn(s.alert.firedAt, 40)})`;
    out.push(section(listText(title, s.onsets, limits, "")));
  }
  if (s.reason !== null) out.push(section(mrkdwn(s.reason, limits.textChars)));
  if (s.findings.length > 0 || s.onsets.length === 0) out.push(section(listText("Findings", s.findings, limits, "_No findings were reported._")));
  out.push({ type: "section", fields: fields(s, limits) });
  if (s.packetCaptureErrors.length > 0) {
    out.push(section(listText("Network Watcher errors", s.packetCaptureErrors, limits, "")));
  }
  // One context element per item, so a long link is never cut in the middle (which would break its markup).
  const context: SlackText[] = [];
  // Only links a person in the channel can open: the report (which carries the capture's status). The status route
  // needs a function key, so it is left to the generic JSON body, for programs.
  const markup = s.reportUrl === null ? null : link(s.reportUrl, "Open report");
  if (markup !== null && markup.length <= LINK_MARKUP_MAX_CHARS) context.push(mrkdwnObject(markup));
  context.push(mrkdwnObject(`Resource: ${mrkdwn(s.target, limits.idChars * 2)}`));
  out.push({ type: "context", elements: context });
  return out.slice(0, SLACK_MAX_BLOCKS);
}

function fields(s: CaptureSummary, limits: TextLimits): SlackText[] {
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
    .map(([title, value]) => mrkdwnObject(`*${title}*\n${mrkdwn(value, limits.idChars)}`));
}

function listText(
  title: string,
  lines: readonly string[],
  limits: TextLimits,
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
  return { type: "section", text: mrkdwnObject(truncate(text, SLACK_SECTION_TEXT_MAX)) };
}

function mrkdwnObject(text: string): SlackText {
  return { type: "mrkdwn", text, verbatim: true };
}

// Slack's three control characters; escaping them also stops `<!channel>`-style mentions and fake links coming
// from alert or analysis text.
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Free text as one line of mrkdwn that renders literally, escaped, at most `maxChars` after escaping. */
function mrkdwn(text: string, maxChars: number): string {
  return fitEscaped(defangUrls(oneLine(text)), maxChars, escapeMrkdwn);
}

function link(url: string, label: string): string {
  return `<${escapeMrkdwn(url).replace(/\|/g, "%7C")}|${label}>`;
}
