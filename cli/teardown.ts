// azd's predown/postdown hooks (azure.yaml): `azd down` deletes rg-<environment>, but alertcap's capture-operator
// assignments live at the allowlisted scopes, in other subscriptions too, and its two custom roles live in the
// subscription. Before down: delete the operator role's assignments at every scope the role is assignable to (the
// role itself lists them, so nothing is missed whatever the allowlist was). After down: delete both custom roles
// (possible only once nothing is assigned: the capture-storage assignments go with the capture accounts).
import { AzureCliCredential, AzureDeveloperCliCredential, ChainedTokenCredential } from "@azure/identity";
import { pathToFileURL } from "node:url";
import { armGuid, operatorRoleId } from "./deployerRights.js";
import { API, type ArmRequester, type RoleAssignment, type RoleDefinition, armRequester, errorOf, listAll } from "./preflight.js";

export const storageRoleId = (subscriptionId: string, environmentName: string): string =>
  `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${armGuid(`/subscriptions/${subscriptionId}`, environmentName, "alertcap-capture-storage")}`;

/** Deletes the capture operator role's assignments at every scope it is assignable to; returns their IDs. */
export async function removeOperatorAssignments(arm: ArmRequester, subscriptionId: string, environmentName: string, print: (line: string) => void): Promise<string[]> {
  const roleId = operatorRoleId(subscriptionId, environmentName);
  const role = await arm.get(`${roleId}?${API}`);
  if (role.status === 404) return [];
  if (role.status !== 200) throw new Error(`GET ${roleId}: ${role.status} ${errorOf(role.body)}`);
  const deleted: string[] = [];
  for (const scope of (role.body as RoleDefinition).properties.assignableScopes) {
    const assignments = await listAll<RoleAssignment>(arm, `${scope}/providers/Microsoft.Authorization/roleAssignments?${API}&$filter=${encodeURIComponent("atScope()")}`);
    for (const a of assignments.filter((x) => x.properties.roleDefinitionId.toLowerCase() === roleId.toLowerCase() && x.properties.scope.toLowerCase() === scope.toLowerCase())) {
      const res = await arm.delete(`${a.id}?${API}`);
      if (res.status !== 200 && res.status !== 204) throw new Error(`DELETE ${a.id}: ${res.status} ${errorOf(res.body)}`);
      deleted.push(a.id);
      print(`removed  alertcap's capture operator assignment at ${scope}`);
    }
  }
  return deleted;
}

/** Deletes both custom role definitions (after azd down); a role still assigned somewhere is reported, not forced. */
export async function removeCustomRoles(arm: ArmRequester, subscriptionId: string, environmentName: string, print: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const id of [operatorRoleId(subscriptionId, environmentName), storageRoleId(subscriptionId, environmentName)]) {
    const res = await arm.delete(`${id}?${API}`);
    if (res.status === 200) {
      removed.push(id);
      print(`removed  custom role ${id.split("/").pop()}`);
    } else if (res.status !== 204) print(`could not remove custom role ${id}: ${res.status} ${errorOf(res.body)}`);
  }
  return removed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const subscriptionId = process.env.AZURE_SUBSCRIPTION_ID?.trim();
  const environmentName = process.env.AZURE_ENV_NAME?.trim();
  const phase = process.argv[2];
  if (!subscriptionId || !environmentName || (phase !== "before-down" && phase !== "after-down")) {
    console.error("usage: AZURE_SUBSCRIPTION_ID=… AZURE_ENV_NAME=… node dist/cli/teardown.js before-down|after-down (azd's predown/postdown hooks run it)");
    process.exit(2);
  }
  const endpoint = (process.env.AZURE_RESOURCE_MANAGER_ENDPOINT ?? "https://management.azure.com").replace(/\/+$/, "");
  const arm = armRequester(endpoint, new ChainedTokenCredential(new AzureDeveloperCliCredential(), new AzureCliCredential()));
  const print = (line: string): void => console.log(line);
  (phase === "before-down" ? removeOperatorAssignments(arm, subscriptionId, environmentName, print) : removeCustomRoles(arm, subscriptionId, environmentName, print)).catch((e: unknown) => {
    console.error(`teardown: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
