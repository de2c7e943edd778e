import { describe, expect, it } from "vitest";
import { analyseResourceId, parseCaptureTarget, type CaptureTarget } from "../domain/alerts/armId.js";
import { captureInstanceId } from "../domain/alerts/instanceId.js";

const SUB = "2b6d9f3e-8c41-4a7e-9b0d-5f1e3c7a9d24";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-web`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/vm1`;

function target(id: string): CaptureTarget {
  const parsed = parseCaptureTarget(id);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.target;
}

describe("parseCaptureTarget", () => {
  it("parses a VM ID", () => {
    expect(target(VM)).toEqual({
      id: VM,
      key: VM.toLowerCase(),
      kind: "virtualMachine",
      subscriptionId: SUB,
      resourceGroup: "rg-web",
      name: "vm1",
    });
  });

  it("parses a scale set and a scale-set instance", () => {
    const vmss = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api`;
    expect(target(vmss)).toMatchObject({ kind: "virtualMachineScaleSet", name: "vmss-api" });
    expect(target(`${vmss}/virtualMachines/7`)).toMatchObject({
      kind: "virtualMachineScaleSetInstance",
      name: "vmss-api",
      instanceId: "7",
    });
    expect(target(`${vmss}/virtualMachines/vmss-api_1a2b3c4d`)).toMatchObject({ instanceId: "vmss-api_1a2b3c4d" });
  });

  it("matches provider, type and keywords case-insensitively and keeps the given casing in id", () => {
    const lower = VM.toLowerCase();
    const upper = VM.toUpperCase();
    expect(target(lower)).toMatchObject({ id: lower, key: lower, kind: "virtualMachine" });
    expect(target(upper)).toMatchObject({ id: upper, key: lower, name: "VM1", resourceGroup: "RG-WEB" });
  });

  it("trims surrounding whitespace", () => {
    expect(target(`  ${VM}\n`).id).toBe(VM);
  });

  it.each([
    ["", /empty/],
    ["vm1", /does not start with \/subscriptions\//],
    [VM.slice(1), /does not start with \/subscriptions\//],
    [`${VM}/`, /empty path segment/],
    [VM.replace("/resourceGroups/", "//resourceGroups/"), /empty path segment/],
    [`${RG}/providers/Microsoft.Compute/virtualMachines/../virtualMachines/vm1`, /'\.\.'/],
    [`${RG}/providers/Microsoft.Compute/virtualMachines/vm\u00001`, /control characters/],
    [`${RG}/providers/Microsoft.Compute/virtualMachines/vm1\u007f`, /control characters/],
    [`${VM}${"/x".repeat(2000)}`, /characters long/],
    [VM.replace(SUB, "12345a-1234b-123c-123d-12345678e"), /subscription '12345a-1234b-123c-123d-12345678e' is not a GUID/],
    [VM.replace(SUB, "s1"), /not a GUID/],
    [VM.replace(SUB, "<subscription ID>"), /placeholder '<subscription ID>'/],
    [VM.replace("vm1", "{vmName}"), /placeholder '\{vmName\}'/],
    [VM.replace("vm1", "$(VM_NAME)"), /placeholder/],
    [VM.replace("rg-web", "[parameters('rg')]"), /placeholder/],
    [VM.replace("rg-web", "rg."), /resource group name 'rg\.' breaks/],
    [VM.replace("rg-web", "r".repeat(91)), /resource group name/],
    [VM.replace("vm1", "vm 1"), /VM name 'vm 1'/],
    [VM.replace("vm1", "_vm1"), /underscore/],
    [VM.replace("vm1", "vm1-"), /period or hyphen/],
    [VM.replace("vm1", "vm1."), /period or hyphen/],
    [VM.replace("vm1", "vm:1"), /not allow/],
    [VM.replace("vm1", "vm#1"), /not allow/],
    [VM.replace("vm1", "v".repeat(65)), /1 to 64/],
    [VM.replace("vm1", "vmé"), /1 to 64 printable ASCII/],
    [`${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/-1`, /instance ID '-1'/],
    [`/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines/vm1`, /must name its resource group/],
    [`/subscriptions/${SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines`, /no resource name/],
    [`/subscriptions/${SUB}/resourceGroups/rg-web/Microsoft.Compute/virtualMachines/vm1`, /'providers' belongs/],
    [`/subscriptions/${SUB}/resourceGroups/rg-web/providers/Compute/virtualMachines/vm1`, /not a resource provider namespace/],
    [`/subscriptions/${SUB}/resourceGroups`, /names no resource group/],
    ["/subscriptions", /names no subscription/],
  ])("rejects %j as malformed", (id, reason) => {
    const analysis = analyseResourceId(id);
    expect(analysis.kind).toBe("malformed");
    if (analysis.kind === "malformed") expect(analysis.reason).toMatch(reason);
    const parsed = parseCaptureTarget(id);
    expect(parsed.ok).toBe(false);
  });

  it.each([
    [`${RG}/providers/Microsoft.Storage/storageAccounts/diag500`, "a storage account"],
    [`${RG}/providers/microsoft.operationalinsights/workspaces/law`, "a Log Analytics workspace"],
    [`/subscriptions/${SUB}`, "a subscription"],
    [RG, "a resource group"],
    [`${RG}/providers/Microsoft.ClassicCompute/virtualMachines/old`, "a classic (ASM) VM, which Network Watcher cannot capture on"],
    [`${VM}/extensions/NetworkWatcherAgentLinux`, "a child resource (extensions) of a VM or scale set, not the machine itself"],
    [`${VM}/providers/Microsoft.Insights/metricAlerts/cpu`, "a resource of type Microsoft.Insights/metricAlerts"],
    ["/subscriptions/s1/resourceGroups/useast/providers/microsoft.foo/sites/mysite1", "a resource of type microsoft.foo/sites"],
    ["/providers/Microsoft.Management/managementGroups/root", "a resource of type Microsoft.Management/managementGroups"],
    [`/subscriptions/${SUB}/providers/Microsoft.AlertsManagement/alerts/x`, "a resource of type Microsoft.AlertsManagement/alerts"],
  ])("tells %j apart as a well-formed ID of %s", (id, what) => {
    expect(analyseResourceId(id)).toEqual({ kind: "notCapturable", id, what });
    const parsed = parseCaptureTarget(id);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain("not a VM or VM scale set");
  });
});

describe("captureInstanceId", () => {
  it("is readable, deterministic and case-insensitive", () => {
    const id = captureInstanceId(target(VM));
    expect(id).toMatch(/^cap-vm-vm1-[0-9a-f]{12}$/);
    expect(captureInstanceId(target(VM.toUpperCase()))).toBe(id);
    expect(captureInstanceId(target(VM))).toBe(id);
  });

  it("names the kind and keeps the instance number", () => {
    const vmss = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/Api.Pool`;
    expect(captureInstanceId(target(vmss))).toMatch(/^cap-vmss-api\.pool-[0-9a-f]{12}$/);
    expect(captureInstanceId(target(`${vmss}/virtualMachines/12`))).toMatch(/^cap-vmssvm-api\.pool-12-[0-9a-f]{12}$/);
  });

  it("differs for same-named VMs in different resource groups or subscriptions", () => {
    const other = VM.replace("rg-web", "rg-web2");
    const otherSub = VM.replace(SUB, "00000000-0000-0000-0000-000000000001");
    const ids = new Set([VM, other, otherSub].map((id) => captureInstanceId(target(id))));
    expect(ids.size).toBe(3);
  });

  it("stays within Durable Functions' rules for the longest and oddest names", () => {
    const name = `A!b$c~d'e^f(g)h${"x".repeat(48)}`;
    const vmss = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}/virtualMachines/${"9".repeat(80)}`;
    const id = captureInstanceId(target(vmss));
    expect(id.length).toBeLessThanOrEqual(100);
    expect(id).toMatch(/^[a-z0-9._-]+$/);
    expect(id).not.toMatch(/[/\\#?\u0000-\u001f]/);
    expect(id).toMatch(/-[0-9a-f]{12}$/);
  });
});
