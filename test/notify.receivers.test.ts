// Notifications checked with the receivers' own libraries, for any input: the official Adaptive Cards JS SDK (parse +
// validateProperties, and its text pipeline: formatText then markdown-it) for Teams, @slack/types plus Slack's
// documented Block Kit limits for Slack, the published JSON Schema for generic bodies. Free text (alert rule names,
// reasons, Network Watcher errors, findings decoded from packets) is hostile here: it must not overflow any cap, make
// a link or a date function in Teams, form a Slack link, or reach a receiver with invisible or reordering characters.
import { createRequire } from "node:module";
import type { KnownBlock } from "@slack/types";
import { formatText } from "adaptivecards/lib/text-formatters.js";
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import MarkdownIt from "markdown-it";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { NotifyInput } from "../activities/contracts.js";
import type { CaptureProgress } from "../domain/capture/progress.js";
import { GENERIC_BODY_MAX_BYTES, genericBodyJsonSchema } from "../domain/notify/genericBody.js";
import { buildNotificationMessage, type NotificationInput, type NotificationMessage } from "../domain/notify/message.js";
import { SLACK_MAX_BLOCKS, SLACK_MESSAGE_MAX_CHARS } from "../domain/notify/slackMessage.js";
import { TEAMS_MESSAGE_MAX_BYTES } from "../domain/notify/teamsCard.js";
import { defangUrls, escapeTeamsMarkdown, oneLine, sanitiseText } from "../domain/notify/text.js";
import { notificationFor } from "../notify/activityMessage.js";
import { captureProgress, VM } from "./notify.fixtures.js";

// The SDK's lib/ is extension-less ESM that Node cannot load as a package; its UMD build works without a DOM.
const AC = createRequire(import.meta.url)("adaptivecards/dist/adaptivecards.js") as typeof import("adaptivecards");
const markdown = new MarkdownIt(); // what the SDK calls: window.markdownit().render(text)
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validateGeneric = ajv.compile(genericBodyJsonSchema);

/** Teams' own refusal threshold (MessageSizeExceeded); alertcap budgets 20 KB below it. */
const TEAMS_REFUSES_BYTES = 28_672;
const progress = (overrides: Partial<CaptureProgress> = {}): CaptureProgress =>
  captureProgress({
    phase: "notifying",
    alert: { alertId: "alert-1", rule: "High outbound flows", severity: "Sev2", schema: "azureMonitorCommonAlertSchema", firedAt: "2025-11-25T10:00:00Z" },
    stoppedAt: "2025-11-25T10:05:05Z",
    reportPath: "https://stcaptures.blob.core.windows.net/network-watcher-logs/vm-web-1/capture.cap.report.html",
    ...overrides,
  });

function input(overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    event: "capture.completed",
    progress: progress(),
    findings: ["SERVFAIL for 7 of 49 DNS answers (14 %)", "Top talker 10.0.0.4 → 52.1.2.3:443 (92% of bytes)"],
    reportUrl: progress().reportPath!,
    statusUrl: "https://alertcap.azurewebsites.net/api/captures/abc",
    idempotencyKey: "abc:2025-11-25T10:00:00.123Z",
    occurredAt: "2025-11-25T10:05:05Z",
    ...overrides,
  };
}

// ---- what each receiver accepts -------------------------------------------------------------------------------------

/** Everything the Adaptive Cards SDK reports for the card: parse events (unknown types, versions) and validation. */
function sdkEvents(card: unknown): string[] {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_4);
  parsed.parse(card, context);
  const events: string[] = [];
  for (let i = 0; i < context.eventCount; i++) events.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents) events.push(`validate: ${event.message}`);
  return events;
}

/** Every markdown text of a card: TextBlock texts and FactSet values (the SDK renders both as TextBlocks). */
function cardTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) cardTexts(item, out);
  else if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    if (record["type"] === "TextBlock" && typeof record["text"] === "string") out.push(record["text"]);
    if (record["type"] === "FactSet") for (const fact of record["facts"] as { title: string; value: string }[]) out.push(fact.title, fact.value);
    for (const [key, value] of Object.entries(record)) if (key !== "facts") cardTexts(value, out);
  }
  return out;
}

/** What Teams shows for a TextBlock text: the SDK's pipeline (date functions, then markdown) as HTML. */
const renderTeams = (text: string): string => markdown.render(formatText(undefined, text) ?? "");

