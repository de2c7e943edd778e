// When a recorder renews its session, when it looks at it next, and what it makes of what Network Watcher says.
// Pure: the orchestrator's decisions replay identically and are tested without a host.
import type { QueryCaptureOutput } from "../capture/steps.js";
import type { RingSettings } from "./plan.js";

const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** A session asked for at `requestedAt` is renewed this long before Network Watcher's time limit ends it. */
export function renewAt(requestedAt: Date, ring: Pick<RingSettings, "sessionSeconds" | "renewBeforeSeconds">): Date {
  return addSeconds(requestedAt, ring.sessionSeconds - ring.renewBeforeSeconds);
}

/** The next look: after `pollSeconds`, or at the renewal if that comes first (never in the past). */
export function nextLookAt(now: Date, renewal: Date, pollSeconds: number): Date {
  const poll = addSeconds(now, pollSeconds);
  const at = renewal < poll ? renewal : poll;
  return at.getTime() <= now.getTime() ? addSeconds(now, 1) : at;
}

/** Back-off between attempts to start a session on a target that cannot take one yet (a stopped VM): 1 min … 30 min. */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(1800, 60 * 2 ** Math.min(attempt, 10));
}

export type WatchDecision = { action: "wait" } | { action: "renew" } | { action: "rearm"; because: string };

/** What the recorder does after a look at its session. */
export function watchDecision(status: QueryCaptureOutput, now: Date, renewal: Date, sessionName: string): WatchDecision {
  if (!status.exists) return { action: "rearm", because: `its session ${sessionName} was deleted outside alertcap (${status.reason})` };
  const errors = status.errors.length > 0 ? `: ${status.errors.join("; ")}` : "";
  if (status.status === "Error") return { action: "rearm", because: `its session ${sessionName} ended in Error${errors}` };
  if (status.status === "Stopped") {
    if (status.stopReason === "TimeExceeded") return { action: "rearm", because: `its session ${sessionName} reached its time limit before it was renewed` };
    return { action: "rearm", because: `its session ${sessionName} was stopped outside alertcap${status.stopReason ? ` (${status.stopReason})` : ""}${errors}` };
  }
  if (now.getTime() >= renewal.getTime()) return { action: "renew" };
  return { action: "wait" };
}

/**
 * The name stamp of the next session: now, or one second after the previous one's stamp when a renewal or cut
 * comes within the same second (two sessions must never share a name).
 */
export function nextSessionStamp(now: Date, previousRequestedAt: string | null): Date {
  if (previousRequestedAt === null) return now;
  const after = Math.floor(Date.parse(previousRequestedAt) / 1000) * 1000 + 1000;
  return new Date(Math.max(now.getTime(), after));
}
