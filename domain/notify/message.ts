// One notification event in every format a target may want. Built once per event, before sending, so every target
// and every retry gets the same content and the same idempotency key.

import { buildGenericBody, type GenericNotificationBody } from "./genericBody.js";
import { buildSlackMessage, type SlackMessage } from "./slackMessage.js";
import { summarise, type NotificationInput } from "./summary.js";
import { buildTeamsMessage, type TeamsMessage } from "./teamsCard.js";

export type { GenericNotificationBody } from "./genericBody.js";
export type { SlackMessage } from "./slackMessage.js";
export type { CaptureOutcome, NotificationEvent, NotificationInput } from "./summary.js";
export { durableEventTime } from "./summary.js";
export type { TeamsMessage } from "./teamsCard.js";

export interface NotificationMessage {
  /** Sent as `webhook-id` (generic) and `Idempotency-Key` (all formats); equals `generic.id`; no `.` in it. */
  readonly idempotencyKey: string;
  readonly generic: GenericNotificationBody;
  readonly teams: TeamsMessage;
  readonly slack: SlackMessage;
}

/**
 * Builds the three payloads. Pure: the same input gives byte-identical payloads, so a re-run of the notify activity
 * sends exactly what the first run sent. Throws a RangeError only for an empty idempotency key or an unreadable
 * occurredAt (programming errors).
 */
export function buildNotificationMessage(input: NotificationInput): NotificationMessage {
  const summary = summarise(input);
  return {
    idempotencyKey: summary.idempotencyKey,
    generic: buildGenericBody(summary),
    teams: buildTeamsMessage(summary),
    slack: buildSlackMessage(summary),
  };
}
