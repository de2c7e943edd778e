// Everything alertcap asks ARM for, in one place: VM and scale-set facts, the Network Watcher agent, the region's
// watcher and its captures. Expected refusals (no such VM, VM stopped, no watcher, region full, a request Network
// Watcher rejects) come back as results with a sentence; throttling and transient failures throw, so the
// orchestrator's retry policy takes them. No call here waits for a long-running operation: in Azure each poll
// answers 202 + Retry-After: 10, so a request is sent and its first answer read; the orchestrator watches the
// outcome on durable timers. Callers pass trusted inputs (activities re-derive them from the target ID and the app
// settings).
import type { PacketCapture, PacketCaptureResult } from "@azure/arm-network";
import { captureNameStartTime, captureTarget, type CaptureTargetRef, isCaptureNameFor, type PacketCaptureBody } from "../domain/capture/plan.js";
import type { CaptureSettings } from "../domain/capture/settings.js";
import type {
  AgentState,
  CaptureResourceState,
  CreateCaptureOutput,
  InstallAgentOutput,
  LocateFileOutput,
  QueryCaptureOutput,
  ValidateTargetOutput,
  WatcherRef,
} from "../domain/capture/steps.js";
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

export const isNotFound = (error: unknown): boolean => asRestError(error).statusCode === 404;

/** A 4xx other than throttling will not get better by retrying. */
export const isPermanent = (error: unknown): boolean => {
  const status = asRestError(error).statusCode;
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
};

export const describe = (error: unknown): string => {
  const e = asRestError(error);
  return e.code ? `${e.code}: ${e.message}` : e.message;
};

const sameId = (a: string | undefined, b: string): boolean => (a ?? "").toLowerCase() === b.toLowerCase();
const normaliseRegion = (region: string | undefined): string => (region ?? "").toLowerCase().replace(/\s+/g, "");

export interface TargetFacts {
  location: string;
  powerState: string | null;
  osType: "Linux" | "Windows";
  agentInstalled: boolean;
  /**
   * Scale sets only: Manual means a model change never reaches the instances by itself, Automatic that it may reach
   * them all at once; only Rolling upgrades them in batches.
   */
  upgradeMode: string | null;
  /** Scale sets only: why alertcap cannot capture on it (a Flexible scale set), else null. */
  refusal: string | null;
}

const isAgent = (e: { publisher?: string; typePropertiesType?: string; type?: string }): boolean =>
  sameId(e.publisher, AGENT_PUBLISHER) && Object.values(AGENT_TYPES).some((t) => sameId(e.typePropertiesType ?? e.type, t));

async function vmFacts(arm: ArmClients, target: CaptureTargetRef): Promise<TargetFacts> {
  const vm = await arm.compute.virtualMachines.get(target.resourceGroup, target.name, { expand: "instanceView" });
  const extensions = await arm.compute.virtualMachineExtensions.list(target.resourceGroup, target.name);
  return {
    location: vm.location,
    powerState: powerState(vm.instanceView?.statuses),
    osType: vm.storageProfile?.osDisk?.osType === "Windows" ? "Windows" : "Linux",
    agentInstalled: (extensions.value ?? []).some((e) => isAgent(e) && e.provisioningState !== "Failed"),
    upgradeMode: null,
    refusal: null,
  };
}

/** The instances a capture of `target` covers: the one instance, or every instance of the scale set. */
async function scaleSetInstances(arm: ArmClients, target: CaptureTargetRef) {
  const scaleSetName = scaleSetNameOf(target);
  if (target.kind === "virtualMachineScaleSetInstance" && target.instanceId !== undefined) {
    return [await arm.compute.virtualMachineScaleSetVMs.get(target.resourceGroup, scaleSetName, target.instanceId, { expand: "instanceView" })];
  }
  const instances = [];
  for await (const instance of arm.compute.virtualMachineScaleSetVMs.list(target.resourceGroup, scaleSetName, { expand: "instanceView" })) instances.push(instance);
  return instances;
}

