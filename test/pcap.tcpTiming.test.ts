// TCP handshake time (SYN → SYN-ACK per destination service, p50/p95) and zero-window segments, on a synthetic capture
// with known times, checked against tshark's tcp.analysis.zero_window and frame times where tshark is installed.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { hasCommand } from "./pcap.oracle.js";
import { ACK, ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, SYN, tcp, type Packet } from "./pcap.synthetic.js";

const frame = (source: string, destination: string, segment: Parameters<typeof tcp>[0]): Buffer =>
  ethernet(ETHERTYPE_IPV4, ipv4({ source, destination, protocol: 6, payload: tcp(segment) }));

/** Database handshakes of 850…950 ms, web handshakes of 1 ms, and a receiver that closes its window three times. */
function capture(): Buffer {
  const packets: Packet[] = [];
  let t = 0;
  const at = (seconds: number, data: Buffer): void => void packets.push({ seconds: 1_700_000_000 + Math.floor(seconds), fraction: Math.round((seconds % 1) * 1e6), data });
  for (let i = 0; i < 10; i++, t += 2) {
    const port = 50_000 + i;
    const delay = 0.85 + i * 0.01;
    at(t, frame("10.0.0.4", "10.0.0.9", { sourcePort: port, destinationPort: 1433, seq: 100, flags: SYN }));
    at(t + delay, frame("10.0.0.9", "10.0.0.4", { sourcePort: 1433, destinationPort: port, seq: 500, ack: 101, flags: SYN | ACK }));
    at(t + delay + 0.0001, frame("10.0.0.4", "10.0.0.9", { sourcePort: port, destinationPort: 1433, seq: 101, ack: 501, flags: ACK }));
  }
  for (let i = 0; i < 5; i++, t += 1) {
    const port = 51_000 + i;
    at(t, frame("10.0.0.4", "10.0.0.8", { sourcePort: port, destinationPort: 443, seq: 100, flags: SYN }));
    at(t + 0.001, frame("10.0.0.8", "10.0.0.4", { sourcePort: 443, destinationPort: port, seq: 500, ack: 101, flags: SYN | ACK }));
    at(t + 0.0011, frame("10.0.0.4", "10.0.0.8", { sourcePort: port, destinationPort: 443, seq: 101, ack: 501, flags: ACK }));
  }
  for (let i = 0; i < 3; i++, t += 0.1) {
    at(t, frame("10.0.0.4", "10.0.0.8", { sourcePort: 51_000, destinationPort: 443, seq: 101, ack: 501, flags: ACK, window: 0 }));
  }
  return pcapFile(packets);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe("TCP handshake time and zero windows", () => {
  it("reports SYN → SYN-ACK p50/p95 per service, slowest first, and says so in the findings", async () => {
    const s = await analyzeCapture(once(capture()));
    expect(s.tcpHealth.handshakeLatency).toEqual([
      { address: "10.0.0.9", port: 1433, handshakes: 10, p50Ms: 890, p95Ms: 940 },
      { address: "10.0.0.8", port: 443, handshakes: 5, p50Ms: 1, p95Ms: 1 },
    ]);
    expect(s.findings).toContain("TCP handshakes to 10.0.0.9:1433 took 940 ms SYN to SYN-ACK at p95 (p50 890 ms, 10 handshakes).");
    expect(s.tcpHealth.zeroWindows).toBe(3);
    expect(s.tcpHealth.zeroWindowSenders).toEqual([{ endpoint: "10.0.0.4:51000", count: 3 }]);
  });

  it.skipIf(!hasCommand("tshark"))("counts zero windows and handshake times as tshark does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "alertcap-timing-"));
    try {
      const file = join(dir, "timing.pcap");
      writeFileSync(file, capture());
      const { stdout } = await promisify(execFile)("tshark", ["-r", file, "-n", "-T", "fields", "-e", "tcp.analysis.zero_window", "-e", "tcp.flags", "-e", "tcp.time_relative", "-e", "tcp.srcport"], { encoding: "utf8" });
      const rows = stdout.trimEnd().split("\n").map((l) => l.split("\t"));
      const zeroWindows = rows.filter((r) => r[0] !== "").length;
      // tcp.time_relative of a SYN-ACK is the time since the stream's first packet, the SYN.
      const db = rows.filter((r) => r[1] === "0x0012" && r[3] === "1433").map((r) => Math.round(Number(r[2]) * 1e6) / 1e3).sort((a, b) => a - b);
      const s = await analyzeCapture(once(capture()));
      expect(s.tcpHealth.zeroWindows).toBe(zeroWindows);
      expect(s.tcpHealth.handshakeLatency[0]!.p50Ms).toBe(db[Math.ceil(0.5 * db.length) - 1]);
      expect(s.tcpHealth.handshakeLatency[0]!.p95Ms).toBe(db[Math.ceil(0.95 * db.length) - 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
