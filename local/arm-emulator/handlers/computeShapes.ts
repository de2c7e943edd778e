// JSON shapes of the Microsoft.Compute resources the emulator serves (api-version 2026-04-01), trimmed to what a
// real answer carries for a plain Linux/Windows VM. Only fields alertcap could plausibly read are filled with
// meaning (location, power state, extensions); the rest is there so the SDK models look like the real thing.

import type { PowerState } from "../inventory.js";
import type {
  ExtensionState,
  ScaleSetInstanceState,
  ScaleSetState,
  VirtualMachineState,
} from "../resourceModel.js";

const CREATED = "2026-01-05T09:12:44.1234567+00:00";

const POWER_STATE_TEXT: Record<PowerState, string> = {
  running: "VM running",
  deallocated: "VM deallocated",
  stopped: "VM stopped",
  starting: "VM starting",
  stopping: "VM stopping",
  deallocating: "VM deallocating",
};

function imageReference(osType: "Linux" | "Windows") {
  return osType === "Windows"
    ? { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition", version: "latest", exactVersion: "20348.2762.241006" }
    : { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest", exactVersion: "24.04.202501140" };
}

function osConfiguration(osType: "Linux" | "Windows") {
  return osType === "Windows"
    ? { windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true, patchSettings: { patchMode: "AutomaticByOS", assessmentMode: "ImageDefault" } } }
    : { linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true, patchSettings: { patchMode: "ImageDefault", assessmentMode: "ImageDefault" } } };
}

function resourceGroupPrefix(resource: { subscriptionId: string; resourceGroup: string }): string {
  return `/subscriptions/${resource.subscriptionId}/resourceGroups/${resource.resourceGroup}`;
}

/** `Microsoft.Compute/virtualMachines/extensions` or the scale-set flavour. */
export function extensionResource(
  parentId: string,
  parentKind: "vm" | "vmss",
  location: string,
  extension: ExtensionState,
  withInstanceView = false,
): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    autoUpgradeMinorVersion: extension.autoUpgradeMinorVersion,
    provisioningState: extension.provisioningState,
    publisher: extension.publisher,
    type: extension.type,
    typeHandlerVersion: extension.typeHandlerVersion,
    ...(extension.settings !== undefined && { settings: extension.settings }),
  };
  if (withInstanceView) properties["instanceView"] = extensionInstanceView(extension);
  return {
    name: extension.name,
    id: `${parentId}/extensions/${extension.name}`,
    type: parentKind === "vm" ? "Microsoft.Compute/virtualMachines/extensions" : "Microsoft.Compute/virtualMachineScaleSets/extensions",
    ...(parentKind === "vm" && { location }),
    properties,
  };
}

function extensionInstanceView(extension: ExtensionState) {
  const succeeded = extension.provisioningState === "Succeeded";
  return {
    name: extension.name,
    type: `${extension.publisher}.${extension.type}`,
    typeHandlerVersion: `${extension.typeHandlerVersion}.3422.1`,
    statuses: [
      {
        code: `ProvisioningState/${extension.provisioningState.toLowerCase()}`,
        level: succeeded || extension.provisioningState !== "Failed" ? "Info" : "Error",
        displayStatus: succeeded ? "Provisioning succeeded" : `Provisioning ${extension.provisioningState.toLowerCase()}`,
        ...(succeeded && { message: "Network Watcher Agent is running." }),
      },
    ],
  };
}