function assertTeamsAccepts(message: NotificationMessage): void {
  const json = JSON.stringify(message.teams);
  expect(Buffer.byteLength(json, "utf8")).toBeLessThanOrEqual(TEAMS_MESSAGE_MAX_BYTES);
  expect(Buffer.byteLength(json, "utf8")).toBeLessThan(TEAMS_REFUSES_BYTES);
  const card = message.teams.attachments[0].content;
  expect(card.version).toBe("1.4");
  expect(sdkEvents(card)).toEqual([]);
  for (const text of cardTexts(card)) {
    const html = renderTeams(text);
    expect(html, text).not.toMatch(/<(a|img|h\d|ul|ol|li|table|pre|code|blockquote|em|strong|s)\b/);
    expect(formatText(undefined, text), "no {{DATE()}}/{{TIME()}} function may come from the text").toBe(text);
  }
  for (const action of card.actions ?? []) expect(action.url).toMatch(/^https?:\/\//);
}

// Slack: documented Block Kit limits (docs.slack.dev/reference/block-kit/blocks) on @slack/types' shapes, and the
// aggregate budget (msg_blocks_too_long appears near 13,200 characters; alertcap stays under 10,000).
function assertSlackAccepts(message: NotificationMessage, ownLinks: readonly string[]): void {
  const { slack } = message;
  expect(JSON.stringify(slack).length).toBeLessThan(SLACK_MESSAGE_MAX_CHARS);
  expect(slack.text.length).toBeGreaterThan(0);
  const blocks = slack.blocks as unknown as KnownBlock[];
  expect(blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
  const mrkdwnTexts: string[] = [slack.text];
  for (const block of blocks) {
    switch (block.type) {
      case "header":
        expect(block.text.type).toBe("plain_text");
        expect(block.text.text.length).toBeGreaterThan(0);
        expect(block.text.text.length).toBeLessThanOrEqual(150);
        break;
      case "section":
        if (block.text) {
          expect(block.text.text.length).toBeGreaterThan(0);
          expect(block.text.text.length).toBeLessThanOrEqual(3000);
          mrkdwnTexts.push(block.text.text);
        }
        expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
        for (const field of block.fields ?? []) {
          expect(field.text.length).toBeGreaterThan(0);
          expect(field.text.length).toBeLessThanOrEqual(2000);
          mrkdwnTexts.push(field.text);
        }
        expect(block.text !== undefined || (block.fields?.length ?? 0) > 0).toBe(true);
        break;
      case "context":
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(10);
        for (const element of block.elements) if (element.type === "mrkdwn") mrkdwnTexts.push(element.text);
        break;
      case "divider":
        break;
      default:
        throw new Error(`unexpected block type ${block.type}`);
    }
  }
  // Slack parses <…> as links, mentions and commands: the only ones allowed are alertcap's own links, and every other
  // & < > arrives escaped.
  for (const text of mrkdwnTexts) {
    let rest = text;
    for (const link of ownLinks) rest = rest.split(link).join("");
    expect(rest, text).not.toMatch(/[<>]/);
    expect(rest.replace(/&(amp|lt|gt);/g, ""), text).not.toContain("&");
  }
}

function assertGenericAccepts(message: NotificationMessage): void {
  const json = JSON.stringify(message.generic);
  expect(Buffer.byteLength(json, "utf8")).toBeLessThan(GENERIC_BODY_MAX_BYTES);
  expect(validateGeneric(message.generic), JSON.stringify(validateGeneric.errors)).toBe(true);
}

// Lone surrogates, bidi controls and zero-width characters never reach any receiver.
const HIDDEN = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertAllReceiversAccept(message: NotificationMessage): void {
  assertTeamsAccepts(message);
  assertSlackAccepts(message, [
    ...(message.generic.data.reportUrl ? [`<${message.generic.data.reportUrl}|Open report>`] : []),
  ]);
  assertGenericAccepts(message);
  // Every string of every payload, read as the receiver parses it (decoding JSON text by hand misread a literal
  // backslash-u in the input as an escape, a false alarm fast-check found now and then).
  for (const payload of [message.teams, message.slack, message.generic]) {
    expect(stringsOf(JSON.parse(JSON.stringify(payload))).filter((s) => HIDDEN.test(s))).toEqual([]);
  }
}

function stringsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

// ---- hostile text ---------------------------------------------------------------------------------------------------

const HOSTILE_PIECES = [
  "[re-authenticate](https://evil.example/login)",
  "![x](https://evil.example/p.png)",
  "<https://evil.example>",
  "<https://evil.example|Open report>",
  "<!channel>",
  "{{DATE(2017-02-14T06:08:39Z, LONG)}}",
  "{{TIME(2017-02-14T06:08:39Z)}}",
  "**bold** _it_ ~~s~~ `code`",
  "[ref]: https://evil.example",
  "[ref]",
  "# heading",
  "> quote",
  "- item",
  "1. item",
  "| a | b |",
  "&lt;a href=x&gt;",
  "&#91;x&#93;(https://evil.example)",
  "<a href='https://evil.example'>x</a>",
  "\\",
  "\"",
  "\u202eexe.evil\u202c",
  "zero\u200bwidth\ufeff",
  "\ud800",
  "\udfff",
  "😀",
  "é",
  "\u0000\u001b[31m",
  "\n\n",
  "https://evil.example/path",
] as const;

const hostileChar = fc.oneof(
  fc.constantFrom(..."[]()<>{}|*_~`#!&\\\"'-+=.:/\n\t \u202e\u2066\u200b\ufeff\ud800\udc00é😀"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const hostileText = fc.oneof(
  fc.string({ unit: hostileChar, maxLength: 60 }),
  fc.array(fc.constantFrom(...HOSTILE_PIECES), { maxLength: 6 }).map((pieces) => pieces.join(" ")),
  // Long runs of the character that costs each format most once escaped and encoded.
  fc.tuple(fc.constantFrom("\"", "&", "\\", "😀", "\u0800", "\ud800", "*", "<", "x"), fc.integer({ min: 0, max: 4000 })).map(([c, n]) => c.repeat(n)),
);
const nullableHostile = fc.option(hostileText, { nil: null });

const hostileInput: fc.Arbitrary<NotificationInput> = fc
  .record({
    event: fc.constantFrom("capture.completed" as const, "capture.failed" as const),
    target: fc.oneof(fc.constant(VM), hostileText.map((t) => `${VM}${t}`)),
    rule: nullableHostile,
    alertId: nullableHostile,
    severity: nullableHostile,
    firedAt: nullableHostile,
    captureName: nullableHostile,
    networkWatcher: nullableHostile,
    stopReason: nullableHostile,
    stopRequestedBecause: nullableHostile,
    failureReason: nullableHostile,
    startedAt: nullableHostile,
    stoppedAt: nullableHostile,
    storagePath: nullableHostile,
    errors: fc.array(hostileText, { maxLength: 60 }),
    findings: fc.array(hostileText, { maxLength: 150 }),
  })
  .map((r) => ({
    ...input(),
    event: r.event,
    findings: r.findings,
    progress: progress({
      target: r.target,
      alert: { alertId: r.alertId, rule: r.rule, severity: r.severity, schema: "azureMonitorCommonAlertSchema", firedAt: r.firedAt },
      captureName: r.captureName,
      networkWatcher: r.networkWatcher,
      stopReason: r.stopReason,
      stopRequestedBecause: r.stopRequestedBecause,
      failureReason: r.failureReason,
      startedAt: r.startedAt,
      stoppedAt: r.stoppedAt,
      storagePath: r.storagePath,
      packetCaptureErrors: r.errors,
    }),
  }));

describe("every format stays within what its receiver accepts, for any input", () => {
  it("holds for hostile strings of every kind and size (fast-check)", () => {
    fc.assert(
      fc.property(hostileInput, (notification) => {
        assertAllReceiversAccept(buildNotificationMessage(notification));
      }),
      { numRuns: 150 },
    );
  });

  it("holds at the documented maxima filled with each format's most expensive character", () => {
    for (const c of ["\"", "&", "\\", "😀", "\u0800", "\ud800", "*", "<"]) {
      const long = c.repeat(5000);
      const message = buildNotificationMessage(
        input({
          findings: Array.from({ length: 300 }, () => long),
          progress: progress({
            target: `${VM}${long}`,
            alert: { alertId: long, rule: long, severity: long, schema: long, firedAt: long },
            captureName: long,
            networkWatcher: long,
            stopReason: long,
            stopRequestedBecause: long,
            failureReason: long,
            startedAt: long,
            stoppedAt: long,
            deadline: long,
            storagePath: long,
            targetKind: long,
            packetCaptureErrors: Array.from({ length: 60 }, () => long),
          }),
          reportUrl: `https://st.blob.core.windows.net/${"r".repeat(1900)}`,
          statusUrl: `https://alertcap.azurewebsites.net/api/captures/${"s".repeat(1900)}`,
        }),
      );
      assertAllReceiversAccept(message);
    }
  });

  it("long window values (start/stop times) are shortened too, not only the lists", () => {
    const long = "2025-11-25T10:00:05Z".repeat(1000);
    const message = buildNotificationMessage(input({ progress: progress({ startedAt: long, stoppedAt: long, deadline: long }) }));
    assertAllReceiversAccept(message);
  });

  it("keeps what fits whole: ordinary notifications are not cut", () => {
    const message = buildNotificationMessage(input());
    assertAllReceiversAccept(message);
    expect(message.generic.data.findings).toEqual(input().findings);
    expect(JSON.stringify(message.teams)).not.toContain("…");
    expect(JSON.stringify(message.slack)).not.toContain("…");
  });
});

// ---- Teams markdown (issue 11.4), Slack mrkdwn and generic JSON with hostile alert, rule and packet text -----------

describe("hostile rule names, descriptions, reasons and findings render literally in all three formats", () => {
  const rule = "[re-authenticate](https://evil.example/login) {{DATE(2017-02-14T06:08:39Z, LONG)}}";
  const reason = "<https://evil.example|Open report> **urgent** see [here](https://evil.example)";
  const finding = "TLS SNI [login](https://evil.example/sso) <!channel> {{TIME(2017-02-14T06:08:39Z)}}";
  const message = buildNotificationMessage(
    input({
      event: "capture.failed",
      findings: [finding, "HTTP Host: ![img](https://evil.example/x.png)"],
      progress: progress({
        alert: { ...progress().alert, rule },
        stopRequestedBecause: reason,
        failureReason: reason,
        packetCaptureErrors: ["# [fix it](https://evil.example)"],
      }),
    }),
  );

  it("Teams: the SDK's pipeline makes no link, image, emphasis or date from them, and shows them as written (URLs defanged)", () => {
    assertTeamsAccepts(message);
    const texts = cardTexts(message.teams.attachments[0].content);
    const shown = texts.map((t) => decodeHtml(stripTags(renderTeams(t))).trim());
    for (const literal of [rule, reason, finding]) expect(shown.some((s) => s.includes(defangUrls(literal))), literal).toBe(true);
  });

  it("Slack: no <url|label> link or mention can be formed from them", () => {
    assertSlackAccepts(message, [`<${input().reportUrl}|Open report>`]);
    expect(JSON.stringify(message.slack)).toContain("&lt;https[:]//evil.example|Open report&gt;");
  });

  it("generic JSON: carries them unchanged (receivers escape for their own medium)", () => {
    assertGenericAccepts(message);
    expect(message.generic.data.alert.rule).toBe(rule);
    expect(message.generic.data.failureReason).toBe(reason);
    expect(message.generic.data.findings[0]).toBe(finding);
  });

  it("escapeTeamsMarkdown: markdown-it shows any text exactly as written (one line)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: hostileChar, maxLength: 80 }), fc.array(fc.constantFrom(...HOSTILE_PIECES)).map((p) => p.join(""))), (raw) => {
        const text = oneLine(sanitiseText(raw));
        const escaped = escapeTeamsMarkdown(text);
        expect(formatText(undefined, escaped)).toBe(escaped);
        const html = markdown.render(escaped);
        expect(html).not.toMatch(/<(?!\/?p>)/);
        expect(decodeHtml(stripTags(html)).replace(/\n$/, "")).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

function stripTags(html: string): string {
  return html.replace(/<\/?p>/g, "");
}

function decodeHtml(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&amp;/g, "&");
}

// ---- findings first ---------------------------------------------------------------------------------------------------

describe("findings first", () => {
  it("each format leads with the top findings, before the facts", () => {
    const message = buildNotificationMessage(input());
    const body = message.teams.attachments[0].content.body as readonly { type: string; text?: string }[];
    const findingsAt = body.findIndex((e) => e.type === "TextBlock" && e.text === "Findings");
    const factsAt = body.findIndex((e) => e.type === "FactSet");
    expect(findingsAt).toBeGreaterThan(0);
    expect(findingsAt).toBeLessThan(factsAt);
    expect(body[findingsAt + 1]?.text).toBe("• SERVFAIL for 7 of 49 DNS answers (14 %)");

    const blocks = message.slack.blocks as readonly KnownBlock[];
    const slackFindings = blocks.findIndex((b) => b.type === "section" && b.text?.text.startsWith("*Findings*"));
    const slackFields = blocks.findIndex((b) => b.type === "section" && b.fields !== undefined);
    expect(slackFindings).toBeGreaterThan(0);
    expect(slackFindings).toBeLessThan(slackFields);

    expect(message.generic.data.findings[0]).toBe("SERVFAIL for 7 of 49 DNS answers (14 %)");
  });
});

// ---- idempotent bodies (issue 15.2) -------------------------------------------------------------------------------

describe("one event ID, one body", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const activityInput = (overrides: Partial<NotifyInput> = {}): NotifyInput => ({
    instanceId: "abc",
    event: "capture.completed",
    progress: progress(),
    findings: ["SERVFAIL for 7 of 49 DNS answers (14 %)"],
    idempotencyKey: "abc:2025-11-25T10:00:00.123Z",
    ...overrides,
  });

  it("a re-run of the notify activity minutes later sends byte-identical bodies under an ID without '.'", () => {
    for (const overrides of [{}, { progress: progress({ stoppedAt: null }) }, { event: "capture.failed" as const, progress: progress({ stoppedAt: null, startedAt: null, failureReason: "no agent" }) }]) {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.parse("2025-11-25T10:06:00Z") });
      const first = notificationFor(activityInput(overrides), "alertcap.azurewebsites.net");
      vi.setSystemTime(Date.parse("2025-11-25T11:30:00Z"));
      const rerun = notificationFor(activityInput(overrides), "alertcap.azurewebsites.net");
      expect(rerun.idempotencyKey).toBe(first.idempotencyKey);
      expect(first.idempotencyKey).not.toContain(".");
      expect(first.idempotencyKey).toMatch(/^evt_[A-Za-z0-9_-]{32}$/);
      for (const format of ["generic", "teams", "slack"] as const) {
        expect(JSON.stringify(rerun[format])).toBe(JSON.stringify(first[format]));
      }
    }
  });

  it("occurredAt is the capture's stop time from durable state, or one the orchestrator passes", () => {
    expect(notificationFor(activityInput(), "h.example").generic.occurredAt).toBe("2025-11-25T10:05:05.000Z");
    expect(notificationFor(activityInput({ occurredAt: "2025-11-25T10:07:00Z" }), "h.example").generic.occurredAt).toBe("2025-11-25T10:07:00.000Z");
  });

  it("different events get different IDs", () => {
    const a = notificationFor(activityInput(), undefined).idempotencyKey;
    const b = notificationFor(activityInput({ idempotencyKey: "abc:2025-11-25T10:00:00.124Z" }), undefined).idempotencyKey;
    expect(a).not.toBe(b);
  });
});

// ---- links (issue 11.1): alertcap's own routes only, never a management URL or the system key ---------------------

describe("links point only at alertcap's own capture route and the report", () => {
  it("the status URL (generic body only) is /api/captures/{id}; management URLs and keys in text or links never reach a message", () => {
    const management = "https://alertcap.azurewebsites.net/runtime/webhooks/durabletask/instances/abc?taskHub=h&connection=Storage&code=SYSTEMKEY123";
    const message = notificationFor(
      {
        instanceId: "abc/../x",
        event: "capture.failed",
        progress: progress({ failureReason: `status at ${management} failed`, reportPath: management }),
        findings: [`see ${management.replace("https", "http")}`],
        idempotencyKey: "k",
      },
      "alertcap.azurewebsites.net",
    );
    const everything = JSON.stringify(message);
    expect(everything).not.toContain("runtime/webhooks");
    expect(everything).not.toContain("SYSTEMKEY123");
    expect(message.generic.data.statusUrl).toBe("https://alertcap.azurewebsites.net/api/captures/abc%2F..%2Fx");
    expect(message.generic.data.reportUrl).toBeNull();
    // The keyed status route opens for no person in a channel: chat formats do not link it.
    expect(message.teams.attachments[0].content.actions).toBeUndefined();
    expect(JSON.stringify(message.slack)).not.toContain("/api/captures/");
    expect(message.generic.data.failureReason).toBe("status at (management URL removed) failed");
  });

  it("a host admin URL is not linked either", () => {
    const message = buildNotificationMessage(input({ reportUrl: "https://alertcap.azurewebsites.net/admin/functions/x?code=MASTER" }));
    expect(message.generic.data.reportUrl).toBeNull();
    expect(JSON.stringify(message)).not.toContain("MASTER");
  });
});
