// ARM resource IDs: parsing and case-insensitive keys.
//
// ARM treats resource IDs case-insensitively (provider namespaces, types, resource group and resource names), so every
// lookup in the emulator goes through `idKey`, while responses keep the casing the inventory declared.

export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup: string;
  /** e.g. `Microsoft.Compute` */
  namespace: string;
  /** Resource types from the outermost, e.g. [`virtualMachineScaleSets`, `virtualMachines`] */
  types: string[];
  /** Names matching `types` one to one. */
  names: string[];
}

export function idKey(id: string): string {
  return id.trim().replace(/\/+$/, "").toLowerCase();
}

/** Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]...`. */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  const segments = id.trim().replace(/^\/+|\/+$/g, "").split("/");
  if (segments.length < 8 || segments.length % 2 !== 0) return undefined;
  const [subs, subscriptionId, rgs, resourceGroup, providers, namespace, ...rest] = segments;
  if (subs?.toLowerCase() !== "subscriptions" || rgs?.toLowerCase() !== "resourcegroups") return undefined;
  if (providers?.toLowerCase() !== "providers") return undefined;
  if (!subscriptionId || !resourceGroup || !namespace || segments.some((segment) => segment === "")) return undefined;
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < rest.length; i += 2) {
    types.push(rest[i] ?? "");
    names.push(rest[i + 1] ?? "");
  }
  return { subscriptionId, resourceGroup, namespace, types, names };
}

/** True when the parsed ID is exactly `{namespace}/{type1}/{name1}/{type2}/{name2}...` for the given types. */
export function isResourceOfType(parsed: ParsedResourceId, namespace: string, ...types: string[]): boolean {
  return (
    parsed.namespace.toLowerCase() === namespace.toLowerCase() &&
    parsed.types.length === types.length &&
    parsed.types.every((type, i) => type.toLowerCase() === types[i]?.toLowerCase())
  );
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function networkWatcherId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupId(subscriptionId, resourceGroup)}/providers/Microsoft.Network/networkWatchers/${name}`;
}
