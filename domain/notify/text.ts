// Free text in notifications (alert rule names, stop and failure reasons, findings decoded from packets) comes from
// people or packets alertcap does not control. Before it reaches any format it is made safe to show and to measure:
// characters that hide or reorder what a reader sees are removed, and every cut keeps surrogate pairs whole. Each chat
// format then escapes its own markup (Teams markdown here, Slack mrkdwn in slackMessage.ts).
import { truncate } from "../truncate.js";

// C0/C1 controls except tab, newline and carriage return; DEL.
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
// Bidirectional controls (embeddings, overrides, isolates, marks): they let text display in another order than it
// reads ("Trojan Source"), e.g. a host name shown backwards.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// Invisible characters: zero-width space/joiners, word joiner and invisible operators, BOM, Mongolian vowel
// separator, soft hyphen, interlinear annotation marks, and the Unicode tag block (used to smuggle hidden text).
const INVISIBLE = /[\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Line and paragraph separators break lines like \n in some renderers.
const LINE_SEPARATORS = /[\u2028\u2029]/g;

/** Text without controls, bidi controls, invisible characters and lone surrogates; trimmed. */
export function sanitiseText(text: string): string {
  return text
    .replace(LONE_SURROGATE, "")
    .replace(INVISIBLE, "")
    .replace(BIDI_CONTROLS, "")
    .replace(CONTROLS, "")
    .replace(LINE_SEPARATORS, "\n")
    .trim();
}

/**
 * URLs in free text made unclickable ("https://x" → "https[:]//x", "www.x" → "www[.]x"), as security tools defang
 * indicators: chat clients turn bare URLs into links by themselves (Slack's mrkdwn unless verbatim, Teams' clients), and
 * a packet sender chooses the Host names and server names that reach the findings.
 */
export function defangUrls(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]{0,15}):\/\//gi, "$1[:]//").replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}[.]`);
}

/** Whitespace runs (newlines included) as one space: for chat texts, where a newline would start a new block. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}


/**
 * `text` cut, then escaped, so that the escaped result is at most `maxChars` long. Cutting before escaping means no
 * escape sequence is ever split (a split one could re-form the markup it was escaping).
 */
export function fitEscaped(text: string, maxChars: number, escape: (text: string) => string): string {
  let keep = maxChars;
  let escaped = escape(truncate(text, keep));
  while (escaped.length > maxChars && keep > 0) {
    keep = Math.floor(keep * 0.8);
    escaped = escape(truncate(text, keep));
  }
  return escaped;
}

// Markdown that Adaptive Card TextBlocks (and FactSet values, rendered as TextBlocks) interpret: emphasis (* _ ~),
// code (`), links and images ([ ] and ! before them), autolinks and HTML (< >), entities (&), tables (|), and the
// card's own {{DATE(…)}}/{{TIME(…)}} functions ({ }). Backslash-escaping any ASCII punctuation is CommonMark, which
// markdown-it (the JS SDK's renderer) and the Teams clients follow.
const TEAMS_MARKUP = /[\\`*_~[\]<>{}|&!#]/g;

/**
 * Free text as one line of Teams TextBlock markdown that renders literally: no link, emphasis, list, heading or
 * date function can come from it.
 */
export function escapeTeamsMarkdown(text: string): string {
  return (
    oneLine(text)
      .replace(TEAMS_MARKUP, "\\$&")
      // At the start of a block: a list item ("- x", "+ x", "1. x", "1) x"), a setext underline or a quote.
      .replace(/^([-+=])/, "\\$1")
      .replace(/^(\d{1,9})([.)])/, "$1\\$2")
  );
}
