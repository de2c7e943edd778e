// The Network Watcher agent. Installing it is its own step: the extension's PUT is sent and its provisioningState
// read on durable timers, never waited for inside an activity. On scale sets Network Watcher captures on the
// instances, so the agent must be there, not only in the model: alertcap reads it from the instances, and will not
// install it on a scale set whose upgrade policy is Manual (the model would change, the instances would not) or
// Automatic (the model change may upgrade every instance at once): only under a Rolling policy.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const scaleSetId = (name: string) => `/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;

function writeInventory(): string {
  const inventory = {
    virtualMachines: [{ id: vmId("vm-bare"), location: "westus2", powerState: "running", networkWatcherExtension: false }],
    virtualMachineScaleSets: [
      { id: scaleSetId("vmss-noagent"), location: "westus2", instances: ["0", "1"], networkWatcherExtension: false },
      { id: scaleSetId("vmss-agent"), location: "westus2", instances: ["0", "1"], networkWatcherExtension: true },
      { id: scaleSetId("vmss-automatic"), location: "westus2", instances: ["0", "1"], networkWatcherExtension: false, upgradePolicy: "Automatic" },
      { id: scaleSetId("vmss-rolling"), location: "westus2", instances: ["0", "1"], networkWatcherExtension: false, upgradePolicy: "Rolling" },
    ],
    storageAccounts: [{ id: SAMPLE_STORAGE_ID, location: "westus2" }],
  };
  const path = join(mkdtempSync(join(tmpdir(), "alertcap-vmss-")), "inventory.json");
  writeFileSync(path, JSON.stringify(inventory));
  return path;
}

describe("the Network Watcher agent", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ inventoryPath: writeInventory(), appSettings: { ALERTCAP_INSTALL_AGENT: "true" } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const ended = (c: { runtimeStatus: string }) => c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending";

  it("installs the agent on a VM as its own step, waiting on durable timers, then captures", async () => {
    const { body } = await stack.postAlert(metricAlert(vmId("vm-bare")));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" || ended(c), "to run");
    expect(running.failureReason).toBeNull();
    expect(running.networkWatcherStatus).toBe("Running");
    const steps = (await stack.durableStatus(running.id)).historyEvents!.map((e) => (e.FunctionName ?? e.Name ?? e.EventType) as string);
    const installed = steps.indexOf("installNetworkWatcherAgent");
    expect(installed).toBeGreaterThan(steps.indexOf("validateCaptureTarget"));
    expect(steps.slice(installed)).toEqual(expect.arrayContaining(["TimerFired", "readNetworkWatcherAgentState"]));
    expect(steps.indexOf("createPacketCapture")).toBeGreaterThan(steps.lastIndexOf("readNetworkWatcherAgentState"));
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
    await stack.waitForCapture(running.id, ended, "to end");
  });

  it("refuses to install the agent on a scale set with a Manual upgrade policy, and says what to do", async () => {
    const { body } = await stack.postAlert(metricAlert(scaleSetId("vmss-noagent")));
    const done = await stack.waitForCapture(body.id as string, ended, "to end");
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/vmss-noagent has a Manual upgrade policy/);
    expect(done.failureReason).toMatch(/update-instances/);
  });

  it("refuses to install the agent on a scale set with an Automatic upgrade policy, which may upgrade every instance at once", async () => {
    const { body } = await stack.postAlert(metricAlert(scaleSetId("vmss-automatic")));
    const done = await stack.waitForCapture(body.id as string, ended, "to end");
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/vmss-automatic has an Automatic upgrade policy: adding the agent to its model may upgrade all its instances at once/);
    expect(done.failureReason).toMatch(/only under a Rolling policy/);
  });

  it("installs the agent on a scale set with a Rolling upgrade policy, then captures", async () => {
    const { body } = await stack.postAlert(metricAlert(scaleSetId("vmss-rolling")));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" || ended(c), "to run");
    expect(running.failureReason).toBeNull();
    expect(running.networkWatcherStatus).toBe("Running");
    const steps = (await stack.durableStatus(running.id)).historyEvents!.map((e) => (e.FunctionName ?? e.Name ?? e.EventType) as string);
    expect(steps).toContain("installNetworkWatcherAgent");
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
    await stack.waitForCapture(running.id, ended, "to end");
  });

  it("reads the agent from the instances and captures when they have it", async () => {
    const { body } = await stack.postAlert(metricAlert(scaleSetId("vmss-agent")));
    const running = await stack.waitForCapture(body.id as string, (c) => c.networkWatcherStatus === "Running" || ended(c), "to run");
    expect(running.failureReason).toBeNull();
    expect(running.networkWatcherStatus).toBe("Running");
    // (Finding the per-instance files under the scale set's folder is tested where the files are read.)
    await fetch(`${stack.url}/api/captures/${running.id}/stop?code=${stack.functionKey}`, { method: "POST" });
  });
});
