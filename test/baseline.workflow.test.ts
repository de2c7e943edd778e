// "What changed" in the workflow on the local stack (ALERTCAP_BASELINE): two alerts on the same VM with different
// emulated traffic (the inventory's traffic profile: healthy, then failing), and the second notification leads with
// what changed against the first capture; a baseline whose file is gone still lets the capture complete and notify,
// saying the baseline was unavailable; ALERTCAP_BASELINE=none compares nothing. Each traffic profile or setting is a
// restart of the stack on the same data folder (Azurite's blobs, the durable state), as an operator would redeploy.
import { BlobServiceClient } from "@azure/storage-blob";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { incidentFolder, LOOKBACK_MANIFEST, type LookbackManifest } from "../domain/recorder/plan.js";
import { buildPcap } from "../local/arm-emulator/capture/pcapFile.js";
import { SAMPLE_INVENTORY } from "../local/stack.js";
import { healthyProfile } from "../local/traffic/profile.js";
import { syntheticVmTraffic } from "../local/traffic/syntheticTraffic.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { notificationsFor } from "./support/notifications.js";
import { type Receiver, startReceiver } from "./support/receiver.js";
import { type Capture, type TestStack, startTestStack } from "./support/testStack.js";

interface GenericNotification {
  type: string;
  data: { target: string; outcome: string; failureReason: string | null; findings: string[]; storagePath: string | null; reportUrl: string | null };
}

interface BaselineSummary {
  mode: string | null;
  source: string | null;
  unavailable: string | null;
  significantRateChanges: number;
  findings: string[];
}

const TARGET = vmId("vm-web-1");
const SCALE_SET = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api";

