// The ARM emulator's capture records the emulated VM's own generated traffic and nothing else on the machine's
// loopback: each kind of traffic a report should show (DNS NOERROR/SERVFAIL/NXDOMAIN/unanswered over UDP and TCP,
// HTTP 5xx, a TLS handshake with SNI and one ending in a protocol_version alert, a refused port, a silent host) is in
// the file, every packet is to or from the VM's address, and a function key sent over 127.0.0.1 at the same time is
// not. The synthetic fallback (no tcpdump) shows the same kinds of traffic and honours the session's filters.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PacketRecorder, type PacketSourceMode, type RecordingSpec } from "../local/arm-emulator/capture/recorder.js";
import { until } from "../local/arm-emulator/testing/waiting.js";
import { BLOCK_PROBES, blockAddresses, homeAddresses, homeBlock, probedBlock } from "../local/traffic/addresses.js";
import type { TrafficProfile } from "../local/traffic/profile.js";
import { syntheticVmTraffic } from "../local/traffic/syntheticTraffic.js";
import { activeVmTrafficCount } from "../local/traffic/vmTraffic.js";
import { tcpdumpRecords, tsharkAvailable } from "./support/captureTools.js";

const VM_A = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1";
const VM_B = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-db-1";
const FUNCTION_KEY = "fk-3b1d0c9a7e5f4d2b8a6c1e0f9d8b7a65-SECRET";


let dir: string;
let keyedService: Server;
const keysReceived: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alertcap-traffic-"));
  // Stands in for the local Functions host: a request carrying a function key, on 127.0.0.1 like the real one.
  keyedService = createServer((req, res) => {
    keysReceived.push(String(req.headers["x-functions-key"]));
    req.resume();
    res.end(`{"echo":"${FUNCTION_KEY}"}`);
  });
  await new Promise<void>((resolve) => keyedService.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => keyedService.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

function recorder(mode: PacketSourceMode): PacketRecorder {
  return new PacketRecorder({ mode, tcpdumpPath: "tcpdump", interfaceName: "lo", log: () => {} });
}

function spec(name: string, extra: Partial<RecordingSpec> = {}): RecordingSpec {
  return {
    outputPath: join(dir, `${name}.cap`),
    bpf: undefined,
    excludePorts: [],
    bytesPerPacket: 0,
    maxBytes: 1 << 30,
    syntheticHints: { protocol: "TCP", localAddress: "10.0.0.4", remoteAddress: "10.0.0.5", localPort: 443, remotePort: 50312 },
    onByteLimit: () => {},
    safetyLimitSeconds: 60,
    emulatedVm: VM_A,
    ...extra,
  };
}

function sendFunctionKey(): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = request(
      { host: "127.0.0.1", port: (keyedService.address() as AddressInfo).port, path: "/admin/functions/capture", headers: { "x-functions-key": FUNCTION_KEY } },
      (response) => response.resume().on("end", () => resolve()),
    );
    call.on("error", reject);
    call.end();
  });
}

/** One tshark pass over a file: every frame's decoded fields, for the assertions below to count. */
const FIELDS = [
  "ip.src",
  "ip.dst",
  "udp.port",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.flags.syn",
  "tcp.flags.ack",
  "tcp.flags.reset",
  "dns.flags.response",
  "dns.flags.rcode",
  "dns.qry.name",
  "dns.response_in",
  "http.response.code",
  "tls.handshake.type",
  "tls.handshake.extensions_server_name",
  "tls.alert_message.desc",
  "_ws.malformed",
] as const;
type Frame = Record<(typeof FIELDS)[number], string[]>;

function decode(file: string): Frame[] {
  const args = ["-r", file, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,", ...FIELDS.flatMap((field) => ["-e", field])];
  const run = spawnSync("tshark", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const values = line.split("\t");
      return Object.fromEntries(FIELDS.map((field, i) => [field, values[i] ? (values[i] ?? "").split(",") : []])) as Frame;
    });
}

