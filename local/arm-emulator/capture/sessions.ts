// The life of a capture session: NotStarted → Running → Stopped (TimeExceeded, byte limit, Manual) or a failed
// session, with a real (or synthetic) recording and its upload to Blob storage.
//
// What is modelled on the recordings (shared/docs/network-watcher-behaviour.md):
// * the session starts a moment after the PUT and is Running once the create operation succeeds;
// * a target that is stopped, deallocated or lacks the agent does not make the PUT fail: the session ends with a
//   free-text `packetCaptureError` ("... does not exist or is in stopped state.") and no stop reason;
// * a manual stop takes effect when the stop operation completes, and the file appears only after a further lag, so
//   "stop Succeeded" does not mean "blob exists".
// Sessions survive an emulator restart (see persistence.ts): `resume` carries on recording into a new segment until
// the original deadline, and the segments are joined into one file at the end.
// A continuous capture (`continuousCapture: true`) keeps a ring of files instead of one file (ring.ts); a VM that is
// deallocated under it ends it with Error (sessions of a scale set: when its last captured instance is).
// Deadlines, rotations and packet timestamps follow the session time line (sessionTime.ts): real time, or a caller's
// clock.

import { mkdirSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Scheduler } from "../scheduler.js";
import { workingAgentExtension, type ResourceModel } from "../resourceModel.js";
import { armTimestamp, type CapturePlan, type CaptureRecord, type PcStatus } from "./captureStore.js";
import { filtersToBpf, type CaptureFilter } from "./filters.js";
import { countPcapPackets, joinPcapSegments, trimPcap, type SyntheticTrafficHints } from "./pcapFile.js";
import { MAX_SNAPLEN, type PacketRecorder, type Recording, type RecordingResult } from "./recorder.js";
import { ContinuousRing, newRingState, type RingMachine, type RingState } from "./ring.js";
import type { SessionTime } from "./sessionTime.js";
import type { TrafficProfile } from "../../traffic/profile.js";
import {
  blobLocationFromUrl,
  CAPTURE_CONTAINER,
  scaleSetInstanceBlobName,
  type BlobLocation,
  type CaptureUploader,
} from "./storage.js";

export interface SessionTimings {
  captureStartSeconds: number;
  blobUploadDelaySeconds: number;
}

export interface FailedSessionStyle {
  /** `packetCaptureStatus` of a session that could not run (the recordings show Stopped). */
  status: "Stopped" | "Error";
  /** Free text like the recordings, or the spec's PcError enum values. */
  errors: "freeText" | "enum";
}

export interface SessionSettings {
  scheduler: Scheduler;
  /** The time line of session deadlines, ring rotations and synthetic packets. */
  time: SessionTime;
  /** What a machine's emulated traffic looks like (a VM ID, or `{vmss}/virtualMachines/{id}`). */
  profileFor: (emulatedVm: string) => TrafficProfile;
  recorder: PacketRecorder;
  uploader: CaptureUploader;
  model: ResourceModel;
  timings: SessionTimings;
  failedSession: FailedSessionStyle;
  /** Stop reason for a session ended by `totalBytesPerSession` (the real value is unknown; default none). */
  byteLimitStopReason: string | undefined;
  workDir: string;
  excludePorts: () => number[];
  log: (line: string) => void;
}

export interface StoredCaptureFile {
  captureId: string;
  localPath: string | undefined;
  bytes: number;
  packets: number;
  source: "tcpdump" | "synthetic" | "empty";
  blobs: Array<{ container: string; blobName: string; url: string }>;
}

interface SessionRuntime {
  record: CaptureRecord;
  plan: CapturePlan;
  cancelTimers: Array<() => void>;
  /** One recording per captured machine: the VM, or each scale-set instance. */
  recordings: Recording[];
  recordingResult?: Promise<RecordingResult | undefined>;
  /** A continuous capture's rings (instead of `recordings`). */
  ring?: ContinuousRing;
  /** Set once the session's end is decided, so concurrent causes (time limit vs. stop) resolve once. */
  ending: boolean;
  concluded: boolean;
  stored: Deferred<StoredCaptureFile>;
}

type EndCause = "time" | "bytes" | "manual" | "fault" | "targetStopped";

