// The capture side of the flight recorder against real Azurite: a recorder's lookback.json and ring copies in the
// incident's folder (written here as the recorder writes them), the forward capture where Network Watcher puts it;
// the read and analyse activities find the manifest, check every path, and report one timeline with the alert marked.
import type { ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyseCaptureFile } from "../activities/analyseCapture.js";
import { readLookback } from "../activities/readLookback.js";
import { incidentFolder, type LookbackManifest } from "../domain/recorder/plan.js";
import { captureOf, iso, trafficPackets } from "./timeline.captures.js";
import { type CaptureAccount, startCaptureAccount } from "./support/captureAccount.js";

const ACCOUNT_URL = "https://alertcapcaptures.blob.core.windows.net";
const VM = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1";
const ALERT = 600;
const INCIDENT = "alertcap-vm-web-1-abc";

let account: CaptureAccount;
let container: ContainerClient;

beforeAll(async () => {
  account = await startCaptureAccount("timeline");
  container = account.container;
});

afterAll(async () => {
  await account?.stop();
});

const upload = (blobName: string, bytes: Buffer | string) => container.getBlockBlobClient(blobName).uploadData(Buffer.from(bytes));
const download = async (url: string) => (await container.getBlobClient(new URL(url).pathname.split("/network-watcher-logs/")[1]!).downloadToBuffer()).toString("utf8");

/** What a recorder leaves: its ring copies in the incident's folder and the manifest beside them. */
async function secure(incidentId: string, firedAt: string, rings: Array<[name: string, data: Buffer]>, extra: Partial<LookbackManifest> = {}): Promise<void> {
  const folder = incidentFolder(incidentId, firedAt);
  for (const [name, data] of rings) await upload(`${folder}/${name}`, data);
  const manifest: LookbackManifest = {
    incidentId,
    target: `/${VM}`,
    firedAt,
    windowStart: iso(ALERT - 600),
    windowEnd: iso(ALERT + 20),
    baseline: [],
    lookback: rings.map(([name, data], i) => ({ url: `${ACCOUNT_URL}/network-watcher-logs/${folder}/${name}`, instance: null, sizeBytes: data.length, uploadedAt: iso(300 * (i + 1)) })),
    firstSecuredAt: iso(ALERT + 2),
    securedAt: iso(ALERT + 25),
    complete: true,
    notes: [],
    ...extra,
  };
  await upload(`${folder}/lookback.json`, JSON.stringify(manifest));
}

