// The three payloads built from one capture's progress: generic JSON (schema v1), Teams Adaptive Card 1.4, Slack Block Kit.
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { genericBodyJsonSchema } from "../domain/notify/genericBody.js";
import { buildNotificationMessage, type NotificationInput } from "../domain/notify/message.js";
import { SLACK_MAX_BLOCKS, SLACK_MESSAGE_MAX_CHARS } from "../domain/notify/slackMessage.js";
import { TEAMS_MESSAGE_MAX_BYTES } from "../domain/notify/teamsCard.js";
import { captureProgress as progress, VM } from "./notify.fixtures.js";

function input(overrides: Partial<NotificationInput> = {}): NotificationInput {
  return {
    event: "capture.completed",
    progress: progress(),
    findings: ["1,204 packets, 3 flows, 5 min", "Top talker 10.0.0.4 → 52.1.2.3:443 (92% of bytes)", "12 TCP resets from 10.0.0.9"],
    reportUrl: "https://stcaptures.blob.core.windows.net/reports/vm-web-1.html",
    statusUrl: "https://alertcap.azurewebsites.net/api/captures/abc",
    idempotencyKey: "alertcap-abc-capture.completed",
    occurredAt: "2025-11-25T10:05:30.000Z",
    stoppedAt: "2025-11-25T10:05:05.000Z",
    ...overrides,
  };
}

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

describe("generic JSON body (schema version 1)", () => {
  it("carries every documented field and validates against the published JSON Schema", () => {
    const { generic, idempotencyKey } = buildNotificationMessage(input());
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    const validate = ajv.compile(genericBodyJsonSchema);
    expect(validate(generic), JSON.stringify(validate.errors)).toBe(true);
    expect(generic).toEqual({
      schemaVersion: 1,
      type: "capture.completed",
      id: idempotencyKey,
      occurredAt: "2025-11-25T10:05:30.000Z",
      data: {
        target: VM,
        targetKind: "virtualMachine",
        alert: {
          alertId: "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.AlertsManagement/alerts/aaaa",
          rule: "High outbound flows",
          severity: "Sev2",
          schema: "azureMonitorCommonAlertSchema",
          firedAt: "2025-11-25T10:00:00.000Z",
        },
        captureName: "alertcap-vm-web-1-20251125T100005Z",
        networkWatcher: progress().networkWatcher,
        window: { startedAt: "2025-11-25T10:00:05.000Z", stoppedAt: "2025-11-25T10:05:05.000Z", deadline: "2025-11-25T10:05:05.000Z" },
        outcome: "stopped",
        stopReason: "TimeExceeded",
        stopRequestedBecause: null,
        failureReason: null,
        packetCaptureErrors: [],
        storagePath: "https://stcaptures.blob.core.windows.net/network-watcher-logs/vm-web-1/capture.cap",
        findings: input().findings,
        reportUrl: "https://stcaptures.blob.core.windows.net/reports/vm-web-1.html",
        statusUrl: "https://alertcap.azurewebsites.net/api/captures/abc",
      },
    });
  });

  it("maps events to outcomes and uses null, never a missing key, for what is unknown", () => {
    const failed = buildNotificationMessage(
      input({
        event: "capture.failed",
        progress: progress({ failureReason: "Network Watcher reported Error", packetCaptureErrors: ["AgentMissing"], stopReason: null }),
        findings: [],
      }),
    ).generic;
    expect(failed.type).toBe("capture.failed");
    expect(failed.data.outcome).toBe("failed");
    expect(failed.data.failureReason).toBe("Network Watcher reported Error");
    expect(failed.data.packetCaptureErrors).toEqual(["AgentMissing"]);

    const { reportUrl: _r, statusUrl: _s, stoppedAt: _t, ...bare } = input();
    const started = buildNotificationMessage({ ...bare, event: "capture.started", progress: progress({ storagePath: null }) }).generic;
    expect(started.data.outcome).toBe("running");
    expect(started.data.window.stoppedAt).toBeNull();
    expect(started.data.reportUrl).toBeNull();
    expect(started.data.statusUrl).toBeNull();
    expect(started.data.storagePath).toBeNull();
  });

  it("refuses an empty idempotency key and an unreadable event time (programming errors)", () => {
    expect(() => buildNotificationMessage(input({ idempotencyKey: "" }))).toThrow(RangeError);
    expect(() => buildNotificationMessage(input({ occurredAt: "yesterday" }))).toThrow(RangeError);
  });
});

