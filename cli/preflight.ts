// `npm run preflight` (azd's preprovision hook, see azure.yaml): before anything is created, print every right the
// deployer lacks at each scope, and exit 1 if one is missing. When ALERTCAP_ALLOWED_SCOPES (or the watcher resource
// groups) got narrower since the last provision, delete alertcap's capture-operator assignments at the dropped scopes:
// their rights must go away, and Resource Manager refuses to shrink a custom role's assignable scopes while an
// assignment remains there (RoleScopeBeingRemovedContainsAssignments).
//
// Custom roles replicate across Azure's authorization stores with a delay, and an assignment made in another
// subscription right after the role is created can fail with RoleDefinitionDoesNotExist. So the preflight also puts
// the capture operator role in place itself, with the assignable scopes this provision will use (the template's PUT
// then only updates it), and waits, retrying, until every one of those scopes reads it back.
//
// Reads the azd environment (azd passes it to hooks): AZURE_SUBSCRIPTION_ID, AZURE_ENV_NAME, AZURE_PRINCIPAL_ID,
// ALERTCAP_ALLOWED_SCOPES, ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS, ALERTCAP_DURABLE_BACKEND, ALERTCAP_NOTIFY_*.
// Calls only Microsoft.Authorization's REST API (roleDefinitions get, roleAssignments list and delete, 2022-04-01).
import { AzureCliCredential, AzureDeveloperCliCredential, ChainedTokenCredential, type TokenCredential } from "@azure/identity";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import {
  type Permission,
  type ScopeRights,
  appliesAt,
  missingRights,
  operatorRoleId,
  planDeployerRights,
  removedScopes,
  splitScopes,
  validateScopes,
} from "./deployerRights.js";

export const API = "api-version=2022-04-01";

