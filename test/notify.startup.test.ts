// A signing secret that is not a Standard Webhooks secret is reported once, in one line, when the worker loads the
// notify activity (not only when the first capture ends), without echoing the secret.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const activity = fileURLToPath(new URL("../activities/notify.js", import.meta.url));

async function loadActivity(secret: string): Promise<string[]> {
  const { stderr } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(activity)});`], {
    env: { PATH: process.env.PATH ?? "", ALERTCAP_NOTIFY_SECRET: secret },
    timeout: 60_000,
  });
  return stderr.split("\n").filter((line) => line.startsWith("alertcap:"));
}

describe("ALERTCAP_NOTIFY_SECRET at start-up", () => {
  it("a passphrase (not base64) is refused with one clear line that does not contain it", async () => {
    const lines = await loadActivity("my correct horse battery staple");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^alertcap: ALERTCAP_NOTIFY_SECRET must be a Standard Webhooks secret: base64 of at least 24 random bytes/);
    expect(lines[0]).not.toContain("horse");
  });

  it("a valid unpadded whsec_ secret loads silently", async () => {
    expect(await loadActivity(`whsec_${Buffer.alloc(32, 5).toString("base64").replace(/=+$/, "")}`)).toEqual([]);
  });
});
