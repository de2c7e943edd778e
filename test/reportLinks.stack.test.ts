// Issue 12 (6, 7): every link in a notification opens for the people in the channel, on the local stack against
// Azurite exactly as in Azure against the capture account: the report link is a read-only SAS for that one blob, and
// the report it opens carries the capture's status. GET /api/captures/{id} shows such a link too. No SAS is kept in
// durable state (it is readable through the management API).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportLinkFor } from "../azure/reportLinks.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

interface Sent {
  path: string;
  json: { type?: string; data?: { target: string; reportUrl: string | null; statusUrl: string | null }; attachments?: Array<{ content: { actions?: Array<{ title: string; url: string }> } }> };
}

describe("report links on the local stack", () => {
  let stack: TestStack;
  let receiver: Receiver;
  let azurite: string;
  const target = vmId("vm-web-1");
  let id: string;
  let reportPath: string;
  let storagePath: string;
  let sent: Sent[];

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({
      inventoryPath: join(process.cwd(), "test", "fixtures", "inventory", "workflow.json"),
      appSettings: { ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/generic,teams+${receiver.url}/teams` },
    });
    azurite = /BlobEndpoint=([^;]+)/.exec(stack.blobConnectionString)![1]!;
    // This process mints links as the app does (expired ones, for the test), so it is configured like the app.
    process.env.ALERTCAP_CAPTURE_BLOB_CONNECTION = stack.blobConnectionString;
    process.env.ALERTCAP_CAPTURE_STORAGE_ID = SAMPLE_STORAGE_ID;

    const accepted = await stack.postAlert(metricAlert(target));
    expect(accepted.status).toBe(202);
    id = accepted.body.id as string;
    const done = await stack.waitForCapture(id, (c) => c.runtimeStatus === "Completed" || c.runtimeStatus === "Failed", "to finish", 90_000);
    expect(done.phase).toBe("completed");
    reportPath = done.reportPath!;
    storagePath = done.storagePath!;
    sent = receiver.received as Sent[];
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const genericLink = (): string => {
    const body = sent.find((r) => r.path === "/generic")!.json;
    expect(body.data!.target.toLowerCase()).toBe(target.toLowerCase());
    return body.data!.reportUrl!;
  };

  it("the notification's report link opens the HTML report with no other credential, and the report carries the status", async () => {
    const link = genericLink();
    expect(link.startsWith(`${azurite}/network-watcher-logs/`)).toBe(true);
    const sas = new URL(link).searchParams;
    expect([sas.get("sp"), sas.get("sr")]).toEqual(["r", "b"]);
    const response = await fetch(link);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain("Capture triage");
    expect(html).toMatch(/<section id="capture-status" data-outcome="stopped">/);
    expect(html).toContain("Packet capture finished on vm-web-1");
    expect(html).toContain("TimeExceeded");
    // Written once, however the section was placed.
    expect(html.split('id="capture-status"')).toHaveLength(2);
  });

  it("Teams gets only links a person can open: the report, no keyed status route", async () => {
    const card = sent.find((r) => r.path === "/teams")!.json.attachments![0]!.content;
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "Open report", url: genericLink() }]);
    expect((await fetch(card.actions![0]!.url)).status).toBe(200);
  });

  it("the link is refused when tampered with, when expired, for writing, and for any other blob", async () => {
    const link = new URL(genericLink());
    // Without its SAS the blob is private, as before this change (the container allows no public access).
    expect((await fetch(`${link.origin}${link.pathname}`)).status).toBeGreaterThanOrEqual(400);
    const tampered = new URL(link);
    tampered.searchParams.set("sig", `${link.searchParams.get("sig")!.slice(0, -4)}AAA=`);
    expect((await fetch(tampered)).status).toBe(403);
    const longer = new URL(link);
    longer.searchParams.set("se", "2099-01-01T00:00:00Z");
    expect((await fetch(longer)).status).toBe(403);

    // A link minted two hours ago for one hour: Azurite checks the expiry like Azure.
    const expired = await reportLinkFor(reportPath, { hours: 1, now: new Date(Date.now() - 2 * 3600_000) });
    expect(Date.parse(expired.expiresOn)).toBeLessThan(Date.now());
    expect((await fetch(expired.url)).status).toBe(403);
    const fresh = await reportLinkFor(reportPath, { hours: 1 });
    expect((await fetch(fresh.url)).status).toBe(200);

    const write = await fetch(link, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob", "content-type": "text/html" }, body: "<h1>replaced</h1>" });
    expect(write.status).toBe(403);
    expect(await (await fetch(link)).text()).toContain("Capture triage");

    // The capture file itself (and any other name) with the same query: not covered.
    const capture = new URL(link);
    capture.pathname = capture.pathname.replace(/\.report\.html$/, "");
    expect(capture.pathname.endsWith(".cap")).toBe(true);
    expect((await fetch(capture)).status).toBe(403);
    const other = new URL(link);
    other.pathname = other.pathname.replace(/[^/]+$/, "other.report.html");
    expect((await fetch(other)).status).toBe(403);
  });

  it("GET /api/captures/{id} shows a report URL a person can open, and keeps the blob path without SAS", async () => {
    const view = (await (await fetch(`${stack.url}/api/captures/${id}?code=${stack.functionKey}`)).json()) as Record<string, string | null>;
    expect(view.reportPath).toBe(`${storagePath}.report.html`);
    expect(view.reportUrl!.startsWith(`${azurite}/network-watcher-logs/`)).toBe(true);
    expect(Date.parse(view.reportUrlExpiresOn!)).toBeGreaterThan(Date.now() + 70 * 3600_000);
    const response = await fetch(view.reportUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain('id="capture-status"');
  });

  // What a person does: open the status's reportUrl in a browser. Real headless Chromium (Debian's, as CI installs it);
  // the screenshot is a CI artifact.
  it.runIf(existsSync("/usr/bin/chromium"))("the status's report URL opens in headless Chromium, findings and capture status shown", async () => {
    const view = (await (await fetch(`${stack.url}/api/captures/${id}?code=${stack.functionKey}`)).json()) as { reportUrl: string };
    const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    const context = await chromium.launchPersistentContext(join(profile, "user-data"), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const response = await page.goto(view.reportUrl);
      expect(response?.status()).toBe(200);
      await expect(page.locator("#capture-status").count()).resolves.toBe(1);
      expect(await page.locator("body").innerText()).toMatch(/packets/i);
      mkdirSync(join(process.cwd(), "test-results"), { recursive: true });
      const png = await page.screenshot({ path: join(process.cwd(), "test-results", "report-from-status.png"), fullPage: true });
      expect(png.length).toBeGreaterThan(10_000);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it("no SAS in durable state: history, inputs, outputs and custom status as the management API shows them", async () => {
    const response = await fetch(
      `${stack.url}/runtime/webhooks/durabletask/instances/${id}?showHistory=true&showHistoryOutput=true&showInput=true&code=${stack.systemKey}`,
    );
    expect(response.status).toBe(200);
    const state = await response.text();
    expect(state).toContain(".report.html");
    expect(state).toContain("historyEvents");
    const signature = new URL(genericLink()).searchParams.get("sig")!;
    for (const leak of ["sig=", "sig%3D", signature, encodeURIComponent(signature)]) expect(state).not.toContain(leak);
    // Nor in the host's log, the notification's link or the status endpoint's.
    const view = (await (await fetch(`${stack.url}/api/captures/${id}?code=${stack.functionKey}`)).json()) as { reportUrl: string };
    const statusSignature = new URL(view.reportUrl).searchParams.get("sig")!;
    for (const leak of [signature, statusSignature, encodeURIComponent(signature), encodeURIComponent(statusSignature)]) expect(stack.host.output()).not.toContain(leak);
  });
});
