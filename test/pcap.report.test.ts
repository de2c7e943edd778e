// The HTML report rendered by real headless Chromium (Debian's /usr/bin/chromium through playwright-core): the charts
// are there and drawn, every number on the page is the summary's, nothing is fetched from anywhere, and a screenshot
// lands in test-results/report.png for CI to keep.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeCapture, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { htmlReport } from "../domain/pcap/htmlReport.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";

describe.skipIf(!existsSync(CHROMIUM))("HTML report in headless Chromium", () => {
  let profile = "";
  let context: BrowserContext;
  let page: Page;
  let summary: CaptureSummary;
  const requests: string[] = [];

  beforeAll(async () => {
    summary = await analyzeCapture(fileChunks(join(root, "test", "fixtures", "pcaps", "generated-vlan100-nsec.pcap")));
    profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
    const reportFile = join(profile, "report.html");
    writeFileSync(reportFile, htmlReport(summary, { title: "generated-vlan100-nsec.pcap", generatedAt: "2026-11-25T00:00:00Z" }));
    context = await chromium.launchPersistentContext(join(profile, "user-data"), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(reportFile).href);
  }, 30_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("draws the timeline, protocol mix and top talkers charts", async () => {
    for (const id of ["timeline-chart", "protocol-chart", "network-chart", "talkers-chart"]) {
      const box = await page.locator(`svg#${id}`).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(10);
    }
    const timelinePoints = await page.locator("#timeline-chart path.series").getAttribute("d");
    expect(timelinePoints!.split(" L").length).toBeGreaterThan(summary.timeline.packets.length); // a step per bucket
    expect(await page.locator("#protocol-chart rect.share").count()).toBe(summary.protocolMix.transport.length);
    expect(await page.locator("#talkers-chart g.talker").count()).toBe(summary.topTalkers.length);
  });

  it("shows the summary's numbers", async () => {
    const shown = await page.locator("[data-field]").evaluateAll((nodes) =>
      nodes.map((n) => ({ field: n.getAttribute("data-field")!, value: n.getAttribute("data-value")!, text: n.textContent ?? "" })),
    );
    expect(shown.length).toBeGreaterThan(20);
    for (const { field, value, text } of shown) {
      const expected = field.split(".").reduce<unknown>((o: unknown, key: string) => (o as Record<string, unknown>)[key], summary);
      expect(String(expected), field).toBe(value);
      if (typeof expected === "number") expect(Number(text.replace(/,/g, "")), field).toBe(expected);
    }
    const talkerRows = await page.locator("#talkers-table tbody tr").evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    expect(talkerRows.map((r) => [r[0], Number(r[1]!.replace(/,/g, ""))])).toEqual(summary.topTalkers.map((t) => [t.address, t.bytes]));
    const conversations = await page.locator("#conversations-table tbody tr").count();
    expect(conversations).toBe(summary.topConversations.length);
    const embedded = await page.locator("script#summary").textContent();
    expect(JSON.parse(embedded!)).toEqual(summary);
  });

  it("loads nothing but itself", () => {
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatch(/^file:/);
  });

  it("saves a screenshot to test-results/report.png", async () => {
    mkdirSync(join(root, "test-results"), { recursive: true });
    const path = join(root, "test-results", "report.png");
    const png = await page.screenshot({ path, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
  });
});

describe.skipIf(existsSync(CHROMIUM))("HTML report in headless Chromium", () => {
  it("SKIPPED: /usr/bin/chromium is missing (CI installs it: apt-get install chromium)", () => {
    console.warn("pcap.report.test: /usr/bin/chromium missing — the HTML report was not rendered");
  });
});
