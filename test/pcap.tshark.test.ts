// The analyser's counts against tshark's, frame by frame through the outermost IP header (see pcap.oracle.ts): on
// every fixture capture, on editcap-made variants of them (pcapng, nanosecond, snap lengths that cut headers), and on
// captures this test records itself with tcpdump on loopback (Ethernet and Linux cooked v2 framing, IPv4 and IPv6,
// handshakes, refused connections, resets, UDP, ICMP errors).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeCapture, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { countsOf, hasCommand, tsharkCounts } from "./pcap.oracle.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fixtures", "pcaps");
const fixtureFiles = readdirSync(fixtures).filter((f) => /\.(pcap|pcapng|cap)$/.test(f));
const haveTshark = hasCommand("tshark");
const haveEditcap = hasCommand("editcap", ["-h"]);
const haveTcpdump = hasCommand("tcpdump");

async function analyzeFile(file: string): Promise<CaptureSummary> {
  return analyzeCapture(fileChunks(file));
}

// Reference values from PROVENANCE.md (tshark 4.0.17), so the fixtures are checked even where tshark is missing.
const provenance: Record<string, Partial<CaptureSummary>> = {
  "pcap-parser-be.pcap": { packets: 5, ipv4: 3, ipv6: 0, tcp: 0, udp: 3, icmp: 0, tcpSyn: 0, tcpRst: 0, tcpRetransmissions: 0, format: "pcap" },
  "dpkt-http.pcap": { packets: 43, ipv4: 43, ipv6: 0, tcp: 41, udp: 2, icmp: 0, tcpSyn: 1, tcpRst: 0, tcpRetransmissions: 1, format: "pcap" },
  "gopacket-be-test202.pcapng": { packets: 8, ipv4: 8, ipv6: 0, tcp: 0, udp: 8, icmp: 0, tcpSyn: 0, tcpRst: 0, tcpRetransmissions: 0, format: "pcapng" },
  "app-dns.pcap": { packets: 134, ipv4: 120, ipv6: 14, tcp: 20, udp: 114, icmp: 0, tcpSyn: 2, tcpRst: 0, format: "pcap" },
  "app-http.pcap": { packets: 274, ipv4: 260, ipv6: 14, tcp: 274, udp: 0, icmp: 0, tcpSyn: 27, tcpRst: 0, format: "pcap" },
  "app-tls.pcap": { packets: 192, ipv4: 160, ipv6: 32, tcp: 192, udp: 0, icmp: 0, tcpSyn: 16, tcpRst: 2, format: "pcap" },
  "generated-vlan100-nsec.pcap": { packets: 600, ipv4: 560, ipv6: 40, vlanTagged: 600, tcp: 582, udp: 18, icmp: 0, tcpSyn: 25, tcpRst: 2, tcpRetransmissions: 1, format: "pcap" },
};

describe.concurrent("fixture captures (shared/pcaps, PROVENANCE.md)", () => {
  it("has every fixture listed in PROVENANCE", () => {
    expect(fixtureFiles.sort()).toEqual(Object.keys(provenance).sort());
  });

  for (const name of fixtureFiles) {
    it(`${name}: matches the PROVENANCE reference counts`, async () => {
      const summary = await analyzeFile(join(fixtures, name));
      expect(summary).toMatchObject(provenance[name]!);
      expect(summary.truncated).toBe(false);
    });

    it.skipIf(!haveTshark)(`${name}: counts equal tshark's`, async () => {
      const file = join(fixtures, name);
      expect(countsOf(await analyzeFile(file))).toEqual(await tsharkCounts(file));
    });
  }

  it("reads the time span at the file's precision", async () => {
    const ns = await analyzeFile(join(fixtures, "generated-vlan100-nsec.pcap"));
    expect([ns.firstTimestamp, ns.lastTimestamp]).toEqual(["2026-11-25T15:29:34.589073000Z", "2026-11-25T15:29:34.664360000Z"]);
    const be = await analyzeFile(join(fixtures, "pcap-parser-be.pcap"));
    expect([be.firstTimestamp, be.lastTimestamp, be.byteOrder]).toEqual(["1970-01-01T00:51:04.714590Z", "1970-01-01T00:51:04.896929Z", "big-endian"]);
    const ng = await analyzeFile(join(fixtures, "gopacket-be-test202.pcapng"));
    expect(ng).toMatchObject({ sections: 3, byteOrder: "mixed", linkTypes: [1, 0], packetsWithoutTimestamp: 2, firstTimestamp: "2012-06-29T07:28:25.298858Z" });
  });
});

