// Capture planning: what to ask Network Watcher for, under which name, and when to look again. Pure functions, so
// the orchestrator's decisions can be tested without a host and replay identically.
import type { CaptureSettings } from "./settings.js";

/** The VM, scale set or scale-set instance a capture is about (as resolved from the alert). */
export interface CaptureTargetRef {
  id: string;
  kind: "virtualMachine" | "virtualMachineScaleSet" | "virtualMachineScaleSetInstance";
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  instanceId?: string;
}

/** The parts of Network Watcher's PacketCapture body (2026-01-01) that alertcap sets. */
export interface PacketCaptureBody {
  properties: {
    target: string;
    targetType: "AzureVM" | "AzureVMSS";
    scope?: { include: string[] };
    bytesToCapturePerPacket: number;
    totalBytesPerSession: number;
    timeLimitInSeconds: number;
    storageLocation: { storageId: string };
    filters: CaptureSettings["filters"];
  };
}

/** Network Watcher refuses a scale-set instance as the target: capture on the scale set, scoped to the instance. */
export function captureTarget(target: CaptureTargetRef): Pick<PacketCaptureBody["properties"], "target" | "targetType" | "scope"> {
  if (target.kind === "virtualMachine") return { target: target.id, targetType: "AzureVM" };
  const scaleSetId = target.id.replace(/\/virtualMachines\/[^/]+$/i, "");
  if (target.kind === "virtualMachineScaleSetInstance" && target.instanceId !== undefined) {
    return { target: scaleSetId, targetType: "AzureVMSS", scope: { include: [target.instanceId] } };
  }
  return { target: scaleSetId, targetType: "AzureVMSS" };
}

export function packetCaptureBody(target: CaptureTargetRef, settings: CaptureSettings, storageAccountId: string): PacketCaptureBody {
  return {
    properties: {
      ...captureTarget(target),
      bytesToCapturePerPacket: settings.bytesToCapturePerPacket,
      totalBytesPerSession: settings.totalBytesPerSession,
      timeLimitInSeconds: settings.timeLimitSeconds,
      storageLocation: { storageId: storageAccountId },
      filters: settings.filters,
    },
  };
}

/** Every capture alertcap creates starts with this, so an operator can tell them apart in the portal. */
export const CAPTURE_NAME_PREFIX = "alertcap-";

/**
 * A deterministic name, so a retried create finds the capture its first attempt made: the target's name and the
 * orchestration's start time (to the second). ARM names allow 1–80 letters, digits, `_`, `.`, `-`; we keep to
 * lower-case letters, digits and `-`. `attempt` > 0 picks an alternative when someone else's capture holds the name.
 */
export function captureName(target: CaptureTargetRef, startedAt: Date, attempt = 0): string {
  return `${CAPTURE_NAME_PREFIX}${captureNameBase(target)}-${nameStamp(startedAt)}${attempt > 0 ? `-${attempt + 1}` : ""}`;
}

/** The target's name (and instance ID) in the letters ARM names allow, at most 40 of them; "" when none is left. */
export function targetNameBase(target: Pick<CaptureTargetRef, "name" | "instanceId">): string {
  const instance = target.instanceId !== undefined ? `-${target.instanceId}` : "";
  return `${target.name}${instance}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
}

/** An instant to the second as names carry it: `yyyymmdd-hhmmss` (UTC). */
export function nameStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "-").toLowerCase();
}

function captureNameBase(target: CaptureTargetRef): string {
  return targetNameBase(target) || "target";
}

/** Whether `name` is one alertcap would give a capture of `target` (any start time, any attempt). */
export function isCaptureNameFor(name: string, target: CaptureTargetRef): boolean {
  // The base holds only [a-z0-9-], so it needs no escaping in the pattern.
  return new RegExp(`^${CAPTURE_NAME_PREFIX}${captureNameBase(target)}-\\d{8}-\\d{6}(-\\d+)?$`).test(name);
}

/**
 * The start time an alertcap capture name carries (`alertcap-…-{yyyyMMdd}-{HHmmss}[-n]`, UTC, to the second), or null
 * for a name alertcap would not give.
 */
export function captureNameStartTime(name: string): Date | null {
  const match = new RegExp(`^${CAPTURE_NAME_PREFIX}.+-(\\d{4})(\\d{2})(\\d{2})-(\\d{2})(\\d{2})(\\d{2})(-\\d+)?$`).exec(name);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return Number.isNaN(time.getTime()) ? null : time;
}

/** Network Watcher statuses after which a session will not capture any more. */
export function isFinalCaptureStatus(status: string | null | undefined): boolean {
  return status === "Stopped" || status === "Error";
}

/**
 * Poll quickly at first (a capture that fails to start fails within seconds), then settle at the configured
 * interval: 5 s, 10 s, 20 s, … capped by `pollSeconds`, and never past the deadline.
 */
export function nextPollDelaySeconds(pollsSoFar: number, pollSeconds: number): number {
  return Math.max(1, Math.min(pollSeconds, 5 * 2 ** Math.min(pollsSoFar, 10)));
}

/**
 * The pause before the next check of a wait outside the watch loop (the file's upload, the agent's install), which
 * does not continue as new: each check and its timer add history, so their count must not grow with the wait.
 * Pauses double from `firstSeconds` up to `capSeconds`, a cap raised for long waits so that the doubling phase plus
 * the steady phase stay near `maxChecks` checks (a 2-hour file wait: ~20 checks, not ~125).
 */
export function boundedWaitDelaySeconds(checksSoFar: number, totalSeconds: number, wait: { firstSeconds: number; capSeconds: number; maxChecks: number }): number {
  const cap = Math.max(wait.capSeconds, Math.ceil((totalSeconds * 2) / wait.maxChecks));
  return Math.max(1, Math.min(cap, wait.firstSeconds * 2 ** Math.min(checksSoFar, 20)));
}

/** When alertcap stops the capture itself if Network Watcher has not: its own time limit plus a grace period. */
export function captureDeadline(startedAt: Date, settings: Pick<CaptureSettings, "timeLimitSeconds" | "stopGraceSeconds">): Date {
  return new Date(startedAt.getTime() + (settings.timeLimitSeconds + settings.stopGraceSeconds) * 1000);
}
