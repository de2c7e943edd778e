// Microsoft.Compute (api-version 2026-04-01): VMs with instance view and power state, scale sets and their
// instances, and the extensions through which the Network Watcher agent is seen and installed.

import {
  ArmError,
  invalidRequestContent,
  parentResourceNotFound,
  resourceNotFound,
} from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import {
  agentTypeFor,
  isNetworkWatcherAgent,
  type ExtensionState,
  type ScaleSetState,
  type VirtualMachineState,
} from "../resourceModel.js";
import {
  extensionResource,
  scaleSetInstanceView,
  scaleSetResource,
  scaleSetVmResource,
  virtualMachineInstanceView,
  virtualMachineResource,
} from "./computeShapes.js";
import { ASYNC_NOTIFICATION, parseJsonBody, type EmulatorContext } from "./context.js";

export function computeHandlers(context: EmulatorContext) {
  const virtualMachineOf = (request: ArmRequest, asParent = false): VirtualMachineState => {
    const name = param(request, "vmName");
    const resourceGroup = param(request, "resourceGroupName");
    const vm = context.model.virtualMachine(param(request, "subscriptionId"), resourceGroup, name);
    if (!vm) throw asParent ? parentResourceNotFound(name) : resourceNotFound("Microsoft.Compute/virtualMachines", name, resourceGroup);
    return vm;
  };

  const scaleSetOf = (request: ArmRequest, asParent = false): ScaleSetState => {
    const name = param(request, "vmScaleSetName");
    const resourceGroup = param(request, "resourceGroupName");
    const vmss = context.model.scaleSet(param(request, "subscriptionId"), resourceGroup, name);
    if (!vmss) {
      throw asParent ? parentResourceNotFound(name) : resourceNotFound("Microsoft.Compute/virtualMachineScaleSets", name, resourceGroup);
    }
    return vmss;
  };

  const expandsInstanceView = (request: ArmRequest) => /(^|,)\s*instanceView\s*(,|$)/i.test(request.query.get("$expand") ?? "");

  /** Stores the extension (Creating/Updating) and starts its install operation: Succeeded after the install time. */
  const putExtension = (
    request: ArmRequest,
    parent: VirtualMachineState | ScaleSetState,
    parentKind: "vm" | "vmss",
    name: string,
    properties: Record<string, unknown>,
    failureOf: (extension: ExtensionState) => { code: string; message: string } | undefined,
  ): ArmResponse => {
    const existing = parent.extensions.get(name.toLowerCase());
    const extension: ExtensionState = {
      name: existing?.name ?? name,
      publisher: properties["publisher"] as string,
      type: properties["type"] as string,
      typeHandlerVersion: properties["typeHandlerVersion"] as string,
      autoUpgradeMinorVersion: properties["autoUpgradeMinorVersion"] !== false,
      provisioningState: existing ? "Updating" : "Creating",
      ...(properties["settings"] !== undefined && { settings: properties["settings"] }),
    };
    parent.extensions.set(extension.name.toLowerCase(), extension);
    const operation = context.operations.start({
      namespace: "Microsoft.Compute",
      subscriptionId: parent.subscriptionId,
      location: parent.location,
      apiVersion: request.apiVersion,
      kind: "extension",
      resourceId: `${parent.id}/extensions/${extension.name}`,
      durationSeconds: context.timings.extensionInstallSeconds,
      failure: context.faults.lroFailure(request.operationId) ?? failureOf(extension),
      onSucceeded: () => {
        extension.provisioningState = "Succeeded";
      },
      onFailed: () => {
        extension.provisioningState = "Failed";
      },
    });
    return {
      status: existing ? 200 : 201,
      body: extensionResource(parent.id, parentKind, parent.location, extension),
      // No Retry-After: R1's (2026) extension PUT has none.
      headers: { "Azure-AsyncOperation": context.operations.asyncOperationUrl(operation), ...ASYNC_NOTIFICATION },
    };
  };

  return {
    getVirtualMachine(request: ArmRequest): ArmResponse {
      return { status: 200, body: virtualMachineResource(virtualMachineOf(request), expandsInstanceView(request)) };
    },

    listVirtualMachines(request: ArmRequest): ArmResponse {
      const vms = context.model.virtualMachinesIn(param(request, "subscriptionId"), request.params["resourceGroupName"]);
      return { status: 200, body: { value: vms.map((vm) => virtualMachineResource(vm, expandsInstanceView(request))) } };
    },

    virtualMachineInstanceView(request: ArmRequest): ArmResponse {
      return { status: 200, body: virtualMachineInstanceView(virtualMachineOf(request)) };
    },

    listVirtualMachineExtensions(request: ArmRequest): ArmResponse {
      const vm = virtualMachineOf(request, true);
      const value = [...vm.extensions.values()].map((extension) =>
        extensionResource(vm.id, "vm", vm.location, extension, expandsInstanceView(request)),
      );
      return { status: 200, body: { value } };
    },

    getVirtualMachineExtension(request: ArmRequest): ArmResponse {
      const vm = virtualMachineOf(request, true);
      const name = param(request, "vmExtensionName");
      const extension = vm.extensions.get(name.toLowerCase());
      if (!extension) throw resourceNotFound(`Microsoft.Compute/virtualMachines/${vm.name}/extensions`, name, vm.resourceGroup);
      return { status: 200, body: extensionResource(vm.id, "vm", vm.location, extension, expandsInstanceView(request)) };
    },

    /** PUT: 201 (new) or 200 (update) with Creating/Updating and `Azure-AsyncOperation`; Succeeded after the install time. */
    putVirtualMachineExtension(request: ArmRequest): ArmResponse {
      const vm = virtualMachineOf(request, true);
      const properties = extensionProperties(request);
      if (vm.powerState !== "running") {
        throw new ArmError(409, "OperationNotAllowed", "Cannot modify extensions in the VM when the VM is not running.");
      }
      return putExtension(request, vm, "vm", param(request, "vmExtensionName"), properties, (extension) => wrongAgentFlavour(vm, extension));
    },

    /**
     * PUT of a scale set's extension, as the VM's. Its instances see the model's extensions at once (as under a
     * Rolling or Automatic upgrade policy; alertcap installs only under Rolling).
     */
    putScaleSetExtension(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      const properties = extensionProperties(request);
      return putExtension(request, vmss, "vmss", param(request, "vmssExtensionName"), properties, (extension) => wrongAgentFlavour(vmss, extension));
    },

    getScaleSet(request: ArmRequest): ArmResponse {
      return { status: 200, body: scaleSetResource(scaleSetOf(request)) };
    },

    listScaleSetVms(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      const value = [...vmss.instances.values()].map((instance) =>
        scaleSetVmResource(vmss, instance, expandsInstanceView(request)),
      );
      return { status: 200, body: { value } };
    },

    getScaleSetVm(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      const instance = instanceOf(vmss, param(request, "instanceId"));
      return { status: 200, body: scaleSetVmResource(vmss, instance, expandsInstanceView(request)) };
    },

    scaleSetVmInstanceView(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      return { status: 200, body: scaleSetInstanceView(vmss, instanceOf(vmss, param(request, "instanceId"))) };
    },

    listScaleSetExtensions(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      const value = [...vmss.extensions.values()].map((extension) => extensionResource(vmss.id, "vmss", vmss.location, extension));
      return { status: 200, body: { value } };
    },

    getScaleSetExtension(request: ArmRequest): ArmResponse {
      const vmss = scaleSetOf(request, true);
      const name = param(request, "vmssExtensionName");
      const extension = vmss.extensions.get(name.toLowerCase());
      if (!extension) {
        throw resourceNotFound(`Microsoft.Compute/virtualMachineScaleSets/${vmss.name}/extensions`, name, vmss.resourceGroup);
      }
      return { status: 200, body: extensionResource(vmss.id, "vmss", vmss.location, extension, expandsInstanceView(request)) };
    },
  };
}

