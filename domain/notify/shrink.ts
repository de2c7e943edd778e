// Every format has a size its receiver refuses beyond. Each builds its payload under a list of text limits, loosest
// first, and sends the first that fits; the last limits bound every text so tightly that it fits whatever the input
// (each format states its arithmetic), so the last step cuts text rather than giving up.

export interface TextLimits {
  /** How many findings (and Network Watcher errors) are listed, and how long each may be. */
  readonly lines: number;
  readonly lineChars: number;
  /** Sentences and short values: the reason, rule, stop reason, times. */
  readonly textChars: number;
  /** Resource IDs, names and paths, which are long by nature. */
  readonly idChars: number;
}

/** The payload built under the first limits for which it fits; the last limits' payload when none does. */
export function firstThatFits<T>(steps: readonly TextLimits[], build: (limits: TextLimits) => T, fits: (payload: T) => boolean): T {
  if (steps.length === 0) throw new RangeError("at least one shrinking step is needed");
  let payload: T | undefined;
  for (const step of steps) {
    payload = build(step);
    if (fits(payload)) return payload;
  }
  return payload!;
}
