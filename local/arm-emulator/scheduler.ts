// Emulated time: every service duration (LRO latency, capture time limit, blob lag) is given in seconds of *service*
// time and divided by the speed factor, so tests can run a 10-second stop in 100 ms. Timers are tracked so `close()`
// leaves nothing behind.

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(readonly speedFactor: number) {
    if (!(speedFactor > 0) || !Number.isFinite(speedFactor)) {
      throw new Error(`speed factor must be a positive number, got ${speedFactor}`);
    }
  }

  /** Real milliseconds for a duration in service seconds. */
  realMs(serviceSeconds: number): number {
    return (serviceSeconds * 1000) / this.speedFactor;
  }

  /**
   * A `Retry-After` header value (whole seconds, as HTTP allows) for a service interval: the nearest whole second of
   * the scaled interval. Below half a second this is 0, which @azure/core-lro treats as "use the client's own
   * polling interval" (`updateIntervalInMs`, default 2000 ms): core-lro reads only whole seconds or an HTTP date
   * from `Retry-After` and no `retry-after-ms`, so a scaled sub-second interval cannot be expressed to it.
   */
  retryAfterSeconds(serviceSeconds: number): number {
    return Math.round(serviceSeconds / this.speedFactor);
  }

  /** Runs `task` after `serviceSeconds` of emulated time; returns a cancel function. */
  after(serviceSeconds: number, task: () => void): () => void {
    return this.afterRealMs(this.realMs(serviceSeconds), task);
  }

  afterRealMs(ms: number, task: () => void): () => void {
    if (this.closed) return () => {};
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, Math.max(0, ms));
    // The HTTPS server keeps the process alive; timers alone must not.
    timer.unref();
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
