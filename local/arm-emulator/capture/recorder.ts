// Records the packets of an emulated capture session.
//
// With tcpdump available, a real recording is made on the loopback interface with the session's filters (as BPF),
// snap length and byte limit. The emulator's own ports (its HTTPS endpoint, the blob endpoint) are excluded so the
// file holds "VM traffic", not the management calls that drive the emulation. Where tcpdump is missing or may not
// capture (no root / CAP_NET_RAW), a synthetic but valid pcap is written instead and this is said once on stderr.

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
}

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
    if (this.settings.mode === "synthetic" || this.tcpdumpUnavailable !== undefined) return startSyntheticRecording(spec);
    try {
      return await startTcpdumpRecording(spec, this.settings);
    } catch (error) {
      if (this.settings.mode === "tcpdump") throw error;
      this.tcpdumpUnavailable = (error as Error).message;
      this.settings.log(`arm-emulator: tcpdump cannot record (${this.tcpdumpUnavailable}); capture files will be synthetic pcaps`);
      return startSyntheticRecording(spec);
    }
  }

  private track(recording: Recording): Recording {
    this.live.add(recording);
    const stop = recording.stop.bind(recording);
    let result: Promise<RecordingResult> | undefined;
    return {
      source: recording.source,
      pid: recording.pid,
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

function captureExpression(spec: RecordingSpec): string {
  const exclusions = spec.excludePorts.map((port) => `tcp port ${port}`).join(" or ");
  if (!exclusions) return spec.bpf ?? "";
  return spec.bpf ? `(${spec.bpf}) and not (${exclusions})` : `not (${exclusions})`;
}

function snaplenFor(bytesPerPacket: number): number {
  return bytesPerPacket <= 0 || bytesPerPacket > MAX_SNAPLEN ? MAX_SNAPLEN : bytesPerPacket;
}

async function startTcpdumpRecording(spec: RecordingSpec, settings: PacketRecorderSettings): Promise<Recording> {
  const args = [
    "-i",
    settings.interfaceName,
    "-U",
    "--immediate-mode",
    "-n",
    "-s",
    String(snaplenFor(spec.bytesPerPacket)),
    "-w",
    spec.outputPath,
  ];
  const expression = captureExpression(spec);
  if (expression) args.push(expression);
  // `timeout` forwards our SIGINT to tcpdump, and stops it on its own if this process is killed first.
  const child = timeoutCommandAvailable()
    ? spawn("timeout", ["--signal=INT", "--kill-after=5", String(Math.ceil(spec.safetyLimitSeconds)), settings.tcpdumpPath, ...args], {
        stdio: ["ignore", "ignore", "pipe"],
      })
    : spawn(settings.tcpdumpPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  await waitUntilListening(child);
  child.on("error", () => {});

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
    async stop() {
      clearInterval(watcher);
      child.kill("SIGINT"); // tcpdump flushes its buffer and closes the file on SIGINT
      const killTimer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(killTimer);
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
  const startedAt = Date.now();
  const snaplen = snaplenFor(spec.bytesPerPacket);
  // If even the synthetic conversation exceeds the byte limit, the session ends by the limit right away.
  const fullSize = buildPcap(syntheticConversation(spec.syntheticHints, startedAt, startedAt + 1000), snaplen).length;
  const byteLimitReached = fullSize >= spec.maxBytes;
  if (byteLimitReached) setImmediate(spec.onByteLimit);
  return {
    source: "synthetic",
    async stop() {
      const packets = syntheticConversation(spec.syntheticHints, startedAt, Math.max(Date.now(), startedAt + 1));
      const file = trimPcap(buildPcap(packets, snaplen), spec.maxBytes);
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
