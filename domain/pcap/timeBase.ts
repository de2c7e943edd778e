// Packet timestamps, kept exact without per-packet allocation.
//
// The hot path only needs a double of seconds (timeline, flow times), which is exact to ~0.25 µs for current epochs.
// The summary's first/last timestamps must honour the file's precision (ns pcap, pcapng `if_tsresol`), so the reader
// hands over the two raw 32-bit words as well and the time base that interprets them; the analyser keeps the raw words
// of the extreme packets and converts only those, once, with BigInt.

export interface TimeBase {
  /** Decimal digits of fraction the source resolution warrants (6 for µs, 9 for ns and finer). */
  readonly fractionDigits: number;
  /** Exact ISO 8601 (UTC) of a raw timestamp, or null when it is outside the range a Date can show. */
  isoOf(a: number, b: number): string | null;
}

/** Classic pcap: `a` = seconds, `b` = fraction in µs or ns. */
export class PcapTimeBase implements TimeBase {
  readonly fractionDigits: number;
  readonly fractionsPerSecond: number;
  constructor(nanosecond: boolean) {
    this.fractionsPerSecond = nanosecond ? 1e9 : 1e6;
    this.fractionDigits = nanosecond ? 9 : 6;
  }
  toSeconds(a: number, b: number): number {
    return a + b / this.fractionsPerSecond;
  }
  isoOf(a: number, b: number): string | null {
    // A fraction of a second or more is out of spec, but some writers emit it; carry it into the seconds.
    const carry = Math.floor(b / this.fractionsPerSecond);
    return isoString(BigInt(a + carry), BigInt(b - carry * this.fractionsPerSecond), BigInt(this.fractionsPerSecond), this.fractionDigits);
  }
}

/** pcapng: `a`:`b` = high:low words of a 64-bit count of `if_tsresol` units since `if_tsoffset` seconds. */
export class PcapngTimeBase implements TimeBase {
  readonly fractionDigits: number;
  readonly unitsPerSecond: number;
  private readonly unitsPerSecondBig: bigint;
  constructor(
    tsresol: number,
    readonly offsetSeconds: number,
  ) {
    // if_tsresol: MSB clear → 10^-n, MSB set → 2^-n (pcapng spec §4.2).
    const exponent = tsresol & 0x7f;
    const binary = (tsresol & 0x80) !== 0;
    this.unitsPerSecondBig = binary ? 1n << BigInt(exponent) : 10n ** BigInt(exponent);
    this.unitsPerSecond = Number(this.unitsPerSecondBig);
    this.fractionDigits = Math.min(9, binary ? Math.ceil(exponent * Math.LOG10E * Math.LN2) : exponent);
  }
  toSeconds(a: number, b: number): number {
    return (a * 4294967296 + b) / this.unitsPerSecond + this.offsetSeconds;
  }
  isoOf(a: number, b: number): string | null {
    const units = (BigInt(a) << 32n) | BigInt(b);
    const seconds = units / this.unitsPerSecondBig + BigInt(this.offsetSeconds);
    return isoString(seconds, units % this.unitsPerSecondBig, this.unitsPerSecondBig, this.fractionDigits);
  }
}

// Years 0001–9999, the range ISO 8601's four-digit form (and every ISO parser) accepts.
const MIN_ISO_SECONDS = -62_135_596_800n;
const MAX_ISO_SECONDS = 253_402_300_799n;

function isoString(seconds: bigint, fraction: bigint, fractionsPerSecond: bigint, digits: number): string | null {
  if (seconds > MAX_ISO_SECONDS || seconds < MIN_ISO_SECONDS) return null;
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  if (digits === 0) return `${whole}Z`;
  const scaled = (fraction * 10n ** BigInt(digits)) / fractionsPerSecond; // truncates, as capinfos does
  return `${whole}.${scaled.toString().padStart(digits, "0")}Z`;
}

/** ISO 8601 of a double of seconds, for flow and timeline times where µs are plenty. */
export function isoOfSeconds(seconds: number): string | null {
  if (!(seconds >= Number(MIN_ISO_SECONDS) && seconds <= Number(MAX_ISO_SECONDS))) return null;
  return new Date(Math.floor(seconds * 1000)).toISOString();
}
