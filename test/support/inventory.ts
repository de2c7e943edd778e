// Emulator inventories for load and crash tests: many running VMs with the agent, one region, one storage account.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SAMPLE_STORAGE_ID } from "../../local/stack.js";
import { vmId } from "./alerts.js";

export const fleetVm = (i: number): string => vmId(`vm-fleet-${String(i).padStart(3, "0")}`);

/** Writes an inventory of `count` running VMs in westus2 and returns its path. */
export function writeFleetInventory(count: number): string {
  const inventory = {
    virtualMachines: Array.from({ length: count }, (_, i) => ({ id: fleetVm(i), location: "westus2", powerState: "running", networkWatcherExtension: true })),
    storageAccounts: [{ id: SAMPLE_STORAGE_ID, location: "westus2" }],
  };
  const path = join(mkdtempSync(join(tmpdir(), "alertcap-fleet-")), "inventory.json");
  writeFileSync(path, JSON.stringify(inventory));
  return path;
}
