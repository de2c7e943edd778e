// The emulated subscription(s): VMs, scale sets, extensions, watchers and storage accounts, built from the inventory.
//
// This is the mutable "world" the handlers read and change (an extension PUT installs the agent, tests flip power
// states, setup-alert creates metric alert rules and action groups). Packet captures live in the capture store, not here.

import { createHash } from "node:crypto";
import {
  InventoryError,
  type Inventory,
  type InventoryAgentExtension,
  type InventoryStorageAccount,
  type OsType,
  type PowerState,
} from "./inventory.js";
import { MonitorResources } from "./monitor/monitorResources.js";
import { idKey, isResourceOfType, networkWatcherId, parseResourceId } from "./resourceIds.js";

export const NETWORK_WATCHER_AGENT_PUBLISHER = "Microsoft.Azure.NetworkWatcher";
export const NETWORK_WATCHER_AGENT_DEFAULT_NAME = "AzureNetworkWatcherExtension";
export const NETWORK_WATCHER_DEFAULT_RESOURCE_GROUP = "NetworkWatcherRG";

export type ExtensionProvisioningState = "Creating" | "Updating" | "Succeeded" | "Failed";

export interface ExtensionState {
  name: string;
  publisher: string;
  type: string;
  typeHandlerVersion: string;
  autoUpgradeMinorVersion: boolean;
  provisioningState: ExtensionProvisioningState;
  settings?: unknown;
}

interface ComputeResourceState {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  osType: OsType;
  vmSize: string;
  tags: Record<string, string>;
  extensions: Map<string, ExtensionState>;
  /** Stable per resource ID, so repeated runs return the same `vmId`/`uniqueId`. */
  uniqueId: string;
}

export interface VirtualMachineState extends ComputeResourceState {
  powerState: PowerState;
}

export interface ScaleSetInstanceState {
  instanceId: string;
  powerState: PowerState;
  vmId: string;
}

export interface ScaleSetState extends ComputeResourceState {
  instances: Map<string, ScaleSetInstanceState>;
  upgradePolicy: "Manual" | "Automatic" | "Rolling";
  orchestrationMode: "Uniform" | "Flexible";
}

export interface NetworkWatcherState {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  provisioningState: "Succeeded" | "Updating" | "Deleting" | "Failed";
  tags: Record<string, string>;
  /** Shared with every child capture and renewed on each capture write, as recorded (R1). */
  etag: string;
}

export interface StorageAccountState extends InventoryStorageAccount {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
}

export class ResourceModel {
  private readonly subscriptionKeys = new Set<string>();
  private readonly resourceGroupKeys = new Set<string>();
  private readonly virtualMachines = new Map<string, VirtualMachineState>();
  private readonly scaleSets = new Map<string, ScaleSetState>();
  private readonly watchers = new Map<string, NetworkWatcherState>();
  private readonly storageAccounts = new Map<string, StorageAccountState>();
  private readonly regionLimits = new Map<string, number>();
  /** True when the inventory lists storage accounts; then `storageId` must name one of them. */
  readonly storageAccountsDeclared: boolean;
  /** Metric alert rules and action groups (none at start: the inventory does not declare any). */
  readonly monitor = new MonitorResources();

