// Emulator state on disk, so that stopping and restarting the local stack (which resumes its orchestrations) finds
// the captures, operations, VM changes, metric alert rules and action groups it left, like the real service would.
//
// The state is saved as JSON in `{dataDir}/arm-emulator/state.json` a few times a second when it changed, and on
// close. It belongs to one inventory: if the inventory file changed since, the saved state is ignored.

import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Inventory, PowerState } from "./inventory.js";
import type { FinalResult, OperationStore, SavedOperation } from "./operations.js";
import type { ExtensionState, ResourceModel } from "./resourceModel.js";
import type { SavedMonitorResources } from "./monitor/monitorResources.js";
import { captureStatus, type CaptureRecord, type CaptureStore } from "./capture/captureStore.js";
import type { CaptureSessions } from "./capture/sessions.js";

const STATE_VERSION = 1;

type SavedCapture = Omit<CaptureRecord, "watcher" | "createdAt"> & { watcherId: string; createdAt: string };

export interface SavedState {
  version: number;
  inventoryFingerprint: string;
  savedAt: string;
  machines: Array<{ id: string; powerState: PowerState; extensions: ExtensionState[] }>;
  scaleSets: Array<{ id: string; instances: Array<{ instanceId: string; powerState: PowerState }>; extensions: ExtensionState[] }>;
  watchers: Array<{ id: string; etag: string }>;
  captures: SavedCapture[];
  operations: SavedOperation[];
  /** Metric alert rules and action groups; absent in files saved before the emulator served Microsoft.Insights. */
  monitor?: SavedMonitorResources;
}

export interface PersistedParts {
  model: ResourceModel;
  captures: CaptureStore;
  operations: OperationStore;
  sessions: CaptureSessions;
}

export function inventoryFingerprint(inventory: Inventory): string {
  return createHash("sha256").update(JSON.stringify(inventory)).digest("hex");
}

