// How a capture ends when Azure fails it the way Azure really does: a session that could not run (Stopped, no
// stopReason, free-text packetCaptureError, as recorded), a capture deleted by someone else, a create whose
// long-running operation ends Failed; and a capture named like alertcap's that writes to an account alertcap does
// not use, which must not be joined. Each ends at once with a reason a person can act on, and a notification.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armClients } from "../azure/armClients.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { notificationsFor } from "./support/notifications.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
const WATCHER = ["NetworkWatcherRG", "NetworkWatcher_westus2"] as const;
const NOT_RUNNING = `${vmId("vm-a")} does not exist or is in stopped state.`;
const FOREIGN_ACCOUNT = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/someoneelse`;

interface Notification {
  type: string;
  data: { target: string; outcome: string; failureReason: string | null; packetCaptureErrors: string[] };
}

function writeInventory(): string {
  const vm = (name: string) => ({ id: vmId(name), location: "westus2", powerState: "running", networkWatcherExtension: true });
  const inventory = {
    virtualMachines: ["vm-a", "vm-b", "vm-c", "vm-d", "vm-e"].map(vm),
    storageAccounts: [
      { id: SAMPLE_STORAGE_ID, location: "westus2" },
      { id: FOREIGN_ACCOUNT, location: "westus2" },
    ],
    packetCaptures: [
      {
        // Named as alertcap would name a capture of vm-d, but writing to an account alertcap is not configured for.
        id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westus2/packetCaptures/alertcap-vm-d-20261101-000000`,
        target: vmId("vm-d"),
        targetType: "AzureVM",
        status: "Running",
        captureStartTime: "2026-11-01T00:00:00.0000000Z",
        timeLimitInSeconds: 18000,
        storageLocation: { storageId: FOREIGN_ACCOUNT, storagePath: "https://someoneelse.blob.core.windows.net/network-watcher-logs/trap.cap" },
      },
    ],
  };
  const path = join(mkdtempSync(join(tmpdir(), "alertcap-failures-")), "inventory.json");
  writeFileSync(path, JSON.stringify(inventory));
  return path;
}