  constructor(inventory: Inventory) {
    for (const vm of inventory.virtualMachines) {
      const parsed = requireId(vm.id, "Microsoft.Compute", ["virtualMachines"], "virtualMachines[].id");
      const state: VirtualMachineState = {
        id: canonicalId(vm.id),
        subscriptionId: parsed.subscriptionId,
        resourceGroup: parsed.resourceGroup,
        name: parsed.names[0] ?? "",
        location: vm.location,
        osType: vm.osType,
        vmSize: vm.vmSize,
        tags: vm.tags ?? {},
        powerState: vm.powerState,
        extensions: agentExtensions(vm.networkWatcherExtension, vm.osType),
        uniqueId: stableUuid(vm.id),
      };
      this.addUnique(this.virtualMachines, state, "virtual machine");
    }
    for (const vmss of inventory.virtualMachineScaleSets) {
      const parsed = requireId(vmss.id, "Microsoft.Compute", ["virtualMachineScaleSets"], "virtualMachineScaleSets[].id");
      const instances = new Map<string, ScaleSetInstanceState>();
      for (const instance of vmss.instances) {
        instances.set(instance.instanceId.toLowerCase(), {
          instanceId: instance.instanceId,
          powerState: instance.powerState,
          vmId: stableUuid(`${vmss.id}/virtualMachines/${instance.instanceId}`),
        });
      }
      const state: ScaleSetState = {
        id: canonicalId(vmss.id),
        subscriptionId: parsed.subscriptionId,
        resourceGroup: parsed.resourceGroup,
        name: parsed.names[0] ?? "",
        location: vmss.location,
        osType: vmss.osType,
        vmSize: vmss.vmSize,
        tags: vmss.tags ?? {},
        instances,
        upgradePolicy: vmss.upgradePolicy,
        orchestrationMode: vmss.orchestrationMode,
        extensions: agentExtensions(vmss.networkWatcherExtension, vmss.osType),
        uniqueId: stableUuid(vmss.id),
      };
      this.addUnique(this.scaleSets, state, "scale set");
    }
    for (const watcher of inventory.networkWatchers) {
      const parsed = requireId(watcher.id, "Microsoft.Network", ["networkWatchers"], "networkWatchers[].id");
      const clash = this.watcherForRegion(parsed.subscriptionId, watcher.location);
      if (clash) {
        // The real service answers NetworkWatcherCountLimitReached to a second watcher in a region.
        throw new InventoryError(
          `networkWatchers: ${watcher.id} and ${clash.id} are both in ${watcher.location}; ` +
            "Azure allows one network watcher per subscription and region",
        );
      }
      this.addUnique(
        this.watchers,
        {
          id: canonicalId(watcher.id),
          subscriptionId: parsed.subscriptionId,
          resourceGroup: parsed.resourceGroup,
          name: parsed.names[0] ?? "",
          location: watcher.location,
          provisioningState: watcher.provisioningState,
          tags: watcher.tags ?? {},
          etag: newEtag(),
        },
        "network watcher",
      );
    }
    if (inventory.autoNetworkWatchers) this.addDefaultWatchers(new Set(inventory.regionsWithoutNetworkWatcher));
    for (const account of inventory.storageAccounts) {
      const parsed = requireId(account.id, "Microsoft.Storage", ["storageAccounts"], "storageAccounts[].id");
      this.addUnique(
        this.storageAccounts,
        {
          ...account,
          id: canonicalId(account.id),
          name: parsed.names[0] ?? "",
          subscriptionId: parsed.subscriptionId,
          resourceGroup: parsed.resourceGroup,
        },
        "storage account",
      );
    }
    this.storageAccountsDeclared = inventory.storageAccounts.length > 0;
    for (const [region, limit] of Object.entries(inventory.regionLimits)) {
      this.regionLimits.set(normaliseRegion(region), limit);
    }
    for (const subscriptionId of inventory.subscriptions) this.subscriptionKeys.add(subscriptionId.toLowerCase());
    for (const rgId of inventory.resourceGroups) {
      const match = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/?$/i.exec(rgId.trim());
      if (!match?.[1] || !match[2]) {
        throw new InventoryError(`resourceGroups: '${rgId}' is not /subscriptions/{id}/resourceGroups/{name}`);
      }
      this.registerResourceGroup(match[1], match[2]);
    }
    for (const resource of [
      ...this.virtualMachines.values(),
      ...this.scaleSets.values(),
      ...this.watchers.values(),
      ...this.storageAccounts.values(),
    ]) {
      this.registerResourceGroup(resource.subscriptionId, resource.resourceGroup);
    }
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.subscriptionKeys.has(subscriptionId.toLowerCase());
  }

  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.resourceGroupKeys.has(`${subscriptionId}/${resourceGroup}`.toLowerCase());
  }

  virtualMachine(subscriptionId: string, resourceGroup: string, name: string): VirtualMachineState | undefined {
    return this.virtualMachines.get(idKey(computeId(subscriptionId, resourceGroup, "virtualMachines", name)));
  }

  virtualMachineById(id: string): VirtualMachineState | undefined {
    return this.virtualMachines.get(idKey(id));
  }

  virtualMachinesIn(subscriptionId: string, resourceGroup?: string): VirtualMachineState[] {
    return [...this.virtualMachines.values()].filter((vm) => inScope(vm, subscriptionId, resourceGroup));
  }

  scaleSet(subscriptionId: string, resourceGroup: string, name: string): ScaleSetState | undefined {
    return this.scaleSets.get(idKey(computeId(subscriptionId, resourceGroup, "virtualMachineScaleSets", name)));
  }

  scaleSetById(id: string): ScaleSetState | undefined {
    return this.scaleSets.get(idKey(id));
  }

  watcher(subscriptionId: string, resourceGroup: string, name: string): NetworkWatcherState | undefined {
    return this.watchers.get(idKey(networkWatcherId(subscriptionId, resourceGroup, name)));
  }

  watcherById(id: string): NetworkWatcherState | undefined {
    return this.watchers.get(idKey(id));
  }

  watchersIn(subscriptionId: string, resourceGroup?: string): NetworkWatcherState[] {
    return [...this.watchers.values()].filter((watcher) => inScope(watcher, subscriptionId, resourceGroup));
  }

  watcherForRegion(subscriptionId: string, region: string): NetworkWatcherState | undefined {
    const wanted = normaliseRegion(region);
    return [...this.watchers.values()].find(
      (watcher) => watcher.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() && watcher.location === wanted,
    );
  }

  allVirtualMachines(): VirtualMachineState[] {
    return [...this.virtualMachines.values()];
  }

  allScaleSets(): ScaleSetState[] {
    return [...this.scaleSets.values()];
  }

  allWatchers(): NetworkWatcherState[] {
    return [...this.watchers.values()];
  }

  storageAccountById(id: string): StorageAccountState | undefined {
    return this.storageAccounts.get(idKey(id));
  }

  /** Running-session limit the inventory sets for a region, if any. */
  regionLimit(region: string): number | undefined {
    return this.regionLimits.get(normaliseRegion(region));
  }

  private addDefaultWatchers(regionsWithout: Set<string>): void {
    for (const resource of [...this.virtualMachines.values(), ...this.scaleSets.values()]) {
      if (regionsWithout.has(resource.location)) continue;
      if (this.watcherForRegion(resource.subscriptionId, resource.location)) continue;
      const name = `NetworkWatcher_${resource.location}`;
      const id = networkWatcherId(resource.subscriptionId, NETWORK_WATCHER_DEFAULT_RESOURCE_GROUP, name);
      this.watchers.set(idKey(id), {
        id,
        subscriptionId: resource.subscriptionId,
        resourceGroup: NETWORK_WATCHER_DEFAULT_RESOURCE_GROUP,
        name,
        location: resource.location,
        provisioningState: "Succeeded",
        tags: {},
        etag: newEtag(),
      });
    }
  }

  private registerResourceGroup(subscriptionId: string, resourceGroup: string): void {
    this.subscriptionKeys.add(subscriptionId.toLowerCase());
    this.resourceGroupKeys.add(`${subscriptionId}/${resourceGroup}`.toLowerCase());
  }

  private addUnique<T extends { id: string }>(map: Map<string, T>, value: T, what: string): void {
    const key = idKey(value.id);
    if (map.has(key)) throw new InventoryError(`${what} ${value.id} is listed twice (IDs are case-insensitive)`);
    map.set(key, value);
  }
}

