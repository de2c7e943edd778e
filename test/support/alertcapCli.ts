// The `alertcap` command as a user runs it: a child process on the real bin script, from the repository's root.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root (tests run from dist/test/). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function alertcap(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(REPO_ROOT, "bin", "alertcap.js"), ...args], { encoding: "utf8", cwd: REPO_ROOT });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
