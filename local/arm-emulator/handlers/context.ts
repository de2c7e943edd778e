// What every route handler works with.

import type { CaptureSessions } from "../capture/sessions.js";
import type { CaptureStore } from "../capture/captureStore.js";
import type { FaultInjector } from "../faults.js";
import type { OperationStore } from "../operations.js";
import type { EmulatorTimings, ScaleSetStoragePathForm } from "../options.js";
import type { ResourceModel } from "../resourceModel.js";

export interface EmulatorBehaviour {
  regionCaptureLimit: number;
  undocumentedFields: boolean;
  /** How a scale-set capture's default `storagePath` ends (see ArmEmulatorOptions.scaleSetStoragePath). */
  scaleSetStoragePath: ScaleSetStoragePathForm;
  /** `Retry-After` value (already scaled to real seconds) of long-running operations' 201/202 answers. */
  retryAfterSeconds: number;
}

export interface EmulatorContext {
  model: ResourceModel;
  captures: CaptureStore;
  sessions: CaptureSessions;
  operations: OperationStore;
  faults: FaultInjector;
  timings: EmulatorTimings;
  behaviour: EmulatorBehaviour;
  /** Now on the sessions' time line (real, or the caller's clock): capture creation times and blob paths. */
  now: () => Date;
}

/** `Retry-After` of every long-running 201/202 answer and pending poll (R3 recorded `Retry-After: 10`). */
export function retryAfterHeader(context: EmulatorContext): Record<string, string> {
  return { "Retry-After": String(context.behaviour.retryAfterSeconds) };
}

/** Headers the recordings show on every Network long-running answer (R1, R3). */
export const ASYNC_NOTIFICATION = { "Azure-AsyncNotification": "Enabled" } as const;

/** Parses a JSON request body; an empty body is `undefined`. */
export function parseJsonBody(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