/** A recorder left behind by a crash is stopped by its own `timeout` at the latest this long after its deadline. */
const SAFETY_MARGIN_SECONDS = 30;

export class CaptureSessions {
  private readonly runtimes = new Map<string, SessionRuntime>();
  private warnedNoUpload = false;

  constructor(private readonly settings: SessionSettings) {
    mkdirSync(this.capturesDir, { recursive: true });
  }

  private get capturesDir(): string {
    return join(this.settings.workDir, "captures");
  }

  /** Schedules the start of a newly created capture. */
  begin(record: CaptureRecord): void {
    const runtime = this.runtimeFor(record);
    if (runtime) this.scheduleStart(runtime);
  }

  /** Picks a capture restored from disk up where the previous emulator process left it. */
  resume(record: CaptureRecord): void {
    const runtime = this.runtimeFor(record);
    if (!runtime) return;
    const { status } = record.session;
    if (status === "NotStarted") {
      if (record.stopRequested) this.concludeAfterRestart(runtime, "manual");
      else this.scheduleStart(runtime);
      return;
    }
    if (status === "Running") {
      const now = this.settings.time.nowMs();
      if (record.stopRequested) this.concludeAfterRestart(runtime, "manual");
      else if (record.failureAtMs !== undefined && record.failureAtMs <= now) this.concludeAfterRestart(runtime, "fault");
      else if (record.deadlineMs !== undefined && record.deadlineMs <= now) this.concludeAfterRestart(runtime, "time");
      else void this.continueRecording(runtime);
      return;
    }
    // Ended before the restart: finish the file if that had not happened yet.
    runtime.ending = true;
    runtime.concluded = true;
    if (record.file.stored) runtime.stored.resolve(storedFile(record));
    else if (record.file.pending && record.ring) {
      runtime.ring = this.ringFor(record, record.ring);
      runtime.ring.halt(this.settings.time.nowMs());
      void this.finishRing(runtime, undefined);
    }
    else if (record.file.pending) {
      runtime.recordingResult = Promise.resolve(undefined);
      void this.finishFile(runtime, undefined);
    } else runtime.stored.reject(new Error(`capture ${record.name} ended without a file`));
  }

  /** A create that failed as an operation: the session never runs. */
  abandon(record: CaptureRecord): void {
    const runtime = this.runtimes.get(record.id.toLowerCase());
    if (!runtime) return;
    this.clearTimers(runtime);
    runtime.ending = true;
    this.fail(runtime, this.settings.failedSession.status, ["InternalError"]);
  }

  /**
   * Stop requested (POST stop): the recording ends now; the session reads Stopped/Manual only when `conclude`
   * runs (the stop operation completing).
   */
  requestStop(record: CaptureRecord): { conclude: () => void } {
    const runtime = this.runtimes.get(record.id.toLowerCase());
    if (!runtime) {
      // Foreign (inventory) capture: no recording behind it.
      return {
        conclude: () => {
          if (isActive(record.session.status)) markEnded(record, "Stopped", "Manual", this.settings.time.nowMs());
        },
      };
    }
    if (!isActive(record.session.status) || runtime.ending) return { conclude: () => {} };
    runtime.ending = true;
    record.stopRequested = true;
    this.stopRecording(runtime);
    return { conclude: () => this.conclude(runtime, "manual") };
  }

  /** DELETE of a capture still running: it ends at once (its file is still uploaded; deleting keeps files). */
  stopForDelete(record: CaptureRecord): void {
    const { conclude } = this.requestStop(record);
    conclude();
  }

  whenStored(captureId: string): Promise<StoredCaptureFile> {
    const runtime = this.runtimes.get(captureId.toLowerCase());
    if (!runtime) return Promise.reject(new Error(`no emulated session for ${captureId}`));
    return runtime.stored.promise;
  }

