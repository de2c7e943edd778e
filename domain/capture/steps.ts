// The shapes that cross between the capture orchestrator, its activities and the Network Watcher adapter: what each
// step is asked and what it answers. Pure types, no Azure imports: the adapter (azure/) and the activities both
// import them from here, so no import runs back up the layers.
//
// Every step names the target. Activities re-derive what matters from the target's ID and the app settings (scope,
// subscription, storage account, limits, agent install), never from the orchestration input: anyone holding the
// durable system key can start an orchestration with an input of their choosing.
import type { CaptureTargetRef } from "./plan.js";
import type { CaptureSettings } from "./settings.js";

export interface WatcherRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface TargetStepInput {
  target: CaptureTargetRef;
}

export type ValidateTargetOutput =
  | {
      ok: true;
      location: string;
      watcher: WatcherRef;
      /**
       * A capture already running on this target under a name alertcap gives (left by an earlier run) and writing
       * to a configured capture account: watched instead of starting another, but never stopped or deleted, since
       * this run cannot prove it made it.
       */
      runningCaptureName: string | null;
      /** "missing": the agent extension must be installed first (ALERTCAP_INSTALL_AGENT allows it). */
      agent: "installed" | "missing";
      /** The capture settings as the app settings say, whatever the orchestration input said. */
      settings: CaptureSettings;
    }
  | { ok: false; reason: string };

/** Installing the agent is sent, not waited for: the orchestrator polls `AgentState` on durable timers. */
export type InstallAgentOutput = { ok: true } | { ok: false; reason: string };

export type AgentState = { state: "installed" } | { state: "installing"; detail: string } | { state: "failed"; reason: string };

export interface CreateCaptureInput extends TargetStepInput {
  watcher: WatcherRef;
  /** The target's region, as validation found it: picks the configured capture account for that region. */
  location: string;
  /** Names to try in order; the first that is free (or already ours) is used. */
  candidateNames: string[];
  /** A capture with one of our names that started before this is someone else's (or an older run's). */
  notBefore: string;
}

/** Answered after the PUT (201, provisioning Updating): the orchestrator polls the resource until it is Succeeded. */
export type CreateCaptureOutput = { ok: true; captureName: string; adopted: boolean } | { ok: false; reason: string };

export interface CaptureRef extends TargetStepInput {
  watcher: WatcherRef;
  captureName: string;
}

/** The capture resource (GET), or its absence: someone deleted it, or it was never made. */
export type CaptureResourceState =
  | { exists: true; provisioningState: string; storagePath: string | null }
  | { exists: false; reason: string };

/** Network Watcher's packetCaptureStatus as its first queryStatus answer carries it, or the capture's absence. */
export type QueryCaptureOutput =
  | { exists: true; status: string; stopReason: string | null; errors: string[]; captureStartTime: string | null }
  | { exists: false; reason: string };

export interface LocateFileInput extends CaptureRef {
  /** Where Network Watcher said it would write the file: used when the capture resource is gone (the blob is not). */
  knownStoragePath: string | null;
}

export interface LocateFileOutput {
  storagePath: string | null;
  found: boolean;
  sizeBytes: number | null;
}
