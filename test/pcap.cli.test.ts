// `alertcap analyze` as a user (and the outside checks of shared/contract.md) runs it: a child process on the real bin.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixture = (name: string): string => join(root, "test", "fixtures", "pcaps", name);

function alertcap(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(root, "bin", "alertcap.js"), ...args], { encoding: "utf8", input, cwd: root });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("alertcap analyze", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "alertcap-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is listed by `alertcap --help`", () => {
    const run = alertcap(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\banalyze\b/);
  });

  it("--json prints one object with the contract's fields", () => {
    const run = alertcap(["analyze", fixture("generated-vlan100-nsec.pcap"), "--json"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const s = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      format: "pcap",
      linkTypes: [1],
      packets: 600,
      bytes: 431_985,
      capturedBytes: 431_985,
      firstTimestamp: "2026-11-25T15:29:34.589073000Z",
      lastTimestamp: "2026-11-25T15:29:34.664360000Z",
      ipv4: 560,
      ipv6: 40,
      tcp: 582,
      udp: 18,
      icmp: 0,
      tcpSyn: 25,
      tcpSynAck: 23,
      tcpRst: 2,
      tcpFin: 34,
      tcpRetransmissions: 1,
      truncated: false,
    });
    for (const field of ["topTalkers", "topConversations"]) expect(Array.isArray(s[field]) && (s[field] as unknown[]).length > 0).toBe(true);
    expect(Date.parse(s.firstTimestamp as string)).toBe(Date.parse("2026-11-25T15:29:34.589Z"));
    expect(s.topTalkers).toContainEqual(expect.objectContaining({ address: "127.0.0.1", bytes: expect.any(Number) }));
  });

  it("prints a readable table by default", () => {
    const run = alertcap(["analyze", fixture("dpkt-http.pcap")]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Packets\s+43\s+bytes 25,091 on the wire/m);
    expect(run.stdout).toMatch(/Top talkers/);
    expect(run.stdout).toMatch(/145\.254\.160\.237:3372\s+65\.208\.228\.223:80/);
  });

  it("--html writes a self-contained report and still prints the summary", () => {
    const out = join(dir, "report.html");
    const run = alertcap(["analyze", fixture("dpkt-http.pcap"), "--json", "--html", out]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ packets: 43 });
    const html = readFileSync(out, "utf8");
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toMatch(/<svg id="timeline-chart"/);
    expect(html).not.toMatch(/<script src|<link [^>]*href=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/); // nothing fetched
  });

  it("reads stdin with `-`", () => {
    const run = alertcap(["analyze", "-", "--json"], readFileSync(fixture("pcap-parser-be.pcap")));
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ packets: 5, format: "pcap" });
  });

  it("exits 0 with truncated: true for a file cut mid-record", () => {
    const cut = join(dir, "cut.pcap");
    writeFileSync(cut, readFileSync(fixture("dpkt-http.pcap")).subarray(0, 20_000));
    const run = alertcap(["analyze", cut, "--json"]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ truncated: true });
  });

  // A file that cannot be read is an I/O error (exit 1), told apart from input that is not a capture (exit 2).
  for (const [label, path, message] of [
    ["a missing file", () => join(dir, "no-such-file.pcap"), /no such file/],
    ["a directory", () => dir, /directory/],
  ] as const) {
    it(`exits 1 with one line on stderr for ${label}`, () => {
      const run = alertcap(["analyze", path(), "--json"]);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    });
  }

  const refusals: Array<[label: string, bytes: Buffer | null, message: RegExp]> = [
    ["a text file", Buffer.from("hello, not a capture\n"), /unsupported format/],
    ["a gzip-compressed pcap", gzipSync(readFileSync(fixture("dpkt-http.pcap"))), /gzip/],
    ["a NetMon capture", Buffer.concat([Buffer.from("GMBU"), Buffer.alloc(100)]), /Network Monitor/],
    ["an empty file", Buffer.alloc(0), /empty/],
    ["a pcap whose record length is garbage", Buffer.concat([readFileSync(fixture("dpkt-http.pcap")).subarray(0, 32), Buffer.from([0xff, 0xff, 0xff, 0x7f, 0x40, 0, 0, 0]), Buffer.alloc(100)]), /damaged/],
  ];
  for (const [label, bytes, message] of refusals) {
    it(`exits 2 with one line on stderr for ${label}`, () => {
      const file = join(dir, label.replace(/\W+/g, "-"));
      if (bytes) writeFileSync(file, bytes);
      const run = alertcap(["analyze", file, "--json"]);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
    });
  }

  it("exits 2 on bad usage", () => {
    expect(alertcap(["analyze"]).status).toBe(2);
    expect(alertcap(["analyze", "a", "b"]).status).toBe(2);
    expect(alertcap(["analyze", fixture("dpkt-http.pcap"), "--flows", "0"]).status).toBe(2);
    expect(alertcap(["analyze", fixture("dpkt-http.pcap"), "--html"]).status).toBe(2);
  });

  it("--flows and --top bound the tables", () => {
    const run = alertcap(["analyze", fixture("generated-vlan100-nsec.pcap"), "--json", "--flows", "5", "--top", "2"]);
    const s = JSON.parse(run.stdout) as { conversations: number; flowTableSaturated: boolean; topTalkers: unknown[]; packets: number };
    expect(s).toMatchObject({ conversations: 5, flowTableSaturated: true, packets: 600 });
    expect(s.topTalkers).toHaveLength(2);
  });
});
