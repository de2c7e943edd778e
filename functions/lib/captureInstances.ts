// What the HTTP functions share about capture orchestrations: which instance ids they accept from a URL, and which
// runtime statuses count as a capture still running.
import { OrchestrationRuntimeStatus } from "durable-functions";

/** The ids alertcap gives (captureInstanceId) and the Durable defaults, nothing that could escape a path. */
export const isCaptureInstanceId = (id: string): boolean => /^[A-Za-z0-9._:-]{1,100}$/.test(id);

export const ACTIVE_RUNTIME_STATUSES: ReadonlySet<string> = new Set([
  OrchestrationRuntimeStatus.Pending,
  OrchestrationRuntimeStatus.Running,
  OrchestrationRuntimeStatus.ContinuedAsNew,
  OrchestrationRuntimeStatus.Suspended,
]);
