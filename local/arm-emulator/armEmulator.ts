// startArmEmulator: wires the inventory, faults, capture sessions and HTTPS front door into one local emulator of
// the Azure Resource Manager APIs alertcap calls, plus inspection helpers for tests.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadOrCreateCertificate } from "./certificate.js";
import { FaultInjector, loadFaultPlan, parseFaultPlan, type FiredFault } from "./faults.js";
import { startArmServer, type RequestLogEntry } from "./http/armServer.js";
import { unsupportedApiVersion } from "./http/apiVersions.js";
import { Router } from "./http/router.js";
import { InventoryError, loadInventoryFile, parseInventory, type Inventory, type PowerState } from "./inventory.js";
import { OperationStore } from "./operations.js";
import { DEFAULT_TIMINGS, type ArmEmulatorOptions } from "./options.js";
import { parseResourceId } from "./resourceIds.js";
import {
  agentTypeFor,
  NETWORK_WATCHER_AGENT_DEFAULT_NAME,
  NETWORK_WATCHER_AGENT_PUBLISHER,
  ResourceModel,
} from "./resourceModel.js";
import { inventoryFingerprint, restoreState, snapshotState, StateFile } from "./persistence.js";
import { emulatorRoutes } from "./routes.js";
import { Scheduler } from "./scheduler.js";
import { captureId, CaptureStore, type CaptureRecord, type PcStatus } from "./capture/captureStore.js";
import { PacketRecorder } from "./capture/recorder.js";
import { DEFAULT_TIME_LIMIT_SECONDS, DEFAULT_TOTAL_BYTES_PER_SESSION } from "./capture/requestChecks.js";
import { CaptureSessions, type StoredCaptureFile } from "./capture/sessions.js";
import { CaptureUploader } from "./capture/storage.js";
import { clockSessionTime, realSessionTime } from "./capture/sessionTime.js";
import type { RingFile } from "./capture/ring.js";
import { inventoryTrafficChoice, TrafficProfiles, type TrafficChoice } from "./trafficProfiles.js";
import type { EmulatorContext } from "./handlers/context.js";
import type { StoredMonitorResource } from "./monitor/monitorResources.js";

export type { ArmEmulatorOptions, EmulatorTimings } from "./options.js";
export type { RequestLogEntry } from "./http/armServer.js";
export type { StoredCaptureFile } from "./capture/sessions.js";
export type { FiredFault } from "./faults.js";
export type { EmulatorClock } from "./capture/sessionTime.js";
export type { TrafficChoice } from "./trafficProfiles.js";
export type { RingFile } from "./capture/ring.js";

export const CERTIFICATE_FILE_NAME = "arm-emulator-cert.pem";
const REQUEST_LOG_LIMIT = 20_000;
/** `Retry-After` of Network Watcher's long-running answers (R3, 2023). */
const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** A read-only copy of one capture's state, for tests. */
export interface CaptureSnapshot {
  id: string;
  name: string;
  networkWatcherId: string;
  target: string;
  foreign: boolean;
  provisioningState: string;
  packetCaptureStatus: PcStatus;
  stopReason: string | undefined;
  packetCaptureError: string[];
  captureStartTime: string | undefined;
  storagePath: string;
  file: {
    localPath: string | undefined;
    bytes: number | undefined;
    packets: number | undefined;
    source: "tcpdump" | "synthetic" | undefined;
    byteLimitReached: boolean | undefined;
    stored: boolean;
    blobs: Array<{ container: string; blobName: string; url: string }>;
    uploadError: string | undefined;
  };
  /** A continuous capture's rings: per captured machine, the files kept (oldest first) and how many were deleted. */
  ring:
    | {
        fileCount: number;
        fileSizeBytes: number;
        machines: Array<{ instanceId: string | undefined; files: RingFile[]; deleted: number; nextSeq: number }>;
        storageError: string | undefined;
      }
    | undefined;
}

/** A metric alert rule or action group as the emulator holds it (a copy). */
export interface MonitorResourceSnapshot {
  id: string;
  name: string;
  /** The resource as GET answers it. */
  body: Record<string, unknown>;
}

