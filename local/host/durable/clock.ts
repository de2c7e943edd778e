// Durable timers need a clock. The host runs on the real one; tests may drive a virtual one so that a five-hour
// capture replays in milliseconds. Callers never sleep: they ask to be called back at an instant.

export interface Clock {
  now(): Date;
  /** Calls `callback` once the clock reaches `at` (immediately, asynchronously, if it already has). */
  at(at: Date, callback: () => void): void;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export class RealClock implements Clock {
  now(): Date {
    return new Date();
  }

  at(at: Date, callback: () => void): void {
    const wait = at.getTime() - Date.now();
    // setTimeout overflows past ~24.8 days; re-arm in steps. unref: a pending durable timer must not keep a
    // stopped host alive (the timer is in durable state and is re-armed on the next start).
    const timer = setTimeout(() => (at.getTime() > Date.now() ? this.at(at, callback) : callback()), Math.max(0, Math.min(wait, MAX_TIMEOUT_MS)));
    timer.unref();
  }
}

/** A clock that only moves when told to. */
export class VirtualClock implements Clock {
  private current: number;
  private readonly pending: Array<{ at: number; callback: () => void }> = [];

  constructor(start: Date = new Date("2026-01-01T00:00:00Z")) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  at(at: Date, callback: () => void): void {
    if (at.getTime() <= this.current) queueMicrotask(callback);
    else this.pending.push({ at: at.getTime(), callback });
  }

  /** The instant of the earliest pending callback, if any. */
  nextDue(): Date | undefined {
    if (this.pending.length === 0) return undefined;
    return new Date(Math.min(...this.pending.map((p) => p.at)));
  }

  /** Moves the clock to `to`, running every callback that falls due on the way, in time order. */
  advanceTo(to: Date): void {
    const target = to.getTime();
    if (target < this.current) return;
    // The earliest is picked afresh each time: a callback may schedule another that falls due before those pending.
    for (;;) {
      let earliest = -1;
      for (let i = 0; i < this.pending.length; i++) {
        if (earliest < 0 || this.pending[i]!.at < this.pending[earliest]!.at) earliest = i;
      }
      if (earliest < 0 || this.pending[earliest]!.at > target) break;
      const [next] = this.pending.splice(earliest, 1);
      this.current = next!.at;
      next!.callback();
    }
    this.current = target;
  }

  advanceBy(ms: number): void {
    this.advanceTo(new Date(this.current + ms));
  }
}
