// What an activity may act on, re-derived from the target's ID and the app settings. The orchestration input is not
// trusted: anyone with the durable system key can start an orchestration (or continue one) with any input, so the
// subscription, resource group and scope come from the parsed target ID, the capture settings from the app
// settings, and a capture is only touched if alertcap would have named it for that target.
import { allowedScopes, captureSettingsOrError } from "../config/appSettings.js";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { isInScope } from "../domain/alerts/scopes.js";
import { type CaptureTargetRef, isCaptureNameFor } from "../domain/capture/plan.js";
import type { CaptureSettings } from "../domain/capture/settings.js";
import type { CaptureRef } from "../domain/capture/steps.js";

export type TrustedTarget = { ok: true; target: CaptureTargetRef; settings: CaptureSettings } | { ok: false; reason: string };

/** The target as its ID says, if the app's settings allow capturing it. */
export function trustedTarget(claimed: CaptureTargetRef): TrustedTarget {
  const parsed = parseCaptureTarget(typeof claimed?.id === "string" ? claimed.id : "");
  if (!parsed.ok) return { ok: false, reason: `alertcap refused the target: ${parsed.error}` };
  const policy = allowedScopes();
  if (policy.refuseAll) return { ok: false, reason: policy.refuseAll };
  if (policy.allowed !== null && !isInScope(parsed.target, policy.allowed)) {
    return { ok: false, reason: `${parsed.target.id} is outside ALERTCAP_ALLOWED_SCOPES: alertcap does not act on it.` };
  }
  const settings = captureSettingsOrError();
  if ("error" in settings) return { ok: false, reason: settings.error };
  const { id, kind, subscriptionId, resourceGroup, name, instanceId } = parsed.target;
  return { ok: true, target: { id, kind, subscriptionId, resourceGroup, name, ...(instanceId !== undefined ? { instanceId } : {}) }, settings: settings.settings };
}

/** Thrown for a step the app's settings do not allow: retrying it cannot help, and the orchestrator reports it. */
export class RefusedStepError extends Error {}

/** A capture reference re-derived and checked: in scope, in the target's subscription, under a name alertcap gives it. */
export function trustedCaptureRef(claimed: CaptureRef): CaptureRef & { settings: CaptureSettings } {
  const trusted = trustedTarget(claimed.target);
  if (!trusted.ok) throw new RefusedStepError(trusted.reason);
  if (claimed.watcher?.subscriptionId?.toLowerCase() !== trusted.target.subscriptionId.toLowerCase()) {
    throw new RefusedStepError(`The Network Watcher named is not in the target's subscription ${trusted.target.subscriptionId}: alertcap does not act on it.`);
  }
  if (typeof claimed.captureName !== "string" || !isCaptureNameFor(claimed.captureName, trusted.target)) {
    throw new RefusedStepError(`${String(claimed.captureName).slice(0, 100)} is not a name alertcap gives captures of ${trusted.target.name}: alertcap does not act on it.`);
  }
  return { target: trusted.target, watcher: { subscriptionId: trusted.target.subscriptionId, resourceGroup: claimed.watcher.resourceGroup, name: claimed.watcher.name }, captureName: claimed.captureName, settings: trusted.settings };
}
