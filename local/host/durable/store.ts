// Durable state on disk: one JSON file per orchestration instance, replaced atomically (write a temp file, rename)
// so a host killed at any instant leaves either the old or the new state, never half. A killed process loses nothing
// the kernel has accepted, so fsync is only needed against power loss; ALERTCAP_DURABLE_FSYNC=true turns it on.
// Every change to an instance (new message, episode result, activity result) is one such write, which is what lets
// a restarted host resume: messages in the inbox are processed, timers re-armed, activities in flight re-run.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { HistoryEvent, RetryOptions } from "./history.js";

export type RuntimeStatus =
  | "Pending"
  | "Running"
  | "Completed"
  | "ContinuedAsNew"
  | "Failed"
  | "Canceled"
  | "Terminated"
  | "Suspended";

export const TERMINAL_STATUSES: ReadonlySet<RuntimeStatus> = new Set(["Completed", "Failed", "Canceled", "Terminated"]);

/** Where a CallActivityWithRetry chain stands: the extension, not the worker, runs the retries (as DTFx does). */
export interface RetryChain {
  name: string;
  input: unknown;
  options: RetryOptions;
  /** 1-based number of the attempt that is running or has just failed. */
  attempt: number;
  firstAttemptAt: string;
}

export interface PendingActivity {
  /** EventId of the TaskScheduled event this execution answers. */
  taskId: number;
  generation: number;
  /** The execution that scheduled it: a restarted or purged-and-restarted instance reuses IDs and generations. */
  executionId?: string;
  name: string;
  input: unknown;
  retry?: RetryChain;
}

export interface PendingTimer {
  timerId: number;
  generation: number;
  executionId?: string;
  fireAt: string;
  /** Set on a back-off timer the extension created between two attempts of a retried activity. */
  retry?: RetryChain;
  /** Cancelled by the orchestrator: it no longer keeps the instance Running, but its message still arrives. */
  cancelled?: boolean;
}

/** A message waiting for the next episode; retry-chain messages carry the chain they belong to. */
export interface InboxMessage {
  event: HistoryEvent;
  retry?: RetryChain;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  input: unknown;
  status: RuntimeStatus;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  /** How many times the instance continued as new; history holds the current generation only (as in DTFx). */
  generation: number;
  history: HistoryEvent[];
  /** Messages delivered but not yet processed by an episode. */
  inbox: InboxMessage[];
  activities: PendingActivity[];
  timers: PendingTimer[];
  /** EventIds the extension allocated itself for retry timers and retried TaskScheduled events. */
  retryEventIds: number[];
  episodes: number;
  /** The execution the instance row names; a queued ExecutionStarted of another execution is discarded (dedupe). */
  executionId?: string;
}

export class InstanceStore {
  private readonly dir: string;
  private readonly fsync = process.env.ALERTCAP_DURABLE_FSYNC === "true";

  constructor(dataDir: string, hubName: string) {
    this.dir = join(dataDir, "durable", hubName, "instances");
    mkdirSync(this.dir, { recursive: true });
  }

  private file(instanceId: string): string {
    const readable = encodeURIComponent(instanceId).replace(/%/g, "_");
    const name = readable.length <= 150 ? readable : createHash("sha256").update(instanceId).digest("hex");
    return join(this.dir, `${name}.json`);
  }

  save(record: InstanceRecord): void {
    const path = this.file(record.instanceId);
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify(record));
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    if (!this.fsync) return;
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  delete(instanceId: string): void {
    rmSync(this.file(instanceId), { force: true });
  }

  /** Every stored instance; leftover temp files from a crash mid-write are discarded (the rename never happened). */
  loadAll(): InstanceRecord[] {
    const records: InstanceRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (name.endsWith(".tmp")) {
        rmSync(path, { force: true });
        continue;
      }
      if (name.endsWith(".json")) records.push(JSON.parse(readFileSync(path, "utf8")) as InstanceRecord);
    }
    return records;
  }
}
