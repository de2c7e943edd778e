// Cutting free text to a length, shared by what alertcap publishes (notifications, the orchestration's custom
// status): a cut must never split a surrogate pair, which would leave a lone surrogate some receivers refuse.

/** `text` cut to at most `maxChars` UTF-16 units, ending in "…" when cut, never splitting a surrogate pair. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 0) return "";
  let end = maxChars - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
