// What the person running `azd provision` must be allowed to do, scope by scope, for infra/main.json to deploy; and
// which of alertcap's capture-operator assignments a narrower allowlist leaves behind. Pure: cli/preflight.ts asks
// Azure, this decides.
import { createHash } from "node:crypto";

export interface RequiredAction {
  action: string;
  why: string;
}
export interface ScopeRights {
  scope: string;
  actions: RequiredAction[];
}
/** One role's permission block (roleDefinitions properties.permissions[]). */
export interface Permission {
  actions: string[];
  notActions?: string[];
}
export interface PlanInput {
  subscriptionId: string;
  allowedScopes: string;
  networkWatcherResourceGroups?: string;
  durableBackend?: string;
  /** Scopes whose alertcap assignments the preflight will delete (an allowlist narrower than last time). */
  removedScopes?: readonly string[];
  notifySecretsGiven?: boolean;
}

/** The template's own split: commas, spaces dropped, empty entries ignored (main.json allowedScopeList). */
export const splitScopes = (value: string | undefined): string[] =>
  (value ?? "")
    .replace(/ /g, "")
    .split(",")
    .filter((s) => s.length > 0)
    .map((s) => s.replace(/\/+$/, ""));

const SCOPE = /^\/subscriptions\/[0-9a-fA-F-]{36}(\/resourceGroups\/[-\w._()]+)?$/;

export function validateScopes(scopes: readonly string[], what: string): string[] {
  return scopes.filter((s) => !SCOPE.test(s)).map((s) => `${what}: ${s} is not /subscriptions/<id> or /subscriptions/<id>/resourceGroups/<name>`);
}

const unique = <T>(xs: readonly T[], key: (x: T) => string): T[] => {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
};

