// Packet-capture resources as the Network RP stores them, and the JSON shapes GET/List/queryStatus return.

import type { CaptureFailure } from "../faults.js";
import { idKey } from "../resourceIds.js";
import type { NetworkWatcherState } from "../resourceModel.js";
import type { CaptureFilter } from "./filters.js";
import type { RingState } from "./ring.js";

export type PcStatus = "NotStarted" | "Running" | "Stopped" | "Error" | "Unknown";
export type CaptureProvisioningState = "Updating" | "Succeeded" | "Deleting" | "Failed";

export interface StoredBlob {
  container: string;
  blobName: string;
  /** URL in the local storage account (Azurite). */
  url: string;
}

export interface CaptureFileState {
  /** The recording on this machine (what the VM would upload); the first segment, into which others are merged. */
  localPath?: string;
  /**
   * Recording segments in order: one, or more when an emulator restart interrupted the session (for a scale set,
   * every instance's segments).
   */
  segments: string[];
  /** A scale set's segments per captured instance: Network Watcher writes one file per instance. */
  instanceSegments?: Record<string, string[]>;
  /** Process recording the current segment (to clean up an orphan after a crash). */
  recorderPid?: number;
  bytes?: number;
  packets?: number;
  source?: "tcpdump" | "synthetic";
  byteLimitReached?: boolean;
  blobs: StoredBlob[];
  /** True once the file is where `storagePath` says (or, without blob storage, final on local disk). */
  stored: boolean;
  /** The session ended with a file to deliver that is not stored yet (finished after a restart if need be). */
  pending?: boolean;
  uploadError?: string;
}

export interface CaptureSession {
  status: PcStatus;
  captureStartTime?: string;
  stopReason?: string;
  errors: string[];
  endedAt?: string;
}

/** Everything a session needs to run, in a form that survives a restart (IDs, not objects). */
export interface CapturePlan {
  target: { kind: "vm" | "vmss"; id: string; name: string; include: string[]; exclude: string[] };
  filters: CaptureFilter[];
  bytesPerPacket: number;
  totalBytes: number;
  timeLimitSeconds: number;
  /** False for a `filePath`-only capture: the file stays on the "VM". */
  uploadsToStorage: boolean;
  /** A client-given blob URL (kept as given). */
  givenStoragePath?: string;
  /** An injected session failure decided at creation. */
  failure?: CaptureFailure;
  /** `continuousCapture: true`: a ring of `fileCount` files of `fileSizeBytes` (defaults filled in) instead of one file. */
  continuous?: { fileCount: number; fileSizeBytes: number };
}

export interface CaptureRecord {
  id: string;
  name: string;
  watcher: NetworkWatcherState;
  subscriptionId: string;
  location: string;
  /** Declared in the inventory: someone else's capture that alertcap must leave alone. */
  foreign: boolean;
  /** The request properties as the service echoes them (defaults filled in), without provisioningState. */
  echoed: Record<string, unknown>;
  provisioningState: CaptureProvisioningState;
  createdAt: Date;
  /** Reported `storageLocation.storagePath` (final from the create response on, as recorded). */
  storagePath: string;
  session: CaptureSession;
  file: CaptureFileState;
  /** Target instances a scale-set session actually runs on. */
  capturedInstances: string[];
  /** How the session runs; absent for foreign (inventory) captures, which have no recording behind them. */
  plan?: CapturePlan;
  /** A continuous capture's rings (its files), once it runs. */
  ring?: RingState;
  /** A stop was accepted; the session reads Stopped once the stop operation completes. */
  stopRequested?: boolean;
  /** Epoch ms (session time line: real, or the caller's clock) at which the time limit, or an injected failure, ends the running session. */
  deadlineMs?: number;
  failureAtMs?: number;
  lastQueryOperationId?: string;
}

export class CaptureStore {
  private readonly captures = new Map<string, CaptureRecord>();

  get(id: string): CaptureRecord | undefined {
    return this.captures.get(idKey(id));
  }

  add(record: CaptureRecord): void {
    this.captures.set(idKey(record.id), record);
  }

