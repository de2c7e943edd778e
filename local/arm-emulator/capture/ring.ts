// The ring of files of one continuous-capture session (Network Watcher `continuousCapture: true`).
//
// Documented (packet-capture overview, 2026-02-24, preview): "Captured packets are written to a rotating set of files
// on the target VM's local storage or storage account ... Once the file count limit is reached, the oldest file is
// automatically deleted", with `captureSettings.fileCount` files of `fileSizeInBytes`.
// Assumed here (README "Continuous capture"): a file is uploaded when it is full (rotation) and the open one when the
// session ends; each upload's blob carries metadata `closedAt` (ISO time the file was closed, on the emulator's
// clock); once more than `fileCount` files are kept the oldest blob is deleted.
//
// Each captured machine (the VM, or each scale-set instance) has its own ring, fed by one of two packet sources:
// * live: tcpdump records the machine's generated traffic as one pcap stream (no file grows on disk); records are cut
//   into ring files as they arrive, a file closing when the next record would take it past `fileSizeInBytes`;
// * synthetic (no tcpdump, or a caller's virtual clock): rounds of the machine's traffic (local/traffic) laid out on
//   the session's time line, a file closing when the next round would not fit.
// Either way a file's packets, its close instant and its `closedAt` agree on the same clock.

import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildPcap, countPcapPackets, PCAP_GLOBAL_HEADER_BYTES as PCAP_HEADER_BYTES, pcapGlobalHeader, PcapStream } from "./pcapFile.js";
import type { CaptureFilter } from "./filters.js";
import type { SessionTime } from "./sessionTime.js";
import type { BlobLocation, CaptureUploader } from "./storage.js";
import { ringFileRounds, roundsOfTraffic, type RingFileRounds } from "../../traffic/syntheticTraffic.js";
import type { TrafficProfile } from "../../traffic/profile.js";

/** One closed ring file, as kept (oldest first) until the ring deletes it. */
export interface RingFile {
  /** 1 for a session's first file of a machine, then 2, 3, … (never reused). */
  seq: number;
  container?: string;
  blobName?: string;
  url?: string;
  localPath: string;
  bytes: number;
  packets: number;
  /** ISO instants on the session's clock: when the file opened, and when it was closed (full, or the session ended). */
  openedAt: string;
  closedAt: string;
}

export interface RingMachine {
  /** The scale-set instance; undefined for a VM. */
  instanceId?: string;
  /** The emulated machine whose traffic is recorded (a VM ID, or `{vmss}/virtualMachines/{id}`). */
  emulatedVm: string;
  nextSeq: number;
  /** The open file: its first round and when it opened. */
  openRound: number;
  openedAtMs: number;
  /** Closed files still in the ring, oldest first (at most `fileCount`). */
  files: RingFile[];
  /** Files the ring has deleted so far. */
  deleted: number;
}

/** A session's rings, kept on the capture record (so they survive an emulator restart with it). */
export interface RingState {
  fileCount: number;
  fileSizeBytes: number;
  /** Start of round 0 of the machines' traffic (the session's start), epoch ms on the session's clock. */
  trafficStartMs: number;
  machines: RingMachine[];
  /** The last upload or delete that failed. */
  storageError?: string;
}

/** A live recording feeding a ring (a tcpdump stream). */
export interface LiveSource {
  stop(): Promise<unknown>;
}

export interface RingDependencies {
  time: SessionTime;
  uploader: CaptureUploader;
  capturesDir: string;
  /** Capture name, for local file names and log lines. */
  label: string;
  filters: CaptureFilter[];
  snaplen: number;
  profileFor(emulatedVm: string): TrafficProfile;
  /** Where file `seq` of a machine goes; undefined: it stays on the "VM" (localPath only, or no blob storage). */
  blobFor(machine: RingMachine, seq: number): BlobLocation | undefined;
  /**
   * Starts a live recording of the machine streaming pcap bytes to `onPcapData`; undefined when packets are
   * synthetic (no tcpdump, or a virtual clock). Absent: always synthetic.
   */
  startLive?: (machine: RingMachine, onPcapData: (chunk: Buffer) => void) => Promise<LiveSource | undefined>;
  log(line: string): void;
}

/** A live machine's open file: the stream's pcap header and the whole records received since the file opened. */
interface LiveRing {
  source: LiveSource | undefined;
  stream: PcapStream;
  records: Buffer[];
  bytes: number;
  stopped?: Promise<void> | undefined;
}

export class ContinuousRing {
  private readonly plans = new Map<RingMachine, RingFileRounds>();
  private readonly cancels = new Map<RingMachine, () => void>();
  private readonly live = new Map<RingMachine, LiveRing>();
  private liveStopped: Promise<unknown> = Promise.resolve();
  /** Writes, uploads and deletions in order, one at a time. */
  private queue: Promise<void> = Promise.resolve();
  private haltedAtMs: number | undefined;