describe("what changed against a baseline, on the local stack", () => {
  let dir = "";
  let receiver: Receiver;
  let stack: TestStack | undefined;

  /** The stack on the shared data folder, vm-web-1 playing `traffic`, with `settings` on top. */
  async function startWith(traffic: "healthy" | "failing", settings: NodeJS.ProcessEnv = {}): Promise<TestStack> {
    await stack?.stop();
    const inventory = JSON.parse(readFileSync(SAMPLE_INVENTORY, "utf8")) as {
      virtualMachines: Array<{ id: string; traffic?: string }>;
      virtualMachineScaleSets: Array<{ id: string; traffic?: string }>;
    };
    inventory.virtualMachines.find((vm) => vm.id === TARGET)!.traffic = traffic;
    inventory.virtualMachineScaleSets.find((vmss) => vmss.id === SCALE_SET)!.traffic = traffic;
    const inventoryPath = join(dir, `inventory-${traffic}.json`);
    writeFileSync(inventoryPath, JSON.stringify(inventory));
    stack = await startTestStack({
      dataDir: join(dir, "stack"),
      inventoryPath,
      // Synthetic files follow the profile exactly: rounds over the whole capture, no loopback noise.
      packetSource: "synthetic",
      appSettings: { ALERTCAP_CAPTURE_SECONDS: "30", ALERTCAP_NOTIFY_URLS: `generic+${receiver.url}/hooks/alertcap`, ...settings },
    });
    return stack;
  }

  /** The capture account's container, as the app reads it on the local stack (Azurite). */
  const captureContainer = () => BlobServiceClient.fromConnectionString(stack!.blobConnectionString).getContainerClient("network-watcher-logs");
  const blobPath = (storagePath: string): string => new URL(storagePath).pathname.split("/").slice(2).join("/");

  /** Fires an alert on vm-web-1 and answers the finished capture and its notification. */
  async function alertAndWait(s: TestStack, target = TARGET): Promise<{ capture: Capture; notification: GenericNotification; baseline: BaselineSummary | undefined }> {
    const before = notificationsFor<GenericNotification>(receiver, target).length;
    const accepted = await s.postAlert(metricAlert(target));
    expect(accepted.status).toBe(202);
    const capture = await s.waitForCapture(accepted.body.id as string, (c) => c.runtimeStatus === "Completed" && c.notifications.length > 0, "to complete and notify", 120_000);
    const sent = notificationsFor<GenericNotification>(receiver, target);
    expect(sent.length).toBeGreaterThan(before);
    return { capture, notification: sent.at(-1)!, baseline: (capture.analysis as { baseline?: BaselineSummary } | null)?.baseline };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alertcap-baseline-"));
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the second alert's notification leads with what changed since the first capture; a vanished baseline is said, not fatal", async () => {
    // First alert, healthy traffic: nothing to compare with yet, and auto says nothing about it.
    const first = await alertAndWait(await startWith("healthy"));
    expect(first.capture.failureReason).toBeNull();
    expect(first.notification.data.findings.filter((f) => f.startsWith("What changed"))).toEqual([]);
    expect(first.baseline).toMatchObject({ mode: "auto", source: null, unavailable: null });

    // The scale set too (one file per instance): its first capture has nothing to compare with either.
    const firstSet = await alertAndWait(stack!, SCALE_SET);
    expect(firstSet.capture.failureReason).toBeNull();
    expect(firstSet.baseline).toMatchObject({ mode: "auto", source: null });

    // Second alert on the same VM, now failing: compared with the first capture, and that comes first.
    const second = await alertAndWait(await startWith("failing"));
    expect(second.capture.failureReason).toBeNull();
    const findings = second.notification.data.findings;
    // The failing profile answers 503 to most requests and connects to a database port where nothing listens.
    expect(findings[0]).toMatch(
      /^What changed since the last capture on this target \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): HTTP 5xx responses rose from 0 % \(0 of \d+\) to \d+ % \(\d+ of \d+\) for www\.contoso\.test \(/,
    );
    const changed = findings.filter((f) => f.startsWith("What changed"));
    expect(changed.some((f) => /^What changed: New service [\d.]+ TCP\/5432: .*connection attempts refused \(RST\)/.test(f))).toBe(true);
    // The analysis's own findings follow.
    expect(findings[changed.length]).toMatch(/^HTTP 5xx for \d+ of \d+ responses/);
    expect(second.baseline).toMatchObject({ mode: "auto", source: "last-capture", unavailable: null });
    expect(second.baseline!.significantRateChanges).toBeGreaterThan(0);
    // The report people open from the notification leads with the same lines (its status section, at the top).
    const report = await (await fetch(second.notification.data.reportUrl!)).text();
    const whatChanged = report.indexOf("What changed since the last capture on this target");
    expect(whatChanged).toBeGreaterThan(0);
    expect(whatChanged).toBeLessThan(report.indexOf("HTTP 5xx for "));

    // The scale set's second capture: instance files against instance files, merged and one by one.
    const secondSet = await alertAndWait(stack!, SCALE_SET);
    expect(secondSet.capture.failureReason).toBeNull();
    expect(secondSet.notification.data.findings[0]).toMatch(/^What changed since the last capture on this target \(.*\): HTTP 5xx responses rose from 0 % /);
    expect(secondSet.baseline).toMatchObject({ source: "last-capture", location: firstSet.capture.storagePath });

    // The last capture's files vanish (a lifecycle rule, an operator): the next capture completes and says so.
    const blobs = captureContainer();
    for await (const blob of blobs.listBlobsFlat({ prefix: blobPath(second.capture.storagePath!) })) await blobs.deleteBlob(blob.name);
    const third = await alertAndWait(stack!);
    expect(third.capture.runtimeStatus).toBe("Completed");
    expect(third.capture.failureReason).toBeNull();
    expect(third.notification.data.outcome).toBe("stopped");
    expect(third.notification.data.findings[0]).toBe(
      `What changed: the baseline was unavailable (the last capture's file at ${second.capture.storagePath!.split("?")[0]} is no longer stored); this capture was not compared with one.`,
    );
    expect(third.baseline).toMatchObject({ source: null, unavailable: expect.stringContaining("is no longer stored") });

    // The record itself is unreadable (anyone who may write the container may write it): said the same way.
    const record = `alertcap-targets/${third.capture.id}/last.json`;
    await blobs.getBlockBlobClient(record).upload("{not json", 9);
    const fourth = await alertAndWait(stack!);
    expect(fourth.capture.failureReason).toBeNull();
    expect(fourth.notification.data.findings[0]).toBe(
      `What changed: the baseline was unavailable (the record of the last capture on this target could not be read: ${record} is not JSON); this capture was not compared with one.`,
    );
  }, 600_000);

  it("ALERTCAP_BASELINE=recorder: the recorder's quiet-window files from the incident's lookback.json, or why there are none", async () => {
    const s = await startWith("failing", { ALERTCAP_BASELINE: "recorder" });
    // No recorder on the target: nothing was secured, and the capture says so.
    const without = await alertAndWait(s);
    expect(without.capture.failureReason).toBeNull();
    expect(without.notification.data.findings[0]).toBe(
      "What changed: the baseline was unavailable (no recorder secured files for this alert: none is armed on the target, or it was not told); this capture was not compared with one.",
    );

    // A recorder secured the quiet window of the next alert (the manifest a recorder writes, written here by hand):
    // one ring file of the VM's healthy traffic, 20 minutes before the alert, as the emulator would have recorded it.
    const firedAt = (JSON.parse(readFileSync(join("local", "samples", "alert-vm-web-1-fired.json"), "utf8")) as { data: { essentials: { firedDateTime: string } } })
      .data.essentials.firedDateTime;
    const folder = incidentFolder(without.capture.id, firedAt);
    const blobs = captureContainer();
    const ringFile = `${folder}/baseline-0001.cap`;
    const quietStart = Date.parse(firedAt) - 1_200_000;
    await blobs.getBlockBlobClient(ringFile).uploadData(buildPcap(syntheticVmTraffic(TARGET, undefined, quietStart, quietStart + 30_000, healthyProfile), 65_535));
    const manifest: LookbackManifest = {
      incidentId: without.capture.id,
      target: TARGET,
      firedAt,
      windowStart: new Date(Date.parse(firedAt) - 600_000).toISOString(),
      windowEnd: new Date(Date.parse(firedAt) + 5_000).toISOString(),
      baseline: [{ url: `https://alertcapcaptures.blob.core.windows.net/network-watcher-logs/${ringFile}`, instance: null, sizeBytes: 1, uploadedAt: new Date(quietStart + 30_000).toISOString() }],
      lookback: [],
      firstSecuredAt: firedAt,
      securedAt: firedAt,
      complete: true,
      notes: [],
    };
    const body = JSON.stringify(manifest);
    await blobs.getBlockBlobClient(`${folder}/${LOOKBACK_MANIFEST}`).upload(body, Buffer.byteLength(body));

    const withRecorder = await alertAndWait(s);
    expect(withRecorder.capture.failureReason).toBeNull();
    // With a manifest the capture is analysed as a timeline: its onset findings lead, then what changed.
    // With a manifest the capture is analysed as one timeline: its onset findings lead, then what changed.
    const findings = withRecorder.notification.data.findings;
    const firstChange = findings.findIndex((f) => f.startsWith("What changed"));
    expect(findings.slice(0, firstChange).every((f) => /\b(before|after|at) the alert\b/.test(f))).toBe(true);
    expect(findings[firstChange]).toMatch(
      /^What changed since the recorder's quiet window \(2025-04-15 17:57 UTC to 2025-04-15 18:07 UTC\): HTTP 5xx responses rose from 0 % \(0 of \d+\)/,
    );
    expect(withRecorder.baseline).toMatchObject({ mode: "recorder", source: "recorder", location: "1 ring file in the incident's folder", unavailable: null });
  }, 300_000);

  it("ALERTCAP_BASELINE=none: no comparison, though the last capture is there", async () => {
    const run = await alertAndWait(await startWith("healthy", { ALERTCAP_BASELINE: "none" }));
    expect(run.capture.failureReason).toBeNull();
    expect(run.notification.data.findings.filter((f) => f.startsWith("What changed"))).toEqual([]);
    expect(run.baseline).toMatchObject({ mode: "none", source: null, unavailable: null });
  }, 300_000);
});
