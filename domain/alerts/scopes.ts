import { asciiLower, isAscii, isResourceGroupName, isSubscriptionId, quote, type CaptureTarget } from "./armId.js";

// ALERTCAP_ALLOWED_SCOPES limits which machines an alert may start a capture on: anyone who can make an alert
// fire (or who learns the function key) must not be able to point captures at machines outside those scopes.

export interface AllowedScopes {
  /** Valid entries, trimmed and without a trailing slash, in the order given. */
  readonly scopes: string[];
  /** One sentence per malformed entry; a caller should refuse to start rather than guess. */
  readonly errors: string[];
}

/**
 * Parses the comma-separated setting. Each entry must be `/subscriptions/{guid}` or
 * `/subscriptions/{guid}/resourceGroups/{name}`. Empty entries (a trailing comma) are skipped; an unset or empty
 * setting yields no scopes, and what that means (allow nothing, or no restriction) is the caller's decision.
 */
export function parseAllowedScopes(setting: string | undefined): AllowedScopes {
  const scopes: string[] = [];
  const errors: string[] = [];
  const entries = (setting ?? "").split(",").map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    if (entry === "") return;
    const problem = scopeProblem(entry);
    if (problem) {
      errors.push(`ALERTCAP_ALLOWED_SCOPES entry ${index + 1} ${quote(entry)} ${problem}.`);
    } else {
      scopes.push(entry.replace(/\/$/, ""));
    }
  });
  return { scopes, errors };
}

/**
 * True when the target lies under one of the scopes. Compared ignoring ASCII case only (as ARM does; Unicode case
 * mapping would let a Kelvin sign pass for a k) on whole path segments, so `/subscriptions/s/resourceGroups/rg1`
 * does not admit `rg10`. An empty list admits nothing.
 */
export function isInScope(target: CaptureTarget, allowedScopes: readonly string[]): boolean {
  const targetSegments = segmentsOf(target.key);
  return allowedScopes.some((scope) => {
    const scopeSegments = segmentsOf(asciiLower(scope));
    return (
      scopeSegments.length > 0 &&
      scopeSegments.length <= targetSegments.length &&
      scopeSegments.every((segment, i) => segment === targetSegments[i])
    );
  });
}

function scopeProblem(entry: string): string | undefined {
  const expected = "is not a subscription or resource group ID (/subscriptions/{guid}[/resourceGroups/{name}])";
  if (/[\u0000-\u001f\u007f]/.test(entry)) return "contains control characters";
  const segments = entry.replace(/\/$/, "").split("/");
  const [root, subscriptions, subscription, resourceGroups, resourceGroup, ...rest] = segments;
  if (root !== "" || (subscriptions && asciiLower(subscriptions)) !== "subscriptions" || subscription === undefined) return expected;
  if (!isSubscriptionId(subscription)) return `names subscription ${quote(subscription)}, which is not a GUID`;
  if (resourceGroups === undefined) return undefined;
  if (asciiLower(resourceGroups) !== "resourcegroups" || resourceGroup === undefined || rest.length > 0) {
    return expected;
  }
  if (!isResourceGroupName(resourceGroup)) {
    return `names resource group ${quote(resourceGroup)}, which breaks Azure's naming rules`;
  }
  if (!isAscii(resourceGroup)) return `names resource group ${quote(resourceGroup)}, with non-ASCII characters that alertcap refuses`;
  return undefined;
}

function segmentsOf(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}
