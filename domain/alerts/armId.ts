// ARM resource IDs as alerts carry them. Alerts name many kinds of resources; only VMs, scale sets and scale-set
// instances can be packet-captured. Everything else that is still a well-formed ARM ID must be told apart from
// garbage: the first means "nothing to do here" (ignore), the second means "this payload is wrong" (reject).

export type CaptureTargetKind = "virtualMachine" | "virtualMachineScaleSet" | "virtualMachineScaleSetInstance";

export interface CaptureTarget {
  /** The ID as the alert gave it (trimmed); ARM is case-insensitive, so the original casing is kept for display. */
  readonly id: string;
  /** Lower-cased `id`: the identity used for de-duplication, scopes and orchestration instance IDs. */
  readonly key: string;
  readonly kind: CaptureTargetKind;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** The VM name, or the scale set name for both scale-set kinds. */
  readonly name: string;
  /** Only for `virtualMachineScaleSetInstance`. */
  readonly instanceId?: string;
}

export type ResourceIdAnalysis =
  | { readonly kind: "capturable"; readonly target: CaptureTarget }
  /** A well-formed ARM ID of something that is not a VM or scale set; `what` reads like "a storage account". */
  | { readonly kind: "notCapturable"; readonly id: string; readonly what: string }
  | { readonly kind: "malformed"; readonly id: string; readonly reason: string };

// Far above any real ID (a scale-set instance ID is under 300 characters) yet small enough that a hostile value
// cannot make the checks below expensive.
const MAX_RESOURCE_ID_LENGTH = 2048;
const MAX_SEGMENT_LENGTH = 260;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Namespaces look like "Microsoft.Compute" or "microsoft.foo" (the classic-alert sample's made-up provider).
const PROVIDER_NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/;
const RESOURCE_TYPE = /^[A-Za-z][A-Za-z0-9]*$/;
// Resource group names: letters and digits (Unicode allowed), underscores, parentheses, hyphens and periods,
// up to 90 characters, not ending in a period (Azure naming rules).
const RESOURCE_GROUP_NAME = /^[\p{L}\p{N}_().-]{1,90}$/u;
// VM and scale-set resource names: up to 64 characters; no whitespace and none of \/"[]:|<>+=;,?*@& (Azure naming
// rules), nor # (breaks ARM URLs), % (would be URL-decoded), braces (template placeholders) or non-ASCII.
const COMPUTE_NAME = /^[!-~]{1,64}$/;
const COMPUTE_NAME_FORBIDDEN = /[\\/"[\]:|<>+=;,?*@&#%{}]/;
// Uniform scale sets number their instances; flexible ones use names such as "vmss1_1a2b3c4d".
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
// Only clear placeholders: "<subscription ID>", "{vmName}", "[parameters('x')]", "${VM}" or "$(VM)".
const PLACEHOLDER = /<[^>]*>|\{[^}]*\}|\[[^\]]*\]|\$\([^)]*\)/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

interface ProviderBlock {
  readonly namespace: string;
  readonly types: { readonly type: string; readonly name: string }[];
}

interface ParsedResourceId {
  readonly subscription?: string;
  readonly resourceGroup?: string;
  readonly providers: ProviderBlock[];
}

/** Classifies any string an alert offers as a resource ID. Never throws. */
export function analyseResourceId(value: string): ResourceIdAnalysis {
  const id = value.trim();
  const parsed = parseArmPath(id);
  if (typeof parsed === "string") return { kind: "malformed", id, reason: parsed };
  const computeKind = computeKindOf(parsed);
  if (computeKind === undefined) return { kind: "notCapturable", id, what: describeResource(parsed) };
  const target = validateComputeTarget(id, parsed, computeKind);
  return typeof target === "string" ? { kind: "malformed", id, reason: target } : { kind: "capturable", target };
}

/** Parses the ID of a VM, scale set or scale-set instance; anything else is an error sentence. */
export function parseCaptureTarget(value: string): { ok: true; target: CaptureTarget } | { ok: false; error: string } {
  const analysis = analyseResourceId(value);
  switch (analysis.kind) {
    case "capturable":
      return { ok: true, target: analysis.target };
    case "notCapturable":
      return { ok: false, error: `${quote(analysis.id)} is ${analysis.what}, not a VM or VM scale set.` };
    case "malformed":
      return { ok: false, error: `${quote(analysis.id)} is not a valid resource ID: ${analysis.reason}.` };
  }
}