/** The agent extension (if any) a resource has, and whether captures can run on it. */
export function workingAgentExtension(extensions: Map<string, ExtensionState>): ExtensionState | undefined {
  return [...extensions.values()].find(
    (extension) =>
      isNetworkWatcherAgent(extension.publisher, extension.type) && extension.provisioningState === "Succeeded",
  );
}

export function isNetworkWatcherAgent(publisher: string, type: string): boolean {
  return (
    publisher.toLowerCase() === NETWORK_WATCHER_AGENT_PUBLISHER.toLowerCase() &&
    /^networkwatcheragent(linux|windows)$/i.test(type)
  );
}

export function agentTypeFor(osType: OsType): string {
  return osType === "Windows" ? "NetworkWatcherAgentWindows" : "NetworkWatcherAgentLinux";
}

export function normaliseRegion(region: string): string {
  return region.replace(/\s+/g, "").toLowerCase();
}

export function newEtag(): string {
  return `W/"${crypto.randomUUID()}"`;
}

function agentExtensions(spec: InventoryAgentExtension, osType: OsType): Map<string, ExtensionState> {
  const extensions = new Map<string, ExtensionState>();
  if (spec === false) return extensions;
  const details = spec === true ? {} : spec;
  const name = details.name ?? NETWORK_WATCHER_AGENT_DEFAULT_NAME;
  extensions.set(name.toLowerCase(), {
    name,
    publisher: NETWORK_WATCHER_AGENT_PUBLISHER,
    type: details.type ?? agentTypeFor(osType),
    typeHandlerVersion: details.typeHandlerVersion ?? "1.4",
    autoUpgradeMinorVersion: true,
    provisioningState: details.provisioningState ?? "Succeeded",
  });
  return extensions;
}

function requireId(id: string, namespace: string, types: string[], where: string) {
  const parsed = parseResourceId(id);
  if (!parsed || !isResourceOfType(parsed, namespace, ...types)) {
    throw new InventoryError(`${where}: '${id}' is not a ${namespace}/${types.join("/")} resource ID`);
  }
  return parsed;
}

/** Keeps the inventory's casing but drops stray whitespace and trailing slashes. */
function canonicalId(id: string): string {
  return id.trim().replace(/\/+$/, "");
}

function computeId(subscriptionId: string, resourceGroup: string, type: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/${type}/${name}`;
}

function inScope(
  resource: { subscriptionId: string; resourceGroup: string },
  subscriptionId: string,
  resourceGroup: string | undefined,
): boolean {
  if (resource.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) return false;
  return resourceGroup === undefined || resource.resourceGroup.toLowerCase() === resourceGroup.toLowerCase();
}

/** A UUID derived from a name (SHA-1, version bits set like a v5 UUID), stable across runs. */
export function stableUuid(name: string): string {
  const hex = createHash("sha1").update(idKey(name)).digest("hex");
  const variant = ((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
