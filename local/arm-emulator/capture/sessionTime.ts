// The time line capture sessions live on: when a session's time limit ends it, when a continuous capture's ring file
// rotates, and the timestamps of synthetic packets. By default the real clock, with service durations divided by the
// speed factor (like every other emulated duration). Given a clock (the local host's `Clock`, e.g. a VirtualClock
// that tests move), sessions follow that clock instead and service seconds are the clock's seconds: a 7-day session
// of a 30-day test then ends when the test's clock says 7 days have passed, in milliseconds of real time.
//
// Long-running operation latencies (create, stop, queryStatus, delete, upload lag) stay on the real-time Scheduler:
// they are what a client waits for between HTTP calls, not a span of the session.

import type { Scheduler } from "../scheduler.js";

/** The local host's Clock interface (local/host/durable/clock.ts): a VirtualClock or RealClock fits. */
export interface EmulatorClock {
  now(): Date;
  /** Calls `callback` once the clock reaches `at` (asynchronously at once if it already has). */
  at(at: Date, callback: () => void): void;
}

export interface SessionTime {
  /** True when a caller's clock drives sessions (packets are then always synthetic: nothing real happens in that time). */
  readonly virtual: boolean;
  /** Epoch milliseconds now, on this time line. */
  nowMs(): number;
  /** Milliseconds of this time line for a duration in service seconds. */
  serviceMs(serviceSeconds: number): number;
  /** Runs `task` once the time line reaches `atMs`; returns a cancel function. */
  at(atMs: number, task: () => void): () => void;
  /** Pending tasks never run after this (the emulator closed). */
  close(): void;
}

export function realSessionTime(scheduler: Scheduler): SessionTime {
  return {
    virtual: false,
    nowMs: () => Date.now(),
    serviceMs: (seconds) => scheduler.realMs(seconds),
    at: (atMs, task) => scheduler.afterRealMs(atMs - Date.now(), task),
    close: () => scheduler.close(),
  };
}

export function clockSessionTime(clock: EmulatorClock): SessionTime {
  let closed = false;
  return {
    virtual: true,
    nowMs: () => clock.now().getTime(),
    serviceMs: (seconds) => seconds * 1000,
    at(atMs, task) {
      // A Clock cannot cancel a callback: a cancelled (or closed-over) one just does nothing when it comes due.
      let cancelled = false;
      clock.at(new Date(atMs), () => {
        if (!cancelled && !closed) task();
      });
      return () => {
        cancelled = true;
      };
    },
    close() {
      closed = true;
    },
  };
}
