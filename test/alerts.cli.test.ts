import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decideAlertText, MAX_ALERT_BODY_BYTES } from "../domain/alerts/decide.js";

// `alertcap explain-alert` as a user runs it: the real bin script on the compiled output.
const root = process.cwd();
const fixtures = path.join(root, "test", "fixtures", "alerts");
const scratch = mkdtempSync(path.join(tmpdir(), "alertcap-explain-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function alertcap(args: string[], stdin?: string | Buffer) {
  const run = spawnSync(process.execPath, [path.join(root, "bin", "alertcap.js"), ...args], {
    cwd: root,
    input: stdin ?? "",
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function singleJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe("");
  const parsed = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(["schema", "decision", "target", "alertId", "reason"]);
  return parsed;
}

function expectOneErrorLine(stderr: string): void {
  expect(stderr.endsWith("\n")).toBe(true);
  expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const capture = path.join(fixtures, "ps-test-activity-log-administrative-vm.json");
const rejected = path.join(fixtures, "common-metric-static-resolved-vm.json");

describe("alertcap explain-alert", () => {
  it("prints the decision for a file as one JSON line and exits 0 for capture", () => {
    const run = alertcap(["explain-alert", capture]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    const { targets: _targets, alert: _alert, ...expected } = decideAlertText(readFileSync(capture, "utf8"));
    expect(singleJsonLine(run.stdout)).toEqual(expected);
  });

  it("exits 0 for ignore and stop", () => {
    const ignore = alertcap(["explain-alert", path.join(fixtures, "common-metric-static-fired.json")]);
    expect([ignore.status, singleJsonLine(ignore.stdout)["decision"]]).toEqual([0, "ignore"]);
    const stop = alertcap(["explain-alert", path.join(fixtures, "synthetic-common-metric-vm-resolved.json")]);
    expect([stop.status, singleJsonLine(stop.stdout)["decision"]]).toEqual([0, "stop"]);
  });

  it("exits 2 for reject, with the JSON on stdout and one line on stderr", () => {
    const run = alertcap(["explain-alert", rejected]);
    expect(run.status).toBe(2);
    const output = singleJsonLine(run.stdout);
    expect(output).toMatchObject({ schema: "azureMonitorCommonAlertSchema", decision: "reject", target: null });
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toContain(String(output["reason"]));
  });

  it("reads the body from stdin with -", () => {
    const run = alertcap(["explain-alert", "-"], readFileSync(capture));
    expect(run.status).toBe(0);
    expect(singleJsonLine(run.stdout)["decision"]).toBe("capture");
  });

  it("rejects stdin that is not JSON", () => {
    const run = alertcap(["explain-alert", "-"], "{ this is not json");
    expect(run.status).toBe(2);
    expect(String(singleJsonLine(run.stdout)["reason"])).toMatch(/^Body is not JSON: /);
    expectOneErrorLine(run.stderr);
  });

  it("accepts a byte-order mark and CRLF line ends", () => {
    const file = path.join(scratch, "bom.json");
    writeFileSync(file, `\uFEFF${readFileSync(capture, "utf8").replace(/\n/g, "\r\n")}`);
    const run = alertcap(["explain-alert", file]);
    expect([run.status, singleJsonLine(run.stdout)["decision"]]).toEqual([0, "capture"]);
  });

  it.each([
    ["a missing file", () => path.join(scratch, "missing.json"), /no such file/],
    ["a directory", () => scratch, /directory/],
  ])("exits 1 (an I/O error, not a rejected alert) with one line on stderr for %s", (_what, makePath, message) => {
    const run = alertcap(["explain-alert", makePath()]);
    expect(run.status).toBe(1);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe("");
  });

  it.each([
    [
      "a file larger than any alert",
      () => {
        const file = path.join(scratch, "huge.json");
        writeFileSync(file, Buffer.alloc(MAX_ALERT_BODY_BYTES + 10, 0x20));
        return file;
      },
      /larger than/,
    ],
    [
      "a file that is not UTF-8",
      () => {
        const file = path.join(scratch, "latin1.json");
        writeFileSync(file, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
        return file;
      },
      /not UTF-8/,
    ],
  ])("exits 2 with one line on stderr for %s", (_what, makePath, message) => {
    const run = alertcap(["explain-alert", makePath()]);
    expect(run.status).toBe(2);
    expectOneErrorLine(run.stderr);
    expect(run.stderr).toMatch(message);
    expect(singleJsonLine(run.stdout)).toMatchObject({ schema: null, decision: "reject", target: null, alertId: null });
  });

  it("exits 2 with usage when the file argument is missing or doubled", () => {
    for (const args of [["explain-alert"], ["explain-alert", capture, capture]]) {
      const run = alertcap(args);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/^usage: alertcap explain-alert FILE/);
    }
  });

  it("is listed by alertcap --help", () => {
    const run = alertcap(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("explain-alert");
  });
});
