// The capture workflow end to end on the local stack: alert → capture created at the (emulated) Network Watcher →
// Running → Stopped → file in Azurite → notification, with the status endpoint showing each phase; and the ways it
// ends early or fails, each still producing a notification that says why.
import { BlobServiceClient } from "@azure/storage-blob";
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armClients } from "../azure/armClients.js";
import { parseStoragePath } from "../azure/captureFiles.js";
import { createPacketCapture, deletePacketCapture } from "../azure/packetCaptures.js";
import { packetCaptureBody } from "../domain/capture/plan.js";
import { type CaptureSettings, parseCaptureSettings } from "../domain/capture/settings.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { notificationsFor } from "./support/notifications.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";

interface GenericNotification {
  type: string;
  id: string;
  data: {
    target: string;
    captureName: string | null;
    outcome: string;
    stopReason: string | null;
    stopRequestedBecause: string | null;
    failureReason: string | null;
    packetCaptureErrors: string[];
    storagePath: string | null;
    findings: string[];
    alert: { rule: string | null };
  };
}

describe("capture workflow on the local stack", () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    stack = await startTestStack({
      inventoryPath: join(process.cwd(), "test", "fixtures", "inventory", "workflow.json"),
      appSettings: {
        ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/hooks/alertcap`,
        ALERTCAP_CAPTURE_STORAGE_ID: `${SAMPLE_STORAGE_ID},northeurope=/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-eu/providers/Microsoft.Storage/storageAccounts/eucaptures`,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  const sentFor = (target: string) => notificationsFor<GenericNotification>(receiver, target);

  it("captures, stops at the time limit, stores the file, notifies, and shows each phase", async () => {
    const target = vmId("vm-web-1");
    const accepted = await stack.postAlert(metricAlert(target));
    expect(accepted.status).toBe(202);
    expect(accepted.body.decision).toBe("capture");
    const id = accepted.body.id as string;
    expect(accepted.body.statusUrl).toBe(`${stack.url}/api/captures/${id}`);

    const phases = new Set<string>();
    const done = await stack.waitForCapture(id, (c) => {
      phases.add(c.phase);
      return c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending";
    }, "to finish", 90_000);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.phase).toBe("completed");
    expect(done.failureReason).toBeNull();
    expect(done.networkWatcherStatus).toBe("Stopped");
    expect(done.stopReason).toBe("TimeExceeded");
    expect(done.captureName).toMatch(/^alertcap-vm-web-1-\d{8}-\d{6}$/);
    expect(phases).toContain("capturing");

    // The file is in Blob storage where Network Watcher said, and it is a real capture file.
    expect(done.storagePath).toMatch(/^https:\/\/alertcapcaptures\.blob\.core\.windows\.net\/network-watcher-logs\/subscriptions\/.*\/virtualmachines\/vm-web-1\/\d{4}\/\d\d\/\d\d\/packetcapture_\d\d_\d\d_\d\d_\d{3}\.cap$/);
    const { container, blobName } = parseStoragePath(done.storagePath!);
    const file = await BlobServiceClient.fromConnectionString(stack.blobConnectionString).getContainerClient(container).getBlobClient(blobName).downloadToBuffer();
    expect([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]).toContain(file.readUInt32LE(0));

    // The analysis: a summary of the same file in the status, and an HTML report beside it.
    const analysis = done.analysis as { format: string; packets: number; bytes: number };
    expect(["pcap", "pcapng"]).toContain(analysis.format);
    expect(analysis.packets).toBeGreaterThanOrEqual(0);
    expect(done.reportPath).toBe(`${done.storagePath}.report.html`);
    const report = await BlobServiceClient.fromConnectionString(stack.blobConnectionString).getContainerClient(container).getBlobClient(`${blobName}.report.html`).downloadToBuffer();
    expect(report.toString()).toContain("<svg");

    // One notification, with what was captured, why it ended and what it shows.
    const sent = sentFor(target);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.type).toBe("capture.completed");
    expect(sent[0]!.data).toMatchObject({ captureName: done.captureName, outcome: "stopped", stopReason: "TimeExceeded", storagePath: done.storagePath });
    expect(sent[0]!.data.alert.rule).toBe("High TCP segments sent");
    // Findings lead with what broke (the emulated VM's refused and silent ports), then the capture's size.
    expect(sent[0]!.data.findings.some((f: string) => /packets|no packets/.test(f))).toBe(true);
    expect(done.notifications).toEqual([expect.objectContaining({ delivered: true, format: "generic" })]);

    // Structured events for the portal, each logged once however often the orchestrator replayed.
    const events = stack.host
      .output()
      .split("\n")
      .filter((line) => line.includes("alertcap.event "))
      .map((line) => JSON.parse(line.slice(line.indexOf("alertcap.event ") + "alertcap.event ".length)) as { event: string; instanceId: string })
      .filter((e) => e.instanceId === id);
    expect(events.map((e) => e.event)).toEqual(["alert.received", "capture.started", "capture.stopped", "notification.sent", "capture.completed"]);

    // The capture resource was deleted after the run (the file stays); the foreign capture on the same VM is untouched.
    const arm = armClients(SUBSCRIPTION);
    // The delete is sent, not waited for (its operation takes ~10 s in Azure): the resource goes soon after.
    await eventually(
      () => arm.network.packetCaptures.get("NetworkWatcherRG", "NetworkWatcher_westus2", done.captureName!).then(() => undefined, (error: { statusCode?: number }) => (error.statusCode === 404 ? true : undefined)),
      "the capture resource to be deleted",
    );
    const foreign = await arm.network.packetCaptures.getStatus("NetworkWatcherRG", "NetworkWatcher_westus2", "ops-team-capture").pollUntilDone();
    expect(foreign.packetCaptureStatus).toBe("Running");
  });

  it("creates captures whose request bodies match the official schema", async () => {
    const schema = JSON.parse(readFileSync(join(process.cwd(), "local", "arm-emulator", "capture", "packetcapture-schema.json"), "utf8")) as object;
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema(schema, "pc");
    const validate = ajv.getSchema("pc#/definitions/PacketCapture")!;
    const target = vmId("vm-web-2");
    const { body } = await stack.postAlert(metricAlert(target));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running", "to run");
    // What the emulator stored is what the SDK sent (the emulator also validates every body it receives).
    const capture = await armClients(SUBSCRIPTION).network.packetCaptures.get("NetworkWatcherRG", "NetworkWatcher_westus2", running.captureName!);
    const wire = {
      properties: {
        target: capture.target,
        targetType: capture.targetType,
        bytesToCapturePerPacket: capture.bytesToCapturePerPacket,
        totalBytesPerSession: capture.totalBytesPerSession,
        timeLimitInSeconds: capture.timeLimitInSeconds,
        storageLocation: { storageId: capture.storageLocation?.storageId },
        filters: capture.filters,
      },
    };
    expect(validate(wire), JSON.stringify(validate.errors)).toBe(true);
    expect(wire.properties).toMatchObject({ target, targetType: "AzureVM", timeLimitInSeconds: 100 });
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
  });

  it("stops early when the alert is resolved, and says so", async () => {
    const target = vmId("vm-win-1");
    const fired = await stack.postAlert(metricAlert(target));
    const id = fired.body.id as string;
    await stack.waitForCapture(id, (c) => c.networkWatcherStatus === "Running", "to run");

    const resolved = await stack.postAlert(metricAlert(target, "Resolved"));
    expect(resolved.status).toBe(202);
    expect(resolved.body.decision).toBe("stop");
    expect((resolved.body.targets as Array<{ outcome: string }>)[0]!.outcome).toBe("stop-requested");

    const done = await stack.waitForCapture(id, (c) => c.runtimeStatus === "Completed", "to finish", 60_000);
    expect(done.stopRequestedBecause).toBe("the alert was resolved");
    expect(done.stopReason).toBe("Manual");
    const history = await stack.durableStatus(id);
    expect(history.historyEvents!.some((e) => e.EventType === "EventRaised" && e.Name === "alertResolved")).toBe(true);
    const sent = sentFor(target);
    expect(sent.at(-1)!.data.stopRequestedBecause).toBe("the alert was resolved");

    const again = await stack.postAlert(metricAlert(target, "Resolved"));
    expect(again.status).toBe(200);
    expect((again.body.targets as Array<{ outcome: string }>)[0]!.outcome).toBe("nothing-to-stop");
  });

  it("fails with a clear reason, and notifies, for a VM without the Network Watcher agent", async () => {
    const target = vmId("vm-noagent");
    const { body } = await stack.postAlert(metricAlert(target));
    const done = await stack.waitForCapture(body.id as string, (c) => c.phase === "failed", "to fail");
    expect(done.failureReason).toMatch(/Network Watcher agent extension .* is not installed on vm-noagent.*ALERTCAP_INSTALL_AGENT/);
    const sent = sentFor(target);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.type).toBe("capture.failed");
    expect(sent[0]!.data.failureReason).toBe(done.failureReason);
  });

  it("fails with a clear reason for a VM that is not running", async () => {
    const { body } = await stack.postAlert(metricAlert(vmId("vm-stopped")));
    const done = await stack.waitForCapture(body.id as string, (c) => c.phase === "failed", "to fail");
    expect(done.failureReason).toMatch(/vm-stopped is deallocated, not running/);
  });

  it("fails with a clear reason when the region is at its capture limit, touching nothing", async () => {
    const target = vmId("vm-eu-2", "rg-eu");
    const { body } = await stack.postAlert(metricAlert(target));
    const done = await stack.waitForCapture(body.id as string, (c) => c.phase === "failed", "to fail");
    expect(done.failureReason).toMatch(/northeurope/i);
    expect(done.failureReason).toMatch(/limit/i);
    const foreign = await armClients(SUBSCRIPTION).network.packetCaptures.getStatus("NetworkWatcherRG", "NetworkWatcher_northeurope", "eu-team-capture").pollUntilDone();
    expect(foreign.packetCaptureStatus).toBe("Running");
    expect(sentFor(target)[0]!.type).toBe("capture.failed");
  });

  it("never touches someone else's capture whose name clashes with the one alertcap would use", async () => {
    const watcher = { subscriptionId: SUBSCRIPTION, resourceGroup: "NetworkWatcherRG", name: "NetworkWatcher_westus2" };
    const target = vmId("vm-web-3");
    const created = await createPacketCapture({
      watcher,
      // Taken: one on another VM, one on this VM but started before this run.
      candidateNames: ["alertcap-vm-web-3-clash", "alertcap-vm-web-3-old", "alertcap-vm-web-3-fresh"],
      body: packetCaptureBody({ id: target, kind: "virtualMachine", subscriptionId: SUBSCRIPTION, resourceGroup: "rg-app", name: "vm-web-3" }, settings(), SAMPLE_STORAGE_ID),
      notBefore: new Date().toISOString(),
    });
    expect(created).toMatchObject({ ok: true, captureName: "alertcap-vm-web-3-fresh", adopted: false });
    const arm = armClients(SUBSCRIPTION);
    for (const [name, owner] of [["alertcap-vm-web-3-clash", vmId("vm-win-1")], ["alertcap-vm-web-3-old", target]] as const) {
      const foreign = await arm.network.packetCaptures.get("NetworkWatcherRG", "NetworkWatcher_westus2", name);
      expect(foreign.target).toBe(owner);
      expect((await arm.network.packetCaptures.getStatus("NetworkWatcherRG", "NetworkWatcher_westus2", name).pollUntilDone()).packetCaptureStatus).toBe("Running");
    }
    // A retried create finds its own capture and reuses it instead of making another.
    const retried = await createPacketCapture({
      watcher,
      candidateNames: ["alertcap-vm-web-3-clash", "alertcap-vm-web-3-old", "alertcap-vm-web-3-fresh"],
      body: packetCaptureBody({ id: target, kind: "virtualMachine", subscriptionId: SUBSCRIPTION, resourceGroup: "rg-app", name: "vm-web-3" }, settings(), SAMPLE_STORAGE_ID),
      notBefore: new Date(Date.now() - 5000).toISOString(),
    });
    expect(retried).toMatchObject({ ok: true, captureName: "alertcap-vm-web-3-fresh", adopted: true });
    await deletePacketCapture(watcher, "alertcap-vm-web-3-fresh");
  });
});

function settings(): CaptureSettings {
  const parsed = parseCaptureSettings({ ALERTCAP_CAPTURE_STORAGE_ID: SAMPLE_STORAGE_ID, ALERTCAP_CAPTURE_SECONDS: "60" });
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.settings;
}
