/**
 * The time of the packet being aggregated, shared by the analyser's parts. Per-packet calls read it from here instead
 * of taking it as an argument: a double passed to a call V8 does not inline is boxed into a fresh heap number, and at a
 * few per packet that garbage was a tenth of the run time.
 */
export class PacketClock {
  /** Seconds since the epoch of the current packet (the last timestamp seen, for packets without one). */
  now = 0;
}
