// Every route the emulator serves, with the operation ID that the swagger (and fault rules) use for it. These are
// exactly the requests @azure/arm-compute 25, @azure/arm-network 39 and @azure/arm-monitor 8 send for the calls
// alertcap makes (the SDKs write `resourcegroups` in lower case; templates match case-insensitively).

import type { RouteDefinition } from "./http/router.js";
import { computeHandlers } from "./handlers/compute.js";
import type { EmulatorContext } from "./handlers/context.js";
import { monitorHandlers } from "./handlers/monitor.js";
import { networkWatcherHandlers } from "./handlers/networkWatchers.js";
import { operationStatusHandlers } from "./handlers/operationStatus.js";
import { packetCaptureHandlers } from "./handlers/packetCaptures.js";

const SUB = "/subscriptions/{subscriptionId}";
const RG = `${SUB}/resourceGroups/{resourceGroupName}`;
const VM = `${RG}/providers/Microsoft.Compute/virtualMachines/{vmName}`;
const VMSS = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}`;
const WATCHER = `${RG}/providers/Microsoft.Network/networkWatchers/{networkWatcherName}`;
const CAPTURE = `${WATCHER}/packetCaptures/{packetCaptureName}`;
const METRIC_ALERTS = `${RG}/providers/Microsoft.Insights/metricAlerts`;
const ACTION_GROUP = `${RG}/providers/Microsoft.Insights/actionGroups/{actionGroupName}`;

export function emulatorRoutes(context: EmulatorContext): RouteDefinition[] {
  const compute = computeHandlers(context);
  const watchers = networkWatcherHandlers(context);
  const captures = packetCaptureHandlers(context);
  const operations = operationStatusHandlers(context);
  const monitor = monitorHandlers(context);
  return [
    { method: "GET", template: `${SUB}/providers/Microsoft.Compute/virtualMachines`, operationId: "VirtualMachines_ListAll", handler: compute.listVirtualMachines },
    { method: "GET", template: `${RG}/providers/Microsoft.Compute/virtualMachines`, operationId: "VirtualMachines_List", handler: compute.listVirtualMachines },
    { method: "GET", template: VM, operationId: "VirtualMachines_Get", handler: compute.getVirtualMachine },
    { method: "GET", template: `${VM}/instanceView`, operationId: "VirtualMachines_InstanceView", handler: compute.virtualMachineInstanceView },
    { method: "GET", template: `${VM}/extensions`, operationId: "VirtualMachineExtensions_List", handler: compute.listVirtualMachineExtensions },
    { method: "GET", template: `${VM}/extensions/{vmExtensionName}`, operationId: "VirtualMachineExtensions_Get", handler: compute.getVirtualMachineExtension },
    { method: "PUT", template: `${VM}/extensions/{vmExtensionName}`, operationId: "VirtualMachineExtensions_CreateOrUpdate", handler: compute.putVirtualMachineExtension },
    { method: "GET", template: VMSS, operationId: "VirtualMachineScaleSets_Get", handler: compute.getScaleSet },
    { method: "GET", template: `${VMSS}/virtualMachines`, operationId: "VirtualMachineScaleSetVMs_List", handler: compute.listScaleSetVms },
    { method: "GET", template: `${VMSS}/virtualMachines/{instanceId}`, operationId: "VirtualMachineScaleSetVMs_Get", handler: compute.getScaleSetVm },
    { method: "GET", template: `${VMSS}/virtualMachines/{instanceId}/instanceView`, operationId: "VirtualMachineScaleSetVMs_GetInstanceView", handler: compute.scaleSetVmInstanceView },
    { method: "GET", template: `${VMSS}/extensions`, operationId: "VirtualMachineScaleSetExtensions_List", handler: compute.listScaleSetExtensions },
    { method: "GET", template: `${VMSS}/extensions/{vmssExtensionName}`, operationId: "VirtualMachineScaleSetExtensions_Get", handler: compute.getScaleSetExtension },
    { method: "PUT", template: `${VMSS}/extensions/{vmssExtensionName}`, operationId: "VirtualMachineScaleSetExtensions_CreateOrUpdate", handler: compute.putScaleSetExtension },
    { method: "GET", template: `${SUB}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}`, operationId: "Compute_OperationStatus", handler: operations.computeAsyncOperation },

    { method: "GET", template: `${SUB}/providers/Microsoft.Network/networkWatchers`, operationId: "NetworkWatchers_ListAll", handler: watchers.listAll },
    { method: "GET", template: `${RG}/providers/Microsoft.Network/networkWatchers`, operationId: "NetworkWatchers_List", handler: watchers.list },
    { method: "GET", template: WATCHER, operationId: "NetworkWatchers_Get", handler: watchers.get },
    { method: "GET", template: `${WATCHER}/packetCaptures`, operationId: "PacketCaptures_List", handler: captures.list },
    { method: "PUT", template: CAPTURE, operationId: "PacketCaptures_Create", handler: captures.create },
    { method: "GET", template: CAPTURE, operationId: "PacketCaptures_Get", handler: captures.get },
    { method: "DELETE", template: CAPTURE, operationId: "PacketCaptures_Delete", handler: captures.delete },
    { method: "POST", template: `${CAPTURE}/stop`, operationId: "PacketCaptures_Stop", handler: captures.stop },
    { method: "POST", template: `${CAPTURE}/queryStatus`, operationId: "PacketCaptures_GetStatus", handler: captures.queryStatus },
    { method: "GET", template: `${SUB}/providers/Microsoft.Network/locations/{location}/operations/{operationId}`, operationId: "Network_OperationStatus", handler: operations.networkAsyncOperation },
    { method: "GET", template: `${SUB}/providers/Microsoft.Network/locations/{location}/operationResults/{operationId}`, operationId: "Network_OperationResult", handler: operations.networkOperationResult },

    { method: "GET", template: METRIC_ALERTS, operationId: "MetricAlerts_ListByResourceGroup", handler: monitor.listMetricAlerts },
    { method: "GET", template: `${METRIC_ALERTS}/{ruleName}`, operationId: "MetricAlerts_Get", handler: monitor.getMetricAlert },
    { method: "PUT", template: `${METRIC_ALERTS}/{ruleName}`, operationId: "MetricAlerts_CreateOrUpdate", handler: monitor.putMetricAlert },
    { method: "DELETE", template: `${METRIC_ALERTS}/{ruleName}`, operationId: "MetricAlerts_Delete", handler: monitor.deleteMetricAlert },
    { method: "GET", template: ACTION_GROUP, operationId: "ActionGroups_Get", handler: monitor.getActionGroup },
    { method: "PUT", template: ACTION_GROUP, operationId: "ActionGroups_CreateOrUpdate", handler: monitor.putActionGroup },
    { method: "DELETE", template: ACTION_GROUP, operationId: "ActionGroups_Delete", handler: monitor.deleteActionGroup },
  ];
}
