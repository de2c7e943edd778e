// The inventory file (`ALERTCAP_EMULATOR_INVENTORY`): which VMs, scale sets, watchers, storage accounts and
// pre-existing ("foreign") packet captures the emulated subscription holds.
//
// The shape named in shared/contract.md is accepted as is; everything else here is an optional addition documented in
// local/arm-emulator/README.md. Unknown keys are tolerated (outside checks may add fields) but reported on stderr,
// because a silently ignored typo ("powerstate") would make a test lie.

import { readFileSync } from "node:fs";
import { z } from "zod";

/** `running`, `PowerState/running`, `Running` all mean the same. */
const powerStateSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase().replace(/^powerstate\//, ""))
  .pipe(z.enum(["running", "deallocated", "stopped", "starting", "stopping", "deallocating"]));

const osTypeSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(["linux", "windows"]))
  .transform((value) => (value === "linux" ? ("Linux" as const) : ("Windows" as const)));

/** Regions are compared the way ARM does: lower case, no spaces ("West US 2" = "westus2"). */
const regionSchema = z
  .string()
  .min(1)
  .transform((value) => value.replace(/\s+/g, "").toLowerCase());

const agentExtensionSchema = z.union([
  z.boolean(),
  z.object({
    name: z.string().min(1).optional(),
    type: z.enum(["NetworkWatcherAgentLinux", "NetworkWatcherAgentWindows"]).optional(),
    typeHandlerVersion: z.string().min(1).optional(),
    provisioningState: z.enum(["Succeeded", "Failed", "Creating", "Updating"]).optional(),
  }),
]);

const tagsSchema = z.record(z.string(), z.string());

/**
 * Addition: what the machine's emulated traffic looks like (local/traffic/profile.ts): `steady` (default: a steady
 * share of every kind of failure), `healthy`, `failing`, or healthy until an instant and failing from then on, given
 * as a time (`failingFrom`) or as seconds after the emulator started (`failingAfterSeconds`, on its clock).
 */
const trafficSchema = z.union([
  z.enum(["steady", "healthy", "failing"]),
  z.object({ failingFrom: z.iso.datetime({ offset: true }) }),
  z.object({ failingAfterSeconds: z.number().min(0) }),
]);

const virtualMachineSchema = z.object({
  id: z.string().min(1),
  location: regionSchema,
  powerState: powerStateSchema.default("running"),
  networkWatcherExtension: agentExtensionSchema.default(false),
  osType: osTypeSchema.default("Linux"),
  vmSize: z.string().min(1).default("Standard_D2s_v5"),
  tags: tagsSchema.optional(),
  traffic: trafficSchema.optional(),
});

const scaleSetInstanceSchema = z.union([
  z.string().min(1).transform((instanceId) => ({ instanceId, powerState: "running" as const })),
  z.object({ instanceId: z.string().min(1), powerState: powerStateSchema.default("running") }),
]);

const virtualMachineScaleSetSchema = z.object({
  id: z.string().min(1),
  location: regionSchema,
  instances: z.array(scaleSetInstanceSchema).default([]),
  // Additions: the scale set's upgrade policy (whether a model change reaches its instances by itself) and
  // orchestration mode (Flexible instances are VMs; virtualMachineScaleSetVMs is for Uniform ones).
  upgradePolicy: z.enum(["Manual", "Automatic", "Rolling"]).default("Manual"),
  orchestrationMode: z.enum(["Uniform", "Flexible"]).default("Uniform"),
  networkWatcherExtension: agentExtensionSchema.default(false),
  osType: osTypeSchema.default("Linux"),
  vmSize: z.string().min(1).default("Standard_D2s_v5"),
  tags: tagsSchema.optional(),
  /** Every instance's traffic (see `trafficSchema`). */
  traffic: trafficSchema.optional(),
});

const networkWatcherSchema = z.object({
  id: z.string().min(1),
  location: regionSchema,
  provisioningState: z.enum(["Succeeded", "Updating", "Deleting", "Failed"]).default("Succeeded"),
  tags: tagsSchema.optional(),
});

const storageAccountSchema = z.object({
  id: z.string().min(1),
  location: regionSchema,
  sku: z.string().min(1).default("Standard_LRS"),
  kind: z.string().min(1).default("StorageV2"),
  allowSharedKeyAccess: z.boolean().default(true),
  /** Host part of the blob URLs reported in `storagePath`; default `https://{name}.blob.core.windows.net/`. */
  blobEndpoint: z.url().optional(),
});