/** The agent as the instances report it (an extension added to the model reaches an instance only when it is upgraded). */
function instancesAgentState(instances: Awaited<ReturnType<typeof scaleSetInstances>>): AgentState {
  const running = instances.filter((i) => powerState(i.instanceView?.statuses) === "running");
  const without = running.filter((i) => !(i.resources ?? []).some((e) => isAgent(e)));
  const failed = running.filter((i) => (i.resources ?? []).some((e) => isAgent(e) && e.provisioningState === "Failed"));
  if (failed.length > 0) return { state: "failed", reason: `The Network Watcher agent failed to install on instance(s) ${failed.map((i) => i.instanceId).join(", ")}.` };
  if (without.length > 0) return { state: "installing", detail: `instance(s) ${without.map((i) => i.instanceId).join(", ")} do not have the agent yet` };
  const pending = running.filter((i) => (i.resources ?? []).some((e) => isAgent(e) && e.provisioningState !== undefined && e.provisioningState !== "Succeeded"));
  if (pending.length > 0) return { state: "installing", detail: `the agent is still provisioning on instance(s) ${pending.map((i) => i.instanceId).join(", ")}` };
  return { state: "installed" };
}

async function scaleSetFacts(arm: ArmClients, target: CaptureTargetRef): Promise<TargetFacts> {
  const scaleSet = await arm.compute.virtualMachineScaleSets.get(target.resourceGroup, scaleSetNameOf(target));
  if (sameId(scaleSet.orchestrationMode, "Flexible")) {
    // virtualMachineScaleSetVMs (list/get) serve Uniform scale sets only: a Flexible one's instances are VMs.
    return {
      location: scaleSet.location,
      powerState: null,
      osType: "Linux",
      agentInstalled: false,
      upgradeMode: scaleSet.upgradePolicy?.mode ?? null,
      refusal: `The scale set ${scaleSetNameOf(target)} uses Flexible orchestration: its instances are VMs: alert on them as VMs (alertcap captures Uniform scale sets only).`,
    };
  }
  const instances = await scaleSetInstances(arm, target);
  const state = target.kind === "virtualMachineScaleSetInstance" ? powerState(instances[0]?.instanceView?.statuses) : instances.some((i) => powerState(i.instanceView?.statuses) === "running") ? "running" : "stopped";
  return {
    location: scaleSet.location,
    powerState: state,
    osType: scaleSet.virtualMachineProfile?.storageProfile?.osDisk?.osType === "Windows" ? "Windows" : "Linux",
    agentInstalled: instancesAgentState(instances).state === "installed",
    upgradeMode: scaleSet.upgradePolicy?.mode ?? null,
    refusal: null,
  };
}

export const factsOf = (arm: ArmClients, target: CaptureTargetRef): Promise<TargetFacts> => (target.kind === "virtualMachine" ? vmFacts(arm, target) : scaleSetFacts(arm, target));

/** The scale set's own name for an instance target (its ID ends …/virtualMachineScaleSets/{set}/virtualMachines/{n}). */
function scaleSetNameOf(target: CaptureTargetRef): string {
  const match = /\/virtualMachineScaleSets\/([^/]+)/i.exec(target.id);
  return match?.[1] ?? target.name;
}

function powerState(statuses: Array<{ code?: string }> | undefined): string | null {
  const code = statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;
  return code ? code.slice("PowerState/".length) : null;
}

/**
 * Sends the agent extension's PUT and returns: the orchestrator reads `networkWatcherAgentState` on durable timers
 * until it is provisioned. On a scale set only a Rolling upgrade policy is accepted: with Manual the extension would
 * reach the model but none of the instances Network Watcher captures on, and with Automatic the model change may
 * upgrade (reboot) every instance at once (Microsoft's upgrade-policy docs), taking the service down to capture it.
 */