describe.skipIf(!haveTshark || !haveEditcap || !hasCommand("mergecap", ["-h"]))("editcap/mergecap variants of the fixtures", { concurrent: true }, () => {
  // All fixtures merged into one pcapng (one IDB per link type, as mergecap writes it), then cut to snap lengths that
  // stop inside the headers: one tshark run per variant keeps this quick.
  let dir = "";
  let merged = "";
  let mergedBytes = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "alertcap-editcap-"));
    merged = join(dir, "merged.pcapng");
    const run = spawnSync("mergecap", ["-F", "pcapng", "-w", merged, ...fixtureFiles.map((f) => join(fixtures, f))], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    for (const f of fixtureFiles) mergedBytes += (await analyzeFile(join(fixtures, f))).bytes;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cut = (snapLength: number): (() => string) => () => {
    const out = join(dir, `snap${snapLength}.pcapng`);
    const run = spawnSync("editcap", ["-s", String(snapLength), merged, out], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    return out;
  };
  const variants: Array<[label: string, make: () => string]> = [
    ["merged pcapng, several link types", () => merged],
    ["34-byte snap length (Network Watcher's IPv4-header setting)", cut(34)],
    ["30-byte snap length (cut inside the IPv4 header)", cut(30)],
    ["60-byte snap length (cut inside TCP and IPv6 headers)", cut(60)],
  ];
  for (const [label, make] of variants) {
    it(`${label}: counts equal tshark's`, async () => {
      const file = make();
      const summary = await analyzeFile(file);
      expect(countsOf(summary)).toEqual(await tsharkCounts(file));
      expect(summary.bytes).toBe(mergedBytes); // original lengths survive any cut
    });
  }

  it("nanosecond pcap (editcap -F nsecpcap): counts and exact timestamps", async () => {
    const source = join(fixtures, "dpkt-http.pcap");
    const out = join(dir, "dpkt-http-nsec.pcap");
    expect(spawnSync("editcap", ["-F", "nsecpcap", source, out]).status).toBe(0);
    const summary = await analyzeFile(out);
    expect(countsOf(summary)).toEqual(await tsharkCounts(out));
    expect(summary).toMatchObject({ formatVariant: "pcap, nanosecond", firstTimestamp: "2004-05-13T10:17:07.311224000Z" });
  });
});

describe.skipIf(!haveTshark)("captures recorded live on loopback with tcpdump", { concurrent: true }, () => {
  // Four tcpdump runs record the same traffic at once: Ethernet framing (µs), Linux cooked v2 on "any", nanosecond
  // timestamps, and a 34-byte snap length; a fifth file is the first converted to pcapng.
  const recordings = { ethernet: "lo.pcap", sll2: "any-sll2.pcap", nano: "lo-nano.pcap", snap34: "lo-snap34.pcap" } as const;
  let dir = "";
  let recorded = false;

  beforeAll(async () => {
    if (!haveTcpdump) return;
    dir = mkdtempSync(join(tmpdir(), "alertcap-tcpdump-"));
    const traffic = await startServers();
    const filter = `port ${traffic.tcp4} or port ${traffic.tcp6} or port ${traffic.udp4} or port ${traffic.closed} or icmp or icmp6`;
    const captures = await Promise.all([
      startTcpdump(["-i", "lo", "-w", join(dir, recordings.ethernet)], filter),
      startTcpdump(["-i", "any", "-w", join(dir, recordings.sll2)], filter),
      startTcpdump(["-i", "lo", "--time-stamp-precision=nano", "-w", join(dir, recordings.nano)], filter),
      startTcpdump(["-i", "lo", "-s", "34", "-w", join(dir, recordings.snap34)], filter),
    ]);
    try {
      // "listening on" is printed a moment before every capture really runs: poke until all four files hold a packet.
      await untilCapturing(Object.values(recordings).map((f) => join(dir, f)), traffic.udp4);
      await makeTraffic(traffic);
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the last packets reach the capture files
    } finally {
      await Promise.all(captures.map(stopTcpdump));
      traffic.close();
    }
    if (haveEditcap) spawnSync("editcap", ["-F", "pcapng", join(dir, recordings.ethernet), join(dir, "lo.pcapng")]);
    recorded = true;
  }, 30_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!haveTcpdump)("recorded the traffic (tcpdump is installed)", async () => {
    expect(recorded).toBe(true);
    const s = await analyzeFile(join(dir, recordings.ethernet));
    // 8 connections that complete, 2 refused (RST), 1 reset by the server; UDP both ways; ICMP port unreachable.
    const seen = JSON.stringify(s.topConversations.map((c) => `${c.protocol} ${c.source}:${c.sourcePort}>${c.destination}:${c.destinationPort} ${c.packets} ${c.tcpHandshake ?? ""}`));
    expect(s.tcpSyn, seen).toBeGreaterThanOrEqual(10);
    expect(s.tcpSynAck).toBeGreaterThanOrEqual(8);
    expect(s.tcpRst).toBeGreaterThanOrEqual(3);
    expect(s.tcpFin).toBeGreaterThanOrEqual(8);
    expect(s.ipv6).toBeGreaterThan(10);
    expect(s.udp).toBeGreaterThanOrEqual(8);
    expect(s.icmp).toBeGreaterThanOrEqual(1);
    expect(s.tcpHealth.synsRefused).toBe(2);
    expect(s.tcpHealth.failedHandshakeTargets).toHaveLength(2);
  });

  it.skipIf(!haveTcpdump)("SLL2 framing on `-i any`", async () => {
    const s = await analyzeFile(join(dir, recordings.sll2));
    expect(s.linkTypes).toEqual([276]);
  });

  for (const file of [...Object.values(recordings), "lo.pcapng"]) {
    it.skipIf(!haveTcpdump || (file.endsWith(".pcapng") && !haveEditcap))(`${file}: counts equal tshark's`, async () => {
      const path = join(dir, file);
      expect(countsOf(await analyzeFile(path))).toEqual(await tsharkCounts(path));
    });
  }

  it.skipIf(haveTcpdump)("SKIPPED: tcpdump is not installed, so no live loopback capture was recorded (CI installs it)", () => {
    console.warn("pcap.tshark.test: tcpdump missing — the live loopback capture comparison did not run");
  });
});

