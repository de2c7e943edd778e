// Tells people what a capture found, on every URL in ALERTCAP_NOTIFY_URLS. The URLs are secrets: they are read here,
// never passed through durable state, and only their scheme and host appear in results and logs. A notification
// that cannot be delivered is reported in the result; it never fails the capture.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { eventLine } from "../domain/telemetry/events.js";
import { parseSigningSecret, readNotifySettings } from "../domain/notify/targets.js";
import { parseReportLinkHours } from "../azure/reportLinks.js";
import { buildNotificationMessage } from "../domain/notify/message.js";
import { notificationInputFor } from "../notify/activityMessage.js";
import { reportLinkForPeople, writeStatusIntoReport } from "../notify/reportForPeople.js";
import { sendNotifications } from "../notify/sendNotifications.js";
import { NOTIFY, type NotifyInput, type NotifyOutput } from "./contracts.js";

// Checked once when the worker loads, so a bad signing secret shows as one line at start-up rather than only when the
// first capture ends. (Each run re-reads the settings too and refuses generic targets while the secret is bad.)
const secretAtStartup = parseSigningSecret(process.env.ALERTCAP_NOTIFY_SECRET);
if (!secretAtStartup.ok) console.error(`alertcap: ${secretAtStartup.message}; generic notification targets are not used until it is fixed`);
const linkHoursAtStartup = parseReportLinkHours(process.env.ALERTCAP_REPORT_LINK_HOURS);
if (linkHoursAtStartup.problem) console.error(`alertcap: ${linkHoursAtStartup.problem}`);

df.app.activity(NOTIFY, {
  handler: async (input: NotifyInput, context: InvocationContext): Promise<NotifyOutput> => {
    const { targets, problems } = readNotifySettings(process.env);
    for (const problem of problems) context.warn(`ALERTCAP_NOTIFY_URLS entry ${problem.entry} (${problem.target}): ${problem.message}`);
    const notification = notificationInputFor(input, process.env.WEBSITE_HOSTNAME);
    const warn = (line: string) => context.warn(line);
    // The report carries the status whether or not anyone is notified: it is also opened from GET /api/captures/{id}.
    await writeStatusIntoReport(notification, input.progress.reportPath, warn);
    if (targets.length === 0) return [];
    const reportLink = await reportLinkForPeople(notification, input.progress.reportPath, warn);
    const message = buildNotificationMessage(reportLink ? { ...notification, reportLink } : notification);
    const results = await sendNotifications(targets, message, {
      log: (attempt) => context.log(`notify ${attempt.format} ${attempt.target}: attempt ${attempt.attempt} ${attempt.outcome}${attempt.status ? ` (HTTP ${attempt.status})` : ""}${attempt.error ? `: ${attempt.error}` : ""}`),
    });
    for (const r of results) {
      context.log(eventLine(r.delivered ? "notification.sent" : "notification.failed", { target: input.progress.target, instanceId: input.instanceId, to: r.target, format: r.format, attempts: r.attempts, error: r.error }));
    }
    return results;
  },
});
