// `alertcap diff` as a user runs it: a child process on the real bin, on pcap files written to disk.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertcap, REPO_ROOT as root } from "./support/alertcapCli.js";
import { scenarioCapture } from "./diff.captures.js";

const fixture = (name: string): string => join(root, "test", "fixtures", "pcaps", name);

describe("alertcap diff", () => {
  let dir = "";
  let baseline = "";
  let incident = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alertcap-diff-"));
    baseline = join(dir, "baseline.pcap");
    incident = join(dir, "incident.pcap");
    writeFileSync(baseline, scenarioCapture({ dnsQueries: 200, dnsServfail: 0, httpRequests: 300, http5xx: 1 }));
    // Host headers are chosen by whoever sends the request: this one tries to inject markup into the HTML report.
    writeFileSync(incident, scenarioCapture({ dnsQueries: 200, dnsServfail: 60, httpRequests: 300, http5xx: 90, httpHost: "<script>alert(1)</script>", newTalker: "198.51.100.9" }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is listed by `alertcap --help`", () => {
    expect(alertcap(["--help"]).stdout).toMatch(/\bdiff\b/);
  });

  it("--json prints one object with the contract's fields, findings first by importance", () => {
    const run = alertcap(["diff", baseline, incident, "--json"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const d = JSON.parse(run.stdout) as Record<string, unknown[]>;
    for (const field of ["newTalkers", "goneTalkers", "newServices", "rateChanges", "findings"]) expect(Array.isArray(d[field])).toBe(true);
    expect(d.newTalkers).toEqual([{ address: "198.51.100.9", packets: 60, bytes: expect.any(Number) }]);
    // The failing Host is new in the incident: no per-host test is possible, so the capture-wide rate names it.
    expect(d.findings![0]).toBe(
      "HTTP 5xx responses rose from 0.3 % (1 of 300) to 30 % (90 of 300) (two-proportion z-test, p < 0.001); 90 of them for <script>alert(1)</script>, which the baseline did not have.",
    );
    expect(d.findings![1]).toMatch(/^DNS SERVFAIL answers rose from 0 % \(0 of 200\) to 30 % \(60 of 200\) from DNS server 10\.0\.0\.53/);
  });

  it("diffs captures recorded with real tools: the DNS capture against the HTTP one", () => {
    const run = alertcap(["diff", fixture("app-http.pcap"), fixture("app-dns.pcap"), "--json"]);
    expect(run.status).toBe(0);
    const d = JSON.parse(run.stdout) as { newTalkers: Array<{ address: string }>; newServices: Array<{ service: string }>; goneServices: Array<{ service: string }> };
    expect(d.newTalkers.map((t) => t.address)).toContain("127.0.0.77");
    expect(d.newServices.map((s) => s.service)).toEqual(expect.arrayContaining(["127.0.0.77 UDP/53", "127.0.0.77 TCP/53"]));
    expect(d.goneServices.map((s) => s.service)).toContain("[::1] TCP/8080");
  });

  it("writes an HTML report with every text from the packets escaped", () => {
    const out = join(dir, "diff.html");
    const run = alertcap(["diff", baseline, incident, "--html", out]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`HTML report written to ${out}`);
    const html = readFileSync(out, "utf8");
    expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("HTTP 5xx responses rose");
  });

  it("an unreadable file: exit 1 and one line on stderr", () => {
    const run = alertcap(["diff", baseline, join(dir, "missing.pcap")]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toEqual([`alertcap diff: ${join(dir, "missing.pcap")}: no such file or directory`]);
  });

  it("input that is not a capture, or a corrupt one: exit 2 and one line on stderr", () => {
    const text = join(dir, "notes.txt");
    writeFileSync(text, "not a capture\n");
    const notCapture = alertcap(["diff", text, incident]);
    expect(notCapture.status).toBe(2);
    expect(notCapture.stderr.trim().split("\n")).toHaveLength(1);
    expect(notCapture.stderr).toMatch(/^alertcap diff: .*notes\.txt: unsupported format/);

    const corrupt = join(dir, "corrupt.pcapng");
    // A pcapng Section Header Block whose two length fields disagree: broken framing.
    const shb = Buffer.alloc(28);
    shb.writeUInt32LE(0x0a0d0d0a, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    shb.writeUInt32LE(99, 24);
    writeFileSync(corrupt, shb);
    const broken = alertcap(["diff", baseline, corrupt]);
    expect(broken.status).toBe(2);
    expect(broken.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("bad usage: exit 2 with the usage", () => {
    const run = alertcap(["diff", baseline]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/needs two capture files/);
  });
});
