// Structured events: one log line each, `alertcap.event {json}`, so Application Insights (traces table) and any
// log reader can filter and chart them. Every event names the target and the orchestration instance, which is how
// the events of one capture are put together. Fields never carry URLs with keys or other secrets.

export type CaptureEventName =
  | "alert.received"
  | "capture.started"
  | "capture.stopRequested"
  | "capture.stopped"
  | "capture.completed"
  | "capture.failed"
  | "notification.sent"
  | "notification.failed"
  // The flight recorder (orchestrators/recorderOrchestrator.ts).
  | "recorder.armed"
  | "recorder.renewed"
  | "recorder.rearmed"
  | "recorder.waitingForTarget"
  | "recorder.lookbackSecured"
  | "recorder.disarmed"
  | "recorder.failed";

export interface CaptureEventFields {
  target?: string | null;
  instanceId?: string | null;
  [field: string]: string | number | boolean | null | undefined | string[];
}

export const EVENT_PREFIX = "alertcap.event ";

export function eventLine(event: CaptureEventName, fields: CaptureEventFields): string {
  return `${EVENT_PREFIX}${JSON.stringify({ event, ...fields })}`;
}