describe("a capture with a recorder's lookback", () => {
  const packets = trafficPackets({ from: 0, to: 900, dnsFailFrom: ALERT - 60 });
  const forwardBlob = `${VM}/2026/12/02/packetcapture_08_10_00_000.cap`;
  const storagePath = `${ACCOUNT_URL}/network-watcher-logs/${forwardBlob}`;

  it("finds no lookback when no recorder wrote one, and analyses the capture alone as before", async () => {
    await upload(forwardBlob, captureOf(packets, 610, 900));
    expect(await readLookback({ storagePath, incidentId: INCIDENT, firedAt: iso(ALERT) })).toMatchObject({ found: false });
    const output = await analyseCaptureFile({ storagePath, lookback: { incidentId: INCIDENT, firedAt: iso(ALERT), notes: [] } });
    expect(output.onsets).toBeUndefined();
    expect((output.summary as { packets: number }).packets).toBe(580);
  });

  it("reads the manifest, then analyses ring files and capture as one timeline whose onset leads the findings and the report", async () => {
    await secure(INCIDENT, iso(ALERT), [
      ["alertrec-vm-web-1-0001.cap", captureOf(packets, 0, 300)],
      ["alertrec-vm-web-1-0002.cap", captureOf(packets, 300, 620)],
    ]);
    expect(await readLookback({ storagePath, incidentId: INCIDENT, firedAt: iso(ALERT) })).toEqual({
      found: true, complete: true, files: 2, firstSecuredAt: iso(ALERT + 2), securedAt: iso(ALERT + 25), notes: [],
    });
    const output = await analyseCaptureFile({ storagePath, lookback: { incidentId: INCIDENT, firedAt: iso(ALERT), notes: [] } });
    expect(output.onsets).toEqual([expect.stringMatching(/^DNS SERVFAIL began 1 min before the alert \(\d\d:\d\d:\d\d UTC\): 360 of 360 answers/)]);
    expect(output.findings[0]).toBe(output.onsets![0]);
    const summary = output.summary as { packets: number; dns: { responses: number }; incident: { files: Array<{ duplicates: number }> } };
    expect(summary.packets).toBe(1800);
    expect(summary.dns.responses).toBe(900);
    expect(summary.incident.files.map((f) => f.duplicates)).toEqual([0, 0, 20]);

    const html = await download(output.reportPath!);
    expect(html.indexOf('id="onsets"')).toBeGreaterThan(0);
    expect(html.indexOf('id="onsets"')).toBeLessThan(html.indexOf('id="findings"'));
    expect(html).toContain(`data-field="alertAt" data-value="${iso(ALERT)}"`);
    expect(html).toContain('id="failure-chart"');
    expect(html).toContain("alertrec-vm-web-1-0002.cap");
  });

  it("takes a manifest that is not JSON, or is another incident's, for no lookback", async () => {
    await upload(`${incidentFolder("alertcap-broken", iso(ALERT))}/lookback.json`, "{ not json");
    expect(await readLookback({ storagePath, incidentId: "alertcap-broken", firedAt: iso(ALERT) })).toEqual({ found: false, reason: "the lookback manifest is not a JSON object" });
    await upload(`${incidentFolder("alertcap-moved", iso(ALERT))}/lookback.json`, JSON.stringify({ incidentId: INCIDENT }));
    expect(await readLookback({ storagePath, incidentId: "alertcap-moved", firedAt: iso(ALERT) })).toEqual({ found: false, reason: "the lookback manifest names another incident" });
    const output = await analyseCaptureFile({ storagePath, lookback: { incidentId: "alertcap-broken", firedAt: iso(ALERT), notes: [] } });
    expect(output.onsets).toBeUndefined();
  });

  it("refuses manifest entries outside the incident's folder and says so, escaped, in the report", async () => {
    const other = "alertcap-other-incident";
    const folder = incidentFolder(other, iso(ALERT));
    await upload(`${folder}/ring.cap`, captureOf(packets, 0, 620));
    await secure(other, iso(ALERT), [], {
      lookback: [
        { url: `${ACCOUNT_URL}/network-watcher-logs/${folder}/ring.cap`, instance: null, sizeBytes: 1, uploadedAt: iso(620) },
        { url: `${ACCOUNT_URL}/network-watcher-logs/${VM}/secret.cap`, instance: null, sizeBytes: 1, uploadedAt: iso(620) },
        { url: `https://evil.example/network-watcher-logs/${folder}/x.cap`, instance: null, sizeBytes: 1, uploadedAt: iso(620) },
      ],
      complete: false,
      notes: ["<img src=x onerror=alert(1)> the ring had already overwritten the oldest file"],
    });
    const read = await readLookback({ storagePath, incidentId: other, firedAt: iso(ALERT) });
    expect(read).toMatchObject({ found: true, complete: false, files: 2 });
    const output = await analyseCaptureFile({ storagePath, lookback: { incidentId: other, firedAt: iso(ALERT), notes: ["The wait ended."] } });
    expect(output.findings).toEqual(expect.arrayContaining([expect.stringContaining("points outside the incident's folder"), expect.stringContaining("not in a capture storage account"), "The wait ended."]));
    const html = await download(output.reportPath!);
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&#60;img src=x");
    expect((output.summary as { incident: { files: unknown[] } }).incident.files).toHaveLength(2);
  });
});
