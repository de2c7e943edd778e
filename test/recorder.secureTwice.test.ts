// SECURE_LOOKBACK runs at least once, not exactly once: on Azure Storage an activity whose worker dies after sending
// its result but before deleting its work-item message runs again when the message reappears (minutes later), with
// the same input. A late re-run of the recorder's first pass (complete=false) must not undo the cut's last pass: the
// capture would wait its whole file wait for a manifest that no longer says complete, and read it without the last
// file. Real Azurite, the activity's own handler.
import type { ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secureLookback } from "../activities/recorderActivities.js";
import { ManifestChangedError, readLookbackManifestVersion, writeLookbackManifest } from "../azure/lookbackFiles.js";
import type { SecureLookbackInput } from "../activities/contracts.js";
import { incidentFolder, type LookbackManifest, recorderSessionName } from "../domain/recorder/plan.js";
import { type CaptureAccount, startCaptureAccount } from "./support/captureAccount.js";

const ACCOUNT_URL = "https://alertcapcaptures.blob.core.windows.net";
const VM_ID = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1";
const TARGET = { id: VM_ID, kind: "virtualMachine" as const, subscriptionId: "00000000-0000-0000-0000-000000000001", resourceGroup: "rg-app", name: "vm-web-1" };
const RING = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1/2027/03/01/packetcapture_08_00_00_000";
const INCIDENT = "alertcap-vm-web-1-twice";

let account: CaptureAccount;
let container: ContainerClient;

beforeAll(async () => {
  account = await startCaptureAccount("secure-twice", { ALERTCAP_ALLOW_ANY_SCOPE: "true" });
  delete process.env.ALERTCAP_ALLOWED_SCOPES;
  container = account.container;
});

afterAll(async () => {
  await account?.stop();
});

/** A ring file as Network Watcher leaves it: closed (uploaded) at `closedAt`. */
const ringFile = (name: string, closedAt: Date) => container.getBlockBlobClient(`${RING}/${name}`).uploadData(Buffer.from(`pcap ${name}`), { metadata: { closedat: closedAt.toISOString() } });

const manifestAt = async (firedAt: string): Promise<LookbackManifest> =>
  JSON.parse((await container.getBlobClient(`${incidentFolder(INCIDENT, firedAt)}/lookback.json`).downloadToBuffer()).toString("utf8")) as LookbackManifest;

describe("the recorder's secure step run again", () => {
  it("a late re-run of the first pass leaves the complete manifest as the cut's last pass wrote it", async () => {
    const firedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const at = (seconds: number) => new Date(firedAt.getTime() + seconds * 1000);
    const session = recorderSessionName(TARGET, at(-3600));
    const sessions = [{ name: session, storagePath: `${ACCOUNT_URL}/network-watcher-logs/${RING}` }];
    await ringFile("vm-web-1_000001.cap", at(-300));
    await ringFile("vm-web-1_000002.cap", at(-60));
    const firstPass: SecureLookbackInput = { target: TARGET, incidentId: INCIDENT, firedAt: firedAt.toISOString(), sessions, windowEnd: firedAt.toISOString(), requestedAt: firedAt.toISOString(), complete: false, notes: [] };
    expect((await secureLookback(firstPass)).lookbackFiles).toBe(2);

    // The cut: the session open when the alert fired is stopped, its last file comes, the last pass marks it complete.
    await ringFile("vm-web-1_000003.cap", at(20));
    const lastPass = { ...firstPass, windowEnd: at(15).toISOString(), requestedAt: at(25).toISOString(), complete: true };
    expect((await secureLookback(lastPass)).lookbackFiles).toBe(3);
    expect((await manifestAt(firedAt.toISOString())).complete).toBe(true);

    // The first pass's message reappears: the activity runs again with its original input.
    const again = await secureLookback(firstPass);
    const manifest = await manifestAt(firedAt.toISOString());
    // Before the fix: complete false again, and windowEnd back at the alert.
    expect(manifest.complete).toBe(true);
    expect(manifest.windowEnd).toBe(at(15).toISOString());
    expect(manifest.lookback.map((f) => f.url.split("/").at(-1))).toEqual(["vm-web-1_000001.cap", "vm-web-1_000002.cap", "vm-web-1_000003.cap"]);
    expect(again.lookbackFiles).toBe(3);
  });

  it("two runs that read the same manifest cannot both write it: the later write fails (and is retried on the newer one)", async () => {
    const folder = incidentFolder(INCIDENT, "2027-03-01T09:00:00.000Z");
    const url = `${ACCOUNT_URL}/network-watcher-logs/${folder}/lookback.json`;
    const base = { incidentId: INCIDENT, target: VM_ID, firedAt: "2027-03-01T09:00:00.000Z", windowStart: "2027-03-01T08:50:00.000Z", windowEnd: "2027-03-01T09:00:00.000Z", baseline: [], lookback: [], firstSecuredAt: null, securedAt: null, notes: [] };
    await writeLookbackManifest(container, folder, { ...base, complete: false }, null);
    const read = (await readLookbackManifestVersion(url))!;
    await writeLookbackManifest(container, folder, { ...base, complete: true }, read.etag);
    await expect(writeLookbackManifest(container, folder, { ...base, complete: false }, read.etag)).rejects.toBeInstanceOf(ManifestChangedError);
    await expect(writeLookbackManifest(container, folder, { ...base, complete: false }, null)).rejects.toBeInstanceOf(ManifestChangedError);
    expect(((await readLookbackManifestVersion(url))!.manifest as { complete: boolean }).complete).toBe(true);
  });
});