export class StateFile {
  private lastWritten = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly fingerprint: string,
    private readonly log: (line: string) => void,
  ) {}

  load(): SavedState | undefined {
    if (!existsSync(this.path)) return undefined;
    try {
      const state = JSON.parse(readFileSync(this.path, "utf8")) as SavedState;
      if (state.version !== STATE_VERSION) return undefined;
      if (state.inventoryFingerprint !== this.fingerprint) {
        this.log(`arm-emulator: the inventory changed since ${state.savedAt}; not restoring the saved emulator state`);
        return undefined;
      }
      return state;
    } catch (error) {
      this.log(`arm-emulator: ignoring unreadable state file ${this.path}: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Saves every `intervalMs` when something changed. */
  startSaving(snapshot: () => SavedState, intervalMs = 250): void {
    this.timer = setInterval(() => this.save(snapshot()), intervalMs);
    this.timer.unref();
  }

  stopSaving(finalSnapshot: SavedState): void {
    if (this.timer) clearInterval(this.timer);
    this.save(finalSnapshot);
  }

  private save(state: SavedState): void {
    const { savedAt: _savedAt, ...content } = state;
    const comparable = JSON.stringify(content);
    if (comparable === this.lastWritten) return;
    try {
      // Write then rename, so a crash never leaves half a file.
      writeFileSync(`${this.path}.tmp`, JSON.stringify(state));
      renameSync(`${this.path}.tmp`, this.path);
      this.lastWritten = comparable;
    } catch (error) {
      this.log(`arm-emulator: cannot save state to ${this.path}: ${(error as Error).message}`);
    }
  }
}

export function snapshotState(parts: PersistedParts, fingerprint: string): SavedState {
  const { model, captures, operations } = parts;
  return {
    version: STATE_VERSION,
    inventoryFingerprint: fingerprint,
    savedAt: new Date().toISOString(),
    machines: model.allVirtualMachines().map((vm) => ({ id: vm.id, powerState: vm.powerState, extensions: [...vm.extensions.values()] })),
    scaleSets: model.allScaleSets().map((vmss) => ({
      id: vmss.id,
      instances: [...vmss.instances.values()].map(({ instanceId, powerState }) => ({ instanceId, powerState })),
      extensions: [...vmss.extensions.values()],
    })),
    watchers: model.allWatchers().map((watcher) => ({ id: watcher.id, etag: watcher.etag })),
    captures: captures.all().map(({ watcher, createdAt, ...rest }) => ({ ...rest, watcherId: watcher.id, createdAt: createdAt.toISOString() })),
    operations: operations.save(),
    monitor: model.monitor.save(),
  };
}

/** Puts a saved state back, finishes what was in flight, and lets running sessions carry on recording. */
export async function restoreState(state: SavedState, parts: PersistedParts): Promise<void> {
  const { model, captures, operations, sessions } = parts;
  for (const saved of state.machines) {
    const vm = model.virtualMachineById(saved.id);
    if (!vm) continue;
    vm.powerState = saved.powerState;
    vm.extensions = extensionMap(saved.extensions);
  }
  for (const saved of state.scaleSets) {
    const vmss = model.scaleSetById(saved.id);
    if (!vmss) continue;
    for (const instance of saved.instances) {
      const current = vmss.instances.get(instance.instanceId.toLowerCase());
      if (current) current.powerState = instance.powerState;
    }
    vmss.extensions = extensionMap(saved.extensions);
  }
  for (const saved of state.watchers) {
    const watcher = model.watcherById(saved.id);
    if (watcher) watcher.etag = saved.etag;
  }
  if (state.monitor) model.monitor.restore(state.monitor);

  captures.clear();
  for (const { watcherId, createdAt, ...saved } of state.captures) {
    const watcher = model.watcherById(watcherId);
    if (watcher) captures.add({ ...saved, watcher, createdAt: new Date(createdAt) });
  }

  const failedCreates: CaptureRecord[] = [];
  for (const saved of state.operations) {
    const wasRunning = saved.state === "InProgress";
    const operation = operations.restore(saved, finalResultFor(saved, captures));
    if (!wasRunning) continue;
    const failed = operation.state === "Failed";
    const record = captures.get(saved.resourceId);
    if (saved.kind === "create" && record?.provisioningState === "Updating") {
      record.provisioningState = failed ? "Failed" : "Succeeded";
      if (failed) failedCreates.push(record);
    } else if (saved.kind === "delete" && record) {
      if (failed) record.provisioningState = "Succeeded";
      else captures.remove(record.id);
    } else if (saved.kind === "extension") {
      const extension = extensionById(model, saved.resourceId);
      if (extension) extension.provisioningState = failed ? "Failed" : "Succeeded";
    }
  }
  for (const record of captures.all()) {
    if (record.file.recorderPid !== undefined) await stopOrphanRecorder(record.file.recorderPid, record.file.segments);
    delete record.file.recorderPid;
    sessions.resume(record);
  }
  for (const record of failedCreates) sessions.abandon(record);
}

function finalResultFor(saved: SavedOperation, captures: CaptureStore): () => FinalResult {
  switch (saved.kind) {
    case "queryStatus":
      return () => {
        const record = captures.get(saved.resourceId);
        return record ? { status: 200, body: captureStatus(record) } : { status: 200, body: null };
      };
    case "stop":
      return () => ({ status: 200, body: null });
    case "delete":
      return () => ({ status: 204 });
    default:
      return () => ({ status: 200 });
  }
}

function extensionMap(extensions: ExtensionState[]): Map<string, ExtensionState> {
  return new Map(extensions.map((extension) => [extension.name.toLowerCase(), extension]));
}

function extensionById(model: ResourceModel, extensionId: string): ExtensionState | undefined {
  const match = /^(.*)\/extensions\/([^/]+)$/i.exec(extensionId);
  if (!match?.[1] || !match[2]) return undefined;
  return model.virtualMachineById(match[1])?.extensions.get(match[2].toLowerCase());
}

/**
 * A recorder of the previous emulator process that is still running (the process was killed, not closed): stop it
 * so its file is complete before a new segment starts. Only a process whose command line names one of this
 * capture's segment files is touched.
 */
async function stopOrphanRecorder(pid: number, segments: string[]): Promise<void> {
  const commandLine = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!segments.some((segment) => commandLine.includes(segment))) return;
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  const deadline = Date.now() + 3000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Running and not a zombie (a container's PID 1 may never reap an orphan). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