export interface ArmRequester {
  get(path: string): Promise<{ status: number; body: unknown }>;
  delete(path: string): Promise<{ status: number; body: unknown }>;
  put(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
}

export function armRequester(endpoint: string, credential: TokenCredential): ArmRequester {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const token = await credential.getToken(`${endpoint}/.default`);
    if (!token) throw new Error("no Azure token: run azd auth login");
    const url = path.startsWith("https://") || path.startsWith("http://") ? path : `${endpoint}${path}`;
    const headers: Record<string, string> = { authorization: `Bearer ${token.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  return { get: (p) => call("GET", p), delete: (p) => call("DELETE", p), put: (p, b) => call("PUT", p, b) };
}

export interface RoleAssignment {
  id: string;
  properties: { scope: string; roleDefinitionId: string; principalId: string; condition?: string | null };
}
export interface RoleDefinition {
  properties: { roleName?: string; description?: string; type?: string; permissions: Array<Permission & { dataActions?: string[]; notDataActions?: string[] }>; assignableScopes: string[] };
}

export const errorOf = (body: unknown): string => {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return e ? `${e.code ?? "error"}: ${e.message ?? ""}`.trim() : "unexpected response";
};

export async function listAll<T>(arm: ArmRequester, path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await arm.get(next);
    if (res.status !== 200) throw new Error(`GET ${next.split("?")[0]}: ${res.status} ${errorOf(res.body)}`);
    const page = res.body as { value?: T[]; nextLink?: string };
    out.push(...(page.value ?? []));
    next = page.nextLink;
  }
  return out;
}

export interface PreflightResult {
  missing: ScopeRights[];
  removed: string[];
  deleted: string[];
  problems: string[];
  /** Scopes that read the capture operator role back with this provision's assignable scopes. */
  replicatedAt: string[];
}

export interface PreflightOptions {
  /** false: --dry-run, change nothing. */
  apply?: boolean;
  /** The capture operator role's actions when the preflight creates it (the template then sets the full list). */
  operatorActions?: readonly string[];
  /** Waits between replication checks, in ms; their count bounds the wait. */
  replicationWaits?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_WAITS = [2_000, 4_000, 8_000, 15_000, 30_000, 30_000, 30_000, 60_000, 60_000, 60_000];

export async function runPreflight(env: Record<string, string | undefined>, arm: ArmRequester, print: (line: string) => void, options: PreflightOptions = {}): Promise<PreflightResult> {
  const apply = options.apply ?? true;
  const result: PreflightResult = { missing: [], removed: [], deleted: [], problems: [], replicatedAt: [] };
  const subscriptionId = env.AZURE_SUBSCRIPTION_ID?.trim();
  const environmentName = env.AZURE_ENV_NAME?.trim();
  const allowed = env.ALERTCAP_ALLOWED_SCOPES ?? "";
  const watchers = env.ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS ?? "";
  if (!subscriptionId || !environmentName) result.problems.push("AZURE_SUBSCRIPTION_ID and AZURE_ENV_NAME must be set (azd sets them: run this through azd, or set them)");
  if (splitScopes(allowed).length === 0) result.problems.push("ALERTCAP_ALLOWED_SCOPES is empty: azd env set ALERTCAP_ALLOWED_SCOPES /subscriptions/<id>[/resourceGroups/<rg>],…");
  result.problems.push(...validateScopes(splitScopes(allowed), "ALERTCAP_ALLOWED_SCOPES"), ...validateScopes(splitScopes(watchers), "ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS"));
  if (result.problems.length > 0 || !subscriptionId || !environmentName) {
    for (const p of result.problems) print(`preflight: ${p}`);
    return result;
  }

  // What the role allowed last time: a 404 means a first provision.
  const roleId = operatorRoleId(subscriptionId, environmentName);
  const role = await arm.get(`${roleId}?${API}`);
  let previous: string[] = [];
  const existing = role.status === 200 ? (role.body as RoleDefinition) : undefined;
  if (existing) previous = existing.properties.assignableScopes;
  else if (role.status !== 404) throw new Error(`GET ${roleId}: ${role.status} ${errorOf(role.body)}`);
  result.removed = removedScopes(previous, allowed, watchers);

  const plan = planDeployerRights({
    subscriptionId,
    allowedScopes: allowed,
    networkWatcherResourceGroups: watchers,
    ...(env.ALERTCAP_DURABLE_BACKEND ? { durableBackend: env.ALERTCAP_DURABLE_BACKEND } : {}),
    removedScopes: result.removed,
    notifySecretsGiven: Boolean(env.ALERTCAP_NOTIFY_URLS || env.ALERTCAP_NOTIFY_SECRET),
  });

  const principal = env.AZURE_PRINCIPAL_ID?.trim();
  if (!principal) {
    print("preflight: AZURE_PRINCIPAL_ID is not set, so the deployer's rights cannot be checked (azd sets it after azd auth login)");
  } else {
    const definitions = new Map<string, Permission[]>();
    const permissionsAt = new Map<string, Permission[]>();
    for (const { scope } of plan) {
      let assignments: RoleAssignment[];
      try {
        assignments = await listAll<RoleAssignment>(arm, `${scope}/providers/Microsoft.Authorization/roleAssignments?${API}&$filter=${encodeURIComponent(`assignedTo('${principal}')`)}`);
      } catch (e) {
        print(`preflight: cannot read your role assignments at ${scope} (${(e as Error).message}); counting every right there as missing`);
        permissionsAt.set(scope, []);
        continue;
      }
      const permissions: Permission[] = [];
      for (const a of assignments.filter((x) => appliesAt(x.properties.scope, scope))) {
        const id = a.properties.roleDefinitionId;
        if (!definitions.has(id.toLowerCase())) {
          const res = await arm.get(`${id}?${API}`);
          definitions.set(id.toLowerCase(), res.status === 200 ? (res.body as RoleDefinition).properties.permissions : []);
        }
        permissions.push(...definitions.get(id.toLowerCase())!);
      }
      permissionsAt.set(scope, permissions);
    }
    result.missing = missingRights(plan, (scope) => permissionsAt.get(scope) ?? []);
    for (const s of plan) {
      const missing = result.missing.find((m) => m.scope === s.scope);
      if (!missing) print(`ok       ${s.scope}`);
      else for (const a of missing.actions) print(`MISSING  ${s.scope}  ${a.action}  (${a.why})`);
    }
    if (result.missing.length > 0) {
      print("preflight: nothing was created. Ask an Owner of those scopes for the rights above (docs/deploy.md lists them), then run azd provision again.");
      return result;
    }
  }

  for (const scope of result.removed) {
    const assignments = await listAll<RoleAssignment>(arm, `${scope}/providers/Microsoft.Authorization/roleAssignments?${API}&$filter=${encodeURIComponent("atScope()")}`);
    const ours = assignments.filter((a) => a.properties.roleDefinitionId.toLowerCase() === roleId.toLowerCase() && a.properties.scope.toLowerCase() === scope.toLowerCase());
    for (const a of ours) {
      if (!apply) {
        print(`would remove alertcap's capture operator assignment at ${scope} (no longer allowlisted)`);
        continue;
      }
      const res = await arm.delete(`${a.id}?${API}`);
      if (res.status !== 200 && res.status !== 204) throw new Error(`DELETE ${a.id}: ${res.status} ${errorOf(res.body)}`);
      result.deleted.push(a.id);
      print(`removed  alertcap's capture operator assignment at ${scope} (no longer allowlisted)`);
    }
  }
  if (apply) await ensureOperatorRole(arm, roleId, existing, environmentName, [...new Set([...splitScopes(allowed), ...splitScopes(watchers)])], options, print, result);
  return result;
}

