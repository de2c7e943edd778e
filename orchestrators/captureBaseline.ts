// The capture orchestration's "what changed" step, once its capture is analysed: compare it with the baseline
// ALERTCAP_BASELINE chooses (the activity reads the setting and the blobs; this code stays deterministic), put the
// top changes at the head of the findings (after any onset findings of the lookback timeline), keep the comparison's
// summary in the analysis as `baseline`, and record this capture as the target's last one. Nothing here can fail the
// capture: a comparison that fails says so in one line, and a record that cannot be written only costs the next
// capture its baseline.
import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import { COMPARE_WITH_BASELINE, type CompareInput, type CompareOutput, RECORD_LAST_CAPTURE, type RecordLastCaptureInput } from "../activities/baselineContracts.js";
import type { CaptureTargetRef } from "../domain/capture/plan.js";
import type { CaptureProgress } from "../domain/capture/progress.js";
import { leadWith, unavailableLine } from "../domain/diff/baselineChoice.js";
import { firstLine } from "./retryPolicy.js";

/** Reading two captures can meet a transient storage error; a few retries, then the capture notifies without it. */
const baselineRetry = (() => {
  const options = new df.RetryOptions(5_000, 3);
  options.backoffCoefficient = 2;
  return options;
})();


/** Runs after a successful analysis of the capture at `storagePath`; rewrites `findings` in place. */
export function* compareWithBaseline(
  context: OrchestrationContext,
  target: CaptureTargetRef,
  progress: CaptureProgress,
  storagePath: string,
  findings: string[],
): Generator<Task, void, unknown> {
  // A capture that could not be analysed has nothing to compare, and is no baseline for the next one.
  if (progress.analysis === null) return;
  const instanceId = context.df.instanceId;
  let lines: string[];
  try {
    const input: CompareInput = { target, instanceId, storagePath, firedAt: progress.alert.firedAt };
    const compared = (yield context.df.callActivityWithRetry(COMPARE_WITH_BASELINE, baselineRetry, input)) as CompareOutput;
    lines = compared.lines;
    if (progress.analysis !== null && typeof progress.analysis === "object") progress.analysis = { ...progress.analysis, baseline: compared.summary };
  } catch (error) {
    lines = [unavailableLine(`the comparison failed: ${firstLine(error)}`)];
  }
  findings.splice(0, findings.length, ...leadWith(findings, lines));

  const record: RecordLastCaptureInput = {
    target,
    instanceId,
    storagePath,
    captureName: progress.captureName,
    startedAt: progress.startedAt,
    stoppedAt: progress.stoppedAt,
    alertFiredAt: progress.alert.firedAt,
  };
  try {
    yield context.df.callActivityWithRetry(RECORD_LAST_CAPTURE, baselineRetry, record);
  } catch {
    // The next capture on this target will say its baseline was unavailable; this one is complete as it is.
  }
}
