// A scale-set capture is a folder: Network Watcher's storagePath names
// `…/virtualmachinescalesets/{vmss}/{yyyy}/{MM}/{dd}/packetcapture_{HH}_{mm}_{ss}_{fff}` and one `.cap` per instance
// lies under it. Real Azurite, real capture files (test/fixtures/pcaps) uploaded as Network Watcher names them; the
// locate check (captureFileProperties) and the analyse activity read them through the product's own code.
import type { ContainerClient } from "@azure/storage-blob";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyseCaptureFile } from "../activities/analyseCapture.js";
import { captureFileProperties } from "../azure/captureFiles.js";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { type CaptureAccount, startCaptureAccount } from "./support/captureAccount.js";

const fixture = (name: string): Buffer => readFileSync(new URL(`../../test/fixtures/pcaps/${name}`, import.meta.url));
const HTTP = fixture("dpkt-http.pcap"); // 43 packets, 41 TCP
const VLAN = fixture("generated-vlan100-nsec.pcap"); // 600 packets, 582 TCP

const ACCOUNT_URL = "https://alertcapcaptures.blob.core.windows.net";
const SCALE_SET = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachinescalesets/vmss-api";
const VM = "subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg-app/providers/microsoft.compute/virtualmachines/vm-web-1";

let account: CaptureAccount;
let container: ContainerClient;

beforeAll(async () => {
  account = await startCaptureAccount("vmss");
  container = account.container;
});

afterAll(async () => {
  await account?.stop();
});

const upload = (blobName: string, bytes: Buffer) => container.getBlockBlobClient(blobName).uploadData(bytes);

interface InstanceLine {
  instance: string;
  file: string;
  packets: number;
  tcp: number;
  error: string | null;
}

describe("a scale-set capture (a folder of one file per instance)", () => {
  const folder = `${SCALE_SET}/2026/12/02/packetcapture_05_00_00_000`;
  const storagePath = `${ACCOUNT_URL}/network-watcher-logs/${folder}`;

  it("is not found while the folder is empty, then found with the size of all instance files", async () => {
    expect(await captureFileProperties(storagePath)).toBeNull();
    await upload(`${folder}/vmss-api_0.cap`, HTTP);
    await upload(`${folder}/vmss-api_1.cap`, HTTP);
    await upload(`${folder}/vmss-api_2.cap`, HTTP);
    await upload(`${folder}/vmss-api_3.cap`, VLAN);
    expect(await captureFileProperties(storagePath)).toEqual({ sizeBytes: 3 * HTTP.length + VLAN.length, files: 4 });
  });

  it("is analysed per instance and merged, the findings naming the instance that differs, the report beside the folder", async () => {
    const output = await analyseCaptureFile({ storagePath });
    const summary = output.summary as { packets: number; tcp: number; format: string; instances: InstanceLine[] };
    expect(summary.packets).toBe(3 * 43 + 600);
    expect(summary.tcp).toBe(3 * 41 + 582);
    expect(summary.format).toBe("pcap");
    expect(summary.instances.map(({ instance, packets, tcp, error }) => ({ instance, packets, tcp, error }))).toEqual([
      { instance: "0", packets: 43, tcp: 41, error: null },
      { instance: "1", packets: 43, tcp: 41, error: null },
      { instance: "2", packets: 43, tcp: 41, error: null },
      { instance: "3", packets: 600, tcp: 582, error: null },
    ]);
    // Each instance's line is what analysing its file alone gives.
    const alone = await analyzeCapture(Readable.from([VLAN]));
    expect(summary.instances[3]).toMatchObject({ file: `${folder}/vmss-api_3.cap`, bytes: alone.bytes, tcpSyn: alone.tcpSyn, tcpRst: alone.tcpRst });
    expect(output.findings[0]).toBe("Scale-set capture: 4 instance files (0, 1, 2, 3), analysed one by one and together.");
    expect(output.findings[1]).toBe("Instance 3 differs: 600 packets, against a median of 43 on the others.");
    expect(output.findings.filter((f) => f.startsWith("Instance "))).toHaveLength(1);
    // Then the merged capture's findings (what broke first, then its size line).
    expect(output.findings.slice(2).some((f) => /^729 packets,/.test(f))).toBe(true);

    expect(output.reportPath).toBe(`${storagePath}.report.html`);
    const report = (await container.getBlobClient(`${folder}.report.html`).downloadToBuffer()).toString();
    expect(report).toContain("729");
    // The report lies beside the folder, so it is not taken for an instance's file on the next look.
    expect((await captureFileProperties(storagePath))?.files).toBe(4);
  });

  it("reports an instance whose file is not a capture, and still analyses the others", async () => {
    const other = `${SCALE_SET}/2026/12/02/packetcapture_06_00_00_000`;
    await upload(`${other}/vmss-api_0.cap`, HTTP);
    await upload(`${other}/vmss-api_1.cap`, Buffer.from("this is not a capture file, it is a text file\n".repeat(4)));
    const output = await analyseCaptureFile({ storagePath: `${ACCOUNT_URL}/network-watcher-logs/${other}` });
    const summary = output.summary as { packets: number; instances: InstanceLine[] };
    expect(summary.packets).toBe(43);
    expect(summary.instances.map((i) => [i.instance, i.packets, i.error === null])).toEqual([
      ["0", 43, true],
      ["1", 0, false],
    ]);
    expect(output.findings[1]).toMatch(/^Instance 1 differs: its file could not be analysed: /);
  });
});

