// Microsoft.Insights resources the emulated subscriptions hold: metric alert rules and action groups, each stored as
// the resource body GET answers with. Part of the resource model (the mutable world), saved across restarts.

import { idKey } from "../resourceIds.js";

export interface StoredMonitorResource {
  /** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Insights/{type}/{name}`, casing of the first PUT. */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** The resource as GET answers it: `id`, `name`, `type`, `location`, `tags`, `properties`[, `identity`]. */
  body: Record<string, unknown>;
}

/** One resource type's resources, keyed case-insensitively by ID like ARM. */
export class MonitorResourceCollection {
  private readonly byId = new Map<string, StoredMonitorResource>();

  get(id: string): StoredMonitorResource | undefined {
    return this.byId.get(idKey(id));
  }

  /** Stores the resource; says whether it replaced one (an update) or not (a create). */
  put(resource: StoredMonitorResource): "created" | "updated" {
    const key = idKey(resource.id);
    const existed = this.byId.has(key);
    this.byId.set(key, resource);
    return existed ? "updated" : "created";
  }

  delete(id: string): boolean {
    return this.byId.delete(idKey(id));
  }

  in(subscriptionId: string, resourceGroup?: string): StoredMonitorResource[] {
    return [...this.byId.values()].filter(
      (resource) =>
        resource.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
        (resourceGroup === undefined || resource.resourceGroup.toLowerCase() === resourceGroup.toLowerCase()),
    );
  }

  all(): StoredMonitorResource[] {
    return [...this.byId.values()];
  }

  replaceAll(resources: StoredMonitorResource[]): void {
    this.byId.clear();
    for (const resource of resources) this.byId.set(idKey(resource.id), resource);
  }
}

export interface SavedMonitorResources {
  metricAlerts: StoredMonitorResource[];
  actionGroups: StoredMonitorResource[];
}

export class MonitorResources {
  readonly metricAlerts = new MonitorResourceCollection();
  readonly actionGroups = new MonitorResourceCollection();

  save(): SavedMonitorResources {
    return { metricAlerts: this.metricAlerts.all(), actionGroups: this.actionGroups.all() };
  }

  restore(saved: SavedMonitorResources): void {
    this.metricAlerts.replaceAll(saved.metricAlerts);
    this.actionGroups.replaceAll(saved.actionGroups);
  }
}

export function insightsResourceId(subscriptionId: string, resourceGroup: string, type: "metricAlerts" | "actionGroups", name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Insights/${type}/${name}`;
}
