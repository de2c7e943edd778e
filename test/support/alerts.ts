// Alert payloads for tests: the local stack's sample alert, pointed at any VM of the sample inventory.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";

export const vmId = (name: string, resourceGroup = "rg-app"): string =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;

/** A common-schema metric alert on `targetId`, Fired or Resolved. */
export function metricAlert(targetId: string, condition: "Fired" | "Resolved" = "Fired", alertId = "11111111-2222-3333-4444-555555555555"): string {
  const file = condition === "Fired" ? "alert-vm-web-1-fired.json" : "alert-vm-web-1-resolved.json";
  const alert = JSON.parse(readFileSync(join(process.cwd(), "local", "samples", file), "utf8")) as {
    data: { essentials: { alertTargetIDs: string[]; alertId: string; configurationItems: string[] } };
  };
  alert.data.essentials.alertTargetIDs = [targetId];
  alert.data.essentials.configurationItems = [targetId.split("/").at(-1)!];
  alert.data.essentials.alertId = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.AlertsManagement/alerts/${alertId}`;
  return JSON.stringify(alert);
}
