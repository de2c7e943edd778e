// A recorder's continuous-capture sessions in Network Watcher: whether the target can take one now, creating one
// (a ring of files, `continuousCapture: true`, a preview feature in Azure), and finding the target's recorder
// sessions (to stop strays a crash left behind). Reading, stopping and deleting a session are the same calls as for an
// alert capture (azure/packetCaptures.ts). Callers pass trusted inputs (activities re-derive them).
import { captureTarget, type CaptureTargetRef, type PacketCaptureBody } from "../domain/capture/plan.js";
import type { CaptureSettings } from "../domain/capture/settings.js";
import type { CreateCaptureOutput, WatcherRef } from "../domain/capture/steps.js";
import { isRecorderSessionFor, type RingSettings } from "../domain/recorder/plan.js";
import { armClients } from "./armClients.js";
import { createPacketCapture, describe, factsOf, findWatcher, isNotFound, isPermanent } from "./packetCaptures.js";

/** The target can take a session (`ok`), cannot yet (`retry`: it is stopped), or never will (`retry: false`). */
export type RecorderTargetCheck =
  | { ok: true; location: string; watcher: WatcherRef; osType: "Linux" | "Windows" }
  | { ok: false; retry: boolean; reason: string };

export async function checkRecorderTarget(target: CaptureTargetRef): Promise<RecorderTargetCheck> {
  const arm = armClients(target.subscriptionId);
  let facts;
  try {
    facts = await factsOf(arm, target);
  } catch (error) {
    if (isNotFound(error)) return { ok: false, retry: false, reason: `The target ${target.id} does not exist (ARM answered 404: ${describe(error)}).` };
    if (isPermanent(error)) return { ok: false, retry: false, reason: `ARM refused to describe ${target.id}: ${describe(error)}` };
    throw error;
  }
  if (facts.refusal) return { ok: false, retry: false, reason: facts.refusal };
  if (!facts.agentInstalled) {
    return { ok: false, retry: false, reason: `The Network Watcher agent extension is not installed on ${target.name}: install it, then arm the recorder again.` };
  }
  if (facts.powerState !== "running") {
    return { ok: false, retry: true, reason: `The target ${target.name} is ${facts.powerState ?? "in an unknown power state"}, not running: the recorder waits for it to run.` };
  }
  const watcher = await findWatcher(arm, target.subscriptionId, facts.location);
  if (!watcher) return { ok: false, retry: false, reason: `There is no Network Watcher in region ${facts.location} for subscription ${target.subscriptionId}; enable Network Watcher for the region.` };
  return { ok: true, location: facts.location, watcher, osType: facts.osType };
}

/** Network Watcher's body for a continuous capture (2024-05-01 and later; arm-network v39). */
export interface RecorderSessionBody {
  properties: Pick<PacketCaptureBody["properties"], "target" | "targetType" | "scope" | "bytesToCapturePerPacket" | "filters"> & {
    continuousCapture: true;
    captureSettings: { fileCount: number; fileSizeInBytes: number; sessionTimeLimitInSeconds: number };
    /** localPath is where the agent keeps the ring on the VM (`filePath` is invalid with continuousCapture). */
    storageLocation: { storageId: string; localPath: string };
  };
}

/** The ring on the VM: on Linux it must lie under /var/captures and name a `.cap` file (REST spec). */
function localPathFor(sessionName: string, osType: "Linux" | "Windows"): string {
  return osType === "Windows" ? `C:\\Captures\\${sessionName}.cap` : `/var/captures/${sessionName}.cap`;
}

export function recorderSessionBody(
  target: CaptureTargetRef,
  sessionName: string,
  osType: "Linux" | "Windows",
  ring: RingSettings,
  settings: Pick<CaptureSettings, "bytesToCapturePerPacket" | "filters">,
  storageAccountId: string,
): RecorderSessionBody {
  return {
    properties: {
      ...captureTarget(target),
      bytesToCapturePerPacket: settings.bytesToCapturePerPacket,
      filters: settings.filters,
      continuousCapture: true,
      captureSettings: { fileCount: ring.fileCount, fileSizeInBytes: ring.fileSizeBytes, sessionTimeLimitInSeconds: ring.sessionSeconds },
      storageLocation: { storageId: storageAccountId, localPath: localPathFor(sessionName, osType) },
    },
  };
}

/**
 * Sends the create and returns on its first answer. Idempotent by name: a retried (or replayed after a crash) create
 * finds the session its first attempt made and adopts it, as alert captures do.
 */
export function createRecorderSession(watcher: WatcherRef, sessionName: string, body: RecorderSessionBody, requestedAt: string): Promise<CreateCaptureOutput> {
  // createPacketCapture sends body.properties as they are and compares only target and storageId: the continuous
  // fields ride along (the cast widens the classic body's type, nothing else).
  return createPacketCapture({ watcher, candidateNames: [sessionName], body: body as unknown as PacketCaptureBody, notBefore: requestedAt });
}

/** The names of every recorder session of `target` under the watcher (running or not). */
export async function recorderSessionNames(watcher: WatcherRef, target: CaptureTargetRef): Promise<string[]> {
  const arm = armClients(watcher.subscriptionId);
  const names: string[] = [];
  for await (const capture of arm.network.packetCaptures.list(watcher.resourceGroup, watcher.name)) {
    if (capture.name && isRecorderSessionFor(capture.name, target)) names.push(capture.name);
  }
  return names;
}
