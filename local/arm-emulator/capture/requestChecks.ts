// What the Network RP checks beyond the schema before it accepts a capture: a capturable target that exists in the
// watcher's region, a usable storage location, well-formed filters. Produces the normalised properties the service
// echoes back (defaults filled in, filters normalised as recorded: `Tcp` → `TCP`, missing protocol → `Any`, missing
// fields → `""`).
//
// None of these rejections has a known real error code (shared/docs/network-watcher-behaviour.md §4), so the codes
// are synthetic and listed as such in the README.

import { ArmError, invalidCaptureRequest } from "../http/armErrors.js";
import { isResourceOfType, parseResourceId } from "../resourceIds.js";
import type { ResourceModel, ScaleSetState, StorageAccountState, VirtualMachineState, NetworkWatcherState } from "../resourceModel.js";
import { checkFilter, FilterSyntaxError, type CaptureFilter } from "./filters.js";

export const DEFAULT_TIME_LIMIT_SECONDS = 18000;
export const DEFAULT_TOTAL_BYTES_PER_SESSION = 1073741824;
export const DEFAULT_CONTINUOUS_SESSION_SECONDS = 86400;
/** `captureSettings` defaults (spec 2024-05-01+ `PacketCaptureSettings`): 10 files of 100 MB, 1-day sessions. */
export const DEFAULT_CAPTURE_SETTINGS = { fileCount: 10, fileSizeInBytes: 104857600, sessionTimeLimitInSeconds: DEFAULT_CONTINUOUS_SESSION_SECONDS } as const;

/** Properties of a PacketCapture body (after schema validation). */
export interface PacketCaptureProperties {
  target: string;
  targetType?: "AzureVM" | "AzureVMSS";
  scope?: { include?: string[]; exclude?: string[] };
  bytesToCapturePerPacket?: number;
  totalBytesPerSession?: number;
  timeLimitInSeconds?: number;
  storageLocation: { storageId?: string; storagePath?: string; filePath?: string; localPath?: string };
  filters?: CaptureFilter[];
  continuousCapture?: boolean | null;
  captureSettings?: { fileCount?: number; fileSizeInBytes?: number; sessionTimeLimitInSeconds?: number };
}

export type ResolvedTarget =
  | { kind: "vm"; vm: VirtualMachineState }
  | { kind: "vmss"; scaleSet: ScaleSetState; include: string[]; exclude: string[] };

export interface AcceptedCaptureRequest {
  /** What GET/List echo back. */
  echoed: Record<string, unknown>;
  target: ResolvedTarget;
  storageAccount: { name: string; blobEndpoint: string | undefined } | undefined;
  /** A client-given blob URL (kept as given, R2). */
  storagePath: string | undefined;
  filePath: string | undefined;
  filters: CaptureFilter[];
  bytesPerPacket: number;
  totalBytes: number;
  timeLimitSeconds: number;
  /** `continuousCapture: true`: the ring (0 = the default, as for the other limits). */
  continuous: { fileCount: number; fileSizeBytes: number } | undefined;
}

const CAPTURE_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?$/;

export function isValidCaptureName(name: string): boolean {
  return CAPTURE_NAME.test(name);
}

/** Case-insensitive protocol values, as the recorded service accepts (`Tcp` → `TCP`). Runs before the schema check. */
export function canonicaliseProtocols(body: unknown): void {
  const filters = (body as { properties?: { filters?: unknown } } | null)?.properties?.filters;
  if (!Array.isArray(filters)) return;
  for (const filter of filters) {
    if (filter && typeof filter === "object" && typeof (filter as CaptureFilter).protocol === "string") {
      const value = (filter as CaptureFilter).protocol ?? "";
      const canonical = ["TCP", "UDP", "Any"].find((known) => known.toLowerCase() === value.toLowerCase());
      if (canonical) (filter as CaptureFilter).protocol = canonical;
    }
  }
}