  /**
   * A VM (or scale-set instance, `{vmss}/virtualMachines/{id}`) stopped or was deallocated: the continuous captures
   * running on it end (their open file is uploaded) with `Error` and the recorded free text. Assumed: Azure documents
   * no behaviour for this; one-off captures are left as they were (their time limit ends them).
   */
  targetStopped(resourceId: string): void {
    const now = this.settings.time.nowMs();
    const instance = /^(.*)\/virtualMachines\/([^/]+)$/i.exec(resourceId.trim());
    for (const runtime of this.runtimes.values()) {
      const { record, plan, ring } = runtime;
      if (!ring || runtime.ending || record.session.status !== "Running") continue;
      if (plan.target.kind === "vm") {
        if (sameId(plan.target.id, resourceId)) this.endNow(runtime, "targetStopped");
        continue;
      }
      if (!instance?.[1] || !instance[2] || !sameId(plan.target.id, instance[1])) continue;
      const instanceId = instance[2];
      const machine = ring.state.machines.find((candidate) => candidate.instanceId?.toLowerCase() === instanceId.toLowerCase());
      if (!machine || !ring.isOpen(machine)) continue;
      record.session.errors.push(notRunning(`${plan.target.id}/virtualMachines/${machine.instanceId}`));
      if (ring.openMachines() > 1) ring.haltMachine(machine, now);
      else this.endNow(runtime, "targetStopped");
    }
  }

