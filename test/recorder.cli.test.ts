// `alertcap recorder arm|list|disarm` as a user runs it (the built CLI in a child process) against the local host
// with the ARM emulator and Azurite: the key goes in a header and is never printed; bad arguments exit 2 in one line.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vmId } from "./support/alerts.js";
import { FUNCTION_KEY, type RecorderStack, startRecorderStack } from "./recorderStack.js";

const run = promisify(execFile);
const VM = vmId("vm-web-1");

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["dist/cli/main.js", "recorder", ...args], { env: { ...process.env, ALERTCAP_APP_URL: "", ALERTCAP_FUNCTION_KEY: "" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("alertcap recorder", () => {
  let stack: RecorderStack;

  beforeAll(async () => {
    stack = await startRecorderStack({ env: { ALERTCAP_RECORDER_FILE_BYTES: "4294967295" } });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it("arms, lists and disarms a recorder on the local stack", async () => {
    const app = ["--app", stack.host.url, "--key", FUNCTION_KEY];
    const armed = await cli("arm", VM, ...app);
    expect(armed.code).toBe(0);
    expect(armed.stdout).toMatch(/^arming {2}rec-vm-web-1-[0-9a-f]{12} {2}\/subscriptions\/.*\/virtualMachines\/vm-web-1\n/);
    const id = /rec-vm-web-1-[0-9a-f]{12}/.exec(armed.stdout)![0];
    await stack.drive(() => stack.recorderSessions("vm-web-1").some((s) => s.status === "Running"));
    await stack.host.hub.whenIdle();

    const listed = await cli("list", ...app);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id}  recording  ${VM}`);
    expect(listed.stdout).toMatch(/session alertrec-vm-web-1-[0-9a-f]{12}-\d{8}-\d{6} \(Running\), renewals 0, re-arms 0/);
    const again = await cli("arm", VM, "--app", `${stack.host.url}/api/alerts?code=${FUNCTION_KEY}`);
    expect(again.stdout).toContain(`already armed  ${id}`);

    const disarmed = await cli("disarm", VM, ...app);
    expect(disarmed).toMatchObject({ code: 0, stdout: `disarming  ${id}\n` });
    await stack.drive(() => stack.host.hub.get(id)?.status === "Completed");
    const json = await cli("list", id, "--json", ...app);
    expect(JSON.parse(json.stdout)).toMatchObject({ id, phase: "disarmed", armed: false });
    for (const out of [armed, listed, again, disarmed, json]) expect(out.stdout + out.stderr).not.toContain(FUNCTION_KEY);
  }, 60_000);

  it("says in one line what is wrong: exit 2 for arguments, 1 for an answer that is not a success", async () => {
    const usage = await cli("arm", "vm-web-1", "--app", stack.host.url, "--key", FUNCTION_KEY);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^alertcap recorder: 'vm-web-1' is not a valid resource ID: .*\(see --help\)\n$/);
    const refused = await cli("list", "--app", stack.host.url, "--key", "wrong-key");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("alertcap recorder: GET /api/recorders answered 401: the function key was refused\n");
    const missing = await cli("disarm", "rec-nothing-000000000000", "--app", stack.host.url, "--key", FUNCTION_KEY);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("alertcap recorder: DELETE /api/recorders/rec-nothing-000000000000 answered 404: No recorder with id 'rec-nothing-000000000000'.\n");
  });
});
