// Records the packets of an emulated capture session.
//
// With tcpdump available, the emulated VM's own traffic is generated for the time of the recording (local/traffic:
// DNS, HTTP, TLS, a refused and a silent port, on the VM's dedicated loopback address) and tcpdump records only
// packets to or from that address, with the session's filters (as BPF), snap length and byte limit. Nothing else on
// the machine's loopback (the local Functions host and its keys, Azurite, the emulator itself) can reach the file.
// Where tcpdump is missing or may not capture (no root / CAP_NET_RAW), a synthetic but valid pcap with the same kinds
// of traffic is written instead and this is said once on stderr.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import {
  buildPcap,
  countPcapPackets,
  dropPartialRecord,
  syntheticConversation,
  trimPcap,
  type SyntheticTrafficHints,
} from "./pcapFile.js";
import type { CaptureFilter } from "./filters.js";
import { leaseVmTraffic, type VmTrafficLease } from "../../traffic/vmTraffic.js";
import { syntheticVmTraffic } from "../../traffic/syntheticTraffic.js";
import type { TrafficProfile } from "../../traffic/profile.js";

/** tcpdump's own maximum; Network Watcher's 0 ("whole packet") maps to it. */
export const MAX_SNAPLEN = 262144;

export type PacketSourceMode = "auto" | "tcpdump" | "synthetic";

export interface RecordingSpec {
  outputPath: string;
  /** BPF for the session's filters; `undefined` captures everything. */
  bpf: string | undefined;
  /** TCP ports whose traffic is never recorded (the emulator's own endpoints). */
  excludePorts: number[];
  /** Network Watcher `bytesToCapturePerPacket`; 0 = whole packet. */
  bytesPerPacket: number;
  /** Network Watcher `totalBytesPerSession`: the file never grows beyond it. */
  maxBytes: number;
  /** Shapes the synthetic conversation so it matches the session's filters. */
  syntheticHints: SyntheticTrafficHints;
  /** Called once when the file reaches `maxBytes`; the session then stops the recording. */
  onByteLimit: () => void;
  /**
   * Real seconds after which the recorder stops by itself even if the emulator died without stopping it (tcpdump
   * runs under coreutils `timeout`, which outlives a killed parent).
   */
  safetyLimitSeconds: number;
  /**
   * The emulated machine whose traffic is generated and recorded: a VM's resource ID, or a scale set's ID +
   * `/virtualMachines/{instanceId}`. Each gets its own loopback address. Default: one shared "emulated VM".
   */
  emulatedVm?: string | undefined;
  /** The session's Network Watcher filters, so a synthetic file keeps only what they match (tcpdump uses `bpf`). */
  filters?: CaptureFilter[] | undefined;
  /**
   * What the emulated VM does on the network (default `steadyProfile`). Live traffic is shared by every recording of
   * one VM, so the profile of the recording that starts the VM's traffic applies until its last recording stops.
   */
  trafficProfile?: TrafficProfile | undefined;
  /** Write a synthetic file whatever the packet source (the session runs on a caller's virtual clock). */
  synthetic?: boolean | undefined;
  /** The session's clock for synthetic packet timestamps (default: the real one). */
  nowMs?: (() => number) | undefined;
}

/** The machine recorded when a caller names none. */
export const DEFAULT_EMULATED_VM = "alertcap-emulated-vm";

/** tcpdump's capture buffer (`-B`, KiB). */
const RING_BUFFER_KIB = 8192;

/** How long a stop waits at most for the rounds of traffic under way to be on the wire. */
const ROUNDS_WAIT_MS = 5000;

export interface RecordingResult {
  source: "tcpdump" | "synthetic";
  path: string;
  bytes: number;
  packets: number;
  byteLimitReached: boolean;
}

export interface Recording {
  readonly source: "tcpdump" | "synthetic";
  /** Process writing the file (tcpdump, or the `timeout` wrapping it); absent for synthetic recordings. */
  readonly pid?: number | undefined;
  /** Loopback address of the emulated VM whose traffic a tcpdump recording holds (nothing else is recorded). */
  readonly emulatedAddress?: string | undefined;
  /** Ends the recording and finalises the file; safe to call more than once. */
  stop(): Promise<RecordingResult>;
}

export interface PacketRecorderSettings {
  mode: PacketSourceMode;
  tcpdumpPath: string;
  interfaceName: string;
  log: (line: string) => void;
}

export class PacketRecorder {
  /** Set once tcpdump failed in `auto` mode: later sessions go straight to synthetic files. */
  private tcpdumpUnavailable: string | undefined;
  /** Transient reasons the emulated traffic could not start, each logged once. */
  private readonly trafficProblems = new Set<string>();
  private readonly live = new Set<Recording>();
  private readonly starting = new Set<Promise<Recording>>();
  private closed = false;

