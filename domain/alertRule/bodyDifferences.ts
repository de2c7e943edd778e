// Does an existing resource already say what setup-alert would PUT? The desired body is compared with the body GET
// returned, field by field, and only the fields setup-alert sets count: the service adds read-only and derived fields
// (`id`, `type`, `lastUpdatedTime`, `targetResourceType`, a receiver's `status`, …) that must not make every re-run
// an update. Arrays must match element for element, so a receiver or criterion added by hand is replaced on update.

// Where ARM compares case-insensitively and may answer in another casing than it was sent.
const CASE_INSENSITIVE_KEYS = new Set(["location", "metricNamespace", "actionGroupId", "scopes", "targetResourceType", "targetResourceRegion"]);

/**
 * Paths (`properties.criteria.allOf[0].threshold`) where `actual` differs from `desired`; empty when nothing does.
 * Values are never part of the answer: some are secrets (the webhook URL's function key).
 */
export function bodyDifferences(desired: unknown, actual: unknown): string[] {
  const differences: string[] = [];
  compare(desired, actual, "", false, differences);
  return differences;
}

function compare(desired: unknown, actual: unknown, path: string, caseInsensitive: boolean, out: string[]): void {
  if (desired === undefined) return;
  if (Array.isArray(desired)) {
    // ARM may leave out an empty list it was sent (`dimensions: []`).
    if (desired.length === 0 && actual === undefined) return;
    if (!Array.isArray(actual) || actual.length !== desired.length) {
      out.push(path || "(body)");
      return;
    }
    desired.forEach((item, index) => compare(item, actual[index], `${path}[${index}]`, caseInsensitive, out));
    return;
  }
  if (typeof desired === "object" && desired !== null) {
    if (Object.keys(desired).length === 0 && actual === undefined) return;
    if (typeof actual !== "object" || actual === null || Array.isArray(actual)) {
      out.push(path || "(body)");
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      compare(value, (actual as Record<string, unknown>)[key], childPath, CASE_INSENSITIVE_KEYS.has(key), out);
    }
    return;
  }
  if (typeof desired === "string" && typeof actual === "string" && caseInsensitive) {
    if (desired.toLowerCase() !== actual.toLowerCase()) out.push(path);
    return;
  }
  if (desired !== actual) out.push(path);
}
