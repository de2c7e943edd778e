// The message for a Teams Workflows webhook ("When a Teams webhook request is received"): the documented message
// envelope with one Adaptive Card. Constraints (shared docs notifications.md §1):
//   * card version 1.4: Workflows' "Post card in a chat or channel" cannot display 1.5 cards, so only TextBlock,
//     FactSet, ColumnSet/Column and Action.OpenUrl are used, nothing newer;
//   * Teams rejects messages over 28 KB, and that failure only shows in the flow's run history (the webhook still
//     answers 202), so the whole envelope is kept within 20 KB by shortening every text and the long lists;
//   * TextBlocks and FactSet values are markdown (and {{DATE()}} functions): every text that is not alertcap's own
//     is escaped, so a rule name, a reason or a packet-derived finding cannot make a link or change formatting.

import type { CaptureSummary } from "./summary.js";
import { firstThatFits, type TextLimits } from "./shrink.js";
import { defangUrls, escapeTeamsMarkdown, fitEscaped } from "./text.js";

export const TEAMS_CARD_VERSION = "1.4";
export const TEAMS_MESSAGE_MAX_BYTES = 20 * 1024;

export interface TextBlock {
  readonly type: "TextBlock";
  readonly text: string;
  readonly wrap: true;
  readonly size?: "Small" | "Default" | "Medium" | "Large";
  readonly weight?: "Default" | "Bolder";
  readonly color?: "Default" | "Good" | "Attention" | "Warning" | "Accent";
  readonly isSubtle?: boolean;
  readonly spacing?: "None" | "Small" | "Medium";
  readonly separator?: boolean;
}

export interface FactSet {
  readonly type: "FactSet";
  readonly facts: readonly { readonly title: string; readonly value: string }[];
}

export interface Column {
  readonly type: "Column";
  readonly width: "auto" | "stretch";
  readonly items: readonly TextBlock[];
}

export interface ColumnSet {
  readonly type: "ColumnSet";
  readonly columns: readonly Column[];
}

export type CardElement = TextBlock | FactSet | ColumnSet;

export interface OpenUrlAction {
  readonly type: "Action.OpenUrl";
  readonly title: string;
  readonly url: string;
}

export interface AdaptiveCard {
  readonly $schema: "http://adaptivecards.io/schemas/adaptive-card.json";
  readonly type: "AdaptiveCard";
  readonly version: typeof TEAMS_CARD_VERSION;
  readonly body: readonly CardElement[];
  readonly actions?: readonly OpenUrlAction[];
  /** Teams-specific: use the full width of the channel. */
  readonly msteams: { readonly width: "Full" };
}

