// The recorder's secureLookback activity against real Azurite: lookback.json is read back from Blob storage before
// each pass (to copy only what is new), and anything that can write the container can write it. A crafted manifest in
// the incident's folder must not stop alertcap securing the ring, nor ride along unchecked into the new manifest.
import type { ContainerClient } from "@azure/storage-blob";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secureLookback } from "../activities/recorderActivities.js";
import { parseCaptureTarget } from "../domain/alerts/armId.js";
import { targetRef } from "../domain/recorder/armRequest.js";
import { incidentFolder, LOOKBACK_MANIFEST, type LookbackManifest, recorderSessionName } from "../domain/recorder/plan.js";
import { vmId } from "./support/alerts.js";
import { type CaptureAccount, startCaptureAccount } from "./support/captureAccount.js";

const ACCOUNT_URL = "https://alertcapcaptures.blob.core.windows.net";
const FIRED = "2027-03-01T09:00:00.000Z";
const parsed = parseCaptureTarget(vmId("vm-web-1"));
if (!parsed.ok) throw new Error(parsed.error);
const target = targetRef(parsed.target);
const session = recorderSessionName(target, new Date("2027-03-01T08:00:00Z"));
const ringFolder = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1/2027/03/01/packetcapture_08_00_00_000";

let account: CaptureAccount;
let container: ContainerClient;

beforeAll(async () => {
  account = await startCaptureAccount("secure", { ALERTCAP_ALLOW_ANY_SCOPE: "true" });
  container = account.container;
  // Two ring files closed within the ten minutes before the alert.
  for (const [seq, closed] of [[1, "2027-03-01T08:55:00Z"], [2, "2027-03-01T08:59:00Z"]] as const) {
    await container.getBlockBlobClient(`${ringFolder}/vm-web-1_00000${seq}.cap`).uploadData(Buffer.from(`ring file ${seq}`), { metadata: { closedat: closed } });
  }
});

afterAll(async () => {
  await account?.stop();
});

describe("securing a lookback over a crafted lookback.json", () => {
  it("secures the ring anyway, and keeps none of the crafted entries or oversized notes", async () => {
    const incidentId = "alertcap-vm-web-1-crafted";
    const folder = incidentFolder(incidentId, FIRED);
    const crafted = {
      incidentId,
      firedAt: FIRED,
      windowStart: FIRED,
      windowEnd: FIRED,
      lookback: { "not-a-list": true },
      baseline: [{ url: `${ACCOUNT_URL}/network-watcher-logs/${ringFolder}/secret.cap`, instance: null, sizeBytes: 1, uploadedAt: FIRED }],
      notes: ["x".repeat(100_000)],
    };
    await container.getBlockBlobClient(`${folder}/${LOOKBACK_MANIFEST}`).upload(JSON.stringify(crafted), JSON.stringify(crafted).length);

    const output = await secureLookback({
      target,
      incidentId,
      firedAt: FIRED,
      sessions: [{ name: session, storagePath: `${ACCOUNT_URL}/network-watcher-logs/${ringFolder}` }],
      windowEnd: FIRED,
      requestedAt: FIRED,
      complete: false,
      notes: [],
    });
    expect(output.lookbackFiles).toBe(2);
    const manifest = JSON.parse((await container.getBlobClient(`${folder}/${LOOKBACK_MANIFEST}`).downloadToBuffer()).toString("utf8")) as LookbackManifest;
    expect(manifest.lookback.map((f) => f.url.split("/").at(-1))).toEqual(["vm-web-1_000001.cap", "vm-web-1_000002.cap"]);
    expect(manifest.baseline.some((f) => f.url.includes("secret.cap"))).toBe(false);
    expect(Math.max(...manifest.notes.map((n) => n.length))).toBeLessThanOrEqual(500);
    expect(output.notes.join("").length).toBeLessThan(20_000);
  });
});

