// An incident's lookback ring files and forward capture analysed as one timeline: overlapping files count each
// packet once, and each failure's onset is said relative to the alert.
import { describe, expect, it } from "vitest";
import { analyzeIncident, type IncidentFile } from "../domain/incident/analyzeIncident.js";
import { Timeline } from "../domain/pcap/timeline.js";
import { PacketRecord } from "../domain/pcap/packetRecord.js";
import { captureOf, iso, trafficPackets, type Traffic } from "./timeline.captures.js";

const ALERT = 600; // seconds from T0: the lookback is [0, 600)

async function* chunks(buffer: Buffer): AsyncIterable<Uint8Array> {
  // Odd-sized chunks: records straddle chunk boundaries as they do in a blob download.
  for (let i = 0; i < buffer.length; i += 4093) yield buffer.subarray(i, i + 4093);
}

function file(part: IncidentFile["part"], label: string, data: Buffer, instance: string | null = null): IncidentFile {
  return { part, instance, label, open: async () => chunks(data) };
}

/** Two ring files and the recorder's cut (overlapping the forward capture by 10 s), then the forward capture. */
function incidentFiles(traffic: Traffic, instance: string | null = null): IncidentFile[] {
  const packets = trafficPackets(traffic);
  return [
    // Given out of order on purpose: the lookback is read before the forward capture whatever the list's order.
    file("forward", "forward.cap", captureOf(packets, 610, 900), instance),
    file("lookback", "ring-0001.cap", captureOf(packets, 0, 300), instance),
    file("lookback", "ring-0002.cap", captureOf(packets, 300, 620), instance),
  ];
}

const analyse = (files: IncidentFile[]) => analyzeIncident(files, { alertAt: iso(ALERT), lookbackSeconds: 600 });

describe("incident timeline", () => {
  it("counts a packet seen in two overlapping files once, and says so per file", async () => {
    const result = await analyse(incidentFiles({ from: 0, to: 900 }));
    expect(result.merged!.dns.queries).toBe(900);
    expect(result.merged!.dns.responses).toBe(900);
    expect(result.merged!.packets).toBe(1800);
    expect(result.files.map((f) => [f.label, f.part, f.packets, f.duplicates])).toEqual([
      ["ring-0001.cap", "lookback", 600, 0],
      ["ring-0002.cap", "lookback", 640, 0],
      ["forward.cap", "forward", 560, 20],
    ]);
    expect(result.onsets).toEqual([]);
  });

  it("says a DNS SERVFAIL that began a minute before the alert began 1 min before it, with its counts", async () => {
    const result = await analyse(incidentFiles({ from: 0, to: 900, dnsFailFrom: ALERT - 60 }));
    const [first] = result.onsets;
    expect(first).toMatchObject({ kind: "dns-servfail", offsetSeconds: -60, presentAtStart: false, ended: null, count: 360, countBeforeAlert: 60 });
    expect(first!.text).toBe("DNS SERVFAIL began 1 min before the alert (10:09:00 UTC): 360 of 360 answers (100 %), 60 of them before the alert.".replace("10:09:00", iso(ALERT - 60).slice(11, 19)));
  });

  it("says a failure present from the first packet was already there at the start of the lookback", async () => {
    const result = await analyse(incidentFiles({ from: 0, to: 900, dnsFailFrom: 0 }));
    expect(result.onsets[0]!.presentAtStart).toBe(true);
    expect(result.onsets[0]!.text).toMatch(/^DNS SERVFAIL was already present at the start of the 10-minute lookback \(\d\d:\d\d:\d\d UTC, 10 min before the alert\): 900 of 900 answers/);
  });

  it("puts what began just before the alert ahead of background noise and of what began after it", async () => {
    const result = await analyse(incidentFiles({ from: 0, to: 900, dnsFailFrom: ALERT - 250, http5xxFrom: ALERT + 30, httpEvery: 5, backgroundNxdomain: true }));
    expect(result.onsets.map((o) => [o.kind, o.offsetSeconds])).toEqual([
      ["dns-servfail", -250],
      ["http-5xx", 30],
      ["dns-nxdomain", -600],
    ]);
    expect(result.onsets[0]!.text).toContain("began 4 min 10 s before the alert");
    expect(result.onsets[1]!.text).toContain("HTTP 5xx began 30 s after the alert");
    expect(result.onsets[1]!.text).toContain("54 of 54 responses (100 %)");
  });

  it("keeps a scale set's instances apart: per-instance summaries, and each instance's overlap removed on its own", async () => {
    const files = [...incidentFiles({ from: 0, to: 900 }, "0"), ...incidentFiles({ from: 0, to: 900, dnsFailFrom: ALERT - 60 }, "1")];
    const result = await analyse(files);
    expect(result.instances.map((i) => [i.instance, i.summary!.dns.responses, i.summary!.dns.rcodes.SERVFAIL ?? 0])).toEqual([
      ["0", 900, 0],
      ["1", 900, 360],
    ]);
    expect(result.merged!.dns.responses).toBe(1800);
    expect(result.files.filter((f) => f.part === "forward").map((f) => f.duplicates)).toEqual([20, 20]);
    expect(result.onsets[0]!.offsetSeconds).toBe(-60);
  });

  it("reports an unreadable ring file and still analyses the rest", async () => {
    const files = incidentFiles({ from: 0, to: 900, dnsFailFrom: ALERT - 60 });
    files[1] = file("lookback", "ring-0001.cap", Buffer.from("not a capture at all, just text"));
    const result = await analyse(files);
    expect(result.files.find((f) => f.label === "ring-0001.cap")!.error).toMatch(/./);
    expect(result.onsets[0]!.offsetSeconds).toBe(-60);
  });
});

describe("Timeline extra series", () => {
  it("keeps every count when the buckets widen and shift", () => {
    const timeline = new Timeline(20, 2);
    const record = new PacketRecord();
    record.hasTime = true;
    let total = 0;
    for (const time of [1000.5, 1000.7, 1003, 1010, 999, 1100, 1500, 900]) {
      record.time = time;
      timeline.add(record);
      timeline.count(0, time, 2);
      timeline.count(1, time + 0.001);
      total++;
    }
    const [twice, once] = timeline.seriesSummary();
    expect(twice!.reduce((a, b) => a + b, 0)).toBe(2 * total);
    expect(once!.reduce((a, b) => a + b, 0)).toBe(total);
    expect(twice!.length).toBe(timeline.summary().packets.length);
  });
});