  /** Resolves once every ring file closed so far is uploaded (and the rings trimmed to their file count). */
  async ringsSettled(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((runtime) => runtime.ring?.settled()));
  }

  async close(): Promise<void> {
    for (const runtime of this.runtimes.values()) {
      this.clearTimers(runtime);
      runtime.ring?.halt(this.settings.time.nowMs());
    }
    await this.settings.recorder.stopAll();
  }

  private runtimeFor(record: CaptureRecord): SessionRuntime | undefined {
    if (!record.plan) return undefined;
    const runtime: SessionRuntime = {
      record,
      plan: record.plan,
      cancelTimers: [],
      recordings: [],
      ending: false,
      concluded: false,
      stored: deferred(),
    };
    runtime.stored.promise.catch(() => {});
    this.runtimes.set(record.id.toLowerCase(), runtime);
    return runtime;
  }

  private scheduleStart(runtime: SessionRuntime): void {
    runtime.cancelTimers.push(
      this.settings.scheduler.after(this.settings.timings.captureStartSeconds, () => void this.start(runtime)),
    );
  }

  private async start(runtime: SessionRuntime): Promise<void> {
    const { record, plan } = runtime;
    if (record.session.status !== "NotStarted" || runtime.ending) return;
    const health = this.targetHealth(plan);
    if (health.capturable.length === 0) {
      runtime.ending = true;
      this.fail(runtime, this.settings.failedSession.status, health.problems);
      return;
    }
    if (plan.failure && plan.failure.afterSeconds === 0) {
      runtime.ending = true;
      this.fail(runtime, plan.failure.captureStatus, injectedErrors(plan));
      return;
    }
    record.capturedInstances = health.capturable;
    const { time } = this.settings;
    const limitMs = time.serviceMs(plan.timeLimitSeconds);
    if (plan.continuous) this.startRing(runtime);
    else if (!(await this.startSegment(runtime, plan.totalBytes, limitMs))) return;
    // The time limit counts from captureStartTime (recording under way), not from before the recorder started.
    const now = time.nowMs();
    record.session.status = "Running";
    record.session.captureStartTime = armTimestamp(new Date(now));
    record.session.errors = health.problems;
    record.deadlineMs = now + limitMs;
    if (plan.failure) record.failureAtMs = now + time.serviceMs(plan.failure.afterSeconds);
    this.scheduleEnds(runtime);
  }

  /** A continuous capture: one ring per captured machine, files rotating from now on. */
  private startRing(runtime: SessionRuntime): void {
    const { record, plan } = runtime;
    if (!plan.continuous) return;
    const machines =
      plan.target.kind === "vmss"
        ? record.capturedInstances.map((instanceId) => ({ instanceId, emulatedVm: `${plan.target.id}/virtualMachines/${instanceId}` }))
        : [{ emulatedVm: plan.target.id }];
    record.ring ??= newRingState(plan.continuous, this.settings.time.nowMs(), machines);
    record.file.source = "synthetic";
    runtime.ring = this.ringFor(record, record.ring);
    runtime.ring.start();
  }

  private ringFor(record: CaptureRecord, state: RingState): ContinuousRing {
    const plan = record.plan as CapturePlan;
    return new ContinuousRing(
      {
        time: this.settings.time,
        uploader: this.settings.uploader,
        capturesDir: this.capturesDir,
        label: record.name,
        filters: plan.filters,
        snaplen: plan.bytesPerPacket <= 0 || plan.bytesPerPacket > MAX_SNAPLEN ? MAX_SNAPLEN : plan.bytesPerPacket,
        profileFor: this.settings.profileFor,
        blobFor: (machine, seq) => this.ringBlob(record, machine, seq),
        log: this.settings.log,
      },
      state,
    );
  }

  /**
   * A ring file's blob: under the session's `storagePath` taken as a folder, `{vm}_{seq}.cap` for a VM and
   * `{vmss}_{instance}/{vmss}_{instance}_{seq}.cap` for a scale-set instance (assumed names; see README).
   */
  private ringBlob(record: CaptureRecord, machine: RingMachine, seq: number): BlobLocation | undefined {
    const plan = record.plan as CapturePlan;
    if (!plan.uploadsToStorage) return undefined;
    const base = blobLocationFromUrl(plan.givenStoragePath ?? record.storagePath) ?? { container: CAPTURE_CONTAINER, blobName: record.name };
    const folder = base.blobName.replace(/\.cap$/i, "").replace(/\/+$/, "");
    const sequence = String(seq).padStart(6, "0");
    if (machine.instanceId === undefined) return { container: base.container, blobName: `${folder}/${plan.target.name}_${sequence}.cap`.toLowerCase() };
    const instance = `${plan.target.name}_${machine.instanceId}`;
    return { container: base.container, blobName: `${folder}/${instance}/${instance}_${sequence}.cap`.toLowerCase() };
  }

  /** After a restart: a new segment until the original deadline. */
  private async continueRecording(runtime: SessionRuntime): Promise<void> {
    const { record, plan } = runtime;
    if (plan.continuous && record.ring) {
      // The rings carry on where they were (the open file's rounds are synthetic, so nothing is lost).
      runtime.ring = this.ringFor(record, record.ring);
      runtime.ring.start();
      this.scheduleEnds(runtime);
      return;
    }
    const recordedSoFar = await totalSize(record.file.segments);
    const now = this.settings.time.nowMs();
    const remainingMs = Math.max(0, (record.deadlineMs ?? now) - now);
    if (recordedSoFar >= plan.totalBytes) {
      this.concludeAfterRestart(runtime, "bytes");
      return;
    }
    if (!(await this.startSegment(runtime, plan.totalBytes - recordedSoFar, remainingMs))) return;
    this.scheduleEnds(runtime);
  }

  /**
   * Starts a recording segment for each captured machine (the VM, or every capturable scale-set instance: Network
   * Watcher writes one file per instance); false when the session failed instead.
   */
  private async startSegment(runtime: SessionRuntime, maxBytes: number, durationMs: number): Promise<boolean> {
    const { record, plan } = runtime;
    const machines: Array<string | undefined> = plan.target.kind === "vmss" ? record.capturedInstances : [undefined];
    // All machines' recorders start together (each tcpdump takes a moment to listen).
    const attempts = await Promise.allSettled(
      machines.map(async (instanceId) => {
        const label = instanceId === undefined ? record.name : `${record.name}-${instanceId}`;
        const segment = join(this.capturesDir, `${label}-${crypto.randomUUID().slice(0, 8)}.cap`);
        const recording = await this.settings.recorder.start({
          outputPath: segment,
          bpf: filtersToBpf(plan.filters),
          excludePorts: this.settings.excludePorts(),
          bytesPerPacket: plan.bytesPerPacket,
          maxBytes,
          syntheticHints: syntheticHintsFor(plan.filters),
          filters: plan.filters,
          // The machine whose generated traffic is recorded: the VM, or this scale-set instance.
          emulatedVm: instanceId === undefined ? plan.target.id : `${plan.target.id}/virtualMachines/${instanceId}`,
          onByteLimit: () => this.endNow(runtime, "bytes"),
          trafficProfile: this.settings.profileFor(instanceId === undefined ? plan.target.id : `${plan.target.id}/virtualMachines/${instanceId}`),
          // On a caller's clock nothing real happens in the session's time: its packets are synthetic, on that clock.
          ...(this.settings.time.virtual && { synthetic: true, nowMs: this.settings.time.nowMs }),
          safetyLimitSeconds: durationMs / 1000 + SAFETY_MARGIN_SECONDS,
        });
        return { instanceId, segment, recording };
      }),
    );
    const started = attempts.flatMap((attempt) => (attempt.status === "fulfilled" ? [attempt.value] : []));
    const failure = attempts.find((attempt) => attempt.status === "rejected");
    if (failure) {
      await Promise.all(started.map(({ recording }) => recording.stop().catch(() => undefined)));
      this.settings.log(`arm-emulator: capture ${record.name} could not record: ${(failure.reason as Error).message}`);
      runtime.ending = true;
      this.fail(runtime, this.settings.failedSession.status, [this.couldNotRun(plan.target.id, "CaptureFailed")]);
      return false;
    }
    for (const { instanceId, segment } of started) {
      // `segments` lists every file being written (a crashed emulator's orphan recorder is found by them).
      record.file.segments.push(segment);
      if (instanceId !== undefined) ((record.file.instanceSegments ??= {})[instanceId] ??= []).push(segment);
    }
    const [first] = started;
    if (first) record.file.localPath ??= first.segment;
    if (first) record.file.source = first.recording.source;
    if (first?.recording.pid !== undefined) record.file.recorderPid = first.recording.pid;
    runtime.recordings = started.map(({ recording }) => recording);
    if (runtime.ending) {
      // Stopped or deleted while tcpdump was starting.
      runtime.recordingResult = stopAll(runtime.recordings);
      return false;
    }
    return true;
  }

  private scheduleEnds(runtime: SessionRuntime): void {
    const { record } = runtime;
    const { time } = this.settings;
    if (record.deadlineMs !== undefined) {
      const deadlineMs = record.deadlineMs;
      // The session ends at its deadline exactly: the rings' last files end there, not when the timer ran.
      runtime.cancelTimers.push(time.at(deadlineMs, () => this.endNow(runtime, "time", deadlineMs)));
    }
    if (record.failureAtMs !== undefined) {
      runtime.cancelTimers.push(time.at(record.failureAtMs, () => this.endNow(runtime, "fault")));
    }
  }

  /** Ends a running session by a cause of its own (time limit, byte limit, injected failure). */
  private endNow(runtime: SessionRuntime, cause: Exclude<EndCause, "manual">, atMs?: number): void {
    if (runtime.ending || !isActive(runtime.record.session.status)) return;
    runtime.ending = true;
    this.stopRecording(runtime, atMs);
    this.conclude(runtime, cause);
  }

  private concludeAfterRestart(runtime: SessionRuntime, cause: EndCause): void {
    runtime.ending = true;
    runtime.recordingResult = Promise.resolve(undefined);
    if (runtime.record.ring) {
      // Ended while the emulator was down: the rings end at the deadline (or now), with their open files.
      runtime.ring = this.ringFor(runtime.record, runtime.record.ring);
      runtime.ring.start();
      const now = this.settings.time.nowMs();
      runtime.ring.halt(cause === "time" ? Math.min(runtime.record.deadlineMs ?? now, now) : now);
    }
    this.conclude(runtime, cause);
  }

  /** The recording ends now (or at `atMs` on the session's clock, for a ring ended by its deadline). */
  private stopRecording(runtime: SessionRuntime, atMs?: number): void {
    this.clearTimers(runtime);
    if (runtime.ring) {
      runtime.ring.halt(atMs ?? this.settings.time.nowMs());
      runtime.recordingResult = Promise.resolve(undefined);
    } else runtime.recordingResult = stopAll(runtime.recordings);
  }

  /** Sets the final status synchronously (so a poll sees it at once), then finishes the file in the background. */
  private conclude(runtime: SessionRuntime, cause: EndCause): void {
    if (runtime.concluded) return;
    runtime.concluded = true;
    const { record, plan } = runtime;
    const instances = record.capturedInstances.length;
    const isScaleSet = plan.target.kind === "vmss";
    switch (cause) {
      case "time":
        // VMSS sessions report free text (R3), VM sessions the bare reason.
        markEnded(record, "Stopped", isScaleSet ? `${instances} VM Instance(s) stopped due to TimeExceeded Reasons. ` : "TimeExceeded", this.settings.time.nowMs());
        break;
      case "manual":
        markEnded(record, "Stopped", isScaleSet ? `${instances} VM Instance(s) stopped due to Manual Reasons. ` : "Manual", this.settings.time.nowMs());
        break;
      case "bytes":
        markEnded(record, "Stopped", this.settings.byteLimitStopReason, this.settings.time.nowMs());
        break;
      case "fault":
        markEnded(record, plan.failure?.captureStatus ?? "Error", undefined, this.settings.time.nowMs());
        record.session.errors = injectedErrors(plan);
        break;
      case "targetStopped":
        // [assumed] A continuous capture whose VM went away: Error, and the recorded "stopped state" free text.
        markEnded(record, "Error", undefined, this.settings.time.nowMs());
        if (plan.target.kind === "vm") record.session.errors = [notRunning(plan.target.id)];
        break;
    }
    record.file.pending = cause !== "fault";
    if (runtime.ring) void this.finishRing(runtime, cause);
    else void this.finishFile(runtime, cause);
  }

  /** A continuous capture ended: its rings' open files are uploaded (after the upload lag), then it is "stored". */
  private async finishRing(runtime: SessionRuntime, cause: EndCause | undefined): Promise<void> {
    const { record } = runtime;
    const ring = runtime.ring as ContinuousRing;
    try {
      const uploadLag = new Promise<void>((resolve) => this.settings.scheduler.after(this.settings.timings.blobUploadDelaySeconds, resolve));
      // An injected capture failure loses the open file, like a one-off capture's.
      await ring.finish(cause !== "fault", uploadLag);
      const files = ring.state.machines.flatMap((machine) => machine.files);
      record.file.bytes = files.reduce((sum, file) => sum + file.bytes, 0);
      record.file.packets = files.reduce((sum, file) => sum + file.packets, 0);
      record.file.blobs = files.flatMap((file) =>
        file.url !== undefined && file.container !== undefined && file.blobName !== undefined
          ? [{ container: file.container, blobName: file.blobName, url: file.url }]
          : [],
      );
      if (ring.state.storageError !== undefined) record.file.uploadError = ring.state.storageError;
      const last = files.at(-1);
      if (last) record.file.localPath = last.localPath;
      record.file.stored = true;
      record.file.pending = false;
      runtime.stored.resolve(storedFile(record));
    } catch (error) {
      record.file.uploadError ??= (error as Error).message;
      runtime.stored.reject(error as Error);
    }
  }

  private fail(runtime: SessionRuntime, status: PcStatus, errors: string[]): void {
    runtime.concluded = true;
    markEnded(runtime.record, status, undefined, this.settings.time.nowMs());
    runtime.record.session.errors = [...errors];
    runtime.stored.reject(new Error(`capture ${runtime.record.name} ended without a file: ${errors.join("; ")}`));
  }

  /** `cause` is unknown for a file finished after a restart. */
  private async finishFile(runtime: SessionRuntime, cause: EndCause | undefined): Promise<void> {
    const { record, plan } = runtime;
    try {
      const result = await runtime.recordingResult;
      delete record.file.recorderPid;
      if (cause === "fault") {
        throw new Error(`capture ${record.name} failed (${record.session.errors.join("; ")}); no file is kept`);
      }
      // One file per machine from its segments (several after a restart), cut to the session byte limit.
      const files = await this.joinFiles(runtime);
      record.file.segments = files.map((file) => file.localPath);
      if (files[0]) record.file.localPath = files[0].localPath;
      record.file.bytes = files.reduce((sum, file) => sum + file.bytes, 0);
      record.file.packets = files.reduce((sum, file) => sum + file.packets, 0);
      record.file.byteLimitReached = cause === "bytes" || (result?.byteLimitReached ?? record.file.byteLimitReached ?? false);
      await new Promise<void>((resolve) => this.settings.scheduler.after(this.settings.timings.blobUploadDelaySeconds, resolve));
      await this.upload(runtime, files);
      record.file.stored = true;
      record.file.pending = false;
      runtime.stored.resolve(storedFile(record));
    } catch (error) {
      record.file.uploadError ??= (error as Error).message;
      runtime.stored.reject(error as Error);
    }
  }

  /** Joins each machine's segments into its final file (the VM's, or one per scale-set instance). */
  private async joinFiles(runtime: SessionRuntime): Promise<MachineFile[]> {
    const { record, plan } = runtime;
    const perMachine: Array<[string | undefined, string[]]> =
      plan.target.kind === "vmss" ? Object.entries(record.file.instanceSegments ?? {}) : [[undefined, record.file.segments]];
    const files: MachineFile[] = [];
    for (const [instanceId, segments] of perMachine) {
      const parts = await Promise.all(segments.map((path) => readFile(path).catch(() => Buffer.alloc(0))));
      const file = trimPcap(joinPcapSegments(parts), plan.totalBytes);
      const label = instanceId === undefined ? record.name : `${record.name}-${instanceId}`;
      const localPath = segments[0] ?? join(this.capturesDir, `${label}-${crypto.randomUUID().slice(0, 8)}.cap`);
      await writeFile(localPath, file);
      await Promise.all(segments.slice(1).map((path) => rm(path, { force: true })));
      if (instanceId !== undefined) (record.file.instanceSegments ??= {})[instanceId] = [localPath];
      files.push({ instanceId, localPath, bytes: file.length, packets: countPcapPackets(file) ?? 0 });
    }
    return files;
  }

  private async upload(runtime: SessionRuntime, files: MachineFile[]): Promise<void> {
    const locations = this.blobLocations(runtime);
    if (locations.length === 0) return; // filePath only: the file stays "on the VM" (here: in the work dir)
    if (!this.settings.uploader.enabled) {
      if (!this.warnedNoUpload) {
        this.warnedNoUpload = true;
        this.settings.log(
          `arm-emulator: no blob connection string (ALERTCAP_EMULATOR_BLOB_CONNECTION); capture files stay in ${this.capturesDir}`,
        );
      }
      return;
    }
    const uploaded = [];
    for (const { instanceId, ...location } of locations) {
      const localPath = files.find((file) => file.instanceId === instanceId)?.localPath;
      if (localPath === undefined) continue;
      try {
        uploaded.push({ ...location, url: await this.settings.uploader.upload(location, localPath) });
      } catch (error) {
        runtime.record.file.uploadError = `upload to ${location.container}/${location.blobName} failed: ${(error as Error).message}`;
        this.settings.log(`arm-emulator: ${runtime.record.file.uploadError}`);
        throw error;
      }
    }
    runtime.record.file.blobs = uploaded;
  }

  /** Where the files go: the default `network-watcher-logs/...` path or the client's own `storagePath`. */
  private blobLocations(runtime: SessionRuntime): Array<BlobLocation & { instanceId?: string }> {
    const { record, plan } = runtime;
    if (!plan.uploadsToStorage) return [];
    const given = plan.givenStoragePath ? blobLocationFromUrl(plan.givenStoragePath) : undefined;
    const reported = blobLocationFromUrl(record.storagePath);
    const base = given ?? reported ?? { container: CAPTURE_CONTAINER, blobName: `${record.name}.cap` };
    if (plan.target.kind === "vm") {
      return [/\.cap$/i.test(base.blobName) ? base : { ...base, blobName: `${base.blobName}/${record.name}.cap` }];
    }
    const folder = base.blobName.replace(/\.cap$/i, "");
    return record.capturedInstances.map((instanceId) => ({
      container: base.container,
      blobName: scaleSetInstanceBlobName(folder, plan.target.name, instanceId),
      instanceId,
    }));
  }

  /** A session that could not run: the recorded free text, or the given spec enum value in `enum` style. */
  private couldNotRun(targetId: string, enumValue: string): string {
    return this.settings.failedSession.errors === "enum" ? enumValue : notRunning(targetId);
  }

  /** Which targeted machines can run the agent now, and problems (free text or enum) for the others. */
  private targetHealth(plan: CapturePlan): { capturable: string[]; problems: string[] } {
    const enumStyle = this.settings.failedSession.errors === "enum";
    const { target } = plan;
    if (target.kind === "vm") {
      const vm = this.settings.model.virtualMachineById(target.id);
      if (!vm || vm.powerState !== "running") {
        return { capturable: [], problems: [enumStyle ? "AgentStopped" : notRunning(target.id)] };
      }
      if (!workingAgentExtension(vm.extensions)) {
        return { capturable: [], problems: [enumStyle ? "AgentStopped" : agentMissing(vm.id)] };
      }
      return { capturable: [vm.name], problems: [] };
    }
    const scaleSet = this.settings.model.scaleSetById(target.id);
    if (!scaleSet || !workingAgentExtension(scaleSet.extensions)) {
      return { capturable: [], problems: [enumStyle ? "AgentStopped" : agentMissing(target.id)] };
    }
    const excluded = new Set(target.exclude.map((id) => id.toLowerCase()));
    const wanted = (target.include.length > 0 ? target.include : [...scaleSet.instances.values()].map((i) => i.instanceId)).filter(
      (id) => !excluded.has(id.toLowerCase()),
    );
    const capturable: string[] = [];
    const problems: string[] = [];
    for (const instanceId of wanted) {
      const instance = scaleSet.instances.get(instanceId.toLowerCase());
      if (instance && instance.powerState === "running") capturable.push(instance.instanceId);
      else problems.push(enumStyle ? "AgentStopped" : notRunning(`${scaleSet.id}/virtualMachines/${instanceId}`));
    }
    return { capturable, problems };
  }

  private clearTimers(runtime: SessionRuntime): void {
    for (const cancel of runtime.cancelTimers) cancel();
    runtime.cancelTimers = [];
  }
}