export interface TeamsMessage {
  readonly type: "message";
  readonly attachments: readonly [
    {
      readonly contentType: "application/vnd.microsoft.card.adaptive";
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

// Tried in order until the envelope fits. Every text is bounded at every step, so the last step fits whatever the
// input: at most ~30 texts of ≤ 300 characters, each at most 4 UTF-8 bytes per character once escaped and
// JSON-encoded, plus two links of ≤ 2,000 ASCII characters, is under 20 KB.
const SHRINK_STEPS: readonly TextLimits[] = [
  { lines: 20, lineChars: 500, textChars: 500, idChars: 500 },
  { lines: 10, lineChars: 300, textChars: 300, idChars: 400 },
  { lines: 5, lineChars: 200, textChars: 200, idChars: 300 },
  { lines: 3, lineChars: 100, textChars: 100, idChars: 150 },
];
const HEADLINE_CHARS = 200;

export function buildTeamsMessage(s: CaptureSummary): TeamsMessage {
  return firstThatFits(
    SHRINK_STEPS,
    (limits) => envelope(card(s, limits)),
    (message) => Buffer.byteLength(JSON.stringify(message), "utf8") <= TEAMS_MESSAGE_MAX_BYTES,
  );
}

function envelope(content: AdaptiveCard): TeamsMessage {
  return {
    type: "message",
    attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content }],
  };
}

/** Free text as Teams markdown that renders literally, cut to `maxChars` (after escaping). */
function md(text: string, maxChars: number): string {
  return fitEscaped(defangUrls(text), maxChars, escapeTeamsMarkdown);
}

// Findings first: they answer "what broke?", the facts below say where and when.
function card(s: CaptureSummary, limits: TextLimits): AdaptiveCard {
  const body: CardElement[] = [
    {
      type: "TextBlock",
      text: md(s.headline, HEADLINE_CHARS),
      size: "Medium",
      weight: "Bolder",
      wrap: true,
      color: s.outcome === "failed" ? "Attention" : s.outcome === "stopped" ? "Good" : "Accent",
    },
  ];
  // When the failure began leads, even before why the capture ended: it is what a recorder's lookback adds.
  if (s.onsets.length > 0) body.push(...listSection(onsetTitle(s), s.onsets, limits, ""));
  if (s.reason !== null) body.push({ type: "TextBlock", text: md(s.reason, limits.textChars), wrap: true, spacing: "Small" });
  body.push(...listSection("Findings", s.findings, limits, s.onsets.length > 0 ? "" : "No findings were reported."));
  body.push({ type: "FactSet", facts: facts(s, limits) });
  body.push(windowColumns(s, limits));
  if (s.packetCaptureErrors.length > 0) {
    body.push(...listSection("Network Watcher errors", s.packetCaptureErrors, limits, ""));
  }

  // Only links a person in the channel can open: the report (which carries the capture's status). The status route
  // needs a function key, so it is left to the generic JSON body, for programs.
  const actions: OpenUrlAction[] = [];
  if (s.reportUrl !== null) actions.push({ type: "Action.OpenUrl", title: "Open report", url: s.reportUrl });

  return {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: TEAMS_CARD_VERSION,
    body,
    ...(actions.length > 0 ? { actions } : {}),
    msteams: { width: "Full" },
  };
}

/** Heading of the onset lines: alertcap's own words and the alert's time (already cleaned, escaped as markdown). */
function onsetTitle(s: CaptureSummary): string {
  return s.alert.firedAt === null ? "When it began" : `When it began (alert fired ${md(s.alert.firedAt, 40)})`;
}

function facts(s: CaptureSummary, limits: TextLimits): { title: string; value: string }[] {
  const { textChars: text, idChars: id } = limits;
  const rows: [string, string | null, number][] = [
    ["Target", s.targetName, text],
    ["Resource", s.target, id],
    ["Alert rule", s.alert.rule, text],
    ["Severity", s.alert.severity, text],
    ["Alert fired", s.alert.firedAt, text],
    ["Capture", s.captureName, text],
    ["Outcome", s.outcome, text],
    ["Stop reason", s.stopReason, text],
    ["Stopped early because", s.stopRequestedBecause, text],
    ["Failure", s.outcome === "failed" ? null : s.failureReason, text],
    ["Capture file", s.storagePath, id],
  ];
  return rows
    .filter((row): row is [string, string, number] => row[1] !== null && row[1] !== "")
    .map(([title, value, maxChars]) => ({ title, value: md(value, maxChars) }));
}

function windowColumns(s: CaptureSummary, limits: TextLimits): ColumnSet {
  const column = (label: string, value: string): Column => ({
    type: "Column",
    width: "stretch",
    items: [
      { type: "TextBlock", text: label, isSubtle: true, size: "Small", wrap: true },
      { type: "TextBlock", text: md(value, limits.textChars) || "—", spacing: "None", wrap: true },
    ],
  });
  return {
    type: "ColumnSet",
    columns: [
      column("Started", s.startedAt ?? "—"),
      column("Stopped", s.stoppedAt ?? (s.outcome === "running" ? "still running" : "—")),
      column("Duration", s.duration ?? "—"),
    ],
  };
}

function listSection(title: string, lines: readonly string[], limits: TextLimits, emptyText: string): TextBlock[] {
  const heading: TextBlock = { type: "TextBlock", text: title, weight: "Bolder", wrap: true, separator: true };
  if (lines.length === 0) return emptyText === "" ? [] : [heading, { type: "TextBlock", text: emptyText, isSubtle: true, wrap: true }];
  const shown = lines.slice(0, limits.lines);
  const blocks: TextBlock[] = [heading];
  for (const line of shown) blocks.push({ type: "TextBlock", text: `• ${md(line, limits.lineChars)}`, wrap: true, spacing: "None" });
  const hidden = lines.length - shown.length;
  if (hidden > 0) {
    blocks.push({
      type: "TextBlock",
      text: `${shown.length === 0 ? `${hidden} lines` : `…and ${hidden} more`} not shown here; see the full report.`,
      isSubtle: true,
      wrap: true,
    });
  }
  return blocks;
}