/** PUT the capture operator role with this provision's assignable scopes, then wait until each of them reads it. */
async function ensureOperatorRole(
  arm: ArmRequester,
  roleId: string,
  existing: RoleDefinition | undefined,
  environmentName: string,
  scopes: string[],
  options: PreflightOptions,
  print: (line: string) => void,
  result: PreflightResult,
): Promise<void> {
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.some((y) => y.toLowerCase() === x.toLowerCase()));
  if (!existing || !same(existing.properties.assignableScopes, scopes)) {
    const actions = existing?.properties.permissions[0]?.actions ?? options.operatorActions ?? [];
    const body = {
      properties: {
        roleName: existing?.properties.roleName ?? `alertcap capture operator (${environmentName}, ${roleId.split("/").pop()!.slice(0, 8)})`,
        description: existing?.properties.description ?? "alertcap: Network Watcher packet captures. Created by the preflight; azd provision sets its final actions (infra/alertcap-role.json).",
        type: "CustomRole",
        permissions: [{ actions, notActions: [], dataActions: [], notDataActions: [] }],
        assignableScopes: scopes,
      },
    };
    const res = await arm.put(`${roleId}?${API}`, body);
    if (res.status !== 200 && res.status !== 201) throw new Error(`PUT ${roleId}: ${res.status} ${errorOf(res.body)}`);
    print(`${existing ? "updated" : "created"}  the capture operator role's assignable scopes: ${scopes.join(", ")}`);
  }
  const guid = roleId.split("/").pop()!;
  const waits = options.replicationWaits ?? DEFAULT_WAITS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let pending = [...scopes];
  for (let attempt = 0; ; attempt++) {
    const still: string[] = [];
    for (const scope of pending) {
      const res = await arm.get(`${scope}/providers/Microsoft.Authorization/roleDefinitions/${guid}?${API}`);
      const seen = res.status === 200 ? (res.body as RoleDefinition).properties.assignableScopes : [];
      if (same(seen, scopes)) result.replicatedAt.push(scope);
      else still.push(scope);
    }
    pending = still;
    if (pending.length === 0) {
      print(`ok       the capture operator role is readable at ${scopes.length} scope(s)`);
      return;
    }
    if (attempt >= waits.length) throw new Error(`the capture operator role has not replicated to ${pending.join(", ")} yet; run azd provision again in a few minutes`);
    print(`waiting  for the capture operator role to replicate to ${pending.length} scope(s)…`);
    await sleep(waits[attempt]!);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dryRun = process.argv.includes("--dry-run");
  const endpoint = (process.env.AZURE_RESOURCE_MANAGER_ENDPOINT ?? "https://management.azure.com").replace(/\/+$/, "");
  const credential = new ChainedTokenCredential(new AzureDeveloperCliCredential(), new AzureCliCredential());
  const template = JSON.parse(readFileSync(new URL("../../infra/main.json", import.meta.url), "utf8")) as { variables: { operatorActions: string[] } };
  runPreflight(process.env, armRequester(endpoint, credential), (line) => console.log(line), { apply: !dryRun, operatorActions: template.variables.operatorActions }).then(
    (r) => {
      process.exitCode = r.problems.length > 0 || r.missing.length > 0 ? 1 : 0;
    },
    (e: unknown) => {
      console.error(`preflight: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
