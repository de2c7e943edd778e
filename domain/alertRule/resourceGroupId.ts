// `/subscriptions/{guid}/resourceGroups/{name}`: how setup-alert is told "every VM of this resource group".

import { isResourceGroupName, isSubscriptionId, quote } from "../alerts/armId.js";

export interface ResourceGroupRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
}

export type ResourceGroupIdCheck = { ok: true; ref: ResourceGroupRef } | { ok: false; error: string };

export function parseResourceGroupId(value: string): ResourceGroupIdCheck {
  const match = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/?$/i.exec(value.trim());
  if (!match?.[1] || !match[2]) {
    return { ok: false, error: `${quote(value)} is not a resource group ID (/subscriptions/<subscription ID>/resourceGroups/<name>)` };
  }
  const [, subscriptionId, resourceGroup] = match;
  if (!isSubscriptionId(subscriptionId)) return { ok: false, error: `subscription ${quote(subscriptionId)} is not a GUID` };
  if (!isResourceGroupName(resourceGroup)) return { ok: false, error: `resource group name ${quote(resourceGroup)} breaks Azure's naming rules` };
  return { ok: true, ref: { subscriptionId, resourceGroup } };
}
