// Everything alertcap asks ARM for, in one place: VM and scale-set facts, the Network Watcher agent, the region's
// watcher and its captures. Expected refusals (no such VM, VM stopped, no watcher, region full, a request Network
// Watcher rejects) come back as results with a sentence; throttling and transient failures throw, so the
// orchestrator's retry policy takes them.
import type { PacketCapture } from "@azure/arm-network";
import type {
  CaptureRef,
  CreateCaptureInput,
  CreateCaptureOutput,
  LocateFileOutput,
  QueryCaptureOutput,
  ValidateTargetInput,
  ValidateTargetOutput,
  WatcherRef,
} from "../activities/contracts.js";
import { captureTarget, type CaptureTargetRef, isCaptureNameFor } from "../domain/capture/plan.js";
import { type ArmClients, armClients } from "./armClients.js";
import { captureFileProperties } from "./captureFiles.js";

const AGENT_PUBLISHER = "Microsoft.Azure.NetworkWatcher";
const AGENT_TYPES = { Linux: "NetworkWatcherAgentLinux", Windows: "NetworkWatcherAgentWindows" } as const;
const AGENT_EXTENSION_NAME = "AzureNetworkWatcherExtension";
/** A capture whose start we did not see within this margin of our own start is not ours. */
const CLOCK_SKEW_MS = 60_000;

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message: string;
}

const asRestError = (error: unknown): RestErrorLike =>
  typeof error === "object" && error !== null && "message" in error ? (error as RestErrorLike) : { message: String(error) };

const isNotFound = (error: unknown): boolean => asRestError(error).statusCode === 404;

/** A 4xx other than throttling will not get better by retrying. */
const isPermanent = (error: unknown): boolean => {
  const status = asRestError(error).statusCode;
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
};

const describe = (error: unknown): string => {
  const e = asRestError(error);
  return e.code ? `${e.code}: ${e.message}` : e.message;
};

const sameId = (a: string | undefined, b: string): boolean => (a ?? "").toLowerCase() === b.toLowerCase();
const normaliseRegion = (region: string | undefined): string => (region ?? "").toLowerCase().replace(/\s+/g, "");

interface TargetFacts {
  location: string;
  powerState: string | null;
  osType: "Linux" | "Windows";
  agentInstalled: boolean;
}

async function vmFacts(arm: ArmClients, target: CaptureTargetRef): Promise<TargetFacts> {
  const vm = await arm.compute.virtualMachines.get(target.resourceGroup, target.name, { expand: "instanceView" });
  const extensions = await arm.compute.virtualMachineExtensions.list(target.resourceGroup, target.name);
  return {
    location: vm.location,
    powerState: powerState(vm.instanceView?.statuses),
    osType: vm.storageProfile?.osDisk?.osType === "Windows" ? "Windows" : "Linux",
    agentInstalled: (extensions.value ?? []).some(
      (e) => sameId(e.publisher, AGENT_PUBLISHER) && Object.values(AGENT_TYPES).some((t) => sameId(e.typePropertiesType, t)) && e.provisioningState !== "Failed",
    ),
  };
}

async function scaleSetFacts(arm: ArmClients, target: CaptureTargetRef): Promise<TargetFacts> {
  const scaleSetName = target.kind === "virtualMachineScaleSetInstance" ? scaleSetNameOf(target) : target.name;
  const scaleSet = await arm.compute.virtualMachineScaleSets.get(target.resourceGroup, scaleSetName);
  let agentInstalled = false;
  for await (const e of arm.compute.virtualMachineScaleSetExtensions.list(target.resourceGroup, scaleSetName)) {
    if (sameId(e.publisher, AGENT_PUBLISHER) && Object.values(AGENT_TYPES).some((t) => sameId(e.typePropertiesType, t))) agentInstalled = true;
  }
  let state: string | null = "running";
  if (target.kind === "virtualMachineScaleSetInstance" && target.instanceId !== undefined) {
    const instance = await arm.compute.virtualMachineScaleSetVMs.get(target.resourceGroup, scaleSetName, target.instanceId, { expand: "instanceView" });
    state = powerState(instance.instanceView?.statuses);
  }
  return {
    location: scaleSet.location,
    powerState: state,
    osType: scaleSet.virtualMachineProfile?.storageProfile?.osDisk?.osType === "Windows" ? "Windows" : "Linux",
    agentInstalled,
  };
}

