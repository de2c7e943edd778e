// The body of POST /api/recorders, read into a target or the one sentence that says what is wrong with it. Pure.
import { type CaptureTarget, parseCaptureTarget } from "../alerts/armId.js";
import type { CaptureTargetRef } from "../capture/plan.js";

/** Far above `{"target": "<an ARM ID>"}`: a larger body is not a recorder request. */
export const MAX_ARM_REQUEST_BYTES = 8 * 1024;

const EXAMPLE = '{"target": "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<vm>"}';

export function parseArmRequest(text: string): { ok: true; target: CaptureTarget } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: false, error: `The body is empty: send ${EXAMPLE} (a VM or a scale set).` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: `The body is not JSON: send ${EXAMPLE}.` };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, error: `The body must be a JSON object such as ${EXAMPLE}.` };
  const { target, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) return { ok: false, error: `Unknown field${unknown.length > 1 ? "s" : ""} ${unknown.slice(0, 5).map((k) => `"${k.slice(0, 40)}"`).join(", ")}: the body takes only "target".` };
  if (target === undefined) return { ok: false, error: `"target" is missing: send ${EXAMPLE}.` };
  if (typeof target !== "string") return { ok: false, error: `"target" must be a string: the ARM ID of a VM or a scale set.` };
  const parsed = parseCaptureTarget(target);
  if (!parsed.ok) return { ok: false, error: `"target" is not a VM or scale set alertcap can record: ${parsed.error}` };
  return { ok: true, target: parsed.target };
}

/** The plain reference the orchestration takes (no derived fields such as `key`). */
export function targetRef(target: CaptureTarget): CaptureTargetRef {
  const { id, kind, subscriptionId, resourceGroup, name, instanceId } = target;
  return { id, kind, subscriptionId, resourceGroup, name, ...(instanceId !== undefined ? { instanceId } : {}) };
}

/** The IDs recorderInstanceId gives, and nothing that could escape a path. */
export const isRecorderId = (id: string): boolean => /^rec-[a-z0-9-]{1,100}$/.test(id);