/** Rights per scope, in the order the deployment needs them. Every scope is a subscription or a resource group. */
export function planDeployerRights(input: PlanInput): ScopeRights[] {
  const home = `/subscriptions/${input.subscriptionId}`;
  const homeActions: RequiredAction[] = [
    { action: "Microsoft.Resources/deployments/write", why: "azd provision: the subscription-scope deployment of infra/main.json" },
    { action: "Microsoft.Resources/subscriptions/resourceGroups/write", why: "creates rg-<environment>" },
    { action: "Microsoft.Authorization/roleDefinitions/write", why: "the two custom roles (alertcap capture operator, capture storage) are defined in this subscription" },
    { action: "Microsoft.Authorization/roleAssignments/write", why: "assigns the identities' roles on the resources in rg-<environment>" },
    { action: "Microsoft.ManagedIdentity/userAssignedIdentities/write", why: "alertcap's identity and the deployment-package identity" },
    { action: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action", why: "attaches both identities to the Function App" },
    { action: "Microsoft.Storage/storageAccounts/write", why: "task-hub, deployment-package and capture storage accounts" },
    { action: "Microsoft.KeyVault/vaults/write", why: "the Key Vault holding the notification secrets" },
    { action: "Microsoft.OperationalInsights/workspaces/write", why: "the Log Analytics workspace" },
    { action: "Microsoft.Insights/components/write", why: "Application Insights" },
    { action: "Microsoft.Web/serverfarms/write", why: "the Flex Consumption plan" },
    { action: "Microsoft.Web/sites/write", why: "the Function App" },
  ];
  if (input.notifySecretsGiven) homeActions.push({ action: "Microsoft.KeyVault/vaults/secrets/write", why: "stores ALERTCAP_NOTIFY_URLS / ALERTCAP_NOTIFY_SECRET in the vault" });
  if (input.durableBackend === "DurableTaskScheduler") homeActions.push({ action: "Microsoft.DurableTask/schedulers/write", why: "the Durable Task Scheduler and its task hub" });
  const plan: ScopeRights[] = [{ scope: home, actions: homeActions }];
  const remote = unique([...splitScopes(input.allowedScopes), ...splitScopes(input.networkWatcherResourceGroups)], (s) => s.toLowerCase());
  for (const scope of remote) {
    plan.push({
      scope,
      actions: [
        { action: "Microsoft.Authorization/roleDefinitions/write", why: "the capture operator role lists this scope as assignable" },
        { action: "Microsoft.Authorization/roleAssignments/write", why: "assigns the capture operator role to alertcap's identity here" },
        { action: "Microsoft.Resources/deployments/write", why: "the nested deployment that makes that assignment runs here" },
      ],
    });
  }
  for (const scope of input.removedScopes ?? []) {
    plan.push({
      scope,
      actions: [
        { action: "Microsoft.Authorization/roleAssignments/delete", why: "no longer allowlisted: the preflight removes alertcap's assignment so that its rights here go away and the role's assignable scopes can shrink" },
        { action: "Microsoft.Authorization/roleDefinitions/write", why: "the capture operator role still lists this scope until the provision narrows it" },
      ],
    });
  }
  // The same scope may need rights for several reasons; merge, keeping the first reason.
  const merged = new Map<string, ScopeRights>();
  for (const s of plan) {
    const m = merged.get(s.scope.toLowerCase());
    if (!m) merged.set(s.scope.toLowerCase(), { scope: s.scope, actions: [...s.actions] });
    else m.actions.push(...s.actions.filter((a) => !m.actions.some((b) => b.action === a.action)));
  }
  return [...merged.values()];
}

/** RBAC action patterns: case-insensitive, `*` matches any run of characters (Microsoft.Authorization/*, *\/read). */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`, "i");
  return re.test(action);
}

/** Granted when one permission block has a matching action and no matching notAction (how Azure RBAC adds roles up). */
export function isAllowed(permissions: readonly Permission[], action: string): boolean {
  return permissions.some((p) => p.actions.some((a) => actionMatches(a, action)) && !(p.notActions ?? []).some((n) => actionMatches(n, action)));
}

export function missingRights(plan: readonly ScopeRights[], permissionsAt: (scope: string) => readonly Permission[]): ScopeRights[] {
  return plan
    .map((s) => ({ scope: s.scope, actions: s.actions.filter((a) => !isAllowed(permissionsAt(s.scope), a.action)) }))
    .filter((s) => s.actions.length > 0);
}

/** Scopes the role listed last time and the new allowlist drops (ARM compares scopes case-insensitively). */
export function removedScopes(previousAssignable: readonly string[], allowedScopes: string, networkWatcherResourceGroups?: string): string[] {
  const keep = new Set([...splitScopes(allowedScopes), ...splitScopes(networkWatcherResourceGroups)].map((s) => s.toLowerCase()));
  return previousAssignable.filter((s) => !keep.has(s.replace(/\/+$/, "").toLowerCase()));
}

/** Does an assignment made at `assignmentScope` apply at `scope` (same scope or above it)? */
export function appliesAt(assignmentScope: string, scope: string): boolean {
  const a = assignmentScope.replace(/\/+$/, "").toLowerCase();
  const s = scope.toLowerCase();
  return a === "" || a === "/" || s === a || s.startsWith(`${a}/`);
}

const ARM_GUID_NAMESPACE = "11fb06fb-712d-4ddd-98c7-e71bbd588830";

/** ARM's guid(a, b, …): a version-5 UUID of the arguments joined with '-' under ARM's fixed namespace. */
export function armGuid(...parts: string[]): string {
  const namespace = Buffer.from(ARM_GUID_NAMESPACE.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(namespace).update(Buffer.from(parts.join("-"), "utf8")).digest().subarray(0, 16);
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The capture operator role's ID, as main.json names it: guid(subscription().id, environmentName, 'alertcap-capture-operator'). */
export function operatorRoleId(subscriptionId: string, environmentName: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${armGuid(`/subscriptions/${subscriptionId}`, environmentName, "alertcap-capture-operator")}`;
}