function markEnded(record: CaptureRecord, status: PcStatus, stopReason: string | undefined, endedAtMs: number): void {
  record.session.status = status;
  if (stopReason === undefined) delete record.session.stopReason;
  else record.session.stopReason = stopReason;
  record.session.endedAt = armTimestamp(new Date(endedAtMs));
}

function sameId(a: string, b: string): boolean {
  return a.replace(/\/+$/, "").toLowerCase() === b.replace(/\/+$/, "").toLowerCase();
}

function isActive(status: PcStatus): boolean {
  return status === "NotStarted" || status === "Running";
}

/** The recorded free text of a session that could not run on a machine (R3). */
function notRunning(resourceId: string): string {
  return `${resourceId} does not exist or is in stopped state.`;
}

/** An injected failure's errors; by default the recorded free text for the target. */
function injectedErrors(plan: CapturePlan): string[] {
  return [...(plan.failure?.errors ?? [notRunning(plan.target.id)])];
}

function agentMissing(resourceId: string): string {
  return `Network Watcher agent (AzureNetworkWatcherExtension) is not installed or not provisioned on ${resourceId}.`;
}

function storedFile(record: CaptureRecord): StoredCaptureFile {
  return {
    captureId: record.id,
    localPath: record.file.localPath,
    bytes: record.file.bytes ?? 0,
    packets: record.file.packets ?? 0,
    source: record.file.source ?? "empty",
    blobs: record.file.blobs.map((blob) => ({ ...blob })),
  };
}