export function checkCaptureRequest(
  properties: PacketCaptureProperties,
  watcher: NetworkWatcherState,
  model: ResourceModel,
): AcceptedCaptureRequest {
  const target = resolveTarget(properties, watcher, model);
  const osType = target.kind === "vm" ? target.vm.osType : target.scaleSet.osType;
  const storage = checkStorage(properties, target, osType, model);
  const filters = properties.filters ?? [];
  filters.forEach((filter, index) => {
    try {
      checkFilter(filter);
    } catch (error) {
      if (error instanceof FilterSyntaxError) {
        throw invalidCaptureRequest(`properties.filters[${index}].${error.field}`, `${error.message}.`);
      }
      throw error;
    }
  });

  const continuous = properties.continuousCapture === true || properties.continuousCapture === false;
  const settings = properties.captureSettings;
  // [assumed] Like timeLimitInSeconds and totalBytesPerSession, a 0 means "the default".
  const ring =
    properties.continuousCapture === true
      ? {
          fileCount: settings?.fileCount || DEFAULT_CAPTURE_SETTINGS.fileCount,
          fileSizeBytes: settings?.fileSizeInBytes || DEFAULT_CAPTURE_SETTINGS.fileSizeInBytes,
        }
      : undefined;
  const timeLimitSeconds =
    properties.continuousCapture === true
      ? settings?.sessionTimeLimitInSeconds || DEFAULT_CONTINUOUS_SESSION_SECONDS
      : properties.timeLimitInSeconds || DEFAULT_TIME_LIMIT_SECONDS;

  // `scope` and `targetType` are filled in when omitted (R1, R3: `scope: {include: [], exclude: []}`, `AzureVM`).
  // Scale-set instances come back as full instance IDs whatever form they were given in (Az.Network
  // New-AzNetworkWatcherPacketCaptureV2 example 2: `include: ["0", "1"]` echoed as `…/virtualMachines/0`, `…/1`).
  const echoScope = (ids: string[] | undefined): string[] =>
    target.kind === "vmss" ? (ids ?? []).map((id) => `${target.scaleSet.id}/virtualMachines/${instanceIdOf(id)}`) : (ids ?? []);
  const echoed: Record<string, unknown> = {
    target: properties.target,
    scope: { include: echoScope(properties.scope?.include), exclude: echoScope(properties.scope?.exclude) },
    targetType: target.kind === "vm" ? "AzureVM" : "AzureVMSS",
    bytesToCapturePerPacket: properties.bytesToCapturePerPacket ?? 0,
    totalBytesPerSession: properties.totalBytesPerSession ?? DEFAULT_TOTAL_BYTES_PER_SESSION,
    timeLimitInSeconds: properties.timeLimitInSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
    storageLocation: { ...properties.storageLocation },
    filters: filters.map((filter) => ({
      protocol: filter.protocol ?? "Any",
      localIPAddress: filter.localIPAddress ?? "",
      remoteIPAddress: filter.remoteIPAddress ?? "",
      localPort: filter.localPort ?? "",
      remotePort: filter.remotePort ?? "",
    })),
    ...(continuous && { continuousCapture: properties.continuousCapture }),
    // [assumed] The service answers captureSettings with its defaults filled in (the spec's `default`s) whenever the
    // request is a continuous one or sent settings, as it fills the other limits' defaults.
    ...((properties.continuousCapture === true || settings !== undefined) && { captureSettings: { ...DEFAULT_CAPTURE_SETTINGS, ...settings } }),
  };

  return {
    echoed,
    target,
    storageAccount: storage.account,
    storagePath: properties.storageLocation.storagePath,
    filePath: properties.storageLocation.filePath ?? properties.storageLocation.localPath,
    filters,
    bytesPerPacket: properties.bytesToCapturePerPacket ?? 0,
    // Zero would be a session that can hold nothing; the docs say the 1 GB default applies "if not used".
    totalBytes: properties.totalBytesPerSession || DEFAULT_TOTAL_BYTES_PER_SESSION,
    timeLimitSeconds,
    continuous: ring,
  };
}

function resolveTarget(
  properties: PacketCaptureProperties,
  watcher: NetworkWatcherState,
  model: ResourceModel,
): ResolvedTarget {
  const parsed = parseResourceId(properties.target);
  const isVm = parsed !== undefined && isResourceOfType(parsed, "Microsoft.Compute", "virtualMachines");
  const isScaleSet = parsed !== undefined && isResourceOfType(parsed, "Microsoft.Compute", "virtualMachineScaleSets");
  if (!parsed || (!isVm && !isScaleSet)) {
    // [user] kevoreilly/CAPEv2#2229: a scale-set instance as target gives UnsupportedTargetResourceId.
    throw new ArmError(
      400,
      "UnsupportedTargetResourceId",
      `Target resource id '${properties.target}' is not supported. Only virtual machines (AzureVM) and virtual machine ` +
        "scale sets (AzureVMSS) can be captured.",
      { target: "properties.target" },
    );
  }
  const expectedType = isVm ? "AzureVM" : "AzureVMSS";
  if (properties.targetType !== undefined && properties.targetType !== expectedType) {
    throw new ArmError(
      400,
      "InvalidTargetType",
      `Target type '${properties.targetType}' does not match target '${properties.target}', which is ${expectedType}.`,
      { target: "properties.targetType" },
    );
  }
  if (isVm && properties.scope !== undefined && ((properties.scope.include?.length ?? 0) > 0 || (properties.scope.exclude?.length ?? 0) > 0)) {
    throw invalidCaptureRequest("properties.scope", "is only valid for AzureVMSS targets.");
  }
  const resource = isVm ? model.virtualMachineById(properties.target) : model.scaleSetById(properties.target);
  if (!resource) {
    throw new ArmError(400, "TargetResourceNotFound", `Target resource '${properties.target}' does not exist.`, {
      target: "properties.target",
    });
  }
  if (resource.location !== watcher.location) {
    throw new ArmError(
      400,
      "TargetNotInNetworkWatcherRegion",
      `Target resource '${resource.id}' is in region '${resource.location}', but network watcher '${watcher.name}' ` +
        `is in '${watcher.location}'. Create the capture under the network watcher of the target's region.`,
      { target: "properties.target" },
    );
  }
  if (isVm) return { kind: "vm", vm: resource as VirtualMachineState };
  return {
    kind: "vmss",
    scaleSet: resource as ScaleSetState,
    include: (properties.scope?.include ?? []).map(instanceIdOf),
    exclude: (properties.scope?.exclude ?? []).map(instanceIdOf),
  };
}