export async function installNetworkWatcherAgent(target: CaptureTargetRef): Promise<InstallAgentOutput> {
  const arm = armClients(target.subscriptionId);
  try {
    const facts = await factsOf(arm, target);
    const extension = { publisher: AGENT_PUBLISHER, typePropertiesType: AGENT_TYPES[facts.osType], typeHandlerVersion: "1.4", autoUpgradeMinorVersion: true };
    if (target.kind === "virtualMachine") {
      await arm.compute.virtualMachineExtensions.createOrUpdate(target.resourceGroup, target.name, AGENT_EXTENSION_NAME, { location: facts.location, ...extension }).submitted();
      return { ok: true };
    }
    if (facts.refusal) return { ok: false, reason: facts.refusal };
    const upgradeMode = facts.upgradeMode ?? "Manual";
    if (upgradeMode.toLowerCase() === "manual") {
      return {
        ok: false,
        reason: `The scale set ${scaleSetNameOf(target)} has a Manual upgrade policy: an agent added to its model would not reach its instances until someone upgrades them. Install the Network Watcher agent and upgrade the instances (az vmss update-instances), then alert again.`,
      };
    }
    if (upgradeMode.toLowerCase() !== "rolling") {
      return {
        ok: false,
        reason: `The scale set ${scaleSetNameOf(target)} has an ${upgradeMode} upgrade policy: adding the agent to its model may upgrade all its instances at once and take the service down, so alertcap installs it only under a Rolling policy. Install the Network Watcher agent yourself (in a maintenance window, or switch to a Rolling policy), then alert again.`,
      };
    }
    await arm.compute.virtualMachineScaleSetExtensions
      .createOrUpdate(target.resourceGroup, scaleSetNameOf(target), AGENT_EXTENSION_NAME, { name: AGENT_EXTENSION_NAME, ...extension })
      .submitted();
    return { ok: true };
  } catch (error) {
    if (isPermanent(error)) return { ok: false, reason: `Installing the Network Watcher agent on ${target.name} failed: ${describe(error)}` };
    throw error;
  }
}

/** Where the agent's installation stands: on the VM, or on every instance the capture covers. */
export async function networkWatcherAgentState(target: CaptureTargetRef): Promise<AgentState> {
  const arm = armClients(target.subscriptionId);
  if (target.kind !== "virtualMachine") return instancesAgentState(await scaleSetInstances(arm, target));
  let extension;
  try {
    extension = await arm.compute.virtualMachineExtensions.get(target.resourceGroup, target.name, AGENT_EXTENSION_NAME);
  } catch (error) {
    if (isNotFound(error)) return { state: "failed", reason: `The Network Watcher agent extension disappeared from ${target.name} while it was being installed.` };
    throw error;
  }
  switch (extension.provisioningState) {
    case "Succeeded":
      return { state: "installed" };
    case "Failed":
    case "Canceled":
      return { state: "failed", reason: `Installing the Network Watcher agent on ${target.name} ended ${extension.provisioningState}.` };
    default:
      return { state: "installing", detail: `provisioningState ${extension.provisioningState ?? "unknown"}` };
  }
}

export async function findWatcher(arm: ArmClients, subscriptionId: string, location: string): Promise<WatcherRef | null> {
  for await (const watcher of arm.network.networkWatchers.listAll()) {
    if (normaliseRegion(watcher.location) !== normaliseRegion(location) || !watcher.id) continue;
    const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(watcher.id)?.[1];
    if (resourceGroup && watcher.name) return { subscriptionId, resourceGroup, name: watcher.name };
  }
  return null;
}

interface QueryStatusBody {
  packetCaptureStatus?: string;
  stopReason?: string;
  packetCaptureError?: unknown[];
  captureStartTime?: string;
}

/**
 * Network Watcher's status from the first answer to queryStatus. In Azure a running session answers 202 +
 * Retry-After: 10 with the status already in the body; polling the operation to its end would hold the activity
 * 10–20 s for nothing, so the poller is never asked to poll. An ended session answers 200 with the same body.
 */
