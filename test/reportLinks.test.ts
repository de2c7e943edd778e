// The report link's lifetime setting, its expiry, how a signed link reaches a message (SAS kept, unlike any other URL),
// and the status section the report gets. The links themselves are checked against Azurite in reportLinks.stack.test.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { linkExpiry, parseReportLinkHours } from "../azure/reportLinks.js";
import { buildNotificationMessage } from "../domain/notify/message.js";
import { reportStatusSection, withReportStatus } from "../domain/notify/reportStatus.js";
import { summarise, type NotificationInput } from "../domain/notify/summary.js";
import { SAMPLE_ENV, appSettingsOf, simulateAlertcap, str } from "./infraArm.js";
import { captureProgress } from "./notify.fixtures.js";

describe("ALERTCAP_REPORT_LINK_HOURS", () => {
  it("defaults to 72 hours", () => {
    expect(parseReportLinkHours(undefined)).toEqual({ hours: 72, problem: null });
    expect(parseReportLinkHours(" ")).toEqual({ hours: 72, problem: null });
  });

  it("takes hours up to 168, and caps more at 168 (the user delegation key's 7 days), saying so", () => {
    expect(parseReportLinkHours("24")).toEqual({ hours: 24, problem: null });
    expect(parseReportLinkHours("168")).toEqual({ hours: 168, problem: null });
    expect(parseReportLinkHours("0.5")).toEqual({ hours: 0.5, problem: null });
    const capped = parseReportLinkHours("720");
    expect(capped.hours).toBe(168);
    expect(capped.problem).toMatch(/^ALERTCAP_REPORT_LINK_HOURS is 720, more than 168 \(7 days/);
  });

  it("a value that is not a number of hours above 0 is one line, and links keep the default", () => {
    for (const bad of ["abc", "0", "-5", "3d", "1e3", "NaN", "72 hours"]) {
      const parsed = parseReportLinkHours(bad);
      expect(parsed.hours, bad).toBe(72);
      expect(parsed.problem, bad).toMatch(/^ALERTCAP_REPORT_LINK_HOURS is ".*", not a number of hours above 0; report links last 72 hours until it is fixed$/);
      expect(parsed.problem).not.toContain("\n");
    }
  });

  it("is reported at start-up in one line when the worker loads the notify activity", async () => {
    const activity = fileURLToPath(new URL("../activities/notify.js", import.meta.url));
    const load = async (value: string) => {
      const { stderr } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(activity)});`], {
        env: { PATH: process.env.PATH ?? "", ALERTCAP_REPORT_LINK_HOURS: value },
        timeout: 60_000,
      });
      return stderr.split("\n").filter((line) => line.startsWith("alertcap:"));
    };
    expect(await load("three days")).toEqual([
      'alertcap: ALERTCAP_REPORT_LINK_HOURS is "three days", not a number of hours above 0; report links last 72 hours until it is fixed',
    ]);
    expect(await load("48")).toEqual([]);
  });
});

describe("ALERTCAP_REPORT_LINK_HOURS in the template (azd: ALERTCAP_REPORT_LINK_HOURS)", () => {
  it("defaults to 72 and takes exactly the range the app accepts without a problem, 1 to 168", () => {
    const setting = (env: Record<string, string>) => str(appSettingsOf(simulateAlertcap(env).sim).ALERTCAP_REPORT_LINK_HOURS ?? null);
    expect(setting(SAMPLE_ENV)).toBe("72");
    for (const hours of ["1", "168"]) expect(parseReportLinkHours(setting({ ...SAMPLE_ENV, ALERTCAP_REPORT_LINK_HOURS: hours }))).toEqual({ hours: Number(hours), problem: null });
    for (const outside of ["0", "169"]) expect(simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_REPORT_LINK_HOURS: outside }).sim.problems.join(" "), outside).toMatch(/reportLinkHours/);
  });
});

describe("when a link expires", () => {
  const event = new Date("2026-03-01T10:00:00.250Z");

  it("counts from the event, so every re-run of the notify activity signs the same expiry", () => {
    const first = linkExpiry(72, new Date("2026-03-01T10:00:05Z"), event);
    const rerun = linkExpiry(72, new Date("2026-03-01T16:30:00Z"), event);
    expect(first.toISOString()).toBe("2026-03-04T10:00:00.000Z");
    expect(rerun).toEqual(first);
  });

  it("counts from now when the event's link would already be (nearly) dead, and never beyond 7 days from now", () => {
    expect(linkExpiry(72, new Date("2026-03-04T09:30:00Z"), event).toISOString()).toBe("2026-03-07T09:30:00.000Z");
    expect(linkExpiry(24, new Date("2026-03-01T10:00:00Z")).toISOString()).toBe("2026-03-02T10:00:00.000Z");
    expect(linkExpiry(1000, new Date("2026-03-01T10:00:00Z"), event).getTime()).toBeLessThanOrEqual(Date.parse("2026-03-08T10:00:00Z"));
    // An event time in the future (a skewed clock) does not stretch the link past the limit either.
    expect(linkExpiry(168, new Date("2026-03-01T09:00:00Z"), event).toISOString()).toBe("2026-03-08T09:00:00.000Z");
  });
});

const input = (overrides: Partial<NotificationInput> = {}): NotificationInput => ({
  event: "capture.completed",
  progress: captureProgress(),
  findings: ["12 TCP resets from 10.0.0.9", "<script>alert(1)</script>"],
  idempotencyKey: "alertcap-abc-capture.completed",
  occurredAt: "2025-11-25T10:05:30.000Z",
  statusUrl: "https://alertcap.azurewebsites.net/api/captures/abc",
  ...overrides,
});

describe("a signed report link in a message", () => {
  const signed = "https://stcaptures.blob.core.windows.net/network-watcher-logs/vm/capture.cap.report.html?sv=2025-05-05&se=2025-11-28T10%3A05%3A30Z&sr=b&sp=r&sig=abc%2Bdef%3D";

  it("keeps its SAS in every format (the SAS is what opens it), while any other URL loses its credential", () => {
    const message = buildNotificationMessage(input({ reportLink: signed, reportUrl: "https://x.blob.core.windows.net/c/b?sig=OTHER" }));
    expect(message.generic.data.reportUrl).toBe(signed);
    expect(message.teams.attachments[0].content.actions).toEqual([{ type: "Action.OpenUrl", title: "Open report", url: signed }]);
    expect(JSON.stringify(message.slack)).toContain(`<${signed.replace(/&/g, "&amp;")}|Open report>`);
    expect(JSON.stringify(message)).not.toContain("OTHER");
    expect(buildNotificationMessage(input({ reportUrl: signed })).generic.data.reportUrl).not.toContain("sig=");
  });

  it("is still refused when it is not an http(s) URL or points at a management API", () => {
    expect(buildNotificationMessage(input({ reportLink: "javascript:alert(1)" })).generic.data.reportUrl).toBeNull();
    expect(buildNotificationMessage(input({ reportLink: "https://a.azurewebsites.net/runtime/webhooks/durabletask/instances/x?code=K" })).generic.data.reportUrl).toBeNull();
  });
});

describe("the status section of a report", () => {
  const report = "<!DOCTYPE html>\n<html><body>\n<main>\n<h1>Capture triage: capture.cap</h1>\n<p>figures</p>\n</main></body></html>";

  it("says what the notification said, escaped, at the top of <main>", () => {
    const summary = summarise(input());
    const html = withReportStatus(report, reportStatusSection(summary));
    expect(html.indexOf('id="capture-status"')).toBeGreaterThan(html.indexOf("<main>"));
    expect(html.indexOf('id="capture-status"')).toBeLessThan(html.indexOf("<h1>"));
    expect(html).toContain('data-outcome="stopped"');
    expect(html).toContain("Packet capture finished on vm-web-1");
    expect(html).toContain("High outbound flows");
    expect(html).toContain("TimeExceeded");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).not.toContain("<script>");
  });

  it("replaces the section an earlier run wrote, so a re-run leaves one, the latest", () => {
    const first = withReportStatus(report, reportStatusSection(summarise(input())));
    const failed = reportStatusSection(summarise(input({ event: "capture.failed", progress: captureProgress({ failureReason: "the VM was deallocated" }) })));
    const second = withReportStatus(first, failed);
    expect(second.split('id="capture-status"')).toHaveLength(2);
    expect(second).toContain("the VM was deallocated");
    expect(second).not.toContain("Packet capture finished");
    expect(withReportStatus(second, failed)).toBe(second);
    expect(second.replace(failed, "")).toBe(report);
  });
});
