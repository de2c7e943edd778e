// A crash in the middle of a renewal: the host goes down after the recorder created the next session and before it
// stopped the old one (both exist in Network Watcher), and a new host starts on the same data directory. The
// recorder picks up where its durable history left it: the new session runs, the old one is stopped and deleted,
// and exactly one session records the target.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { vmId } from "./support/alerts.js";
import { type RecorderStack, startRecorderStack } from "./recorderStack.js";

const VM = vmId("vm-web-1");

describe("a host crash mid-renewal", () => {
  let stack: RecorderStack;

  beforeAll(async () => {
    stack = await startRecorderStack({
      // The shortest session the settings allow (10 min, renewed 1 min early), and a create that takes a moment of
      // real time, so the recorder waits for the new session on a durable timer: the moment the host is closed.
      env: { ALERTCAP_RECORDER_SESSION_SECONDS: "600", ALERTCAP_RECORDER_POLL_SECONDS: "120", ALERTCAP_RECORDER_FILE_BYTES: "4294967295" },
      emulator: { timings: { createSeconds: 0.3, captureStartSeconds: 0.01, queryStatusSeconds: 0, stopSeconds: 0.01, deleteSeconds: 0.01, blobUploadDelaySeconds: 0.01 } },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  /** Waits (real time) until the emulator has finished provisioning every recorder session of the VM. */
  async function provisioned(): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      if (stack.emulator.captures().every((c) => !c.name.startsWith("alertrec-") || c.provisioningState === "Succeeded")) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error("the emulator never finished provisioning");
  }

  it("leaves exactly one running session once the restarted host has finished the renewal", async () => {
    const armed = await stack.api("POST", "/api/recorders", { target: VM });
    expect(armed.status).toBe(202);
    const id = String(armed.body.id);
    const view = async () => (await stack.api("GET", `/api/recorders/${id}`)).body as Record<string, any>;
    await stack.drive(async () => {
      await provisioned();
      return (await view()).phase === "recording";
    });
    const first = (await view()).session.name as string;

    // Drive to the renewal, and stop as soon as the next session exists while the first still runs.
    await stack.drive(() => stack.recorderSessions("vm-web-1").length === 2);
    const during = stack.recorderSessions("vm-web-1");
    expect(during.find((s) => s.name === first)?.status).toBe("Running");
    expect((await view()).phase).toBe("renewing");
    await stack.host.close();

    // A new host on the same data directory: the app's modules load again, as in a new worker process.
    vi.resetModules();
    await stack.restartHost();
    await provisioned();
    await stack.drive(async () => (await view()).renewals === 1 && (await view()).phase === "recording");
    const after = await view();
    const running = stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running");
    expect(running.map((s) => s.name)).toEqual([after.session.name]);
    expect(after.session.name).not.toBe(first);
    // The old session is gone altogether (stopped, then deleted; its files stay).
    expect(stack.recorderSessions("vm-web-1").map((s) => s.name)).toEqual([after.session.name]);
    // And it stays that way through the next renewal.
    await stack.drive(async () => (await view()).renewals === 2);
    expect(stack.recorderSessions("vm-web-1").filter((s) => s.status === "Running")).toHaveLength(1);
  }, 120_000);
});