const foreignCaptureSchema = z.object({
  /** Full ID: `{watcher id}/packetCaptures/{name}`. */
  id: z.string().min(1),
  target: z.string().min(1),
  targetType: z.enum(["AzureVM", "AzureVMSS"]).optional(),
  status: z.enum(["NotStarted", "Running", "Stopped", "Error", "Unknown"]).default("Running"),
  stopReason: z.string().optional(),
  packetCaptureError: z.array(z.string()).default([]),
  captureStartTime: z.iso.datetime({ offset: true }).optional(),
  provisioningState: z.enum(["Succeeded", "Updating", "Deleting", "Failed"]).default("Succeeded"),
  bytesToCapturePerPacket: z.number().int().min(0).optional(),
  totalBytesPerSession: z.number().int().min(0).optional(),
  timeLimitInSeconds: z.number().int().min(0).optional(),
  storageLocation: z
    .object({
      storageId: z.string().optional(),
      storagePath: z.string().optional(),
      filePath: z.string().optional(),
      localPath: z.string().optional(),
    })
    .optional(),
  filters: z.array(z.record(z.string(), z.string())).optional(),
});

export const inventorySchema = z.object({
  virtualMachines: z.array(virtualMachineSchema).default([]),
  virtualMachineScaleSets: z.array(virtualMachineScaleSetSchema).default([]),
  /** Explicit watchers. One per subscription and region: an explicit one replaces the default one of its region. */
  networkWatchers: z.array(networkWatcherSchema).default([]),
  /** `false` turns off the default `NetworkWatcherRG/NetworkWatcher_<region>` for every region with a VM/VMSS. */
  autoNetworkWatchers: z.boolean().default(true),
  /** Regions that get no default watcher (to test "Network Watcher not enabled in this region"). */
  regionsWithoutNetworkWatcher: z.array(regionSchema).default([]),
  /** Storage accounts a capture's `storageId` may name. When empty, any well-formed storage account ID is accepted. */
  storageAccounts: z.array(storageAccountSchema).default([]),
  /** Running packet-capture sessions allowed per subscription and region (the real limit is 10,000). */
  regionLimits: z.record(z.string(), z.number().int().min(0)).default({}),
  /** Captures that exist before alertcap starts (created by someone else). */
  packetCaptures: z.array(foreignCaptureSchema).default([]),
  /** Extra subscriptions / resource groups that exist even without resources in them. */
  subscriptions: z.array(z.string().min(1)).default([]),
  resourceGroups: z.array(z.string().min(1)).default([]),
});

export type InventoryDocument = z.input<typeof inventorySchema>;
export type Inventory = z.output<typeof inventorySchema>;
export type InventoryVirtualMachine = z.output<typeof virtualMachineSchema>;
export type InventoryScaleSet = z.output<typeof virtualMachineScaleSetSchema>;
export type InventoryAgentExtension = z.output<typeof agentExtensionSchema>;
export type InventoryForeignCapture = z.output<typeof foreignCaptureSchema>;
export type InventoryStorageAccount = z.output<typeof storageAccountSchema>;
export type PowerState = z.output<typeof powerStateSchema>;
export type OsType = z.output<typeof osTypeSchema>;
export type InventoryTraffic = z.output<typeof trafficSchema>;

export class InventoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

/** Parses an inventory document; throws `InventoryError` with every problem listed. */
export function parseInventory(document: unknown, source = "inventory", warn: (line: string) => void = () => {}): Inventory {
  const result = inventorySchema.safeParse(document);
  if (!result.success) {
    throw new InventoryError(`${source} is not a valid emulator inventory:\n${z.prettifyError(result.error)}`);
  }
  for (const unknownKey of findUnknownKeys(document, inventorySchema)) {
    warn(`arm-emulator: ${source}: ignoring unknown key ${unknownKey}`);
  }
  return result.data;
}

export function loadInventoryFile(path: string, warn?: (line: string) => void): Inventory {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InventoryError(`cannot read inventory file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new InventoryError(`inventory file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseInventory(document, path, warn);
}

/** Walks the document next to the zod schema and lists keys the schema does not declare (for warnings only). */
function findUnknownKeys(value: unknown, schema: z.ZodType, path = "$"): string[] {
  const objectSchema = unwrapToObject(schema);
  if (Array.isArray(value)) {
    const element = unwrapToArrayElement(schema);
    return element ? value.flatMap((item, i) => findUnknownKeys(item, element, `${path}[${i}]`)) : [];
  }
  if (!objectSchema || value === null || typeof value !== "object") return [];
  const shape = objectSchema.shape as Record<string, z.ZodType>;
  return Object.entries(value).flatMap(([key, child]) => {
    const childSchema = shape[key];
    return childSchema ? findUnknownKeys(child, childSchema, `${path}.${key}`) : [`${path}.${key}`];
  });
}

function unwrapToObject(schema: z.ZodType): z.ZodObject | undefined {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof z.ZodObject) return current;
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
      current = current.unwrap() as z.ZodType;
      continue;
    }
    if (current instanceof z.ZodUnion) {
      const objectOption = current.options.find((option) => option instanceof z.ZodObject);
      return objectOption as z.ZodObject | undefined;
    }
    return undefined;
  }
  return undefined;
}

function unwrapToArrayElement(schema: z.ZodType): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof z.ZodArray) return current.element as z.ZodType;
    if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
      current = current.unwrap() as z.ZodType;
      continue;
    }
    return undefined;
  }
  return undefined;
}
