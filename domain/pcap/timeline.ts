import type { PacketRecord } from "./packetRecord.js";
import { isoOfSeconds } from "./timeBase.js";

// Bucket widths the timeline steps through, each a whole multiple of the one before so buckets merge exactly.
const WIDTHS_SECONDS = [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 21600, 86400, 604800];

export interface TimelineSummary {
  /** Most packets in any one second (whole seconds from the first bucket; buckets under 1 s are summed). */
  peakPacketsPerSecond: number;
  /** ISO 8601 start of the first bucket. */
  start: string | null;
  /** Start of the first bucket in seconds since the epoch. */
  startEpochSeconds: number;
  bucketSeconds: number;
  packets: number[];
  bytes: number[];
}

/**
 * Packets and bytes over time in at most `maxBuckets` buckets. It starts at 1 ms and widens (merging neighbours) as
 * the span grows, so a one-second capture and a five-hour one both come out with between maxBuckets / 10 and
 * maxBuckets buckets, in constant memory. Packets earlier than the first bucket (timestamps do step back) shift it.
 */
export class Timeline {
  private widthIndex = 0;
  private width = WIDTHS_SECONDS[0]!;
  private origin = Number.NaN; // start of bucket 0, a multiple of width
  private used = 0; // buckets 0 … used-1 hold data
  private readonly packets: Float64Array;
  private readonly bytes: Float64Array;
  /** Further counts per bucket (failures of some kind, for an incident's onsets), merged and shifted like packets. */
  private readonly extra: Float64Array[];

  constructor(
    private readonly maxBuckets = 600,
    seriesCount = 0,
  ) {
    this.packets = new Float64Array(maxBuckets);
    this.bytes = new Float64Array(maxBuckets);
    this.extra = Array.from({ length: seriesCount }, () => new Float64Array(maxBuckets));
  }

  /** Counts a timestamped packet. Takes the record, not its time: see PacketClock on boxed doubles. */
  add(record: PacketRecord): void {
    const time = record.time;
    let bucket = Math.floor((time - this.origin) / this.width);
    if (!(bucket >= 0 && bucket < this.maxBuckets)) bucket = this.makeRoom(time);
    this.packets[bucket]!++;
    this.bytes[bucket]! += record.originalLength;
    if (bucket >= this.used) this.used = bucket + 1;
  }

  /**
   * Adds `by` to series `series` (0 … seriesCount - 1) in the bucket of `time` (seconds since the epoch): events that
   * are not packets, such as failed DNS answers, on the same buckets as the packets.
   */
  count(series: number, time: number, by = 1): void {
    let bucket = Math.floor((time - this.origin) / this.width);
    if (!(bucket >= 0 && bucket < this.maxBuckets)) bucket = this.makeRoom(time);
    this.extra[series]![bucket]! += by;
    if (bucket >= this.used) this.used = bucket + 1;
  }

  /** The extra series' counts, on the buckets of `summary()` (same start, width and length). */
  seriesSummary(): number[][] {
    return this.extra.map((series) => Array.from(series.subarray(0, this.used)));
  }

  summary(): TimelineSummary {
    const origin = Number.isNaN(this.origin) ? 0 : this.origin;
    return {
      peakPacketsPerSecond: this.peakPerSecond(),
      start: Number.isNaN(this.origin) ? null : isoOfSeconds(origin),
      startEpochSeconds: origin,
      bucketSeconds: this.width,
      packets: Array.from(this.packets.subarray(0, this.used)),
      bytes: Array.from(this.bytes.subarray(0, this.used)),
    };
  }

  private peakPerSecond(): number {
    const packets = this.packets.subarray(0, this.used);
    if (this.width >= 1) return Math.round(packets.reduce((max, p) => Math.max(max, p), 0) / this.width);
    // Sub-second buckets: a rate from one 1 ms bucket would call 1 packet "1,000 packets/s". Sum whole seconds.
    let peak = 0;
    let second = Number.NaN;
    let inSecond = 0;
    for (let i = 0; i < this.used; i++) {
      const s = Math.floor(this.origin + (i + 0.5) * this.width);
      if (s !== second) {
        second = s;
        inSecond = 0;
      }
      inSecond += packets[i]!;
      if (inSecond > peak) peak = inSecond;
    }
    return peak;
  }

  /** Rebases and/or widens until `time` has a bucket; returns it. Rare: runs about once per widening step. */
  private makeRoom(time: number): number {
    if (!Number.isFinite(time)) return 0; // a nonsense timestamp lands in the first bucket rather than anywhere
    if (Number.isNaN(this.origin)) {
      this.origin = this.floorTo(time);
      return 0;
    }
    for (;;) {
      const low = Math.min(this.origin, this.floorTo(time));
      const high = Math.max(this.origin + this.used * this.width, time);
      if ((high - low) / this.width < this.maxBuckets || this.widthIndex === WIDTHS_SECONDS.length - 1) {
        if (low < this.origin) this.shift(Math.round((this.origin - low) / this.width));
        const bucket = Math.floor((time - this.origin) / this.width);
        return Math.min(Math.max(bucket, 0), this.maxBuckets - 1);
      }
      this.widen();
    }
  }

  private floorTo(time: number): number {
    return Math.floor(time / this.width) * this.width;
  }

  private shift(by: number): void {
    this.packets.copyWithin(by, 0, this.used);
    this.bytes.copyWithin(by, 0, this.used);
    this.packets.fill(0, 0, by);
    this.bytes.fill(0, 0, by);
    for (const series of this.extra) {
      series.copyWithin(by, 0, this.used);
      series.fill(0, 0, by);
    }
    this.used += by;
    this.origin -= by * this.width;
  }

  private widen(): void {
    this.widthIndex++;
    const oldWidth = this.width;
    const oldOrigin = this.origin;
    this.width = WIDTHS_SECONDS[this.widthIndex]!;
    this.origin = this.floorTo(oldOrigin);
    let used = 0;
    for (let i = 0; i < this.used; i++) {
      const target = Math.floor((oldOrigin + (i + 0.5) * oldWidth - this.origin) / this.width);
      const p = this.packets[i]!;
      const b = this.bytes[i]!;
      this.packets[i] = 0;
      this.bytes[i] = 0;
      this.packets[target]! += p;
      this.bytes[target]! += b;
      for (const series of this.extra) {
        const e = series[i]!;
        series[i] = 0;
        series[target]! += e;
      }
      if (target + 1 > used) used = target + 1;
    }
    this.used = used;
  }
}