  constructor(private readonly settings: PacketRecorderSettings) {}

  /** Resolves once packets are being recorded (tcpdump says "listening"), so traffic sent afterwards is in the file. */
  async start(spec: RecordingSpec): Promise<Recording> {
    const starting = this.startRecording(spec);
    this.starting.add(starting);
    try {
      const recording = this.track(await starting);
      // Shut down while tcpdump was starting: nobody else will stop it.
      if (this.closed) await recording.stop();
      return recording;
    } finally {
      this.starting.delete(starting);
    }
  }

  /** Stops every recording still running or starting (emulator shutdown). */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
    await Promise.allSettled([...this.live].map((recording) => recording.stop()));
  }

  private async startRecording(spec: RecordingSpec): Promise<Recording> {
    if (this.settings.mode === "synthetic" || spec.synthetic || this.tcpdumpUnavailable !== undefined) return startSyntheticRecording(spec);
    let traffic: VmTrafficLease;
    try {
      traffic = await leaseVmTraffic(spec.emulatedVm ?? DEFAULT_EMULATED_VM, spec.trafficProfile ? { profile: spec.trafficProfile } : {});
    } catch (error) {
      if (this.settings.mode === "tcpdump") throw error;
      const { code, message } = error as NodeJS.ErrnoException;
      if (code === "EACCES" || code === "EPERM") {
        // Lasting: the VM's servers use ports 53, 80 and 443, which need the same privileges as tcpdump.
        this.noRecordingPossible(`the emulated VM's servers cannot listen: ${message}`);
      } else if (!this.trafficProblems.has(message)) {
        // Not remembered: a full loopback range may have room again by the next session.
        this.trafficProblems.add(message);
        this.settings.log(`arm-emulator: the emulated VM's traffic cannot start (${message}); its capture file is a synthetic pcap`);
      }
      return startSyntheticRecording(spec);
    }
    try {
      return await startTcpdumpRecording(spec, this.settings, traffic);
    } catch (error) {
      await traffic.release();
      if (this.settings.mode === "tcpdump") throw error;
      this.noRecordingPossible((error as Error).message);
      return startSyntheticRecording(spec);
    }
  }

  /** From now on every file is synthetic; said once, even when sessions starting together all fail. */
  private noRecordingPossible(reason: string): void {
    if (this.tcpdumpUnavailable !== undefined) return;
    this.tcpdumpUnavailable = reason;
    this.settings.log(`arm-emulator: tcpdump cannot record (${reason}); capture files will be synthetic pcaps`);
  }

  private track(recording: Recording): Recording {
    this.live.add(recording);
    const stop = recording.stop.bind(recording);
    let result: Promise<RecordingResult> | undefined;
    return {
      source: recording.source,
      pid: recording.pid,
      emulatedAddress: recording.emulatedAddress,
      stop: () => {
        result ??= stop().finally(() => this.live.delete(recording));
        return result;
      },
    };
  }
}

let timeoutCommand: boolean | undefined;

function timeoutCommandAvailable(): boolean {
  timeoutCommand ??= spawnSync("timeout", ["--version"], { stdio: "ignore" }).status === 0;
  return timeoutCommand;
}

/** Only the emulated VM's address, then the session's filters; the emulator's own ports never (belt and braces). */
function captureExpression(spec: RecordingSpec, vmAddress: string): string {
  const parts = [`host ${vmAddress}`];
  if (spec.bpf) parts.push(`(${spec.bpf})`);
  if (spec.excludePorts.length > 0) parts.push(`not (${spec.excludePorts.map((port) => `tcp port ${port}`).join(" or ")})`);
  return parts.join(" and ");
}

function snaplenFor(bytesPerPacket: number): number {
  return bytesPerPacket <= 0 || bytesPerPacket > MAX_SNAPLEN ? MAX_SNAPLEN : bytesPerPacket;
}