async function totalSize(paths: string[]): Promise<number> {
  const sizes = await Promise.all(paths.map((path) => readFile(path).then((file) => file.length, () => 0)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Shapes the synthetic conversation after the first filter, so a filtered capture holds matching packets. */
function syntheticHintsFor(filters: CaptureFilter[]): SyntheticTrafficHints {
  const [filter] = filters;
  const pick = (value: string | undefined, fallback: string) => {
    const first = value
      ?.split(/[;-]/)
      .map((part) => part.trim())
      .find((part) => /^\d+\.\d+\.\d+\.\d+$/.test(part) || /^\d+$/.test(part));
    return first ?? fallback;
  };
  const udp = filter?.protocol?.toUpperCase() === "UDP";
  return {
    protocol: udp ? "UDP" : "TCP",
    localAddress: pick(filter?.localIPAddress, "10.0.0.4"),
    remoteAddress: pick(filter?.remoteIPAddress, "10.0.0.5"),
    localPort: Number(pick(filter?.localPort, udp ? "53" : "443")),
    remotePort: Number(pick(filter?.remotePort, "50312")),
  };
}

interface MachineFile {
  /** The scale-set instance; undefined for a VM. */
  instanceId: string | undefined;
  localPath: string;
  bytes: number;
  packets: number;
}

/** Stops every recording of a session; the result is the first one's, with the byte limit reached by any. */
async function stopAll(recordings: Recording[]): Promise<RecordingResult | undefined> {
  const results = await Promise.all(recordings.map((recording) => recording.stop()));
  const [first] = results;
  return first && { ...first, byteLimitReached: results.some((result) => result.byteLimitReached) };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