const has = (frame: Frame, field: keyof Frame, value?: string) => (value === undefined ? frame[field].length > 0 : frame[field].includes(value));
const count = (frames: Frame[], test: (frame: Frame) => boolean) => frames.filter(test).length;

/** What every emulated capture must show, as tshark decodes it. */
function expectEveryKindOfTraffic(frames: Frame[]): void {
  const query = (frame: Frame) => has(frame, "dns.flags.response", "0") || has(frame, "dns.flags.response", "False");
  const response = (frame: Frame) => has(frame, "dns.flags.response") && !query(frame);
  expect(count(frames, (f) => has(f, "udp.port") && query(f))).toBeGreaterThanOrEqual(4);
  expect(count(frames, (f) => has(f, "tcp.srcport") && has(f, "dns.qry.name"))).toBeGreaterThanOrEqual(2); // DNS over TCP
  expect(count(frames, (f) => response(f) && has(f, "dns.flags.rcode", "0"))).toBeGreaterThanOrEqual(1);
  expect(count(frames, (f) => has(f, "dns.flags.rcode", "2"))).toBeGreaterThanOrEqual(1); // SERVFAIL
  expect(count(frames, (f) => has(f, "dns.flags.rcode", "3"))).toBeGreaterThanOrEqual(1); // NXDOMAIN
  // A query no response answers.
  expect(count(frames, (f) => query(f) && has(f, "dns.qry.name", "cache.contoso.test") && !has(f, "dns.response_in"))).toBeGreaterThanOrEqual(1);
  expect(count(frames, (f) => has(f, "http.response.code", "200"))).toBeGreaterThanOrEqual(1);
  expect(count(frames, (f) => f["http.response.code"].some((code) => Number(code) >= 500))).toBeGreaterThanOrEqual(2);
  expect(count(frames, (f) => has(f, "tls.handshake.type", "1") && has(f, "tls.handshake.extensions_server_name", "api.contoso.test"))).toBeGreaterThanOrEqual(1);
  expect(count(frames, (f) => has(f, "tls.handshake.type", "2"))).toBeGreaterThanOrEqual(1); // the good handshake's ServerHello
  expect(count(frames, (f) => has(f, "tls.alert_message.desc", "70"))).toBeGreaterThanOrEqual(1); // protocol_version
  const set = (f: Frame, flag: "tcp.flags.syn" | "tcp.flags.ack" | "tcp.flags.reset") => has(f, flag, "1") || has(f, flag, "True");
  expect(count(frames, (f) => set(f, "tcp.flags.reset") && has(f, "tcp.srcport", "5432"))).toBeGreaterThanOrEqual(1); // refused
  expect(count(frames, (f) => set(f, "tcp.flags.syn") && !set(f, "tcp.flags.ack") && has(f, "tcp.dstport", "1433"))).toBeGreaterThanOrEqual(1); // silent
  expect(count(frames, (f) => has(f, "tcp.srcport", "1433"))).toBe(0);
  // Nothing lost on the way into the file: every connection to a listening server shows its SYN-ACK.
  for (const port of ["80", "443", "53"]) {
    const syns = count(frames, (f) => set(f, "tcp.flags.syn") && !set(f, "tcp.flags.ack") && has(f, "tcp.dstport", port));
    expect(syns).toBeGreaterThan(0);
    expect(count(frames, (f) => set(f, "tcp.flags.syn") && set(f, "tcp.flags.ack") && has(f, "tcp.srcport", port))).toBe(syns);
  }
}

/** Whole frames in a classic pcap that may still be being written. */
function packetsIn(path: string): number {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return 0;
  }
  let packets = 0;
  for (let offset = 24; offset + 16 <= file.length; offset += 16 + file.readUInt32LE(offset + 8)) {
    if (offset + 16 + file.readUInt32LE(offset + 8) > file.length) break;
    packets++;
  }
  return packets;
}