async function statusOf(arm: ArmClients, watcher: WatcherRef, name: string): Promise<QueryCaptureOutput & { exists: true }> {
  let body: QueryStatusBody | null = null;
  const poller = arm.network.packetCaptures.getStatus(watcher.resourceGroup, watcher.name, name, {
    onResponse: (response: { parsedBody?: unknown; bodyAsText?: string | null }) => {
      if (body !== null) return;
      if (response.parsedBody && typeof response.parsedBody === "object") body = response.parsedBody as QueryStatusBody;
      else if (response.bodyAsText) body = JSON.parse(response.bodyAsText) as QueryStatusBody;
    },
  });
  await poller.submitted();
  const result: QueryStatusBody = body ?? {};
  return {
    exists: true,
    status: result.packetCaptureStatus ?? "Unknown",
    stopReason: result.stopReason || null,
    errors: (result.packetCaptureError ?? []).map(String),
    captureStartTime: result.captureStartTime ? new Date(result.captureStartTime).toISOString() : null,
  };
}

const isActive = (status: string): boolean => status === "Running" || status === "NotStarted";

/** How many of the region's sessions to ask for their status at once. */
const STATUS_CONCURRENCY = 8;

async function statusesOf(arm: ArmClients, watcher: WatcherRef, names: string[]): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for (let i = 0; i < names.length; i += STATUS_CONCURRENCY) {
    const batch = names.slice(i, i + STATUS_CONCURRENCY);
    const answers = await Promise.all(batch.map((name) => statusOf(arm, watcher, name).then((s) => s.status, (error: unknown) => (isNotFound(error) ? "Deleted" : Promise.reject(error)))));
    batch.forEach((name, j) => statuses.set(name, answers[j]!));
  }
  return statuses;
}

/**
 * Whether two scope lists name the same instances. Network Watcher echoes `include: ["0"]` back as full instance IDs
 * (`…/virtualMachineScaleSets/{set}/virtualMachines/0`), so entries compare by their last path segment, in any case.
 */
function sameInstances(echoed: string[] | undefined, ours: string[] | undefined): boolean {
  const key = (ids: string[] | undefined) => (ids ?? []).map((id) => (id.split("/").filter(Boolean).at(-1) ?? id).toLowerCase()).sort().join(",");
  return key(echoed) === key(ours);
}

/** At most this many captures are asked for their status when counting the region's running sessions. */
const REGION_STATUS_QUERIES = 50;

/**
 * False for a capture alertcap named whose start time (in its name) lies further back than its time limit (the
 * larger of the listed one and ours) plus the stop grace and clock skew: it has ended, and asking would be a wasted
 * queryStatus. Captures named by others may be running: true.
 */
function mayStillRun(capture: { name?: string; timeLimitInSeconds?: number }, settings: Pick<CaptureSettings, "timeLimitSeconds" | "stopGraceSeconds">, now: number): boolean {
  const started = capture.name ? captureNameStartTime(capture.name) : null;
  if (!started) return true;
  const limitSeconds = Math.max(capture.timeLimitInSeconds ?? 0, settings.timeLimitSeconds) + settings.stopGraceSeconds;
  return now <= started.getTime() + limitSeconds * 1000 + CLOCK_SKEW_MS;
}

const isConfiguredAccount = (storageId: string | undefined, settings: Pick<CaptureSettings, "storageAccounts">): boolean =>
  settings.storageAccounts.some((a) => sameId(storageId, a.id));

