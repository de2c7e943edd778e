// Which ring files an alert's lookback needs. A ring file holds the packets from the previous file's close (in the
// same session and instance) to its own: Network Watcher uploads it when it rotates, so its close time is its
// last-modified time. alertcap relies on nothing else about ring files (not their names).

export interface RingFile {
  /** Blob name in the capture container. */
  blobName: string;
  /** The session (folder) it belongs to. */
  session: string;
  /** Scale-set instance, null for a VM. */
  instance: string | null;
  sizeBytes: number;
  /** When Network Watcher closed (uploaded) it, ISO 8601. */
  closedAt: string;
}

export interface LookbackSelection {
  lookback: RingFile[];
  baseline: RingFile[];
}

const byClose = (a: RingFile, b: RingFile): number => Date.parse(a.closedAt) - Date.parse(b.closedAt) || a.blobName.localeCompare(b.blobName, "en", { numeric: true });

/**
 * The files overlapping [windowStart, windowEnd] (lookback), and those of the `baselineSeconds` before windowStart
 * (the quiet window, when asked for). A file overlaps when it closed at or after windowStart and its predecessor
 * closed no later than windowEnd. Files come out in close order.
 */
export function selectRingFiles(files: RingFile[], windowStart: Date, windowEnd: Date, baselineSeconds: number): LookbackSelection {
  const start = windowStart.getTime();
  const end = windowEnd.getTime();
  const quietStart = start - baselineSeconds * 1000;
  const lookback: RingFile[] = [];
  const baseline: RingFile[] = [];
  const streams = new Map<string, RingFile[]>();
  for (const file of files) {
    const key = `${file.session}\u0000${file.instance ?? ""}`;
    streams.set(key, [...(streams.get(key) ?? []), file]);
  }
  for (const stream of streams.values()) {
    stream.sort(byClose);
    stream.forEach((file, i) => {
      const closed = Date.parse(file.closedAt);
      const opened = i === 0 ? Number.NEGATIVE_INFINITY : Date.parse(stream[i - 1]!.closedAt);
      if (closed >= start && opened <= end) lookback.push(file);
      else if (baselineSeconds > 0 && closed < start && closed >= quietStart) baseline.push(file);
    });
  }
  return { lookback: lookback.sort(byClose), baseline: baseline.sort(byClose) };
}
