import { describe, expect, it } from "vitest";
import { parseCaptureTarget, type CaptureTarget } from "../domain/alerts/armId.js";
import { isInScope, parseAllowedScopes } from "../domain/alerts/scopes.js";

const SUB = "2b6d9f3e-8c41-4a7e-9b0d-5f1e3c7a9d24";
const OTHER_SUB = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

function vm(resourceGroup: string, subscription = SUB): CaptureTarget {
  const parsed = parseCaptureTarget(
    `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/vm1`,
  );
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.target;
}

describe("parseAllowedScopes", () => {
  it("accepts subscriptions and resource groups, trimming spaces and a trailing slash", () => {
    const parsed = parseAllowedScopes(` /subscriptions/${SUB} , /subscriptions/${OTHER_SUB}/resourceGroups/rg-web/ ,`);
    expect(parsed).toEqual({
      scopes: [`/subscriptions/${SUB}`, `/subscriptions/${OTHER_SUB}/resourceGroups/rg-web`],
      errors: [],
    });
  });

  it("accepts any casing of the keywords", () => {
    expect(parseAllowedScopes(`/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG`).errors).toEqual([]);
  });

  it("yields nothing for an unset or empty setting", () => {
    expect(parseAllowedScopes(undefined)).toEqual({ scopes: [], errors: [] });
    expect(parseAllowedScopes(" , ")).toEqual({ scopes: [], errors: [] });
  });

  it.each([
    ["subscriptions/" + SUB, /not a subscription or resource group ID/],
    [`/subscriptions/not-a-guid`, /'not-a-guid', which is not a GUID/],
    [`/subscriptions/${SUB}/resourceGroups`, /not a subscription or resource group ID/],
    [`/subscriptions/${SUB}/resourceGroups/rg./`, /breaks Azure's naming rules/],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`, /not a subscription or resource group ID/],
    [`/subscriptions/${SUB}/rg/x`, /not a subscription or resource group ID/],
    [`/subscriptions/${SUB}/resourceGroups/r\u0007g`, /control characters/],
    ["*", /not a subscription or resource group ID/],
  ])("reports %j as malformed", (entry, message) => {
    const parsed = parseAllowedScopes(`/subscriptions/${SUB},${entry}`);
    expect(parsed.scopes).toEqual([`/subscriptions/${SUB}`]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatch(/^ALERTCAP_ALLOWED_SCOPES entry 2 /);
    expect(parsed.errors[0]).toMatch(message);
  });
});

describe("isInScope", () => {
  it("admits targets under a subscription or resource group, case-insensitively", () => {
    expect(isInScope(vm("rg1"), [`/subscriptions/${SUB}`])).toBe(true);
    expect(isInScope(vm("RG1"), [`/subscriptions/${SUB.toUpperCase()}/resourcegroups/rg1`])).toBe(true);
    expect(isInScope(vm("rg1"), [`/subscriptions/${OTHER_SUB}`, `/subscriptions/${SUB}/resourceGroups/RG1`])).toBe(true);
  });

  it("compares whole path segments: rg1 does not admit rg10, a subscription prefix does not admit its extension", () => {
    expect(isInScope(vm("rg10"), [`/subscriptions/${SUB}/resourceGroups/rg1`])).toBe(false);
    expect(isInScope(vm("rg1"), [`/subscriptions/${SUB.slice(0, 30)}`])).toBe(false);
  });

  it("refuses other subscriptions and resource groups, and everything when no scope is given", () => {
    expect(isInScope(vm("rg1"), [`/subscriptions/${OTHER_SUB}`])).toBe(false);
    expect(isInScope(vm("rg1"), [`/subscriptions/${SUB}/resourceGroups/rg2`])).toBe(false);
    expect(isInScope(vm("rg1"), [])).toBe(false);
    expect(isInScope(vm("rg1"), ["", "/"])).toBe(false);
  });

  it("admits exactly the target when the scope is the target itself", () => {
    const target = vm("rg1");
    expect(isInScope(target, [target.id])).toBe(true);
    expect(isInScope(target, [`${target.id}0`])).toBe(false);
  });
});

describe("scope comparison ignores ASCII case only", () => {
  const KELVIN = "\u212A"; // lower-cases to "k" in JavaScript, but ARM does not take it for a K

  it("does not let a Kelvin sign pass for a k, in a target or in a scope", () => {
    const forged = `/subscriptions/${SUB}/resourceGroups/rg-${KELVIN}eep/providers/Microsoft.Compute/virtualMachines/vm1`;
    const parsed = parseCaptureTarget(forged);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/non-ASCII/);
    expect(isInScope(vm("rg-keep"), [`/subscriptions/${SUB}/resourceGroups/rg-${KELVIN}eep`])).toBe(false);
    expect(parseAllowedScopes(`/subscriptions/${SUB}/resourceGroups/rg-${KELVIN}eep`).errors).toHaveLength(1);
  });

  it("still matches ASCII names whatever their case", () => {
    expect(isInScope(vm("RG-KEEP"), [`/subscriptions/${SUB}/resourceGroups/rg-keep`])).toBe(true);
    expect(isInScope(vm("rg-keep"), [`/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourceGroups/RG-Keep`])).toBe(true);
  });

  it("refuses resource group names with non-ASCII letters, which Azure allows but ARM may compare differently", () => {
    const parsed = parseCaptureTarget(`/subscriptions/${SUB}/resourceGroups/rg-ü/providers/Microsoft.Compute/virtualMachines/vm1`);
    expect(parsed.ok).toBe(false);
  });
});