/** The scale set's own name for an instance target (its ID ends …/virtualMachineScaleSets/{set}/virtualMachines/{n}). */
function scaleSetNameOf(target: CaptureTargetRef): string {
  const match = /\/virtualMachineScaleSets\/([^/]+)/i.exec(target.id);
  return match?.[1] ?? target.name;
}

function powerState(statuses: Array<{ code?: string }> | undefined): string | null {
  const code = statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;
  return code ? code.slice("PowerState/".length) : null;
}

async function installAgent(arm: ArmClients, target: CaptureTargetRef, facts: TargetFacts): Promise<void> {
  const extension = {
    location: facts.location,
    publisher: AGENT_PUBLISHER,
    typePropertiesType: AGENT_TYPES[facts.osType],
    typeHandlerVersion: "1.4",
    autoUpgradeMinorVersion: true,
  };
  if (target.kind === "virtualMachine") {
    await arm.compute.virtualMachineExtensions.createOrUpdate(target.resourceGroup, target.name, AGENT_EXTENSION_NAME, extension).pollUntilDone();
  } else {
    const { location: _location, ...scaleSetExtension } = extension;
    await arm.compute.virtualMachineScaleSetExtensions
      .createOrUpdate(target.resourceGroup, scaleSetNameOf(target), AGENT_EXTENSION_NAME, { name: AGENT_EXTENSION_NAME, ...scaleSetExtension })
      .pollUntilDone();
  }
}

async function findWatcher(arm: ArmClients, subscriptionId: string, location: string): Promise<WatcherRef | null> {
  for await (const watcher of arm.network.networkWatchers.listAll()) {
    if (normaliseRegion(watcher.location) !== normaliseRegion(location) || !watcher.id) continue;
    const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(watcher.id)?.[1];
    if (resourceGroup && watcher.name) return { subscriptionId, resourceGroup, name: watcher.name };
  }
  return null;
}

async function statusOf(arm: ArmClients, watcher: WatcherRef, name: string): Promise<QueryCaptureOutput> {
  const result = await arm.network.packetCaptures.getStatus(watcher.resourceGroup, watcher.name, name).pollUntilDone();
  return {
    status: result.packetCaptureStatus ?? "Unknown",
    stopReason: result.stopReason || null,
    errors: (result.packetCaptureError ?? []).map(String),
    captureStartTime: result.captureStartTime ? new Date(result.captureStartTime).toISOString() : null,
  };
}

const isActive = (status: string): boolean => status === "Running" || status === "NotStarted";

export async function validateCaptureTarget({ target, settings }: ValidateTargetInput): Promise<ValidateTargetOutput> {
  const arm = armClients(target.subscriptionId);
  let facts: TargetFacts;
  try {
    facts = target.kind === "virtualMachine" ? await vmFacts(arm, target) : await scaleSetFacts(arm, target);
  } catch (error) {
    if (isNotFound(error)) return { ok: false, reason: `The target ${target.id} does not exist (ARM answered 404: ${describe(error)}).` };
    if (isPermanent(error)) return { ok: false, reason: `ARM refused to describe ${target.id}: ${describe(error)}` };
    throw error;
  }
  if (facts.powerState !== "running") {
    return { ok: false, reason: `The target ${target.name} is ${facts.powerState ?? "in an unknown power state"}, not running: there is no traffic to capture.` };
  }
  if (!facts.agentInstalled) {
    if (!settings.installAgent) {
      return {
        ok: false,
        reason: `The Network Watcher agent extension (${AGENT_PUBLISHER}/${AGENT_TYPES[facts.osType]}) is not installed on ${target.name}; install it, or set ALERTCAP_INSTALL_AGENT=true to let alertcap install it.`,
      };
    }
    try {
      await installAgent(arm, target, facts);
    } catch (error) {
      if (isPermanent(error)) return { ok: false, reason: `Installing the Network Watcher agent on ${target.name} failed: ${describe(error)}` };
      throw error;
    }
  }
  const watcher = await findWatcher(arm, target.subscriptionId, facts.location);
  if (!watcher) {
    return { ok: false, reason: `There is no Network Watcher in region ${facts.location} for subscription ${target.subscriptionId}; enable Network Watcher for the region.` };
  }

  // Captures listed are an upper bound on those running: only when the list reaches the limit is each one asked.
  const listed = [];
  for await (const capture of arm.network.packetCaptures.list(watcher.resourceGroup, watcher.name)) listed.push(capture);
  const ourTarget = captureTarget(target);
  let running = listed.length;
  let runningCaptureName: string | null = null;
  for (const capture of listed) {
    if (!capture.name || !isCaptureNameFor(capture.name, target) || !sameId(capture.target, ourTarget.target)) continue;
    if ((capture.scope?.include ?? []).join(",") !== (ourTarget.scope?.include ?? []).join(",")) continue;
    if (isActive((await statusOf(arm, watcher, capture.name)).status)) runningCaptureName = capture.name;
  }
  if (running >= settings.maxCapturesPerRegion) {
    running = 0;
    for (const capture of listed) if (capture.name && isActive((await statusOf(arm, watcher, capture.name)).status)) running++;
    if (running >= settings.maxCapturesPerRegion && !runningCaptureName) {
      return {
        ok: false,
        reason: `Region ${facts.location} already has ${running} running packet captures, at the limit of ${settings.maxCapturesPerRegion}; no capture was started.`,
      };
    }
  }
  return { ok: true, location: facts.location, watcher, runningCaptureName, agentInstalled: true };
}