async function startTcpdumpRecording(spec: RecordingSpec, settings: PacketRecorderSettings, traffic: VmTrafficLease): Promise<Recording> {
  const args = [
    "-i",
    settings.interfaceName,
    "-U",
    "--immediate-mode",
    "-n",
    // 8 MiB of kernel ring (default 2 MiB): with --immediate-mode each slot holds a whole frame, and the default ring
    // dropped a fifth of the VM traffic's packets on a loaded 2-core machine; 8 MiB dropped none.
    "-B",
    String(RING_BUFFER_KIB),
    "-s",
    String(snaplenFor(spec.bytesPerPacket)),
    "-w",
    spec.outputPath,
  ];
  args.push(captureExpression(spec, traffic.addresses.vm));
  // `timeout` forwards our SIGINT to tcpdump, and stops it on its own if this process is killed first.
  const child = timeoutCommandAvailable()
    ? spawn("timeout", ["--signal=INT", "--kill-after=5", String(Math.ceil(spec.safetyLimitSeconds)), settings.tcpdumpPath, ...args], {
        stdio: ["ignore", "ignore", "pipe"],
      })
    : spawn(settings.tcpdumpPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  await waitUntilListening(child);
  child.on("error", () => {});
  // A round right away, so even a short session holds every kind of traffic; stop waits for it.
  void traffic.playRound();

  let byteLimitReached = false;
  // tcpdump has no "stop after N bytes" switch (-C rotates files), so watch the file and stop it ourselves.
  const watcher = setInterval(() => {
    stat(spec.outputPath).then(
      (info) => {
        if (!byteLimitReached && info.size >= spec.maxBytes) {
          byteLimitReached = true;
          spec.onByteLimit();
        }
      },
      () => {},
    );
  }, 25);
  watcher.unref();

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    source: "tcpdump",
    pid: child.pid,
    emulatedAddress: traffic.addresses.vm,
    async stop() {
      // Whole rounds only: the first one, and any other under way (a SYN without its answer would read as a failure).
      await withinMs(traffic.roundsUnderWay(), ROUNDS_WAIT_MS);
      clearInterval(watcher);
      child.kill("SIGINT"); // tcpdump flushes its buffer and closes the file on SIGINT
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(killTimer);
      await traffic.release();
      const recorded = await readFile(spec.outputPath).catch(() => buildPcap([], snaplenFor(spec.bytesPerPacket)));
      const file = trimPcap(dropPartialRecord(recorded), spec.maxBytes);
      byteLimitReached ||= recorded.length >= spec.maxBytes;
      // Rewrite rather than truncate in place: tcpdump created the file as its own (dropped-privilege) user.
      await writeFile(spec.outputPath, file);
      return {
        source: "tcpdump",
        path: spec.outputPath,
        bytes: file.length,
        packets: countPcapPackets(file) ?? 0,
        byteLimitReached,
      };
    },
  };
}

function withinMs(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function waitUntilListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = "";
    const cleanUp = () => {
      clearTimeout(timeout);
      child.off("error", onError);
      child.off("exit", onExit);
      child.stderr?.off("data", onData);
      // Keep draining stderr so tcpdump never blocks on a full pipe.
      child.stderr?.resume();
    };
    const fail = (reason: string) => {
      cleanUp();
      child.kill("SIGKILL");
      reject(new Error(reason));
    };
    const onError = (error: Error) => fail(error.message);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`tcpdump exited (${signal ?? `code ${code}`}): ${stderr.trim().split("\n").pop() ?? ""}`);
    const onData = (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/listening on/i.test(stderr)) {
        cleanUp();
        resolve();
      }
    };
    const timeout = setTimeout(() => fail("tcpdump did not start listening within 5 s"), 5000);
    child.on("error", onError);
    child.on("exit", onExit);
    child.stderr?.on("data", onData);
  });
}

function startSyntheticRecording(spec: RecordingSpec): Recording {
  const now = spec.nowMs ?? Date.now;
  const startedAt = now();
  const snaplen = snaplenFor(spec.bytesPerPacket);
  const packetsUntil = (endMs: number) => syntheticPackets(spec, startedAt, endMs);
  // If even the first second of synthetic traffic exceeds the byte limit, the session ends by the limit right away.
  const fullSize = buildPcap(packetsUntil(startedAt + 1000), snaplen).length;
  const byteLimitReached = fullSize >= spec.maxBytes;
  if (byteLimitReached) setImmediate(spec.onByteLimit);
  return {
    source: "synthetic",
    async stop() {
      const file = trimPcap(buildPcap(packetsUntil(Math.max(now(), startedAt + 1)), snaplen), spec.maxBytes);
      await writeFile(spec.outputPath, file);
      return {
        source: "synthetic",
        path: spec.outputPath,
        bytes: file.length,
        packets: countPcapPackets(file) ?? 0,
        byteLimitReached,
      };
    },
  };
}

/**
 * The emulated VM's traffic, kept to what the session's filters match. A caller that passes BPF but not the filters
 * themselves gets the single conversation shaped by `syntheticHints`, which always matches its first filter.
 */
function syntheticPackets(spec: RecordingSpec, startMs: number, endMs: number) {
  if (spec.bpf !== undefined && spec.filters === undefined) return syntheticConversation(spec.syntheticHints, startMs, endMs);
  return syntheticVmTraffic(spec.emulatedVm ?? DEFAULT_EMULATED_VM, spec.filters, startMs, endMs, spec.trafficProfile);
}