export interface ArmEmulator {
  /** `https://127.0.0.1:{port}`: the `endpoint` to give the SDK clients. */
  readonly url: string;
  readonly port: number;
  /** PEM file of the self-signed certificate that clients must trust. */
  readonly caCertPath: string;
  readonly caCertPem: string;
  readonly dataDir: string;
  close(): Promise<void>;
  /** Every capture the emulator holds (alertcap's and foreign ones). */
  captures(): CaptureSnapshot[];
  /** One capture by full ID or by name. */
  capture(idOrName: string): CaptureSnapshot | undefined;
  /** Resolves when the capture's file is in storage (or final on disk); rejects if the session ends without one. */
  whenCaptureFileStored(captureId: string, timeoutMs?: number): Promise<StoredCaptureFile>;
  /** The requests answered so far, in order (the most recent 20,000). */
  requests(): RequestLogEntry[];
  firedFaults(): FiredFault[];
  /** Changes a VM's (or scale-set instance's, by its `.../virtualMachines/{instanceId}` ID) power state. */
  setPowerState(resourceId: string, powerState: PowerState): void;
  /** Installs (Succeeded) or removes the Network Watcher agent extension of a VM or scale set. */
  setNetworkWatcherExtension(resourceId: string, installed: boolean): void;
  /**
   * Sets the traffic a VM, a scale set or one instance (`{vmss}/virtualMachines/{id}`) generates from its next round
   * on: `"steady"`, `"healthy"`, `"failing"`, `{ failingFrom: Date }` (healthy until then) or a `TrafficProfile`.
   */
  setTrafficProfile(resourceId: string, choice: TrafficChoice): void;
  /** Resolves once every continuous-capture file closed so far is uploaded and the rings are trimmed. */
  ringsSettled(): Promise<void>;
  /** The metric alert rules created through the emulator. */
  metricAlerts(): MonitorResourceSnapshot[];
  /** The action groups created through the emulator. */
  actionGroups(): MonitorResourceSnapshot[];
}

