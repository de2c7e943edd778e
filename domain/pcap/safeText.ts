/**
 * Text decoded from packets (DNS names, Host headers, SNI) is chosen by whoever sent them. It is kept as printable
 * ASCII only, each other byte written `\xNN`, and cut to `max` characters with "…": safe in JSON, logs and, once
 * HTML-escaped, in the report, and bounded in memory.
 */
export function safeAscii(view: DataView, start: number, length: number, max: number): string {
  const end = start + length;
  // Usually every byte is printable: then the text is the bytes themselves, made in one step (a Host header or DNS
  // name per request would otherwise build a string per character).
  const kept = Math.min(length, max);
  let printable = true;
  for (let p = start; p < start + kept && printable; p++) {
    const c = view.getUint8(p);
    printable = c >= 0x20 && c < 0x7f && c !== 0x5c;
  }
  if (printable) {
    const text = Buffer.from(view.buffer, view.byteOffset + start, kept).toString("latin1");
    return length > max ? text + "…" : text;
  }
  let out = "";
  for (let p = start; p < end; p++) {
    if (out.length >= max) return out + "…";
    const c = view.getUint8(p);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out;
}
