// Microsoft.Network network watchers: list (subscription, resource group) and get.

import { resourceNotFound } from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import type { NetworkWatcherState } from "../resourceModel.js";
import type { EmulatorContext } from "./context.js";

export function networkWatcherHandlers(context: EmulatorContext) {
  return {
    listAll(request: ArmRequest): ArmResponse {
      const watchers = context.model.watchersIn(param(request, "subscriptionId"));
      return { status: 200, body: { value: watchers.map(watcherResource) } };
    },

    list(request: ArmRequest): ArmResponse {
      const watchers = context.model.watchersIn(param(request, "subscriptionId"), param(request, "resourceGroupName"));
      return { status: 200, body: { value: watchers.map(watcherResource) } };
    },

    get(request: ArmRequest): ArmResponse {
      const name = param(request, "networkWatcherName");
      const resourceGroup = param(request, "resourceGroupName");
      const watcher = context.model.watcher(param(request, "subscriptionId"), resourceGroup, name);
      if (!watcher) throw resourceNotFound("Microsoft.Network/networkWatchers", name, resourceGroup);
      return { status: 200, body: watcherResource(watcher) };
    },
  };
}

export function watcherResource(watcher: NetworkWatcherState): Record<string, unknown> {
  return {
    name: watcher.name,
    id: watcher.id,
    etag: watcher.etag,
    type: "Microsoft.Network/networkWatchers",
    location: watcher.location,
    ...(Object.keys(watcher.tags).length > 0 && { tags: watcher.tags }),
    properties: { provisioningState: watcher.provisioningState },
  };
}