interface Traffic {
  tcp4: number;
  tcp6: number;
  udp4: number;
  closed: number;
  close(): void;
}

async function startServers(): Promise<Traffic> {
  const reply = (socket: net.Socket): void => {
    socket.once("data", (request) => {
      if (request.toString().startsWith("RESET")) socket.resetAndDestroy();
      else socket.end(Buffer.alloc(4_000, 0x78));
    });
  };
  const listen = (server: net.Server, host: string): Promise<number> =>
    new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));
  const tcp4 = net.createServer(reply);
  const tcp6 = net.createServer(reply);
  const udp4 = dgram.createSocket("udp4");
  udp4.on("message", (message, from) => udp4.send(message, from.port, from.address));
  const closedServer = net.createServer();
  const closed = await listen(closedServer, "127.0.0.1");
  await new Promise((resolve) => closedServer.close(resolve)); // a port nobody listens on now
  const ports = {
    tcp4: await listen(tcp4, "127.0.0.1"),
    tcp6: await listen(tcp6, "::1"),
    udp4: await new Promise<number>((resolve) => udp4.bind(0, "127.0.0.1", () => resolve(udp4.address().port))),
    closed,
  };
  return { ...ports, close: () => (tcp4.close(), tcp6.close(), udp4.close()) };
}

async function makeTraffic(t: Traffic): Promise<void> {
  const exchange = (host: string, port: number, request: string): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect(port, host, () => socket.write(request));
      socket.on("data", () => undefined);
      socket.on("close", () => resolve());
      socket.on("error", () => resolve()); // refused / reset: expected for some
    });
  for (let i = 0; i < 5; i++) await exchange("127.0.0.1", t.tcp4, "GET / HTTP/1.0\r\n\r\n");
  for (let i = 0; i < 3; i++) await exchange("::1", t.tcp6, "GET / HTTP/1.0\r\n\r\n");
  await exchange("127.0.0.1", t.tcp4, "RESET");
  await exchange("127.0.0.1", t.closed, "x");
  await exchange("::1", t.closed, "x");
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", () => resolve()));
  for (let i = 0; i < 4; i++) {
    await new Promise<void>((resolve) => {
      udp.once("message", () => resolve());
      udp.send(Buffer.alloc(100 + i), t.udp4, "127.0.0.1");
    });
  }
  await new Promise<void>((resolve) => udp.send(Buffer.alloc(40), t.closed, "127.0.0.1", () => resolve())); // → ICMP port unreachable
  await new Promise((resolve) => setTimeout(resolve, 50));
  udp.close();
}

async function untilCapturing(files: string[], udpPort: number): Promise<void> {
  const poke = dgram.createSocket("udp4");
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      await new Promise<void>((resolve) => poke.send(Buffer.from("canary"), udpPort, "127.0.0.1", () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (files.every((f) => (statSync(f, { throwIfNoEntry: false })?.size ?? 0) > 24)) return;
    }
    throw new Error("tcpdump did not start capturing within 5 s");
  } finally {
    poke.close();
  }
}

function startTcpdump(args: string[], filter: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // --immediate-mode: with TPACKET_V3, packets otherwise wait in the kernel ring until a block times out, and a
    // SIGINT before that loses them. -B 32768 (KiB): the default 2 MiB ring holds only a few 64 KiB loopback frames,
    // and on a busy CI machine tcpdump then drops packets.
    const child = spawn("tcpdump", ["--immediate-mode", "-B", "32768", "-U", "-n", ...args, filter], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("listening on")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`tcpdump ${args.join(" ")} exited ${code}: ${stderr}`)));
  });
}

function stopTcpdump(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    let tail = "";
    child.stderr!.on("data", (d: Buffer) => (tail += d.toString()));
    child.on("exit", () => {
      if (!/\b0 packets dropped by kernel/.test(tail)) console.warn(`tcpdump: ${tail.trim().replace(/\n/g, "; ")}`);
      resolve();
    });
    child.kill("SIGINT");
  });
}
