// Notifications of a capture analysed with a flight recorder's lookback lead with when the failure began, in every
// format, and the onset lines (decoded from packets: attacker-controlled) are escaped like any finding.
import { describe, expect, it } from "vitest";
import { buildNotificationMessage } from "../domain/notify/message.js";
import { GENERIC_BODY_MAX_BYTES } from "../domain/notify/genericBody.js";
import { SLACK_MESSAGE_MAX_CHARS } from "../domain/notify/slackMessage.js";
import { TEAMS_MESSAGE_MAX_BYTES } from "../domain/notify/teamsCard.js";
import { captureProgress } from "./notify.fixtures.js";

const ONSET = "DNS SERVFAIL began 1 min before the alert (09:59:00 UTC): 360 of 360 answers (100 %), 60 of them before the alert.";
const FINDING = "SERVFAIL for 360 of 900 DNS answers (40 %), all from 10.0.0.53 for api.contoso.test.";

const message = (onsets: string[], findings: string[] = [...onsets, FINDING]) =>
  buildNotificationMessage({ event: "capture.completed", progress: captureProgress(), findings, onsets, idempotencyKey: "k", occurredAt: "2025-11-25T10:05:05.000Z" });

describe("notifications with a lookback", () => {
  it("lead with the onset in Teams, Slack and the generic body, without repeating it among the findings", () => {
    const m = message([ONSET]);
    const teamsTexts = m.teams.attachments[0].content.body.flatMap((b) => ("text" in b ? [b.text] : []));
    const heading = teamsTexts.findIndex((t) => t.startsWith("When it began"));
    expect(heading).toBe(1);
    expect(teamsTexts[heading]).toContain("2025-11-25T10:00:00.000Z");
    expect(teamsTexts[heading + 1]).toContain("DNS SERVFAIL began 1 min before the alert");
    expect(teamsTexts.indexOf("Findings")).toBeGreaterThan(heading + 1);
    expect(teamsTexts.filter((t) => t.includes("began 1 min before"))).toHaveLength(1);

    const slackTexts = m.slack.blocks.flatMap((b) => ("text" in b && b.type === "section" ? [b.text.text] : []));
    expect(slackTexts[0]).toMatch(/^\*When it began \(alert fired 2025-11-25T10:00:00.000Z\)\*\n• DNS SERVFAIL began 1 min before the alert/);
    expect(slackTexts).toContain(`*Findings*\n• ${FINDING}`);

    expect(m.generic.data.findings).toEqual([ONSET, FINDING]);
  });

  it("is unchanged without onsets", () => {
    const m = message([], [FINDING]);
    const teamsTexts = m.teams.attachments[0].content.body.flatMap((b) => ("text" in b ? [b.text] : []));
    expect(teamsTexts.some((t) => t.startsWith("When it began"))).toBe(false);
    expect(m.generic.data.findings).toEqual([FINDING]);
  });

  it("escapes onset text and stays within every format's size limit", () => {
    const hostile = "DNS NXDOMAIN began 3 s after the alert: [click](https://evil.example) <!channel> *bold* for x.".repeat(40);
    const m = message(Array.from({ length: 100 }, (_, i) => `${i} ${hostile}`));
    const teams = JSON.stringify(m.teams);
    expect(teams).not.toContain("[click](https");
    expect(JSON.stringify(m.slack)).not.toContain("<!channel>");
    expect(Buffer.byteLength(teams)).toBeLessThanOrEqual(TEAMS_MESSAGE_MAX_BYTES);
    expect(JSON.stringify(m.slack).length).toBeLessThan(SLACK_MESSAGE_MAX_CHARS);
    expect(Buffer.byteLength(JSON.stringify(m.generic))).toBeLessThan(GENERIC_BODY_MAX_BYTES);
  });
});