/** Source and destination IPv4 address of every frame of a classic pcap with Ethernet framing (what lo gives). */
function endpoints(file: Buffer): Array<[string, string]> {
  const ends: Array<[string, string]> = [];
  for (let offset = 24; offset + 16 <= file.length; offset += 16 + file.readUInt32LE(offset + 8)) {
    const frame = file.subarray(offset + 16, offset + 16 + file.readUInt32LE(offset + 8));
    ends.push([frame.subarray(26, 30).join("."), frame.subarray(30, 34).join(".")]);
  }
  return ends;
}

const onlyBetween = (file: Buffer, address: string | undefined) =>
  endpoints(file).filter(([source, destination]) => source !== address && destination !== address);

describe.skipIf(!tcpdumpRecords)("recorded with tcpdump", () => {
  it("holds only the VM's own traffic, every kind of it, and not a function key sent over loopback meanwhile", async () => {
    const packets = recorder("tcpdump");
    const recording = await packets.start(spec("vm-a"));
    await sendFunctionKey();
    // A loaded machine may start the shared silent host after the first round has gone: wait (on the file tcpdump
    // writes packet by packet) until a second round is in, so every kind of exchange has had its turn.
    await until(() => packetsIn(spec("vm-a").outputPath) >= 150, "two rounds of the VM's traffic in the file", 30_000);
    const result = await recording.stop();
    expect(keysReceived).toContain(FUNCTION_KEY); // the key did cross loopback while tcpdump listened

    expect(result.source).toBe("tcpdump");
    const file = readFileSync(result.path);
    expect(file.includes(FUNCTION_KEY)).toBe(false);
    expect(file.includes("x-functions-key")).toBe(false);
    const vm = recording.emulatedAddress ?? "";
    expect(vm).toMatch(/^127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./); // 127.64.0.0/10
    // The VM keeps its address from run to run: its home block, or, when another process holds that (the other test
    // files run the same sample VM in parallel), one of the blocks probed after it.
    const candidates = Array.from({ length: BLOCK_PROBES }, (_, probe) => blockAddresses(probedBlock(homeBlock(VM_A), probe)).vm);
    expect(candidates).toContain(vm);
    expect(result.packets).toBeGreaterThan(50);
    expect(endpoints(file)).toHaveLength(result.packets);
    expect(onlyBetween(file, vm)).toEqual([]);
    if (tsharkAvailable) expectEveryKindOfTraffic(decode(result.path));
    expect(activeVmTrafficCount()).toBe(0);
  });

  it("gives each VM its own address, shares one VM's traffic between its captures, and stops it with the last", async () => {
    const packets = recorder("tcpdump");
    const [a1, a2, b] = await Promise.all([packets.start(spec("a1")), packets.start(spec("a2")), packets.start(spec("b", { emulatedVm: VM_B }))]);
    expect(a1.emulatedAddress).toBe(a2.emulatedAddress);
    expect(b.emulatedAddress).not.toBe(a1.emulatedAddress);
    expect(activeVmTrafficCount()).toBe(2);
    const [resultA1, resultB] = await Promise.all([a1.stop(), b.stop()]);
    expect(activeVmTrafficCount()).toBe(1); // a2 still records VM A
    const resultA2 = await a2.stop();
    expect(activeVmTrafficCount()).toBe(0);
    // The VM's web server is gone with its traffic.
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(80, a1.emulatedAddress ?? "", () => resolve("connected"));
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
    expect(refused).toBe("ECONNREFUSED");
    for (const [result, address] of [
      [resultA1, a1.emulatedAddress],
      [resultA2, a2.emulatedAddress],
      [resultB, b.emulatedAddress],
    ] as const) {
      expect(result.packets).toBeGreaterThan(50);
      expect(onlyBetween(readFileSync(result.path), address)).toEqual([]);
    }
  });

  it("applies the session's filters on top of the VM's address", async () => {
    const packets = recorder("tcpdump");
    const recording = await packets.start(spec("dns-only", { bpf: "udp and ((src port 53) or (dst port 53))", filters: [{ protocol: "UDP", remotePort: "53" }] }));
    const result = await recording.stop();
    expect(result.packets).toBeGreaterThanOrEqual(4);
    if (tsharkAvailable) {
      const frames = decode(result.path);
      expect(frames.every((f) => has(f, "udp.port", "53"))).toBe(true);
      expect(count(frames, (f) => has(f, "dns.flags.rcode", "2"))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("VM traffic lifecycle", () => {
  it("ends with its last lease, so a process that released it exits normally (code 0, nothing left running)", () => {
    const module = new URL("../local/traffic/vmTraffic.js", import.meta.url).href;
    const script = `
      const { leaseVmTraffic, activeVmTrafficCount } = await import(${JSON.stringify(module)});
      const lease = await leaseVmTraffic("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/exit-check");
      await lease.playRound();
      await lease.release();
      console.log("active", activeVmTrafficCount());`;
    // A file, not `-e`: an evaluated script keeps the process alive differently.
    const path = join(dir, "exit-check.mjs");
    writeFileSync(path, script);
    const run = spawnSync(process.execPath, [path], { encoding: "utf8", timeout: 30_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("active 0");
    expect(run.status).toBe(0);
  });
});

describe("synthetic captures (no tcpdump)", () => {
  it("show the same kinds of traffic on the VM's address", async () => {
    const recording = await recorder("synthetic").start(spec("synthetic-all"));
    const result = await recording.stop();
    expect(result.source).toBe("synthetic");
    const vm = homeAddresses(VM_A).vm;
    expect(onlyBetween(readFileSync(result.path), vm)).toEqual([]);
    if (tsharkAvailable) {
      const frames = decode(result.path);
      expect(frames).toHaveLength(result.packets);
      expectEveryKindOfTraffic(frames);
      expect(count(frames, (f) => has(f, "_ws.malformed"))).toBe(0);
    }
  });

  it("keep only what the session's filters match", async () => {
    const recording = await recorder("synthetic").start(
      spec("synthetic-web", { bpf: "tcp and ((src port 80) or (dst port 80))", filters: [{ protocol: "TCP", localPort: "80" }] }),
    );
    const result = await recording.stop();
    expect(result.packets).toBeGreaterThan(0);
    if (tsharkAvailable) {
      const frames = decode(result.path);
      expect(frames.every((f) => has(f, "tcp.srcport", "80") || has(f, "tcp.dstport", "80"))).toBe(true);
      expect(count(frames, (f) => has(f, "udp.port"))).toBe(0);
      expect(count(frames, (f) => has(f, "http.response.code", "503"))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("traffic profiles", () => {
  it("let failures start at a chosen time: healthy rounds before it, failing rounds after", () => {
    const failureStartsAfterMs = 2000;
    const checkoutFailingLater: TrafficProfile = {
      roundIntervalMs: 1000,
      round: (_round, elapsedMs) => [
        { kind: "http", method: "POST", path: "/api/checkout", status: elapsedMs < failureStartsAfterMs ? 200 : 503 },
        { kind: "dns", transport: "udp", name: "db.contoso.test", outcome: elapsedMs < failureStartsAfterMs ? "NOERROR" : "SERVFAIL" },
      ],
    };
    const start = 1_764_650_000_000;
    const packets = syntheticVmTraffic(VM_A, undefined, start, start + 4500, checkoutFailingLater);
    const statusAt = (text: string | Buffer) => packets.filter((p) => p.data.includes(text)).map((p) => Math.floor((p.timestampMs - start) / 1000));
    expect(statusAt("HTTP/1.1 200 OK")).toEqual([0, 1]);
    expect(statusAt("HTTP/1.1 503 Service Unavailable")).toEqual([2, 3, 4]);
    // DNS flags word of a response: 0x8180 (NOERROR) before, 0x8182 (SERVFAIL) after.
    expect(statusAt(Buffer.from([0x81, 0x82]))).toEqual([2, 3, 4]);
  });
});