  remove(id: string): void {
    this.captures.delete(idKey(id));
  }

  clear(): void {
    this.captures.clear();
  }

  all(): CaptureRecord[] {
    return [...this.captures.values()];
  }

  underWatcher(watcher: NetworkWatcherState): CaptureRecord[] {
    return this.all().filter((record) => idKey(record.watcher.id) === idKey(watcher.id));
  }

  /** Sessions that count against the per-region limit (not yet ended). */
  activeSessionsIn(subscriptionId: string, location: string): number {
    return this.all().filter(
      (record) =>
        record.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
        record.location === location &&
        record.provisioningState !== "Failed" &&
        (record.session.status === "NotStarted" || record.session.status === "Running"),
    ).length;
  }
}

export function captureId(watcher: NetworkWatcherState, name: string): string {
  return `${watcher.id}/packetCaptures/${name}`;
}

export interface ShapeOptions {
  /** Add the fields seen in recordings but absent from the spec (`storagePathFileName`, `queryPacketCaptureLastOperationId`). */
  undocumentedFields: boolean;
  /** The request's api-version: `scope` and `targetType` are answered from 2022-01-01 on (R1 has them, R2's 2020-04-01 not). */
  apiVersion: string;
}

/** First api-version whose answers carry `scope` and `targetType` (seen in R1 at 2022-01-01, absent in R2 at 2020-04-01). */
const SCOPE_API_VERSION = "2022-01-01";

/** First api-version with `continuousCapture`, `captureSettings` and `storageLocation.localPath` (absent in 2024-03-01). */
export const CONTINUOUS_CAPTURE_API_VERSION = "2024-05-01";

export function hasContinuousCapture(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= CONTINUOUS_CAPTURE_API_VERSION;
}

export const PACKET_CAPTURE_TYPE = "Microsoft.Network/networkWatchers/packetCaptures";

/** PacketCaptureResult as every recorded answer has it (create 201, GET, List): name, id, etag, properties, type. */
export function captureResource(record: CaptureRecord, options: ShapeOptions): Record<string, unknown> {
  const storageLocation: Record<string, unknown> = {
    ...(record.echoed["storageLocation"] as Record<string, unknown>),
    storagePath: record.storagePath,
  };
  const { scope, targetType, ...echoed } = record.echoed;
  if (!hasContinuousCapture(options.apiVersion)) {
    // An older api-version's model has no such fields: they are not serialised in its answers.
    delete echoed["continuousCapture"];
    delete echoed["captureSettings"];
    delete storageLocation["localPath"];
  }
  const properties: Record<string, unknown> = {
    provisioningState: record.provisioningState,
    ...echoed,
    ...(options.apiVersion.slice(0, 10) >= SCOPE_API_VERSION && { scope, targetType }),
    storageLocation,
  };
  if (options.undocumentedFields) {
    // Inside storageLocation, next to storagePath (R2).
    const fileName = record.storagePath.split("/").pop();
    if (fileName) storageLocation["storagePathFileName"] = fileName;
    if (record.lastQueryOperationId) properties["queryPacketCaptureLastOperationId"] = record.lastQueryOperationId;
  }
  return { name: record.name, id: record.id, etag: record.watcher.etag, properties, type: PACKET_CAPTURE_TYPE };
}

/** PacketCaptureQueryStatusResult. */
export function captureStatus(record: CaptureRecord): Record<string, unknown> {
  return {
    name: record.name,
    id: record.id,
    ...(record.session.captureStartTime !== undefined && { captureStartTime: record.session.captureStartTime }),
    packetCaptureStatus: record.session.status,
    ...(record.session.stopReason !== undefined && { stopReason: record.session.stopReason }),
    packetCaptureError: [...record.session.errors],
  };
}

/** ARM timestamps carry 7 fractional digits (`2026-03-17T03:37:35.4291019Z`, R1). */
export function armTimestamp(date: Date): string {
  const ticks = String(process.hrtime.bigint() % 10000n).padStart(4, "0");
  return date.toISOString().replace(/\.(\d{3})Z$/, `.$1${ticks}Z`);
}