  constructor(
    private readonly deps: RingDependencies,
    readonly state: RingState,
  ) {}

  /** Machines recorded live (tcpdump). */
  liveMachines(): number {
    return [...this.live.values()].filter((ring) => ring.source !== undefined).length;
  }

  /**
   * Opens (or, after a restart, reopens) each machine's current file: a live recording where one can run (its file
   * opens now), else synthetic rounds from where the file opened, with its rotation scheduled.
   */
  async start(): Promise<void> {
    await Promise.all(this.state.machines.map((machine) => this.startMachine(machine)));
  }

  private async startMachine(machine: RingMachine): Promise<void> {
    const { startLive } = this.deps;
    if (startLive) {
      const ring: LiveRing = { source: undefined, stream: new PcapStream(), records: [], bytes: 0 };
      this.live.set(machine, ring);
      // The file opens before tcpdump listens: every packet it records comes after.
      const openedAtMs = machine.openedAtMs;
      machine.openedAtMs = this.deps.time.nowMs();
      const source = await startLive(machine, (chunk) => ring.stream.push(chunk, (record) => this.onLiveRecord(machine, ring, record)));
      if (source) {
        ring.source = source;
        if (this.haltedAtMs !== undefined) ring.stopped = source.stop().then(() => {});
        return;
      }
      this.live.delete(machine);
      machine.openedAtMs = openedAtMs;
    }
    this.open(machine, machine.openRound, machine.openedAtMs);
  }

  /** The recording ends at `atMs` (stop, time limit, VM gone): no more rotations; the open files end there. */
  halt(atMs: number): void {
    if (this.haltedAtMs !== undefined) return;
    this.haltedAtMs = atMs;
    for (const cancel of this.cancels.values()) cancel();
    this.cancels.clear();
    // Live recordings stop at once (tcpdump flushes what it holds); the open files are closed by `finish`.
    for (const ring of this.live.values()) ring.stopped ??= ring.source?.stop().then(() => {});
    this.liveStopped = Promise.all([...this.live.values()].map((ring) => ring.stopped));
  }

  /** Whether a machine's ring still records. */
  isOpen(machine: RingMachine): boolean {
    return this.haltedAtMs === undefined && (this.plans.has(machine) || this.live.has(machine));
  }

  /** Machines whose rings still record. */
  openMachines(): number {
    return this.haltedAtMs === undefined ? this.plans.size + this.live.size : 0;
  }

  /** Ends one machine's ring (a scale-set instance deallocated): its open file is closed and uploaded at `atMs`. */
  haltMachine(machine: RingMachine, atMs: number): void {
    const live = this.live.get(machine);
    if (live) {
      this.live.delete(machine);
      void (async () => {
        await live.source?.stop();
        this.closeLive(machine, live, atMs);
      })();
      return;
    }
    this.cancels.get(machine)?.();
    this.cancels.delete(machine);
    const plan = this.plans.get(machine);
    this.plans.delete(machine);
    if (plan) this.close(machine, plan.rounds, atMs, true);
  }

  /**
   * After `halt`: closes the open files (kept unless `keepOpenFiles` is false), once `beforeUpload` resolves (the
   * service's upload lag), and resolves when every upload and deletion is done.
   */
  async finish(keepOpenFiles: boolean, beforeUpload: Promise<void>): Promise<void> {
    const endMs = this.haltedAtMs ?? this.deps.time.nowMs();
    await this.liveStopped;
    await beforeUpload;
    if (keepOpenFiles) {
      for (const [machine, plan] of this.plans) this.close(machine, plan.rounds, endMs, true);
      for (const [machine, live] of this.live) this.closeLive(machine, live, endMs);
    }
    this.plans.clear();
    this.live.clear();
    await this.settled();
  }

  /** Resolves once the files closed so far are uploaded (and the ring trimmed). */
  settled(): Promise<void> {
    return this.queue;
  }

  private roundStartMs(round: number, profile: TrafficProfile): number {
    return this.state.trafficStartMs + round * profile.roundIntervalMs;
  }

  private open(machine: RingMachine, firstRound: number, atMs: number): void {
    const { deps, state } = this;
    machine.openRound = firstRound;
    machine.openedAtMs = atMs;
    const profile = deps.profileFor(machine.emulatedVm);
    const plan = ringFileRounds(machine.emulatedVm, deps.filters, state.trafficStartMs, firstRound, state.fileSizeBytes, deps.snaplen, profile);
    this.plans.set(machine, plan);
    if (plan.nextFirstRound === undefined) return; // nothing the filters let through: the file never fills
    const nextFirstRound = plan.nextFirstRound;
    const closeMs = this.roundStartMs(nextFirstRound, profile);
    this.cancels.set(
      machine,
      deps.time.at(closeMs, () => {
        if (this.haltedAtMs !== undefined) return;
        this.close(machine, plan.rounds, closeMs, false);
        this.open(machine, nextFirstRound, closeMs);
      }),
    );
  }