// Adaptive Card elements alertcap may use: all exist in schema 1.2 or earlier, so 1.4 renders them.
const ALLOWED_ELEMENTS = new Set(["TextBlock", "FactSet", "ColumnSet", "Column"]);

function assertCard14(card: Record<string, unknown>): void {
  expect(card["type"]).toBe("AdaptiveCard");
  expect(card["version"]).toBe("1.4");
  const visit = (element: Record<string, unknown>): void => {
    expect(ALLOWED_ELEMENTS.has(String(element["type"])), `element type ${String(element["type"])}`).toBe(true);
    if (element["type"] === "TextBlock") expect(typeof element["text"] === "string" && element["text"] !== "").toBe(true);
    if (element["type"] === "FactSet") {
      for (const fact of element["facts"] as { title: unknown; value: unknown }[]) {
        expect(typeof fact.title === "string" && typeof fact.value === "string" && fact.value !== "").toBe(true);
      }
    }
    for (const child of [...((element["columns"] as Record<string, unknown>[]) ?? []), ...((element["items"] as Record<string, unknown>[]) ?? [])]) {
      visit(child);
    }
  };
  for (const element of card["body"] as Record<string, unknown>[]) visit(element);
  for (const action of (card["actions"] as Record<string, unknown>[] | undefined) ?? []) {
    expect(action["type"]).toBe("Action.OpenUrl");
    expect(() => new URL(String(action["url"]))).not.toThrow();
  }
}

const cardOf = (message: ReturnType<typeof buildNotificationMessage>) =>
  message.teams.attachments[0].content as unknown as Record<string, unknown>;
const textOf = (value: unknown): string => JSON.stringify(value);

describe("Teams message (Workflows webhook, Adaptive Card 1.4)", () => {
  it("uses the documented envelope and a 1.4 card of allowed elements holding the facts, window, findings and links", () => {
    const message = buildNotificationMessage(input());
    expect(message.teams.type).toBe("message");
    expect(message.teams.attachments).toHaveLength(1);
    expect(message.teams.attachments[0]).toMatchObject({ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null });
    const card = cardOf(message);
    assertCard14(card);
    const text = textOf(card);
    for (const expected of [
      "Packet capture finished on vm-web-1",
      "High outbound flows",
      "Sev2",
      "alertcap-vm-web-1-20251125T100005Z",
      "stopped",
      "Network Watcher stop reason: TimeExceeded",
      "2025-11-25T10:00:05.000Z",
      "5 min",
      "capture.cap",
      "12 TCP resets from 10.0.0.9",
    ]) {
      expect(text).toContain(expected);
    }
    expect(card["actions"]).toEqual([
      { type: "Action.OpenUrl", title: "Open report", url: "https://stcaptures.blob.core.windows.net/reports/vm-web-1.html" },
    ]);
  });

  it("stays within 20 KB by shortening and then dropping long lists, saying so", () => {
    const findings = Array.from({ length: 300 }, (_, i) => `finding ${i} ${"x".repeat(1500)}`);
    const errors = Array.from({ length: 60 }, (_, i) => `error ${i} ${"é".repeat(1500)}`);
    const message = buildNotificationMessage(input({ findings, progress: progress({ packetCaptureErrors: errors }) }));
    const bytes = Buffer.byteLength(JSON.stringify(message.teams), "utf8");
    expect(bytes).toBeLessThanOrEqual(TEAMS_MESSAGE_MAX_BYTES);
    const card = cardOf(message);
    assertCard14(card);
    expect(textOf(card)).toMatch(/not shown here; see the full report/);
    expect(textOf(card)).toContain("finding 0");
  });

  it("shows a failed capture in attention colour with its reason and Network Watcher errors", () => {
    const card = cardOf(
      buildNotificationMessage(
        input({
          event: "capture.failed",
          findings: [],
          progress: progress({ failureReason: "The VM has no Network Watcher agent.", packetCaptureErrors: ["AgentMissing"] }),
        }),
      ),
    );
    assertCard14(card);
    const title = (card["body"] as Record<string, unknown>[])[0];
    expect(title).toMatchObject({ text: "Packet capture failed on vm-web-1", color: "Attention" });
    expect(textOf(card)).toContain("The VM has no Network Watcher agent.");
    expect(textOf(card)).toContain("AgentMissing");
    expect(textOf(card)).toContain("No findings were reported.");
  });
});

