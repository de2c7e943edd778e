// Before a notification goes out: the report gets the capture's status written into it (people open the report, not
// alertcap's keyed status route), and a link people can open is minted for it. Neither is stored anywhere: the link is
// handed to the message builder only. Either step failing costs that step alone; the notification still goes out.
import { rewriteReport } from "../azure/captureFiles.js";
import { reportLinkFor } from "../azure/reportLinks.js";
import { reportStatusSection, withReportStatus } from "../domain/notify/reportStatus.js";
import { summarise, type NotificationInput } from "../domain/notify/summary.js";
import { scrubSecrets } from "../domain/notify/urlSecrets.js";

const why = (error: unknown): string => scrubSecrets((error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 300));

/** Writes the capture's status into its report at reportPath (if any); a failure is said through `warn`. */
export async function writeStatusIntoReport(notification: NotificationInput, reportPath: string | null, warn: (line: string) => void): Promise<void> {
  if (!reportPath) return;
  try {
    const section = reportStatusSection(summarise(notification));
    await rewriteReport(reportPath, (html) => withReportStatus(html, section));
  } catch (error) {
    warn(`The capture's status was not written into its report: ${why(error)}`);
  }
}

/**
 * The link people can open to the report at reportPath, or undefined when there is no report or no link could be
 * signed (said through `warn`, without any secret).
 */
export async function reportLinkForPeople(notification: NotificationInput, reportPath: string | null, warn: (line: string) => void): Promise<string | undefined> {
  if (!reportPath) return undefined;
  try {
    // Timed from the event, so a re-run of the activity signs the same link.
    return (await reportLinkFor(reportPath, { eventTime: new Date(notification.occurredAt) })).url;
  } catch (error) {
    warn(`No link to the report could be signed, so the notification links none: ${why(error)}`);
    return undefined;
  }
}