  /**
   * A live record arrived: it goes into the open file, or, if it would take that past the size, into a new one. The
   * rotation instant is the record's own capture time (the kernel stamped it before this process saw it), so every
   * packet of a file lies within [openedAt, closedAt].
   */
  private onLiveRecord(machine: RingMachine, live: LiveRing, record: Buffer): void {
    // What tcpdump still flushes after the session ended is not the session's.
    if (this.haltedAtMs !== undefined && live.stream.timestampMs(record) > this.haltedAtMs) return;
    if (live.records.length > 0 && PCAP_HEADER_BYTES + live.bytes + record.length > this.state.fileSizeBytes) {
      const capturedAtMs = live.stream.timestampMs(record);
      this.closeLive(machine, live, capturedAtMs);
      machine.openedAtMs = capturedAtMs;
    }
    live.records.push(record);
    live.bytes += record.length;
  }

  private closeLive(machine: RingMachine, live: LiveRing, closeMs: number): void {
    // [assumed] A session that ends right after a rotation leaves no empty file behind.
    if (live.records.length === 0) return;
    const header = live.stream.header ?? pcapGlobalHeader(this.deps.snaplen);
    const file = Buffer.concat([header, ...live.records]);
    live.records = [];
    live.bytes = 0;
    this.store(machine, file, closeMs);
  }

  /** Writes the file holding `rounds` (up to `closeMs` when the session ended early) and queues its upload. */
  private close(machine: RingMachine, rounds: number[], closeMs: number, endedEarly: boolean): void {
    const { deps, state } = this;
    const profile = deps.profileFor(machine.emulatedVm);
    const held = endedEarly ? rounds.filter((round) => this.roundStartMs(round, profile) <= closeMs) : rounds;
    if (held.length === 0) return;
    this.store(machine, buildPcap(roundsOfTraffic(machine.emulatedVm, deps.filters, state.trafficStartMs, held, profile), deps.snaplen), closeMs);
  }

  /** Numbers a closed file, writes it and queues its upload (and the ring's trimming). */
  private store(machine: RingMachine, file: Buffer, closeMs: number): void {
    const { deps, state } = this;
    const seq = machine.nextSeq++;
    const openedAtMs = machine.openedAtMs;
    const instance = machine.instanceId === undefined ? "" : `-${machine.instanceId}`;
    const localPath = join(deps.capturesDir, `${deps.label}${instance}-${String(seq).padStart(6, "0")}.cap`);
    const location = deps.blobFor(machine, seq);
    const closedAt = new Date(closeMs).toISOString();
    this.queue = this.queue.then(async () => {
      await writeFile(localPath, file);
      const kept: RingFile = {
        seq,
        localPath,
        bytes: file.length,
        packets: countPcapPackets(file) ?? 0,
        openedAt: new Date(openedAtMs).toISOString(),
        closedAt,
      };
      if (location && deps.uploader.enabled) {
        try {
          const url = await deps.uploader.upload(location, localPath, { closedAt, openedAt: kept.openedAt, sequence: String(seq) });
          Object.assign(kept, location, { url });
        } catch (error) {
          state.storageError = `upload to ${location.container}/${location.blobName} failed: ${(error as Error).message}`;
          deps.log(`arm-emulator: ${state.storageError}`);
          return;
        }
      }
      machine.files.push(kept);
      while (machine.files.length > state.fileCount) await this.deleteOldest(machine);
    });
  }

  private async deleteOldest(machine: RingMachine): Promise<void> {
    const oldest = machine.files.shift();
    if (!oldest) return;
    machine.deleted++;
    await rm(oldest.localPath, { force: true });
    if (oldest.container === undefined || oldest.blobName === undefined) return;
    try {
      await this.deps.uploader.delete({ container: oldest.container, blobName: oldest.blobName });
    } catch (error) {
      this.state.storageError = `delete of ${oldest.container}/${oldest.blobName} failed: ${(error as Error).message}`;
      this.deps.log(`arm-emulator: ${this.state.storageError}`);
    }
  }
}

/** A fresh ring for a session starting at `startMs` on its clock. */
export function newRingState(
  settings: { fileCount: number; fileSizeBytes: number },
  startMs: number,
  machines: Array<{ instanceId?: string; emulatedVm: string }>,
): RingState {
  return {
    ...settings,
    trafficStartMs: startMs,
    machines: machines.map((machine) => ({ ...machine, nextSeq: 1, openRound: 0, openedAtMs: startMs, files: [], deleted: 0 })),
  };
}
