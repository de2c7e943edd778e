// The message for a Teams Workflows webhook ("When a Teams webhook request is received"): the documented message
// envelope with one Adaptive Card. Constraints (shared docs notifications.md §1):
//   * card version 1.4: Workflows' "Post card in a chat or channel" cannot display 1.5 cards, so only TextBlock,
//     FactSet, ColumnSet/Column and Action.OpenUrl are used, nothing newer;
//   * Teams rejects messages over 28 KB, and that failure only shows in the flow's run history (the webhook still
//     answers 202), so the whole envelope is kept within 20 KB by shortening, then dropping, the long lists.

import { truncate, type CaptureSummary } from "./summary.js";

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

// Shrinking steps tried in order until the envelope fits: how many list lines, and how long each may be.
const SHRINK_STEPS: readonly { readonly lines: number; readonly lineChars: number }[] = [
  { lines: 20, lineChars: 500 },
  { lines: 10, lineChars: 300 },
  { lines: 5, lineChars: 200 },
  { lines: 0, lineChars: 0 },
];
// Fact values are short by nature (names, IDs, times); this only bounds a pathological one.
const FACT_VALUE_CHARS = 500;

export function buildTeamsMessage(s: CaptureSummary): TeamsMessage {
  let message: TeamsMessage | undefined;
  for (const step of SHRINK_STEPS) {
    message = envelope(card(s, step));
    if (utf8Length(JSON.stringify(message)) <= TEAMS_MESSAGE_MAX_BYTES) return message;
  }
  // The last step lists nothing, and every other field is bounded, so it always fits.
  return message ?? envelope(card(s, { lines: 0, lineChars: 0 }));
}

function envelope(content: AdaptiveCard): TeamsMessage {
  return {
    type: "message",
    attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content }],
  };
}

function card(s: CaptureSummary, limits: { lines: number; lineChars: number }): AdaptiveCard {
  const body: CardElement[] = [
    {
      type: "TextBlock",
      text: truncate(s.headline, 200),
      size: "Medium",
      weight: "Bolder",
      wrap: true,
      color: s.outcome === "failed" ? "Attention" : s.outcome === "stopped" ? "Good" : "Accent",
    },
  ];
  if (s.reason !== null) body.push({ type: "TextBlock", text: truncate(s.reason, FACT_VALUE_CHARS), wrap: true, spacing: "Small" });
  body.push({ type: "FactSet", facts: facts(s) });
  body.push(windowColumns(s));
  body.push(...listSection("Findings", s.findings, limits, "No findings were reported."));
  if (s.packetCaptureErrors.length > 0) {
    body.push(...listSection("Network Watcher errors", s.packetCaptureErrors, limits, ""));
  }

  const actions: OpenUrlAction[] = [];
  if (s.reportUrl !== null) actions.push({ type: "Action.OpenUrl", title: "Open report", url: s.reportUrl });
  if (s.statusUrl !== null) actions.push({ type: "Action.OpenUrl", title: "Capture status", url: s.statusUrl });

  return {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: TEAMS_CARD_VERSION,
    body,
    ...(actions.length > 0 ? { actions } : {}),
    msteams: { width: "Full" },
  };
}

function facts(s: CaptureSummary): { title: string; value: string }[] {
  const rows: [string, string | null][] = [
    ["Target", s.targetName],
    ["Resource", s.target],
    ["Alert rule", s.alert.rule],
    ["Severity", s.alert.severity],
    ["Alert fired", s.alert.firedAt],
    ["Capture", s.captureName],
    ["Outcome", s.outcome],
    ["Stop reason", s.stopReason],
    ["Stopped early because", s.stopRequestedBecause],
    ["Failure", s.outcome === "failed" ? null : s.failureReason],
    ["Capture file", s.storagePath],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== null && row[1] !== "")
    .map(([title, value]) => ({ title, value: truncate(value, FACT_VALUE_CHARS) }));
}

function windowColumns(s: CaptureSummary): ColumnSet {
  const column = (label: string, value: string): Column => ({
    type: "Column",
    width: "stretch",
    items: [
      { type: "TextBlock", text: label, isSubtle: true, size: "Small", wrap: true },
      { type: "TextBlock", text: value, spacing: "None", wrap: true },
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

function listSection(
  title: string,
  lines: readonly string[],
  limits: { lines: number; lineChars: number },
  emptyText: string,
): TextBlock[] {
  const heading: TextBlock = { type: "TextBlock", text: title, weight: "Bolder", wrap: true, separator: true };
  if (lines.length === 0) return emptyText === "" ? [] : [heading, { type: "TextBlock", text: emptyText, isSubtle: true, wrap: true }];
  const shown = lines.slice(0, limits.lines);
  const blocks: TextBlock[] = [heading];
  for (const line of shown) blocks.push({ type: "TextBlock", text: `• ${truncate(line, limits.lineChars)}`, wrap: true, spacing: "None" });
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

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