/**
 * Lower-cases A-Z and nothing else. ARM compares names ignoring ASCII case; JavaScript's Unicode case mapping would
 * make different names equal (the Kelvin sign U+212A lower-cases to "k", so "rg-\u212Aeep" would pass for "rg-keep").
 */
export function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

export const isAscii = (value: string): boolean => /^[\u0000-\u007f]*$/.test(value);

export function isSubscriptionId(value: string): boolean {
  return GUID.test(value);
}

export function isResourceGroupName(value: string): boolean {
  return RESOURCE_GROUP_NAME.test(value) && !value.endsWith(".");
}

/** Short display name: "VM vm1", "scale set ss1", "scale set ss1 instance 3". */
export function describeTarget(target: CaptureTarget): string {
  switch (target.kind) {
    case "virtualMachine":
      return `VM ${target.name}`;
    case "virtualMachineScaleSet":
      return `scale set ${target.name}`;
    case "virtualMachineScaleSetInstance":
      return `scale set ${target.name} instance ${target.instanceId ?? "?"}`;
  }
}

/** Quotes a value from a payload for a reason sentence: bounded length, no control characters. */
export function quote(value: string, maxLength = 160): string {
  return `'${printable(value, maxLength)}'`;
}

/** Payload text fit for a one-line reason: control characters become "?", and long text is cut. */
export function printable(value: string, maxLength = 160): string {
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}…` : clean;
}

// Returns the structure of an ARM path, or a reason (a sentence fragment) why it is not one.
function parseArmPath(id: string): ParsedResourceId | string {
  if (id === "") return "it is empty";
  if (id.length > MAX_RESOURCE_ID_LENGTH) return `it is ${id.length} characters long, more than any real resource ID`;
  if (CONTROL_CHARACTER.test(id)) return "it contains control characters";
  if (!id.startsWith("/")) return "it does not start with /subscriptions/";
  const segments = id.slice(1).split("/");
  if (segments.some((s) => s === "")) return "it has an empty path segment";
  if (segments.some((s) => s === "." || s === "..")) return "it has a '.' or '..' path segment";
  if (segments.some((s) => s.length > MAX_SEGMENT_LENGTH)) return "it has an absurdly long path segment";

  let subscription: string | undefined;
  let resourceGroup: string | undefined;
  let i = 0;
  if (is(segments[0], "subscriptions")) {
    subscription = segments[1];
    if (subscription === undefined) return "it names no subscription";
    i = 2;
    if (is(segments[2], "resourceGroups")) {
      resourceGroup = segments[3];
      if (resourceGroup === undefined) return "it names no resource group";
      i = 4;
    }
  } else if (!is(segments[0], "providers")) {
    return "it does not start with /subscriptions/";
  }

  const providers: ProviderBlock[] = [];
  while (i < segments.length) {
    if (!is(segments[i], "providers")) return `${quote(segments[i] ?? "")} stands where 'providers' belongs`;
    const namespace = segments[i + 1];
    if (namespace === undefined || !PROVIDER_NAMESPACE.test(namespace)) {
      return `${quote(namespace ?? "")} is not a resource provider namespace`;
    }
    i += 2;
    const types: { type: string; name: string }[] = [];
    while (i < segments.length && !is(segments[i], "providers")) {
      const type = segments[i] ?? "";
      const name = segments[i + 1];
      if (!RESOURCE_TYPE.test(type)) return `${quote(type)} is not a resource type`;
      if (name === undefined) return `the ${type} segment has no resource name after it`;
      types.push({ type, name });
      i += 2;
    }
    if (types.length === 0) return `provider ${namespace} is followed by no resource type`;
    providers.push({ namespace, types });
  }
  return subscription === undefined
    ? { providers }
    : resourceGroup === undefined
      ? { subscription, providers }
      : { subscription, resourceGroup, providers };
}

function computeKindOf(parsed: ParsedResourceId): CaptureTargetKind | undefined {
  // Extension resources (".../virtualMachines/vm1/providers/Microsoft.Insights/...") are about something else.
  const [block, ...more] = parsed.providers;
  if (block === undefined || more.length > 0 || !is(block.namespace, "Microsoft.Compute")) return undefined;
  const [first, second, ...rest] = block.types;
  if (first === undefined || rest.length > 0) return undefined;
  if (is(first.type, "virtualMachines")) return second === undefined ? "virtualMachine" : undefined;
  if (!is(first.type, "virtualMachineScaleSets")) return undefined;
  if (second === undefined) return "virtualMachineScaleSet";
  return is(second.type, "virtualMachines") ? "virtualMachineScaleSetInstance" : undefined;
}

function validateComputeTarget(id: string, parsed: ParsedResourceId, kind: CaptureTargetKind): CaptureTarget | string {
  const placeholder = PLACEHOLDER.exec(id);
  if (placeholder) return `it holds the placeholder ${quote(placeholder[0])} where a real value belongs`;
  const { subscription, resourceGroup } = parsed;
  const types = parsed.providers[0]?.types ?? [];
  const name = types[0]?.name ?? "";
  const noun = kind === "virtualMachine" ? "VM" : "scale set";
  if (subscription === undefined) return `a ${noun} ID must start with /subscriptions/`;
  if (!isSubscriptionId(subscription)) return `subscription ${quote(subscription)} is not a GUID`;
  if (resourceGroup === undefined) return `a ${noun} ID must name its resource group`;
  if (!isResourceGroupName(resourceGroup)) {
    return `resource group name ${quote(resourceGroup)} breaks Azure's naming rules`;
  }
  if (!isAscii(resourceGroup)) {
    // Azure allows Unicode letters here, but ARM and alertcap would not agree on which names are the same.
    return `resource group name ${quote(resourceGroup)} has non-ASCII characters, which alertcap refuses: ARM may not compare them as alertcap does`;
  }
  const nameProblem = computeNameProblem(name);
  if (nameProblem) return `${noun} name ${quote(name)} ${nameProblem}`;
  const base = { id, key: asciiLower(id), kind, subscriptionId: subscription, resourceGroup, name };
  if (kind !== "virtualMachineScaleSetInstance") return base;
  const instanceId = types[1]?.name ?? "";
  if (!INSTANCE_ID.test(instanceId) || instanceId.endsWith(".")) {
    return `scale-set instance ID ${quote(instanceId)} breaks Azure's naming rules`;
  }
  return { ...base, instanceId };
}