describe("Slack message (incoming webhook, Block Kit)", () => {
  function assertSlackLimits(slack: { text: string; blocks: readonly Record<string, unknown>[] }): void {
    expect(slack.text.length).toBeGreaterThan(0);
    expect(slack.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    expect(JSON.stringify(slack).length).toBeLessThan(SLACK_MESSAGE_MAX_CHARS);
    for (const block of slack.blocks) {
      const text = block["text"] as { text: string } | undefined;
      if (block["type"] === "header") expect(text!.text.length).toBeLessThanOrEqual(150);
      if (block["type"] === "section" && text) expect(text.text.length).toBeGreaterThan(0);
      if (block["type"] === "section" && text) expect(text.text.length).toBeLessThanOrEqual(3000);
      const fields = block["fields"] as { text: string }[] | undefined;
      if (fields) {
        expect(fields.length).toBeLessThanOrEqual(10);
        for (const field of fields) expect(field.text.length).toBeLessThanOrEqual(2000);
      }
    }
  }

  it("has a fallback text and blocks holding target, rule, window, outcome, file, findings and links", () => {
    const { slack } = buildNotificationMessage(input());
    assertSlackLimits(slack as unknown as { text: string; blocks: Record<string, unknown>[] });
    expect(slack.text).toBe(
      "Packet capture finished on vm-web-1 — alert High outbound flows — Network Watcher stop reason: TimeExceeded",
    );
    expect(slack.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "Packet capture finished on vm-web-1" } });
    const text = JSON.stringify(slack.blocks);
    for (const expected of ["*Alert rule*", "Sev2", "*Window*", "(5 min)", "*Outcome*", "capture.cap", "• Top talker 10.0.0.4"]) {
      expect(text).toContain(expected);
    }
    expect(text).toContain("<https://stcaptures.blob.core.windows.net/reports/vm-web-1.html|Open report>");
  });

  it("keeps within Block Kit limits and the 10k budget for huge inputs", () => {
    const findings = Array.from({ length: 500 }, (_, i) => `finding ${i} ${"y".repeat(3000)}`);
    const { slack } = buildNotificationMessage(
      input({ findings, progress: progress({ packetCaptureErrors: Array.from({ length: 50 }, () => "z".repeat(3000)), alert: { ...progress().alert, rule: "r".repeat(5000) } }) }),
    );
    assertSlackLimits(slack as unknown as { text: string; blocks: Record<string, unknown>[] });
    expect(JSON.stringify(slack)).toMatch(/not shown here; see the full report/);
  });

  it("escapes Slack control characters so alert text cannot mention @channel or forge links", () => {
    const { slack } = buildNotificationMessage(input({ findings: ["<!channel> see <https://evil.example|here> & more"] }));
    const text = JSON.stringify(slack);
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt; see &lt;https[:]//evil.example|here&gt; &amp; more");
  });
});

describe("secrets never reach a message", () => {
  it("strips sig=/code= from storage, report and status URLs and from free text in every format", () => {
    const message = buildNotificationMessage(
      input({
        reportUrl: "https://st.blob.core.windows.net/reports/r.html?sv=2022-11-02&sr=b&sp=r&sig=REPORTSASSIG",
        statusUrl: "https://alertcap.azurewebsites.net/api/captures/abc?code=FUNCTIONKEY",
        findings: ["uploaded to https://st.blob.core.windows.net/c/f?sv=1&sig=FINDINGSIG"],
        progress: progress({
          storagePath: "https://st.blob.core.windows.net/c/capture.cap?sv=2022-11-02&sig=STORAGESIG",
          failureReason: "GET https://x.example/api?code=REASONKEY failed",
          packetCaptureErrors: ["token=ERRTOKEN"],
        }),
      }),
    );
    const everything = JSON.stringify(message);
    for (const secret of ["REPORTSASSIG", "FUNCTIONKEY", "FINDINGSIG", "STORAGESIG", "REASONKEY", "ERRTOKEN"]) {
      expect(everything).not.toContain(secret);
    }
    expect(message.generic.data.reportUrl).toBe("https://st.blob.core.windows.net/reports/r.html?sv=2022-11-02&sr=b&sp=r");
    expect(message.generic.data.statusUrl).toBe("https://alertcap.azurewebsites.net/api/captures/abc");
  });

  it("drops links that are not http(s) and names scale-set instances readably", () => {
    const message = buildNotificationMessage(
      input({
        reportUrl: "javascript:alert(1)",
        progress: progress({
          target: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api/virtualMachines/3",
          targetKind: "virtualMachineScaleSetInstance",
        }),
      }),
    );
    expect(message.generic.data.reportUrl).toBeNull();
    expect(JSON.stringify(message)).not.toContain("javascript:");
    expect(message.slack.blocks[0]).toMatchObject({ text: { text: "Packet capture finished on vmss-api instance 3" } });
  });
});