// Regression (review2): Network Watcher reports a scale-set capture's storagePath ending in `.cap` (Az.Network
// New-AzNetworkWatcherPacketCaptureV2, example 2: `…/virtualmachinescalesets/SampleVMSS/2022/07/21/
// packetcapture_09_20_07_166.cap`) though it writes one file per instance, not a blob of that name (kevoreilly/
// CAPEv2#2229). alertcap once HEADed only that name and waited for a file that never appeared (null here).
describe("a scale-set capture whose storagePath ends in .cap (as Azure reports it)", () => {
  it("finds and analyses the instance files in the folder of the path's stem", async () => {
    const folder = `${SCALE_SET}/2026/12/02/packetcapture_09_20_07_166`;
    await upload(`${folder}/vmss-api_0_packetcapture_09_20_07_166.cap`, HTTP);
    await upload(`${folder}/vmss-api_1_packetcapture_09_20_07_166.cap`, HTTP);
    const storagePath = `${ACCOUNT_URL}/network-watcher-logs/${folder}.cap`;
    expect(await captureFileProperties(storagePath)).toEqual({ sizeBytes: 2 * HTTP.length, files: 2 });
    const summary = (await analyseCaptureFile({ storagePath })).summary as { instances: InstanceLine[] };
    expect(summary.instances.map(({ instance, packets }) => ({ instance, packets }))).toEqual([
      { instance: "0", packets: 43 },
      { instance: "1", packets: 43 },
    ]);
  });

  it("finds the instance files named after the stem beside it (`{stem}_{id}.cap`), and nothing of another session", async () => {
    const stem = `${SCALE_SET}/2026/12/02/packetcapture_10_00_00_000`;
    await upload(`${stem}_0.cap`, HTTP);
    await upload(`${stem}_1.cap`, VLAN);
    await upload(`${SCALE_SET}/2026/12/02/packetcapture_10_00_00_0001_0.cap`, HTTP);
    const summary = (await analyseCaptureFile({ storagePath: `${ACCOUNT_URL}/network-watcher-logs/${stem}.cap` })).summary as { instances: InstanceLine[] };
    expect(summary.instances.map(({ instance, packets }) => ({ instance, packets }))).toEqual([
      { instance: "0", packets: 43 },
      { instance: "1", packets: 600 },
    ]);
  });
});

describe("a VM capture (one file)", () => {
  it("keeps its shape: the file's summary without instances, its report beside it", async () => {
    const blobName = `${VM}/2026/12/02/packetcapture_05_00_00_000.cap`;
    await upload(blobName, HTTP);
    const storagePath = `${ACCOUNT_URL}/network-watcher-logs/${blobName}`;
    expect(await captureFileProperties(storagePath)).toEqual({ sizeBytes: HTTP.length, files: 1 });
    const output = await analyseCaptureFile({ storagePath });
    expect((output.summary as { packets: number }).packets).toBe(43);
    expect(output.summary).not.toHaveProperty("instances");
    expect(output.findings.some((f) => /^43 packets,/.test(f))).toBe(true);
    expect(output.reportPath).toBe(`${storagePath}.report.html`);
  });
});
