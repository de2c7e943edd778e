// Tells people what a capture found, on every URL in ALERTCAP_NOTIFY_URLS. The URLs are secrets: they are read here,
// never passed through durable state, and only their scheme and host appear in results and logs. A notification
// that cannot be delivered is reported in the result; it never fails the capture.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { buildNotificationMessage } from "../domain/notify/message.js";
import { eventLine } from "../domain/telemetry/events.js";
import { readNotifySettings } from "../domain/notify/targets.js";
import { sendNotifications } from "../notify/sendNotifications.js";
import { NOTIFY, type NotifyInput, type NotifyOutput } from "./contracts.js";

df.app.activity(NOTIFY, {
  handler: async (input: NotifyInput, context: InvocationContext): Promise<NotifyOutput> => {
    const { targets, problems } = readNotifySettings(process.env);
    for (const problem of problems) context.warn(`ALERTCAP_NOTIFY_URLS entry ${problem.entry} (${problem.target}): ${problem.message}`);
    if (targets.length === 0) return [];
    const host = process.env.WEBSITE_HOSTNAME;
    const message = buildNotificationMessage({
      event: input.event,
      progress: input.progress,
      findings: input.findings,
      idempotencyKey: input.idempotencyKey,
      ...(input.progress.reportPath ? { reportUrl: input.progress.reportPath } : {}),
      ...(host ? { statusUrl: `${/^(127\.0\.0\.1|localhost)(:|$)/.test(host) ? "http" : "https"}://${host}/api/captures/${encodeURIComponent(input.instanceId)}` } : {}),
    });
    const results = await sendNotifications(targets, message, {
      log: (attempt) => context.log(`notify ${attempt.format} ${attempt.target}: attempt ${attempt.attempt} ${attempt.outcome}${attempt.status ? ` (HTTP ${attempt.status})` : ""}${attempt.error ? `: ${attempt.error}` : ""}`),
    });
    for (const r of results) {
      context.log(eventLine(r.delivered ? "notification.sent" : "notification.failed", { target: input.progress.target, instanceId: input.instanceId, to: r.target, format: r.format, attempts: r.attempts, error: r.error }));
    }
    return results;
  },
});
