// What every route handler works with.

import type { CaptureSessions } from "../capture/sessions.js";
import type { CaptureStore } from "../capture/captureStore.js";
import type { FaultInjector } from "../faults.js";
import type { OperationStore } from "../operations.js";
import type { EmulatorTimings } from "../options.js";
import type { ResourceModel } from "../resourceModel.js";

export interface EmulatorBehaviour {
  regionCaptureLimit: number;
  undocumentedFields: boolean;
  lroRetryAfterSeconds: number | undefined;
}

export interface EmulatorContext {
  model: ResourceModel;
  captures: CaptureStore;
  sessions: CaptureSessions;
  operations: OperationStore;
  faults: FaultInjector;
  timings: EmulatorTimings;
  behaviour: EmulatorBehaviour;
}

/** `Retry-After` for 202 answers, when configured. */
export function retryAfterHeader(context: EmulatorContext): Record<string, string> {
  const seconds = context.behaviour.lroRetryAfterSeconds;
  return seconds === undefined ? {} : { "Retry-After": String(seconds) };
}

/** Parses a JSON request body; an empty body is `undefined`. */
export function parseJsonBody(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