export async function validateCaptureTarget(target: CaptureTargetRef, settings: CaptureSettings): Promise<ValidateTargetOutput> {
  const arm = armClients(target.subscriptionId);
  let facts: TargetFacts;
  try {
    facts = await factsOf(arm, target);
  } catch (error) {
    if (isNotFound(error)) return { ok: false, reason: `The target ${target.id} does not exist (ARM answered 404: ${describe(error)}).` };
    if (isPermanent(error)) return { ok: false, reason: `ARM refused to describe ${target.id}: ${describe(error)}` };
    throw error;
  }
  if (facts.refusal) return { ok: false, reason: facts.refusal };
  if (facts.powerState !== "running") {
    return { ok: false, reason: `The target ${target.name} is ${facts.powerState ?? "in an unknown power state"}, not running: there is no traffic to capture.` };
  }
  if (!facts.agentInstalled && !settings.installAgent) {
    return {
      ok: false,
      reason: `The Network Watcher agent extension (${AGENT_PUBLISHER}/${AGENT_TYPES[facts.osType]}) is not installed on ${target.name}; install it, or set ALERTCAP_INSTALL_AGENT=true to let alertcap install it.`,
    };
  }
  const watcher = await findWatcher(arm, target.subscriptionId, facts.location);
  if (!watcher) {
    return { ok: false, reason: `There is no Network Watcher in region ${facts.location} for subscription ${target.subscriptionId}; enable Network Watcher for the region.` };
  }

  // Captures listed are an upper bound on those running: only when the list reaches the limit are they asked. Stopped
  // captures stay listed until deleted (ALERTCAP_DELETE_CAPTURE=false keeps every past one), and the list body carries
  // no session status (only provisioningState), so each queryStatus asked must be worth it.
  const listed = [];
  for await (const capture of arm.network.packetCaptures.list(watcher.resourceGroup, watcher.name)) listed.push(capture);
  const now = Date.now();
  const ourTarget = captureTarget(target);
  // Joined only if alertcap would have made it: its name for this target, the same scope, and one of the capture
  // accounts configured (anyone allowed to create captures could otherwise point alertcap at a storagePath of theirs);
  // and only if its name's start time is recent enough for it to be running still.
  const ours = listed.filter(
    (c) =>
      c.name &&
      isCaptureNameFor(c.name, target) &&
      mayStillRun(c, settings, now) &&
      sameId(c.target, ourTarget.target) &&
      sameInstances(c.scope?.include, ourTarget.scope?.include) &&
      isConfiguredAccount(c.storageLocation?.storageId, settings),
  );
  const ourStatuses = await statusesOf(arm, watcher, ours.map((c) => c.name!));
  const runningCaptureName = ours.map((c) => c.name!).find((name) => isActive(ourStatuses.get(name)!)) ?? null;
  if (listed.length >= settings.maxCapturesPerRegion && !runningCaptureName) {
    // alertcap's own past captures are known to have ended from their names; of the others at most
    // REGION_STATUS_QUERIES are asked. Past that the count is a lower bound, and Network Watcher's own refusal of the
    // create (its limit is per region) is what the user is told.
    const candidates = listed.flatMap((c) => (c.name && mayStillRun(c, settings, now) ? [c.name] : []));
    const statuses = await statusesOf(arm, watcher, candidates.slice(0, REGION_STATUS_QUERIES));
    const running = [...statuses.values()].filter(isActive).length;
    if (running >= settings.maxCapturesPerRegion) {
      return {
        ok: false,
        reason: `Region ${facts.location} already has ${running} running packet captures, at the limit of ${settings.maxCapturesPerRegion}; no capture was started.`,
      };
    }
  }
  return { ok: true, location: facts.location, watcher, runningCaptureName, agent: facts.agentInstalled ? "installed" : "missing", settings };
}

export interface CreateRequest {
  watcher: WatcherRef;
  /** Names to try in order; the first that is free (or already ours) is used. */
  candidateNames: string[];
  body: PacketCaptureBody;
  /** A capture with one of our names that started before this is someone else's (or an older run's). */
  notBefore: string;
}

/** A capture under one of our names is ours when it captures our target into our account and did not start before us. */
async function isOurs(arm: ArmClients, watcher: WatcherRef, name: string, existing: PacketCaptureResult, body: PacketCaptureBody, notBefore: string): Promise<boolean> {
  if (!sameId(existing.target, body.properties.target) || !sameId(existing.storageLocation?.storageId, body.properties.storageLocation.storageId)) return false;
  const status = await statusOf(arm, watcher, name);
  return !status.captureStartTime || Date.parse(status.captureStartTime) >= Date.parse(notBefore) - CLOCK_SKEW_MS;
}