function computeNameProblem(name: string): string | undefined {
  if (!COMPUTE_NAME.test(name)) return "must be 1 to 64 printable ASCII characters without spaces";
  if (COMPUTE_NAME_FORBIDDEN.test(name)) return "contains a character Azure does not allow";
  if (name.startsWith("_")) return "must not start with an underscore";
  if (name.endsWith(".") || name.endsWith("-")) return "must not end with a period or hyphen";
  return undefined;
}

// Friendly names for what alerts are most often about; anything else is named by its type.
const RESOURCE_DESCRIPTIONS: Record<string, string> = {
  "microsoft.storage/storageaccounts": "a storage account",
  "microsoft.operationalinsights/workspaces": "a Log Analytics workspace",
  "microsoft.insights/components": "an Application Insights resource",
  "microsoft.monitor/accounts": "an Azure Monitor workspace",
  "microsoft.containerservice/managedclusters": "an AKS cluster",
  "microsoft.web/sites": "an App Service app",
  "microsoft.sql/servers": "a SQL server",
  "microsoft.keyvault/vaults": "a key vault",
  "microsoft.network/networkinterfaces": "a network interface",
  "microsoft.network/publicipaddresses": "a public IP address",
  "microsoft.network/loadbalancers": "a load balancer",
  "microsoft.network/virtualnetworks": "a virtual network",
  "microsoft.compute/disks": "a managed disk",
  "microsoft.classiccompute/virtualmachines": "a classic (ASM) VM, which Network Watcher cannot capture on",
};

function describeResource(parsed: ParsedResourceId): string {
  const block = parsed.providers.at(-1);
  if (block === undefined) return parsed.resourceGroup === undefined ? "a subscription" : "a resource group";
  const type = [block.namespace, ...block.types.map((t) => t.type)].join("/");
  const known = RESOURCE_DESCRIPTIONS[type.toLowerCase()];
  if (known) return known;
  if (is(block.namespace, "Microsoft.Compute") && block.types.length > 1) {
    return `a child resource (${block.types.at(-1)?.type ?? "?"}) of a VM or scale set, not the machine itself`;
  }
  return `a resource of type ${type}`;
}

function is(segment: string | undefined, expected: string): boolean {
  return segment !== undefined && asciiLower(segment) === asciiLower(expected);
}