describe("capture workflow: Azure's real failure shapes", () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({
      inventoryPath: writeInventory(),
      faults: JSON.stringify({
        seed: 3,
        rules: [
          // The 1st capture created (vm-a) cannot run: Network Watcher's recorded shape.
          { kind: "captureError", operation: "PacketCaptures_Create", times: 1, captureStatus: "Stopped", errors: [NOT_RUNNING], afterSeconds: 0 },
          // The 3rd create (vm-c) is accepted, then its operation ends Failed.
          { kind: "lroFailure", operation: "PacketCaptures_Create", skip: 2, times: 1, error: { code: "InternalServerError", message: "An error occurred." } },
          // The 5th create (vm-e) is carried out, but its answer never arrives.
          { kind: "reset", operation: "PacketCaptures_Create", skip: 4, times: 1, afterHandler: true },
        ],
      }),
      appSettings: { ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/hook`, ALERTCAP_CAPTURE_SECONDS: "600", ALERTCAP_FILE_WAIT_SECONDS: "600",
        // Polls 5 s, 10 s, 20 s apart: a delete made between two polls is over before the next one (while it is
        // under way the session reads Stopped, which is a different story).
        ALERTCAP_POLL_SECONDS: "30",
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const sentFor = (target: string) => notificationsFor<Notification>(receiver, target);
  const ended = (c: { runtimeStatus: string }) => c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending";
  const activitiesOf = async (id: string) => (await stack.durableStatus(id)).historyEvents!.map((e) => (e.FunctionName ?? e.Name) as string | undefined).filter(Boolean);

  it("fails at once, in Network Watcher's words, when the session is Stopped with free-text errors", async () => {
    const target = vmId("vm-a");
    const { body } = await stack.postAlert(metricAlert(target));
    const done = await stack.waitForCapture(body.id as string, ended, "to end", 60_000);
    expect(done.phase).toBe("failed");
    expect(done.networkWatcherStatus).toBe("Stopped");
    expect(done.stopReason).toBeNull();
    expect(done.packetCaptureErrors).toEqual([NOT_RUNNING]);
    expect(done.failureReason).toContain(NOT_RUNNING);
    // No file was waited for: none will come.
    expect(await activitiesOf(done.id)).not.toContain("locateCaptureFile");
    const sent = sentFor(target);
    expect(sent).toHaveLength(1);
    expect(sent[0]!).toMatchObject({ type: "capture.failed", data: { outcome: "failed", packetCaptureErrors: [NOT_RUNNING] } });
    expect(sent[0]!.data.failureReason).toContain(NOT_RUNNING);
  });

  it("ends at once when someone else deletes the capture, says so, and still finds the file", async () => {
    const target = vmId("vm-b");
    const { body } = await stack.postAlert(metricAlert(target));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" && (c as unknown as { polls: number }).polls >= 2, "to run");
    await armClients(SUBSCRIPTION).network.packetCaptures.delete(...WATCHER, running.captureName!).pollUntilDone();
    const done = await stack.waitForCapture(running.id, ended, "to end", 60_000);
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/deleted outside alertcap/);
    expect(done.failureReason).not.toMatch(/could not read/i);
    expect(done.storagePath).toMatch(/virtualmachines\/vm-b\/.*\.cap$/);
    expect(done.analysis).not.toBeNull();
    const sent = sentFor(target);
    expect(sent.map((n) => n.type)).toEqual(["capture.failed"]);
    expect(sent[0]!.data.failureReason).toMatch(/deleted outside alertcap/);
  });

  it("treats a create whose operation ends Failed as permanent: no create and delete cycles", async () => {
    const target = vmId("vm-c");
    const { body } = await stack.postAlert(metricAlert(target));
    const done = await stack.waitForCapture(body.id as string, ended, "to end", 60_000);
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/create operation ended Failed/);
    // One create, not retried.
    expect((await activitiesOf(done.id)).filter((name) => name === "createPacketCapture")).toHaveLength(1);
    expect(sentFor(target).map((n) => n.type)).toEqual(["capture.failed"]);
  });

  it("does not join a capture named like alertcap's that writes to an account alertcap is not configured for", async () => {
    const target = vmId("vm-d");
    const { body } = await stack.postAlert(metricAlert(target));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" || ended(c), "to run");
    expect(running.captureName).not.toBe("alertcap-vm-d-20261101-000000");
    const capture = await armClients(SUBSCRIPTION).network.packetCaptures.get(...WATCHER, running.captureName!);
    expect(capture.storageLocation?.storageId).toBe(SAMPLE_STORAGE_ID);
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
    await stack.waitForCapture(running.id, ended, "to end", 60_000);
  });

  it("adopts the capture a PUT made when the PUT's answer was lost, rather than deleting or refusing it", async () => {
    const target = vmId("vm-e");
    const { body } = await stack.postAlert(metricAlert(target));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" || ended(c), "to run");
    expect(running.failureReason).toBeNull();
    expect(running.captureName).toMatch(/^alertcap-vm-e-\d{8}-\d{6}$/);
    // The one capture it made, still running: not deleted and made again.
    const names: string[] = [];
    for await (const c of armClients(SUBSCRIPTION).network.packetCaptures.list(...WATCHER)) if (c.name?.startsWith("alertcap-vm-e-")) names.push(c.name);
    expect(names).toEqual([running.captureName]);
    const status = await armClients(SUBSCRIPTION).network.packetCaptures.getStatus(...WATCHER, running.captureName!).pollUntilDone();
    expect(status.packetCaptureStatus).toBe("Running");
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
    await stack.waitForCapture(running.id, ended, "to end", 60_000);
  });
});
