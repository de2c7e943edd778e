// The emulator's front door and the Compute / network-watcher reads, through the real SDK clients over HTTPS.

import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { NetworkManagementClient } from "@azure/arm-network";
import { startArmEmulator, type ArmEmulator } from "../local/arm-emulator/armEmulator.js";
import { rawArmRequest } from "../local/arm-emulator/testing/rawArmRequest.js";
import { computeClient, networkClient } from "../local/arm-emulator/testing/sdkClients.js";
import { rejectionOf as rejection } from "../local/arm-emulator/testing/waiting.js";

const SAMPLE_INVENTORY = fileURLToPath(new URL("../../test/fixtures/inventory/sample.json", import.meta.url));
const SUB = "00000000-0000-0000-0000-000000000001";
const VM_WEB = `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-web-1`;

let emulator: ArmEmulator;
let compute: ComputeManagementClient;
let network: NetworkManagementClient;

beforeAll(async () => {
  emulator = await startArmEmulator({ inventory: SAMPLE_INVENTORY, speedFactor: 100, packetSource: "synthetic" });
  compute = computeClient(emulator, SUB);
  network = networkClient(emulator, SUB);
});

afterAll(async () => {
  await emulator.close();
});

describe("ARM front door", () => {
  it("serves HTTPS with a certificate for 127.0.0.1 that the client can trust", () => {
    expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.caCertPath.endsWith("arm-emulator-cert.pem")).toBe(true);
    expect(emulator.caCertPem).toContain("BEGIN CERTIFICATE");
  });

  it("answers 401 AuthenticationFailed without a bearer token, like ARM", async () => {
    const response = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01`, authorization: null });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ error: { code: "AuthenticationFailed", message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(response.headers["www-authenticate"]).toContain("Bearer");
    const basic = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01`, authorization: "Basic abc" });
    expect(basic.status).toBe(401);
  });

  it("accepts any bearer token and requires api-version", async () => {
    const missing = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/providers/Microsoft.Network/networkWatchers`, authorization: "Bearer anything" });
    expect(missing.status).toBe(400);
    expect((missing.json as { error: { code: string } }).error.code).toBe("MissingApiVersionParameter");
    const ok = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01`, authorization: "Bearer anything" });
    expect(ok.status).toBe(200);
  });

  it("sends ARM's request headers and echoes the correlation ID", async () => {
    const response = await rawArmRequest(emulator, {
      path: `${VM_WEB}?api-version=2026-04-01`,
      headers: { "x-ms-correlation-request-id": "c0ffee00-0000-4000-8000-000000000001" },
    });
    expect(response.status).toBe(200);
    expect(response.headers["x-ms-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers["x-ms-correlation-request-id"]).toBe("c0ffee00-0000-4000-8000-000000000001");
    expect(response.headers["content-type"]).toContain("application/json");
  });

  it("says which subscription, resource group or route does not exist", async () => {
    const subscription = await rawArmRequest(emulator, { path: "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Network/networkWatchers?api-version=2026-01-01" });
    expect(subscription.status).toBe(404);
    expect((subscription.json as { error: { code: string } }).error.code).toBe("SubscriptionNotFound");
    const group = await rejection(compute.virtualMachines.get("rg-missing", "vm"));
    expect(group).toMatchObject({ statusCode: 404, code: "ResourceGroupNotFound", message: "Resource group 'rg-missing' could not be found." });
    const route = await rawArmRequest(emulator, { path: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Web/sites/x?api-version=2024-01-01` });
    expect(route.status).toBe(404);
    expect((route.json as { error: { code: string } }).error.code).toBe("InvalidResourceType");
  });
});

describe("virtual machines", () => {
  it("GETs a VM, with the instance view on $expand=instanceView", async () => {
    const plain = await compute.virtualMachines.get("rg-app", "vm-web-1");
    expect(plain).toMatchObject({ id: VM_WEB, name: "vm-web-1", location: "westus2", provisioningState: "Succeeded" });
    expect(plain.instanceView).toBeUndefined();
    expect(plain.storageProfile?.osDisk?.osType).toBe("Linux");
    const expanded = await compute.virtualMachines.get("RG-APP", "VM-WEB-1", { expand: "instanceView" });
    expect(expanded.name).toBe("vm-web-1");
    expect(expanded.instanceView?.statuses?.map((status) => status.code)).toEqual(["ProvisioningState/succeeded", "PowerState/running"]);
  });

  it("reports power states through /instanceView", async () => {
    const deallocated = await compute.virtualMachines.instanceView("rg-app", "vm-stopped");
    expect(deallocated.statuses?.find((status) => status.code?.startsWith("PowerState/"))).toMatchObject({
      code: "PowerState/deallocated",
      displayStatus: "VM deallocated",
    });
    expect(deallocated.vmAgent).toBeUndefined();
    emulator.setPowerState(`/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-stopped`, "stopped");
    const stopped = await compute.virtualMachines.instanceView("rg-app", "vm-stopped");
    expect(stopped.statuses?.map((status) => status.code)).toContain("PowerState/stopped");
    emulator.setPowerState(`/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-stopped`, "deallocated");
  });

  it("answers 404 ResourceNotFound for an unknown VM", async () => {
    const error = await rejection(compute.virtualMachines.get("rg-app", "vm-nope"));
    expect(error).toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
      message: "The Resource 'Microsoft.Compute/virtualMachines/vm-nope' under resource group 'rg-app' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    });
  });

  it("lists and GETs the Network Watcher agent extension", async () => {
    const extensions = await compute.virtualMachineExtensions.list("rg-app", "vm-web-1");
    expect(extensions.value?.map((extension) => [extension.name, extension.publisher, extension.typePropertiesType])).toEqual([
      ["AzureNetworkWatcherExtension", "Microsoft.Azure.NetworkWatcher", "NetworkWatcherAgentLinux"],
    ]);
    const windows = await compute.virtualMachineExtensions.get("rg-app", "vm-win-1", "AzureNetworkWatcherExtension");
    expect(windows).toMatchObject({ typePropertiesType: "NetworkWatcherAgentWindows", provisioningState: "Succeeded", typeHandlerVersion: "1.4" });
    expect((await compute.virtualMachineExtensions.list("rg-app", "vm-noagent")).value).toEqual([]);
    const missing = await rejection(compute.virtualMachineExtensions.get("rg-app", "vm-noagent", "AzureNetworkWatcherExtension"));
    expect(missing.statusCode).toBe(404);
    const noParent = await rejection(compute.virtualMachineExtensions.list("rg-app", "vm-nope"));
    expect(noParent).toMatchObject({ statusCode: 404, code: "ParentResourceNotFound" });
  });

  it("installs the agent with a long-running extension PUT", async () => {
    const installed = await compute.virtualMachineExtensions.createOrUpdate(
      "rg-app",
      "vm-noagent",
      "AzureNetworkWatcherExtension",
      {
        location: "westus2",
        publisher: "Microsoft.Azure.NetworkWatcher",
        typePropertiesType: "NetworkWatcherAgentLinux",
        typeHandlerVersion: "1.4",
        autoUpgradeMinorVersion: true,
      },
      { updateIntervalInMs: 20 },
    );
    expect(installed).toMatchObject({ name: "AzureNetworkWatcherExtension", provisioningState: "Succeeded" });
    const put = emulator.requests().filter((entry) => entry.operationId === "VirtualMachineExtensions_CreateOrUpdate");
    expect(put.at(-1)?.status).toBe(201);
    expect(emulator.requests().some((entry) => entry.operationId === "Compute_OperationStatus")).toBe(true);
    const again = await rawArmRequest(emulator, {
      method: "PUT",
      path: `/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/vm-noagent/extensions/AzureNetworkWatcherExtension?api-version=2026-04-01`,
      body: { location: "westus2", properties: { publisher: "Microsoft.Azure.NetworkWatcher", type: "NetworkWatcherAgentLinux", typeHandlerVersion: "1.4" } },
    });
    expect(again.status).toBe(200);
    expect((again.json as { properties: { provisioningState: string } }).properties.provisioningState).toBe("Updating");
    expect(again.headers["azure-asyncoperation"]).toMatch(/\/providers\/Microsoft\.Compute\/locations\/westus2\/operations\//);
  });

  it("refuses extension PUTs the way Compute does", async () => {
    const noType = await rejection(
      compute.virtualMachineExtensions.createOrUpdate("rg-app", "vm-web-1", "x", { location: "westus2", publisher: "Microsoft.Azure.NetworkWatcher", typeHandlerVersion: "1.4" }),
    );
    expect(noType).toMatchObject({ statusCode: 400, code: "InvalidParameter", message: "The value of parameter type is invalid." });
    const stoppedVm = await rejection(
      compute.virtualMachineExtensions.createOrUpdate("rg-app", "vm-stopped", "AzureNetworkWatcherExtension", {
        location: "westus2",
        publisher: "Microsoft.Azure.NetworkWatcher",
        typePropertiesType: "NetworkWatcherAgentLinux",
        typeHandlerVersion: "1.4",
      }),
    );
    expect(stoppedVm).toMatchObject({ statusCode: 409, code: "OperationNotAllowed" });
    const wrongOs = await rejection(
      compute.virtualMachineExtensions.createOrUpdate(
        "rg-app",
        "vm-web-1",
        "WindowsAgent",
        { location: "westus2", publisher: "Microsoft.Azure.NetworkWatcher", typePropertiesType: "NetworkWatcherAgentWindows", typeHandlerVersion: "1.4" },
        { updateIntervalInMs: 20 },
      ),
    );
    expect(wrongOs.message).toContain("VMExtensionProvisioningError");
    expect((await compute.virtualMachineExtensions.get("rg-app", "vm-web-1", "WindowsAgent")).provisioningState).toBe("Failed");
  });
});

describe("virtual machine scale sets", () => {
  it("GETs the scale set, its instances and their instance views", async () => {
    const vmss = await compute.virtualMachineScaleSets.get("rg-app", "vmss-api");
    expect(vmss).toMatchObject({ name: "vmss-api", location: "westus2", sku: { capacity: 3 } });
    const instances = [];
    for await (const instance of compute.virtualMachineScaleSetVMs.list("rg-app", "vmss-api", { expand: "instanceView" })) instances.push(instance);
    expect(instances.map((instance) => [instance.instanceId, instance.instanceView?.statuses?.at(-1)?.code])).toEqual([
      ["0", "PowerState/running"],
      ["1", "PowerState/running"],
      ["2", "PowerState/stopped"],
    ]);
    const one = await compute.virtualMachineScaleSetVMs.get("rg-app", "vmss-api", "1");
    expect(one.id).toBe(`/subscriptions/${SUB}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api/virtualMachines/1`);
    const view = await compute.virtualMachineScaleSetVMs.getInstanceView("rg-app", "vmss-api", "2");
    expect(view.statuses?.at(-1)?.code).toBe("PowerState/stopped");
    expect((await rejection(compute.virtualMachineScaleSetVMs.get("rg-app", "vmss-api", "9"))).statusCode).toBe(404);
  });

  it("lists and GETs scale-set extensions", async () => {
    const extensions = [];
    for await (const extension of compute.virtualMachineScaleSetExtensions.list("rg-app", "vmss-api")) extensions.push(extension);
    expect(extensions.map((extension) => extension.name)).toEqual(["AzureNetworkWatcherExtension"]);
    const agent = await compute.virtualMachineScaleSetExtensions.get("rg-app", "vmss-api", "AzureNetworkWatcherExtension");
    expect(agent).toMatchObject({ publisher: "Microsoft.Azure.NetworkWatcher", typePropertiesType: "NetworkWatcherAgentLinux" });
  });
});

describe("network watchers", () => {
  it("lists one watcher per region that has VMs, except where the inventory says none", async () => {
    const all = [];
    for await (const watcher of network.networkWatchers.listAll()) all.push(watcher);
    expect(all.map((watcher) => [watcher.name, watcher.location]).sort()).toEqual([
      ["NetworkWatcher_northeurope", "northeurope"],
      ["NetworkWatcher_westus2", "westus2"],
    ]);
    const inGroup = [];
    for await (const watcher of network.networkWatchers.list("NetworkWatcherRG")) inGroup.push(watcher.name);
    expect(inGroup).toHaveLength(2);
    const inOtherGroup = [];
    for await (const watcher of network.networkWatchers.list("rg-app")) inOtherGroup.push(watcher.name);
    expect(inOtherGroup).toEqual([]);
  });

  it("GETs a watcher and 404s a missing one", async () => {
    const watcher = await network.networkWatchers.get("networkwatcherrg", "networkwatcher_westus2");
    expect(watcher).toMatchObject({
      id: `/subscriptions/${SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westus2`,
      provisioningState: "Succeeded",
    });
    expect(watcher.etag).toMatch(/^W\/"[0-9a-f-]{36}"$/);
    const missing = await rejection(network.networkWatchers.get("NetworkWatcherRG", "NetworkWatcher_eastus"));
    expect(missing).toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
  });
});