export async function createPacketCapture({ watcher, candidateNames, body, notBefore }: CreateCaptureInput): Promise<CreateCaptureOutput> {
  const arm = armClients(watcher.subscriptionId);
  const taken: string[] = [];
  for (const name of candidateNames) {
    let existing;
    try {
      existing = await arm.network.packetCaptures.get(watcher.resourceGroup, watcher.name, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (existing) {
      // Ours only if it captures our target and started after this orchestration did (a retried create); anything
      // else belongs to someone else and is left alone: we take the next name.
      if (sameId(existing.target, body.properties.target)) {
        const status = await statusOf(arm, watcher, name);
        if (status.captureStartTime && Date.parse(status.captureStartTime) >= Date.parse(notBefore) - CLOCK_SKEW_MS) {
          return { ok: true, captureName: name, storagePath: existing.storageLocation?.storagePath || null, reused: true };
        }
      }
      taken.push(name);
      continue;
    }
    try {
      // The body crossed durable state as JSON; the round trip also drops optional fields left undefined.
      const parameters = JSON.parse(JSON.stringify(body.properties)) as PacketCapture;
      const created = await arm.network.packetCaptures.create(watcher.resourceGroup, watcher.name, name, parameters).pollUntilDone();
      return { ok: true, captureName: name, storagePath: created.storageLocation?.storagePath || null, reused: false };
    } catch (error) {
      if (isPermanent(error)) return { ok: false, reason: `Network Watcher refused the capture ${name}: ${describe(error)}` };
      // A failed long-running create can leave a resource in Failed state under our new name: it is ours, remove it
      // so the retry starts clean.
      await arm.network.packetCaptures.delete(watcher.resourceGroup, watcher.name, name).pollUntilDone().catch(() => undefined);
      throw error;
    }
  }
  return { ok: false, reason: `Every capture name alertcap would use is taken by captures it did not create (${taken.join(", ")}); they were left untouched.` };
}

export async function queryPacketCapture({ watcher, captureName }: CaptureRef): Promise<QueryCaptureOutput> {
  return statusOf(armClients(watcher.subscriptionId), watcher, captureName);
}

export async function stopPacketCapture({ watcher, captureName }: CaptureRef): Promise<void> {
  try {
    await armClients(watcher.subscriptionId).network.packetCaptures.stop(watcher.resourceGroup, watcher.name, captureName).pollUntilDone();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function deletePacketCapture({ watcher, captureName }: CaptureRef): Promise<void> {
  try {
    await armClients(watcher.subscriptionId).network.packetCaptures.delete(watcher.resourceGroup, watcher.name, captureName).pollUntilDone();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export async function locateCaptureFile({ watcher, captureName }: CaptureRef): Promise<LocateFileOutput> {
  const capture = await armClients(watcher.subscriptionId).network.packetCaptures.get(watcher.resourceGroup, watcher.name, captureName);
  const storagePath = capture.storageLocation?.storagePath || null;
  if (!storagePath) return { storagePath: null, found: false, sizeBytes: null };
  const file = await captureFileProperties(storagePath);
  return { storagePath, found: file !== null, sizeBytes: file?.sizeBytes ?? null };
}