describe("ring files where Network Watcher may put them", () => {
  // Network Watcher's continuous-capture blob names are not documented. Its one-off scale-set captures report a
  // storagePath ending in `.cap` and write their files beside it (`{stem}_….cap`) or under it (`{stem}/…`), which
  // listCaptureFiles already reads (azure/captureFiles.ts); a ring reported the same way must not read as empty.
  it("secures ring files written beside a storagePath that ends in .cap", async () => {
    const stem = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1/2027/03/01/packetcapture_08_30_00_000";
    for (const [seq, closed] of [[1, "2027-03-01T08:56:00Z"], [2, "2027-03-01T08:58:00Z"]] as const) {
      await container.getBlockBlobClient(`${stem}_00000${seq}.cap`).uploadData(Buffer.from(`beside ${seq}`), { metadata: { closedat: closed } });
    }
    const incidentId = "alertcap-vm-web-1-beside";
    const output = await secureLookback({
      target,
      incidentId,
      firedAt: FIRED,
      sessions: [{ name: session, storagePath: `${ACCOUNT_URL}/network-watcher-logs/${stem}.cap` }],
      windowEnd: FIRED,
      requestedAt: FIRED,
      complete: false,
      notes: [],
    });
    expect(output.lookbackFiles).toBe(2);
    const manifest = JSON.parse((await container.getBlobClient(`${incidentFolder(incidentId, FIRED)}/${LOOKBACK_MANIFEST}`).downloadToBuffer()).toString("utf8")) as LookbackManifest;
    expect(manifest.lookback.map((f) => f.url.split("/").at(-1))).toEqual(["packetcapture_08_30_00_000_000001.cap", "packetcapture_08_30_00_000_000002.cap"]);
  });
});

describe("a ring that reuses its file names", () => {
  // Whether Network Watcher names ring files by sequence or reuses a fixed set of names (as tcpdump's own ring does)
  // is not documented. A name rewritten between the first pass and the cut's last one holds newer packets.
  it("secures a rewritten ring file again on the last pass, keeping the earlier copy", async () => {
    const folder = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1/2027/03/01/packetcapture_07_00_00_000";
    const ring = container.getBlockBlobClient(`${folder}/vm-web-1_1.cap`);
    await ring.uploadData(Buffer.from("before the alert"), { metadata: { closedat: "2027-03-01T08:57:00Z" } });
    const incidentId = "alertcap-vm-web-1-reused";
    const pass = (windowEnd: string, complete: boolean) =>
      secureLookback({ target, incidentId, firedAt: FIRED, sessions: [{ name: session, storagePath: `${ACCOUNT_URL}/network-watcher-logs/${folder}` }], windowEnd, requestedAt: windowEnd, complete, notes: [] });
    await pass(FIRED, false);
    await ring.uploadData(Buffer.from("after the alert"), { metadata: { closedat: "2027-03-01T09:00:40Z" } });
    const last = await pass("2027-03-01T09:01:00.000Z", true);
    expect(last.lookbackFiles).toBe(2);
    const manifest = JSON.parse((await container.getBlobClient(`${incidentFolder(incidentId, FIRED)}/${LOOKBACK_MANIFEST}`).downloadToBuffer()).toString("utf8")) as LookbackManifest;
    const contents = await Promise.all(manifest.lookback.map(async (f) => (await container.getBlobClient(decodeURIComponent(new URL(f.url).pathname.split("/network-watcher-logs/")[1]!)).downloadToBuffer()).toString("utf8")));
    expect(contents).toEqual(["before the alert", "after the alert"]);
  });
});

describe("lookback.json entries on the capture side", () => {
  it("takes only copies whose blob name starts with the incident's folder, not any path that contains it", async () => {
    const { parseLookbackManifest } = await import("../domain/incident/lookbackManifest.js");
    const incidentId = "alertcap-vm-web-1-nested";
    const folder = incidentFolder(incidentId, FIRED);
    const entry = (path: string) => ({ url: `${ACCOUNT_URL}/${path}`, instance: null, sizeBytes: 1, uploadedAt: FIRED });
    const manifest = parseLookbackManifest(
      {
        incidentId,
        firedAt: FIRED,
        windowStart: FIRED,
        windowEnd: FIRED,
        lookback: [entry(`network-watcher-logs/${folder}/lookback/a.cap`), entry(`network-watcher-logs/${ringFolder}/${folder}/b.cap`), entry(`other-container/${folder}/c.cap`), entry(`network-watcher-logs/x/network-watcher-logs/${folder}/d.cap`)],
        baseline: [],
      },
      incidentId,
      FIRED,
    );
    if (typeof manifest === "string") throw new Error(manifest);
    expect(manifest.lookback.map((f) => f.url.split("/").at(-1))).toEqual(["a.cap"]);
  });
});