async function getCapture(arm: ArmClients, watcher: WatcherRef, name: string): Promise<PacketCaptureResult | null> {
  try {
    return await arm.network.packetCaptures.get(watcher.resourceGroup, watcher.name, name);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Sends the create and returns on its first answer (201, provisioning Updating): the orchestrator then polls the
 * resource. A PUT whose outcome is unknown (a transient error after it was sent) is followed by a GET: a capture
 * that appeared is adopted, never deleted (it may be running already).
 */
export async function createPacketCapture({ watcher, candidateNames, body, notBefore }: CreateRequest): Promise<CreateCaptureOutput> {
  const arm = armClients(watcher.subscriptionId);
  const taken: string[] = [];
  for (const name of candidateNames) {
    const existing = await getCapture(arm, watcher, name);
    if (existing) {
      // A retried create finds the capture its first attempt made; anything else is left alone: we take the next name.
      if (await isOurs(arm, watcher, name, existing, body, notBefore)) return { ok: true, captureName: name, adopted: true };
      taken.push(name);
      continue;
    }
    try {
      // The body crossed durable state as JSON; the round trip also drops optional fields left undefined.
      const parameters = JSON.parse(JSON.stringify(body.properties)) as PacketCapture;
      await arm.network.packetCaptures.create(watcher.resourceGroup, watcher.name, name, parameters).submitted();
      return { ok: true, captureName: name, adopted: false };
    } catch (error) {
      // The PUT may have been carried out even though its answer was lost (a reset, a timeout, a 5xx from a gateway;
      // the SDK's own retry then meets a 409): read the name back and adopt what our PUT made.
      const appeared = await getCapture(arm, watcher, name).catch(() => null);
      if (appeared && sameId(appeared.target, body.properties.target) && sameId(appeared.storageLocation?.storageId, body.properties.storageLocation.storageId)) {
        return { ok: true, captureName: name, adopted: true };
      }
      if (isPermanent(error)) return { ok: false, reason: `Network Watcher refused the capture ${name}: ${describe(error)}` };
      throw error;
    }
  }
  return { ok: false, reason: `Every capture name alertcap would use is taken by captures it did not create (${taken.join(", ")}); they were left untouched.` };
}

export async function getPacketCapture(watcher: WatcherRef, captureName: string): Promise<CaptureResourceState> {
  const capture = await getCapture(armClients(watcher.subscriptionId), watcher, captureName);
  if (!capture) return { exists: false, reason: `Network Watcher answered 404 NotFound for ${captureName}` };
  return { exists: true, provisioningState: capture.provisioningState ?? "Unknown", storagePath: capture.storageLocation?.storagePath || null };
}

export async function queryPacketCapture(watcher: WatcherRef, captureName: string): Promise<QueryCaptureOutput> {
  try {
    return await statusOf(armClients(watcher.subscriptionId), watcher, captureName);
  } catch (error) {
    if (isNotFound(error)) return { exists: false, reason: describe(error) };
    throw error;
  }
}

/** Sends the stop and returns: the watch loop sees the session Stopped on a later poll. */
export async function stopPacketCapture(watcher: WatcherRef, captureName: string): Promise<void> {
  try {
    await armClients(watcher.subscriptionId).network.packetCaptures.stop(watcher.resourceGroup, watcher.name, captureName).submitted();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Sends the delete and returns (the file stays in Blob storage). */
export async function deletePacketCapture(watcher: WatcherRef, captureName: string): Promise<void> {
  try {
    await armClients(watcher.subscriptionId).network.packetCaptures.delete(watcher.resourceGroup, watcher.name, captureName).submitted();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** The file where Network Watcher says it is, or where it said it would be when the capture resource is gone. */
export async function locateCaptureFile(watcher: WatcherRef, captureName: string, knownStoragePath: string | null): Promise<LocateFileOutput> {
  const capture = await getCapture(armClients(watcher.subscriptionId), watcher, captureName);
  const storagePath = (capture ? capture.storageLocation?.storagePath : knownStoragePath) || null;
  if (!storagePath) return { storagePath: null, found: false, sizeBytes: null };
  const file = await captureFileProperties(storagePath);
  return { storagePath, found: file !== null, sizeBytes: file?.sizeBytes ?? null };
}
