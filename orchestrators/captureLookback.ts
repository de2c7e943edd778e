// The capture orchestration's side of the flight recorder: before the capture is analysed, is there a lookback for
// this incident (a recorder armed on the target secured the minutes before the alert and wrote lookback.json)? If so,
// wait on durable timers (bounded checks, like the file wait) until the recorder says it is complete, and have it
// analysed with the capture as one timeline; when the wait ends first, take what is there and say what is missing.
// No recorder: one read that finds nothing, and the capture is analysed exactly as before.
import type { OrchestrationContext, Task } from "durable-functions";
import * as df from "durable-functions";
import { type LookbackInput, READ_LOOKBACK, type ReadLookbackOutput } from "../activities/contracts.js";
import { boundedWaitDelaySeconds } from "../domain/capture/plan.js";

/** Checks of the manifest: about 12 (each ~5 history events) whatever the total wait, as for the capture file. */
const LOOKBACK_WAIT = { firstSeconds: 5, capSeconds: 60, maxChecks: 12 };

const readRetry = (() => {
  const options = new df.RetryOptions(5_000, 3);
  options.backoffCoefficient = 2;
  return options;
})();

export interface LookbackWait {
  /** The forward capture's storagePath: the manifest is looked for in its account and container. */
  storagePath: string;
  /** The capture orchestration's instance ID, which the webhook gave the recorder as the incident's. */
  incidentId: string;
  /** The alert's firedAt, as the webhook passed it to both. */
  firedAt: string | null;
  /** The longest wait for a complete manifest (the app's file wait, ALERTCAP_FILE_WAIT_SECONDS). */
  waitSeconds: number;
  /**
   * The webhook told a recorder of this incident: a manifest not written yet (a capture that failed at once reads
   * before the recorder's first copy) is waited for like an incomplete one.
   */
  expected?: boolean;
}

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** The lookback to analyse with the capture, or null when there is none (no recorder, or its manifest unreadable). */
export function* awaitLookback(context: OrchestrationContext, wait: LookbackWait): Generator<Task, LookbackInput | null, unknown> {
  // The recorder names the incident's folder by the alert time as an ISO string in UTC: the same instant here.
  const firedMs = wait.firedAt ? Date.parse(wait.firedAt) : Number.NaN;
  if (!Number.isFinite(firedMs)) return null;
  const firedAt = new Date(firedMs).toISOString();
  const input = { storagePath: wait.storagePath, incidentId: wait.incidentId, firedAt };
  const read = function* (): Generator<Task, ReadLookbackOutput | null, unknown> {
    try {
      return (yield context.df.callActivityWithRetry(READ_LOOKBACK, readRetry, input)) as ReadLookbackOutput;
    } catch {
      return null; // storage unreachable after the retries: analyse the capture alone rather than fail it
    }
  };
  let manifest = yield* read();
  if (!manifest?.found && !wait.expected) return null;
  const giveUpAt = addSeconds(context.df.currentUtcDateTime, wait.waitSeconds);
  for (let attempt = 0; !(manifest?.found && manifest.complete) && context.df.currentUtcDateTime < giveUpAt; attempt++) {
    const next = addSeconds(context.df.currentUtcDateTime, boundedWaitDelaySeconds(attempt, wait.waitSeconds, LOOKBACK_WAIT));
    yield context.df.createTimer(next > giveUpAt ? giveUpAt : next);
    const again = yield* read();
    if (!again?.found) {
      if (manifest?.found) break; // it was there a moment ago: keep what the last read said
      continue;
    }
    manifest = again;
  }
  if (!manifest?.found) return null;
  const notes = manifest.complete
    ? []
    : [`The recorder had not finished securing the lookback when alertcap stopped waiting (${wait.waitSeconds} s): ${manifest.files} file${manifest.files === 1 ? "" : "s"} secured so far; the minutes just before and after the alert may be missing.`];
  return { incidentId: wait.incidentId, firedAt, notes };
}