export async function startArmEmulator(options: ArmEmulatorOptions = {}): Promise<ArmEmulator> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), "alertcap-arm-emulator-")));
  const workDir = join(dataDir, "arm-emulator");
  mkdirSync(workDir, { recursive: true });

  const inventory = loadInventory(options.inventory, log);
  const faultPlan =
    options.faults === undefined
      ? parseFaultPlan({})
      : typeof options.faults === "string"
        ? loadFaultPlan(options.faults)
        : parseFaultPlan(options.faults);
  const certificate = await loadOrCreateCertificate(
    join(dataDir, CERTIFICATE_FILE_NAME),
    join(workDir, "key.pem"),
    options.reuseCertificate ?? true,
  );

  const model = new ResourceModel(inventory);
  const captures = new CaptureStore();
  addForeignCaptures(inventory, model, captures);
  const scheduler = new Scheduler(options.speedFactor ?? 1);
  const time = options.clock ? clockSessionTime(options.clock) : realSessionTime(scheduler);
  const traffic = new TrafficProfiles();
  const startedAtMs = time.nowMs();
  for (const resource of [...inventory.virtualMachines, ...inventory.virtualMachineScaleSets]) {
    if (resource.traffic !== undefined) traffic.set(resource.id, inventoryTrafficChoice(resource.traffic, startedAtMs));
  }
  for (const [resourceId, choice] of Object.entries(options.trafficProfiles ?? {})) traffic.set(resourceId, choice);
  const faults = new FaultInjector(faultPlan);
  let baseUrl = "";
  const operations = new OperationStore(scheduler, () => baseUrl);
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  const uploader = new CaptureUploader(options.blobConnectionString);
  let serverPort = 0;
  const blobPort = blobEndpointPort(options.blobConnectionString);
  const sessions = new CaptureSessions({
    scheduler,
    time,
    profileFor: (emulatedVm) => traffic.profileFor(emulatedVm),
    recorder: new PacketRecorder({
      mode: options.packetSource ?? "auto",
      tcpdumpPath: options.tcpdumpPath ?? "tcpdump",
      interfaceName: options.captureInterface ?? "lo",
      log,
    }),
    uploader,
    model,
    timings,
    failedSession: { status: "Stopped", errors: "freeText", ...options.failedSession },
    byteLimitStopReason: options.byteLimitStopReason,
    workDir,
    excludePorts: () => [serverPort, ...(blobPort === undefined ? [] : [blobPort])],
    log,
  });
  const context: EmulatorContext = {
    model,
    captures,
    sessions,
    operations,
    faults,
    timings,
    now: () => new Date(time.nowMs()),
    behaviour: {
      regionCaptureLimit: options.regionCaptureLimit ?? 10000,
      undocumentedFields: options.undocumentedFields ?? false,
      scaleSetStoragePath: options.scaleSetStoragePath ?? "cap",
      retryAfterSeconds: scheduler.retryAfterSeconds(options.lroRetryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS),
    },
  };

  const persisted = { model, captures, operations, sessions };
  const fingerprint = inventoryFingerprint(inventory);
  const stateFile = options.persistState ? new StateFile(join(workDir, "state.json"), fingerprint, log) : undefined;
  const savedState = stateFile?.load();

  const requestLog: RequestLogEntry[] = [];
  const server = await startArmServer({
    key: certificate.keyPem,
    cert: certificate.certPem,
    port: options.port ?? 0,
    router: new Router(emulatorRoutes(context)),
    scope: model,
    faults,
    checkApiVersion: (path, apiVersion) =>
      unsupportedApiVersion(path, apiVersion, {
        locationOf: (resourcePath) => {
          const watcherId = /^(.*\/providers\/Microsoft\.Network\/networkWatchers\/[^/]+)/i.exec(resourcePath)?.[1];
          return watcherId === undefined ? undefined : model.watcherById(watcherId)?.location;
        },
        locations: () => [...new Set(model.allWatchers().map((watcher) => watcher.location))],
      }),
    onRequestLogged: (entry) => {
      // A local stack polls for hours; keep the most recent answers only.
      if (requestLog.push(entry) > REQUEST_LOG_LIMIT) requestLog.splice(0, requestLog.length - REQUEST_LOG_LIMIT);
    },
    log,
  });
  baseUrl = server.baseUrl;
  serverPort = server.port;
  if (savedState) await restoreState(savedState, persisted);
  stateFile?.startSaving(() => snapshotState(persisted, fingerprint));

  let closed: Promise<void> | undefined;
  return {
    url: server.baseUrl,
    port: server.port,
    caCertPath: certificate.certPath,
    caCertPem: certificate.certPem,
    dataDir,
    close() {
      closed ??= (async () => {
        scheduler.close();
        time.close();
        stateFile?.stopSaving(snapshotState(persisted, fingerprint));
        await sessions.close();
        await server.close();
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return closed;
    },
    captures: () => captures.all().map(snapshot),
    capture(idOrName) {
      const byId = captures.get(idOrName);
      if (byId) return snapshot(byId);
      const byName = captures.all().filter((record) => record.name.toLowerCase() === idOrName.toLowerCase());
      return byName.length === 1 && byName[0] ? snapshot(byName[0]) : undefined;
    },
    whenCaptureFileStored(id, timeoutMs = 30_000) {
      return withTimeout(sessions.whenStored(id), timeoutMs, `capture file of ${id} not stored within ${timeoutMs} ms`);
    },
    requests: () => [...requestLog],
    firedFaults: () => faults.fired(),
    setPowerState(resourceId, powerState) {
      const vm = model.virtualMachineById(resourceId);
      if (vm) {
        vm.powerState = powerState;
        if (powerState !== "running") sessions.targetStopped(vm.id);
        return;
      }
      const match = /^(.*)\/virtualMachines\/([^/]+)$/i.exec(resourceId.trim());
      const instance = match?.[1] && match[2] ? model.scaleSetById(match[1])?.instances.get(match[2].toLowerCase()) : undefined;
      if (!instance) throw new Error(`no VM or scale-set instance ${resourceId} in the inventory`);
      instance.powerState = powerState;
      if (powerState !== "running") sessions.targetStopped(resourceId);
    },
    setTrafficProfile(resourceId, choice) {
      traffic.set(resourceId, choice);
    },
    ringsSettled: () => sessions.ringsSettled(),
    metricAlerts: () => model.monitor.metricAlerts.all().map(monitorSnapshot),
    actionGroups: () => model.monitor.actionGroups.all().map(monitorSnapshot),
    setNetworkWatcherExtension(resourceId, installed) {
      const resource = model.virtualMachineById(resourceId) ?? model.scaleSetById(resourceId);
      if (!resource) throw new Error(`no VM or scale set ${resourceId} in the inventory`);
      for (const [key, extension] of resource.extensions) {
        if (extension.publisher.toLowerCase() === NETWORK_WATCHER_AGENT_PUBLISHER.toLowerCase()) resource.extensions.delete(key);
      }
      if (installed) {
        resource.extensions.set(NETWORK_WATCHER_AGENT_DEFAULT_NAME.toLowerCase(), {
          name: NETWORK_WATCHER_AGENT_DEFAULT_NAME,
          publisher: NETWORK_WATCHER_AGENT_PUBLISHER,
          type: agentTypeFor(resource.osType),
          typeHandlerVersion: "1.4",
          autoUpgradeMinorVersion: true,
          provisioningState: "Succeeded",
        });
      }
    },
  };
}

function loadInventory(source: ArmEmulatorOptions["inventory"], log: (line: string) => void): Inventory {
  if (source === undefined) return parseInventory({});
  if (typeof source === "string") return loadInventoryFile(source, log);
  return parseInventory(source, "inventory", log);
}

/** Inventory captures: someone else's sessions, as they would be listed by the real service. */
function addForeignCaptures(inventory: Inventory, model: ResourceModel, captures: CaptureStore): void {
  for (const declared of inventory.packetCaptures) {
    const match = /^(.*)\/packetCaptures\/([^/]+)\/?$/i.exec(declared.id.trim());
    const watcher = match?.[1] ? model.watcherById(match[1]) : undefined;
    if (!match?.[2] || !watcher) {
      throw new InventoryError(
        `packetCaptures: '${declared.id}' must be {network watcher id}/packetCaptures/{name} under a watcher of the inventory`,
      );
    }
    if (!parseResourceId(declared.target)) throw new InventoryError(`packetCaptures: target '${declared.target}' is not a resource ID`);
    const id = captureId(watcher, match[2]);
    if (captures.get(id)) throw new InventoryError(`packetCaptures: ${declared.id} is listed twice`);
    const record: CaptureRecord = {
      id,
      name: match[2],
      watcher,
      subscriptionId: watcher.subscriptionId,
      location: watcher.location,
      foreign: true,
      echoed: {
        target: declared.target,
        scope: { include: [], exclude: [] },
        targetType: declared.targetType ?? (/\/virtualMachineScaleSets\/[^/]+$/i.test(declared.target) ? "AzureVMSS" : "AzureVM"),
        bytesToCapturePerPacket: declared.bytesToCapturePerPacket ?? 0,
        totalBytesPerSession: declared.totalBytesPerSession ?? DEFAULT_TOTAL_BYTES_PER_SESSION,
        timeLimitInSeconds: declared.timeLimitInSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
        storageLocation: { ...declared.storageLocation },
        filters: (declared.filters ?? []).map((filter) => ({
          protocol: filter["protocol"] ?? "Any",
          localIPAddress: filter["localIPAddress"] ?? "",
          remoteIPAddress: filter["remoteIPAddress"] ?? "",
          localPort: filter["localPort"] ?? "",
          remotePort: filter["remotePort"] ?? "",
        })),
      },
      provisioningState: declared.provisioningState,
      createdAt: new Date(declared.captureStartTime ?? Date.now()),
      storagePath: declared.storageLocation?.storagePath ?? "",
      session: {
        status: declared.status,
        ...(declared.captureStartTime !== undefined && { captureStartTime: declared.captureStartTime }),
        ...(declared.stopReason !== undefined && { stopReason: declared.stopReason }),
        errors: [...declared.packetCaptureError],
      },
      file: { blobs: [], stored: false, segments: [] },
      capturedInstances: [],
    };
    captures.add(record);
  }
}

function monitorSnapshot(resource: StoredMonitorResource): MonitorResourceSnapshot {
  return { id: resource.id, name: resource.name, body: structuredClone(resource.body) };
}

function snapshot(record: CaptureRecord): CaptureSnapshot {
  return {
    id: record.id,
    name: record.name,
    networkWatcherId: record.watcher.id,
    target: String(record.echoed["target"]),
    foreign: record.foreign,
    provisioningState: record.provisioningState,
    packetCaptureStatus: record.session.status,
    stopReason: record.session.stopReason,
    packetCaptureError: [...record.session.errors],
    captureStartTime: record.session.captureStartTime,
    storagePath: record.storagePath,
    file: {
      localPath: record.file.localPath,
      bytes: record.file.bytes,
      packets: record.file.packets,
      source: record.file.source,
      byteLimitReached: record.file.byteLimitReached,
      stored: record.file.stored,
      blobs: record.file.blobs.map((blob) => ({ ...blob })),
      uploadError: record.file.uploadError,
    },
    ring: record.ring && {
      fileCount: record.ring.fileCount,
      fileSizeBytes: record.ring.fileSizeBytes,
      machines: record.ring.machines.map((machine) => ({
        instanceId: machine.instanceId,
        files: machine.files.map((file) => ({ ...file })),
        deleted: machine.deleted,
        nextSeq: machine.nextSeq,
      })),
      storageError: record.ring.storageError,
    },
  };
}

/** The port of `BlobEndpoint=http://127.0.0.1:{port}/...` (10000 for `UseDevelopmentStorage=true`). */
function blobEndpointPort(connectionString: string | undefined): number | undefined {
  if (!connectionString) return undefined;
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return 10000;
  const endpoint = /BlobEndpoint=([^;]+)/i.exec(connectionString)?.[1];
  if (!endpoint) return undefined;
  try {
    const url = new URL(endpoint);
    return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolvePromise(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