function machineInstanceView(
  resource: { name: string; osType: "Linux" | "Windows"; extensions: Map<string, ExtensionState> },
  computerName: string,
  powerState: PowerState,
  now: Date,
) {
  const running = powerState === "running";
  const extensions = [...resource.extensions.values()];
  return {
    computerName,
    osName: resource.osType === "Windows" ? "Windows Server 2022 Datacenter Azure Edition" : "ubuntu",
    osVersion: resource.osType === "Windows" ? "10.0.20348.2762" : "24.04",
    ...(running && {
      vmAgent: {
        vmAgentVersion: resource.osType === "Windows" ? "2.7.41491.1149" : "2.12.0.2",
        statuses: [
          { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Ready", message: "Guest Agent is running", time: now.toISOString() },
        ],
        extensionHandlers: extensions.map((extension) => ({
          type: `${extension.publisher}.${extension.type}`,
          typeHandlerVersion: `${extension.typeHandlerVersion}.3422.1`,
          status: { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Ready" },
        })),
      },
    }),
    disks: [
      {
        name: `${resource.name}_OsDisk_1`,
        statuses: [{ code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded", time: CREATED }],
      },
    ],
    extensions: extensions.map(extensionInstanceView),
    hyperVGeneration: "V2",
    statuses: [
      { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded", time: CREATED },
      { code: `PowerState/${powerState}`, level: "Info", displayStatus: POWER_STATE_TEXT[powerState] },
    ],
  };
}

export function virtualMachineInstanceView(vm: VirtualMachineState, now = new Date()) {
  return machineInstanceView(vm, vm.name, vm.powerState, now);
}

export function virtualMachineResource(vm: VirtualMachineState, withInstanceView: boolean): Record<string, unknown> {
  const rg = resourceGroupPrefix(vm);
  const osDiskName = `${vm.name}_OsDisk_1_${vm.uniqueId.replaceAll("-", "").slice(0, 32)}`;
  return {
    name: vm.name,
    id: vm.id,
    type: "Microsoft.Compute/virtualMachines",
    location: vm.location,
    ...(Object.keys(vm.tags).length > 0 && { tags: vm.tags }),
    etag: '"1"',
    properties: {
      vmId: vm.uniqueId,
      hardwareProfile: { vmSize: vm.vmSize },
      storageProfile: {
        imageReference: imageReference(vm.osType),
        osDisk: {
          osType: vm.osType,
          name: osDiskName,
          createOption: "FromImage",
          caching: "ReadWrite",
          managedDisk: { storageAccountType: "Premium_LRS", id: `${rg}/providers/Microsoft.Compute/disks/${osDiskName}` },
          deleteOption: "Delete",
          diskSizeGB: vm.osType === "Windows" ? 127 : 30,
        },
        dataDisks: [],
        diskControllerType: "SCSI",
      },
      osProfile: {
        computerName: vm.name,
        adminUsername: "azureuser",
        ...osConfiguration(vm.osType),
        secrets: [],
        allowExtensionOperations: true,
        requireGuestProvisionSignal: true,
      },
      networkProfile: {
        networkInterfaces: [{ id: `${rg}/providers/Microsoft.Network/networkInterfaces/${vm.name}-nic`, properties: { deleteOption: "Detach" } }],
      },
      provisioningState: "Succeeded",
      timeCreated: CREATED,
      ...(withInstanceView && { instanceView: virtualMachineInstanceView(vm) }),
    },
    resources: [...vm.extensions.values()].map((extension) => extensionResource(vm.id, "vm", vm.location, extension)),
  };
}

export function scaleSetResource(vmss: ScaleSetState): Record<string, unknown> {
  return {
    name: vmss.name,
    id: vmss.id,
    type: "Microsoft.Compute/virtualMachineScaleSets",
    location: vmss.location,
    ...(Object.keys(vmss.tags).length > 0 && { tags: vmss.tags }),
    etag: '"1"',
    sku: { name: vmss.vmSize, tier: "Standard", capacity: vmss.instances.size },
    properties: {
      singlePlacementGroup: false,
      orchestrationMode: vmss.orchestrationMode,
      upgradePolicy: { mode: vmss.upgradePolicy },
      virtualMachineProfile: {
        osProfile: {
          computerNamePrefix: vmss.name.slice(0, 9),
          adminUsername: "azureuser",
          ...osConfiguration(vmss.osType),
          secrets: [],
          allowExtensionOperations: true,
          requireGuestProvisionSignal: true,
        },
        storageProfile: {
          osDisk: { osType: vmss.osType, createOption: "FromImage", caching: "ReadWrite", managedDisk: { storageAccountType: "Premium_LRS" }, diskSizeGB: 30 },
          imageReference: imageReference(vmss.osType),
        },
        networkProfile: {
          networkInterfaceConfigurations: [
            { name: `${vmss.name}-nic`, properties: { primary: true, enableAcceleratedNetworking: false, ipConfigurations: [{ name: "ipconfig1", properties: { primary: true, privateIPAddressVersion: "IPv4" } }] } },
          ],
        },
        extensionProfile: {
          extensions: [...vmss.extensions.values()].map((extension) => {
            const { id: _id, type: _type, ...rest } = extensionResource(vmss.id, "vmss", vmss.location, extension);
            return rest;
          }),
        },
      },
      provisioningState: "Succeeded",
      overprovision: false,
      doNotRunExtensionsOnOverprovisionedVMs: false,
      uniqueId: vmss.uniqueId,
      platformFaultDomainCount: 1,
      timeCreated: CREATED,
    },
  };
}

function scaleSetComputerName(vmss: ScaleSetState, instance: ScaleSetInstanceState): string {
  // Uniform scale sets name instances {prefix}{instance id in base 36, 6 digits}.
  const numeric = Number(instance.instanceId);
  const suffix = Number.isInteger(numeric) ? numeric.toString(36).padStart(6, "0") : instance.instanceId;
  return `${vmss.name.slice(0, 9)}${suffix}`;
}

export function scaleSetInstanceView(vmss: ScaleSetState, instance: ScaleSetInstanceState, now = new Date()) {
  return {
    platformUpdateDomain: 0,
    platformFaultDomain: 0,
    ...machineInstanceView(vmss, scaleSetComputerName(vmss, instance), instance.powerState, now),
  };
}

export function scaleSetVmResource(
  vmss: ScaleSetState,
  instance: ScaleSetInstanceState,
  withInstanceView: boolean,
): Record<string, unknown> {
  const id = `${vmss.id}/virtualMachines/${instance.instanceId}`;
  return {
    name: `${vmss.name}_${instance.instanceId}`,
    id,
    type: "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    location: vmss.location,
    instanceId: instance.instanceId,
    sku: { name: vmss.vmSize, tier: "Standard" },
    etag: '"1"',
    properties: {
      latestModelApplied: true,
      modelDefinitionApplied: "VirtualMachineScaleSet",
      vmId: instance.vmId,
      hardwareProfile: {},
      storageProfile: {
        imageReference: imageReference(vmss.osType),
        osDisk: { osType: vmss.osType, name: `${vmss.name}_${instance.instanceId}_OsDisk`, createOption: "FromImage", caching: "ReadWrite", managedDisk: { storageAccountType: "Premium_LRS" }, diskSizeGB: 30 },
        dataDisks: [],
      },
      osProfile: {
        computerName: scaleSetComputerName(vmss, instance),
        adminUsername: "azureuser",
        ...osConfiguration(vmss.osType),
        secrets: [],
        allowExtensionOperations: true,
        requireGuestProvisionSignal: true,
      },
      networkProfile: {
        networkInterfaces: [
          { id: `${id}/networkInterfaces/${vmss.name}-nic` },
        ],
      },
      provisioningState: "Succeeded",
      timeCreated: CREATED,
      ...(withInstanceView && { instanceView: scaleSetInstanceView(vmss, instance) }),
    },
    resources: [...vmss.extensions.values()].map((extension) => extensionResource(id, "vm", vmss.location, extension)),
  };
}
