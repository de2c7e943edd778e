import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

// The `alertcap` command as a user meets it: the real bin script, on whatever Node runs it.
const root = process.cwd();
const bin = path.join(root, "bin", "alertcap.js");
const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;

function run(node: string, args: string[]) {
  const result = spawnSync(node, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A `node` on PATH outside node_modules: the machine's own, which on CI is Node 20 (npm ci brings 22 for scripts). */
function systemNode(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir || dir.includes("node_modules")) continue;
    const candidate = path.join(dir, "node");
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

describe("alertcap command line", () => {
  it("--help lists every command with a one-line summary and exits 0", () => {
    const help = run(process.execPath, ["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["explain-alert", "analyze", "setup-alert"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\s+\\S.{20,}$`, "m"));
    }
  });

  it("--version prints the package version", () => {
    const result = run(process.execPath, ["--version"]);
    expect(result).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it("an unknown command is a usage error (exit 2) naming the command", () => {
    const result = run(process.execPath, ["frobnicate"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });

  const node = systemNode();
  it.runIf(node !== null)("starts on the machine's own Node (re-executing on Node 22 when it is older)", () => {
    const result = run(node!, ["--version"]);
    expect(result.stderr).toBe("");
    expect(result).toMatchObject({ status: 0, stdout: `${version}\n` });
  });
});
