// The message the notify activity sends, from the activity's input (and the report link minted for it): a pure
// function of durable state, so a re-run of the activity (after a crash, or by the orchestrator's retry policy) sends
// the same body under the same event ID, and receivers can drop the duplicate.
import type { NotifyInput } from "../activities/contracts.js";
import { buildNotificationMessage, type NotificationMessage } from "../domain/notify/message.js";
import { durableEventTime, type NotificationInput } from "../domain/notify/summary.js";

/**
 * `websiteHostname` is the app's host name (WEBSITE_HOSTNAME); the status URL is alertcap's own read-only route
 * `/api/captures/{id}`, never a durable management URL. `now` is only the last resort for the event time (see below).
 * `reportLink` is the report's link for people (a read-only SAS, minted by the activity: never in durable state);
 * without one the message links no report, since the bare blob URL opens for nobody.
 */
export function notificationInputFor(
  input: NotifyInput,
  websiteHostname: string | undefined,
  now: () => Date = () => new Date(),
  reportLink?: string,
): NotificationInput {
  return {
    event: input.event,
    progress: input.progress,
    findings: input.findings,
    ...(input.onsets ? { onsets: input.onsets } : {}),
    idempotencyKey: input.idempotencyKey,
    // The clock is reached only when the orchestrator passes no time and no capture or alert time is known at all.
    occurredAt: input.occurredAt ?? durableEventTime(input.progress) ?? now().toISOString(),
    ...(reportLink ? { reportLink } : {}),
    ...(websiteHostname ? { statusUrl: statusUrlFor(websiteHostname, input.instanceId) } : {}),
  };
}

export function notificationFor(
  input: NotifyInput,
  websiteHostname: string | undefined,
  now: () => Date = () => new Date(),
  reportLink?: string,
): NotificationMessage {
  return buildNotificationMessage(notificationInputFor(input, websiteHostname, now, reportLink));
}

function statusUrlFor(host: string, instanceId: string): string {
  const scheme = /^(127\.0\.0\.1|localhost)(:|$)/.test(host) ? "http" : "https";
  return `${scheme}://${host}/api/captures/${encodeURIComponent(instanceId)}`;
}
