/**
 * Durations (seconds) for p50/p95, in bounded memory: the first MAX_SAMPLES are kept, and after that each new one
 * replaces a kept one with probability MAX_SAMPLES / seen (reservoir sampling, from a fixed-seed generator so the same
 * capture gives the same report). Exact up to MAX_SAMPLES values, a uniform sample beyond.
 */
export const MAX_SAMPLES = 4096;

export class LatencySamples {
  seen = 0;
  private values: Float64Array = new Float64Array(16);
  private kept = 0;
  private random = 0x2545f491;

  add(seconds: number): void {
    this.seen++;
    if (this.kept < MAX_SAMPLES) {
      if (this.kept === this.values.length) {
        const bigger = new Float64Array(Math.min(MAX_SAMPLES, this.values.length * 4));
        bigger.set(this.values);
        this.values = bigger;
      }
      this.values[this.kept++] = seconds;
      return;
    }
    const slot = this.next() % this.seen;
    if (slot < MAX_SAMPLES) this.values[slot] = seconds;
  }

  /** Nearest-rank percentile in milliseconds (3 decimals), or null without samples. */
  percentileMs(p: number): number | null {
    if (this.kept === 0) return null;
    const sorted = this.values.slice(0, this.kept).sort();
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return Math.round(sorted[rank - 1]! * 1e6) / 1e3;
  }

  private next(): number {
    // xorshift32
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x;
    return x >>> 0;
  }
}

/** Counts per text key, at most `limit` keys: later keys count under `other` (decoded text is attacker-chosen). */
export class BoundedTally {
  readonly counts = new Map<string, number>();
  other = 0;

  constructor(private readonly limit: number) {}

  add(key: string, by = 1): void {
    const current = this.counts.get(key);
    if (current !== undefined) this.counts.set(key, current + by);
    else if (this.counts.size < this.limit) this.counts.set(key, by);
    else this.other += by;
  }

  /** Most counted first (ties by key, so the report is stable). */
  top(count: number): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, count);
  }

  record(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, value] of this.top(this.counts.size)) out[key] = value;
    return out;
  }
}
