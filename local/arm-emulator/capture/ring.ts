// The ring of files of one continuous-capture session (Network Watcher `continuousCapture: true`).
//
// Documented (packet-capture overview, 2026-02-24, preview): "Captured packets are written to a rotating set of files
// on the target VM's local storage or storage account ... Once the file count limit is reached, the oldest file is
// automatically deleted", with `captureSettings.fileCount` files of `fileSizeInBytes`.
// Assumed here (README "Continuous capture"): a file is uploaded when it is full (rotation) and the open one when the
// session ends; each upload's blob carries metadata `closedAt` (ISO time the file was closed, on the emulator's
// clock); once more than `fileCount` files are kept the oldest blob is deleted.
//
// Each captured machine (the VM, or each scale-set instance) has its own ring. The packets are synthetic rounds of the
// machine's traffic (local/traffic), laid out on the session's time line (real or a caller's virtual clock), so a
// file's packets, its close instant and its `closedAt` agree on the same clock.

import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildPcap, countPcapPackets } from "./pcapFile.js";
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
  log(line: string): void;
}

export class ContinuousRing {
  private readonly plans = new Map<RingMachine, RingFileRounds>();
  private readonly cancels = new Map<RingMachine, () => void>();
  /** Writes, uploads and deletions in order, one at a time. */
  private queue: Promise<void> = Promise.resolve();
  private haltedAtMs: number | undefined;

  constructor(
    private readonly deps: RingDependencies,
    readonly state: RingState,
  ) {}

  /** Opens (or, after a restart, reopens) each machine's current file and schedules its rotation. */
  start(): void {
    for (const machine of this.state.machines) this.open(machine, machine.openRound, machine.openedAtMs);
  }

  /** The recording ends at `atMs` (stop, time limit, VM gone): no more rotations; the open files end there. */
  halt(atMs: number): void {
    if (this.haltedAtMs !== undefined) return;
    this.haltedAtMs = atMs;
    for (const cancel of this.cancels.values()) cancel();
    this.cancels.clear();
  }

  /** Whether a machine's ring still records. */
  isOpen(machine: RingMachine): boolean {
    return this.haltedAtMs === undefined && this.plans.has(machine);
  }

  /** Machines whose rings still record. */
  openMachines(): number {
    return this.haltedAtMs === undefined ? this.plans.size : 0;
  }

  /** Ends one machine's ring (a scale-set instance deallocated): its open file is closed and uploaded at `atMs`. */
  haltMachine(machine: RingMachine, atMs: number): void {
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
    await beforeUpload;
    if (keepOpenFiles) {
      for (const [machine, plan] of this.plans) this.close(machine, plan.rounds, endMs, true);
    }
    this.plans.clear();
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

  /** Writes the file holding `rounds` (up to `closeMs` when the session ended early) and queues its upload. */
  private close(machine: RingMachine, rounds: number[], closeMs: number, endedEarly: boolean): void {
    const { deps, state } = this;
    const seq = machine.nextSeq++;
    const openedAtMs = machine.openedAtMs;
    const profile = deps.profileFor(machine.emulatedVm);
    const held = endedEarly ? rounds.filter((round) => this.roundStartMs(round, profile) <= closeMs) : rounds;
    const file = buildPcap(roundsOfTraffic(machine.emulatedVm, deps.filters, state.trafficStartMs, held, profile), deps.snaplen);
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