/** The PUT body's `properties`, with `publisher`, `type` and `typeHandlerVersion` present. */
function extensionProperties(request: ArmRequest): Record<string, unknown> {
  const parsed = parseJsonBody(request.bodyText);
  if (!parsed.ok) throw invalidRequestContent(parsed.reason);
  const properties = ((parsed.value as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}) as Record<string, unknown>;
  for (const field of ["publisher", "type", "typeHandlerVersion"]) {
    const value = properties[field];
    // [rec] a PUT without `type` answers InvalidParameter "The value of parameter type is invalid.".
    if (typeof value !== "string" || value.trim() === "") {
      throw new ArmError(400, "InvalidParameter", `The value of parameter ${field} is invalid.`, { target: field });
    }
  }
  return properties;
}

function instanceOf(vmss: ScaleSetState, instanceId: string) {
  const instance = vmss.instances.get(instanceId.toLowerCase());
  if (!instance) {
    throw resourceNotFound(`Microsoft.Compute/virtualMachineScaleSets/${vmss.name}/virtualMachines`, instanceId, vmss.resourceGroup);
  }
  return instance;
}

/** Installing the Windows agent on a Linux VM (or the reverse) fails in provisioning, as a real mismatch would. */
function wrongAgentFlavour(vm: VirtualMachineState | ScaleSetState, extension: ExtensionState) {
  if (!isNetworkWatcherAgent(extension.publisher, extension.type)) return undefined;
  if (extension.type.toLowerCase() === agentTypeFor(vm.osType).toLowerCase()) return undefined;
  return {
    code: "VMExtensionProvisioningError",
    message:
      `VM has reported a failure when processing extension '${extension.name}' (publisher '${extension.publisher}' and ` +
      `type '${extension.type}'). Error message: 'The extension does not support the ${vm.osType} operating system.'`,
  };
}