/** A scope entry's instance ID: the entry itself, or the last segment of a full `…/virtualMachines/{id}` ID. */
function instanceIdOf(entry: string): string {
  return entry.split("/").filter(Boolean).at(-1) ?? entry;
}

function checkStorage(
  properties: PacketCaptureProperties,
  target: ResolvedTarget,
  osType: "Linux" | "Windows",
  model: ResourceModel,
): { account: { name: string; blobEndpoint: string | undefined } | undefined } {
  const location = properties.storageLocation;
  const continuousGiven = properties.continuousCapture === true || properties.continuousCapture === false;
  if (!location.storageId && !location.filePath && !location.localPath) {
    throw invalidCaptureRequest("properties.storageLocation", "must contain storageId, filePath or localPath.");
  }
  if (location.filePath) {
    if (continuousGiven) {
      throw invalidCaptureRequest(
        "properties.storageLocation.filePath",
        "is invalid when continuousCapture is true or false; use localPath.",
      );
    }
    checkLocalCapturePath("properties.storageLocation.filePath", location.filePath, osType);
  }
  if (location.localPath) {
    if (!continuousGiven) {
      throw invalidCaptureRequest(
        "properties.storageLocation.localPath",
        "is only valid when continuousCapture is true or false; use filePath.",
      );
    }
    checkLocalCapturePath("properties.storageLocation.localPath", location.localPath, osType);
  }
  if (location.storagePath !== undefined && location.storagePath !== "" && !/^https?:\/\/[^/]+\/[^/]+/i.test(location.storagePath)) {
    throw invalidCaptureRequest("properties.storageLocation.storagePath", "must be a well-formed blob URI.");
  }
  if (!location.storageId) return { account: undefined };

  const parsed = parseResourceId(location.storageId);
  if (!parsed || !isResourceOfType(parsed, "Microsoft.Storage", "storageAccounts")) {
    throw invalidCaptureRequest("properties.storageLocation.storageId", "is not a storage account resource ID.");
  }
  const accountName = parsed.names[0] ?? "";
  if (!model.storageAccountsDeclared) return { account: { name: accountName, blobEndpoint: undefined } };
  const account = model.storageAccountById(location.storageId);
  if (!account) {
    throw new ArmError(400, "StorageAccountNotFound", `Storage account '${location.storageId}' does not exist.`, {
      target: "properties.storageLocation.storageId",
    });
  }
  checkStorageAccount(account, target);
  return { account: { name: account.name, blobEndpoint: account.blobEndpoint } };
}

function checkStorageAccount(account: StorageAccountState, target: ResolvedTarget): void {
  const targetLocation = target.kind === "vm" ? target.vm.location : target.scaleSet.location;
  if (/^premium/i.test(account.sku)) {
    throw new ArmError(
      400,
      "StorageAccountNotSupported",
      `Storage account '${account.name}' has SKU '${account.sku}'. Premium storage accounts are not supported for packet capture.`,
      { target: "properties.storageLocation.storageId" },
    );
  }
  if (account.location !== targetLocation) {
    throw new ArmError(
      400,
      "StorageAccountInDifferentRegion",
      `Storage account '${account.name}' is in region '${account.location}'; it must be in the target's region '${targetLocation}'.`,
      { target: "properties.storageLocation.storageId" },
    );
  }
  if (!account.allowSharedKeyAccess) {
    throw new ArmError(
      400,
      "StorageAccountKeyAccessDisabled",
      `Storage account '${account.name}' does not allow shared key access; Network Watcher writes capture files with SAS tokens.`,
      { target: "properties.storageLocation.storageId" },
    );
  }
}

/**
 * The docs want `/var/captures` on Linux, but the service accepted the relative, backslashed `capture\\capture.cap`
 * on a Linux VM (R1) and `C:\\tmp\\Capture.cap` (R3): only an absolute Linux path elsewhere is refused here.
 */
function checkLocalCapturePath(path: string, value: string, osType: "Linux" | "Windows"): void {
  if (!/\.cap$/i.test(value)) throw invalidCaptureRequest(path, "must include the capture file name (*.cap).");
  if (osType === "Linux" && value.startsWith("/") && !value.startsWith("/var/captures")) {
    throw invalidCaptureRequest(path, "must start with /var/captures on a Linux virtual machine.");
  }
}
