/**
 * Text decoded from packets (DNS names, Host headers, SNI) is chosen by whoever sent them. It is kept as printable
 * ASCII only, each other byte written `\xNN`, and cut to `max` characters with "…": safe in JSON, logs and, once
 * HTML-escaped, in the report, and bounded in memory.
 */
export function safeAscii(view: DataView, start: number, length: number, max: number): string {
  let out = "";
  const end = start + length;
  for (let p = start; p < end; p++) {
    if (out.length >= max) return out + "…";
    const c = view.getUint8(p);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return out;
}
