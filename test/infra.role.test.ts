// The custom roles hold exactly what alertcap needs, derived here independently of infra/alertcap-role.json: from
// the SDK calls the Function App's code makes (found by reading the source the app loads), each mapped to the RBAC
// action Azure checks for it, plus what Network Watcher needs on the capture account. And they are assigned only
// where alertcap may act.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  INFRA_DIR,
  type JsonObject,
  OTHER_SUBSCRIPTION,
  REPO_ROOT,
  SAMPLE_ENV,
  type SimResource,
  TEST_SUBSCRIPTION,
  type Value,
  type ValueObject,
  mainTemplate,
  readJson,
  simulateAlertcap,
  str,
} from "./infraArm.js";

// ---------------------------------------------------------------------------------------------------------------
// Each SDK call → the action Resource Manager authorizes it with. An operation's action is its resource type plus
// read (GET), write (PUT), delete (DELETE) or <verb>/action (POST): MicrosoftDocs/azure-docs
// articles/role-based-access-control/resource-provider-operations.md, and for packet captures
// articles/network-watcher/required-rbac-permissions.md @ 30b18cc89240aed0e528e1e34b4a10e5ee0f65a8 ("Packet capture").
// Long-running calls are also polled: Azure-AsyncOperation / Location URLs under
// /subscriptions/{id}/providers/{namespace}/locations/{region}/operations|operationResults/{id}, which need their own
// read actions (articles/azure-resource-manager/management/async-operations.md, "Permission for tracking async
// status"; the operation names are in resource-provider-operations.md).

interface SdkOperation {
  http: string;
  actions: string[];
  /** Long-running: the SDK polls its status URL. */
  polls?: string[];
}

const NETWORK_LRO_STATUS = ["Microsoft.Network/locations/operations/read"];
const NETWORK_LRO_RESULT = ["Microsoft.Network/locations/operations/read", "Microsoft.Network/locations/operationResults/read"];
const COMPUTE_LRO = ["Microsoft.Compute/locations/operations/read"];

/** The one function whose ARM writes need the installAgent role actions (azure/packetCaptures.ts). */
const INSTALL_AGENT_FUNCTION = "installNetworkWatcherAgent";

const SDK_ACTIONS: Record<string, SdkOperation> = {
  "network.networkWatchers.listAll": { http: "GET /subscriptions/{s}/providers/Microsoft.Network/networkWatchers", actions: ["Microsoft.Network/networkWatchers/read"] },
  "network.packetCaptures.list": { http: "GET …/networkWatchers/{nw}/packetCaptures", actions: ["Microsoft.Network/networkWatchers/packetCaptures/read"] },
  "network.packetCaptures.get": { http: "GET …/packetCaptures/{name}", actions: ["Microsoft.Network/networkWatchers/packetCaptures/read"] },
  // create: final-state-via azure-async-operation (networkWatcher.json), then a final GET of the capture
  "network.packetCaptures.create": { http: "PUT …/packetCaptures/{name}", actions: ["Microsoft.Network/networkWatchers/packetCaptures/write", "Microsoft.Network/networkWatchers/packetCaptures/read"], polls: NETWORK_LRO_STATUS },
  // getStatus, stop, delete: final-state-via location
  "network.packetCaptures.getStatus": { http: "POST …/packetCaptures/{name}/queryStatus", actions: ["Microsoft.Network/networkWatchers/packetCaptures/queryStatus/action"], polls: NETWORK_LRO_RESULT },
  "network.packetCaptures.stop": { http: "POST …/packetCaptures/{name}/stop", actions: ["Microsoft.Network/networkWatchers/packetCaptures/stop/action"], polls: NETWORK_LRO_RESULT },
  "network.packetCaptures.delete": { http: "DELETE …/packetCaptures/{name}", actions: ["Microsoft.Network/networkWatchers/packetCaptures/delete"], polls: NETWORK_LRO_RESULT },
  "compute.virtualMachines.get": { http: "GET …/virtualMachines/{vm}?$expand=instanceView", actions: ["Microsoft.Compute/virtualMachines/read"] },
  // the agent install step reads the extension's provisioningState on durable timers
  "compute.virtualMachineExtensions.get": { http: "GET …/virtualMachines/{vm}/extensions/{name}", actions: ["Microsoft.Compute/virtualMachines/extensions/read"] },
  "compute.virtualMachineExtensions.list": { http: "GET …/virtualMachines/{vm}/extensions", actions: ["Microsoft.Compute/virtualMachines/extensions/read"] },
  "compute.virtualMachineExtensions.createOrUpdate": { http: "PUT …/virtualMachines/{vm}/extensions/{name}", actions: ["Microsoft.Compute/virtualMachines/extensions/write"], polls: COMPUTE_LRO },
  "compute.virtualMachineScaleSets.get": { http: "GET …/virtualMachineScaleSets/{vmss}", actions: ["Microsoft.Compute/virtualMachineScaleSets/read"] },
  "compute.virtualMachineScaleSetExtensions.createOrUpdate": { http: "PUT …/virtualMachineScaleSets/{vmss}/extensions/{name}", actions: ["Microsoft.Compute/virtualMachineScaleSets/extensions/write"], polls: COMPUTE_LRO },
  // agent presence on a scale set is read from its instances, not only the model
  "compute.virtualMachineScaleSetVMs.list": { http: "GET …/virtualMachineScaleSets/{vmss}/virtualMachines?$expand=instanceView", actions: ["Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"] },
  "compute.virtualMachineScaleSetVMs.get": { http: "GET …/virtualMachineScaleSets/{vmss}/virtualMachines/{id}?$expand=instanceView", actions: ["Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"] },
};

// What Network Watcher itself needs on the account it writes a capture to, checked against the identity that
// creates the capture: required-rbac-permissions.md, "Additional actions" (storageAccounts/Read, listServiceSas,
// listAccountSas, listKeys: "Used to fetch shared access signatures (SAS) enabling secure access to storage account
// and write to the storage account"). network-watcher.md §2: SAS is the only way it writes.
const NETWORK_WATCHER_STORAGE_NEEDS = [
  "Microsoft.Storage/storageAccounts/read",
  "Microsoft.Storage/storageAccounts/listServiceSas/action",
  "Microsoft.Storage/storageAccounts/listAccountSas/action",
  "Microsoft.Storage/storageAccounts/listKeys/action",
];

// Data-plane calls in azure/captureFiles.ts (Blob storage, with the identity) → data actions; Storage Blob Data
// Contributor grants blobs/read, write, delete, add/action, move/action (articles/role-based-access-control/
// built-in-roles/storage.md).
const BLOB_DATA_ACTIONS: Record<string, string> = {
  getProperties: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
  download: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
  upload: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
};
const STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";

// ---------------------------------------------------------------------------------------------------------------
// The source the Function App loads: package.json `main` (functions/, orchestrators/, activities/) and every
// relative import reachable from there. azure/monitorRules.ts (the setup-alert CLI, run as the operator) is not.

function appSources(): string[] {
  const pkg = readJson(join(REPO_ROOT, "package.json")) as JsonObject;
  const roots = /\{([^}]+)\}/.exec(String(pkg.main))?.[1]?.split(",") ?? [];
  expect(roots.length).toBeGreaterThan(0);
  const queue = roots.flatMap((dir) => readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith(".ts")).map((f) => join(REPO_ROOT, dir, f)));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)"(\.{1,2}\/[^"]+)\.js"/g)) queue.push(resolve(dirname(file), `${m[1]}.ts`));
  }
  return [...seen].map((f) => relative(REPO_ROOT, f)).sort();
}

interface Call {
  key: string;
  file: string;
  /** The enclosing function: calls inside installNetworkWatcherAgent() only happen with ALERTCAP_INSTALL_AGENT=true. */
  fn: string;
}

function enclosingFunction(text: string, at: number): string {
  let name = "";
  for (const m of text.matchAll(/(?:async\s+)?function\s+(\w+)\s*\(/g)) if (m.index! < at) name = m[1]!;
  return name;
}

function armCalls(files: string[]): Call[] {
  return files.flatMap((file) => {
    const text = readFileSync(join(REPO_ROOT, file), "utf8");
    return [...text.matchAll(/\.(network|compute)\s*\.\s*(\w+)\s*\.\s*(\w+)\s*\(/g)].map((m) => ({ key: `${m[1]}.${m[2]}.${m[3]}`, file, fn: enclosingFunction(text, m.index!) }));
  });
}

function neededActions(installAgent: boolean): Set<string> {
  const needed = new Set(NETWORK_WATCHER_STORAGE_NEEDS);
  for (const call of armCalls(appSources())) {
    if (call.fn === INSTALL_AGENT_FUNCTION && !installAgent) continue;
    const op = SDK_ACTIONS[call.key];
    if (!op) throw new Error(`${call.file}: ${call.key} has no entry in SDK_ACTIONS`);
    for (const a of [...op.actions, ...(op.polls ?? [])]) needed.add(a);
  }
  return needed;
}

// ---------------------------------------------------------------------------------------------------------------

const roleFile = readJson(join(INFRA_DIR, "alertcap-role.json")) as JsonObject;
const roles = roleFile.roles as Record<string, { actions: Array<{ action: string; why: string }>; installAgentActions?: Array<{ action: string; why: string }> }>;
const listed = (entries: Array<{ action: string }> | undefined) => (entries ?? []).map((e) => e.action);

const roleDefinitions = (resources: SimResource[]) => resources.filter((r) => r.type === "Microsoft.Authorization/roleDefinitions");
const roleAssignments = (resources: SimResource[]) => resources.filter((r) => r.type === "Microsoft.Authorization/roleAssignments");
const permissionsOf = (r: SimResource) => ((r.evaluated.properties as ValueObject).permissions as ValueObject[])[0]!;
const actionsOf = (r: SimResource) => (permissionsOf(r).actions as Value[]).map(str);
const roleGuidOf = (assignment: SimResource) => str((assignment.evaluated.properties as ValueObject).roleDefinitionId ?? null).split("/").at(-1)!;
const roleNameOf = (d: SimResource) => str((d.evaluated.properties as ValueObject).roleName ?? null);
const lower = (xs: Iterable<string>) => new Set([...xs].map((x) => x.toLowerCase()));

describe("the SDK calls alertcap makes", () => {
  it("come from the source the Function App loads, and each one has its RBAC action in the table", () => {
    const files = appSources();
    expect(files).toContain("azure/packetCaptures.ts");
    expect(files).toContain("azure/captureFiles.ts");
    const calls = armCalls(files);
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(calls.filter((c) => !SDK_ACTIONS[c.key]).map((c) => `${c.file}: ${c.key}`)).toEqual([]);
    // every row of the table is still used: no stale permission survives a refactoring
    expect(Object.keys(SDK_ACTIONS).filter((k) => !calls.some((c) => c.key === k))).toEqual([]);
  });

  it("install the agent only from installNetworkWatcherAgent()", () => {
    const writes = armCalls(appSources()).filter((c) => c.key.endsWith(".createOrUpdate"));
    expect(writes.length).toBe(2);
    expect(writes.every((c) => c.fn === INSTALL_AGENT_FUNCTION)).toBe(true);
  });

  it("read and write capture files through Blob data calls the capture container's role covers", () => {
    const text = readFileSync(join(REPO_ROOT, "azure/captureFiles.ts"), "utf8");
    const used = Object.keys(BLOB_DATA_ACTIONS).filter((op) => new RegExp(`\\.${op}\\(`).test(text));
    expect(used.sort()).toEqual(["download", "getProperties", "upload"]);
    const { sim } = simulateAlertcap();
    const containers = sim.resources.filter((r) => r.type === "Microsoft.Storage/storageAccounts/blobServices/containers" && r.name.endsWith("/network-watcher-logs"));
    expect(containers.length).toBe(2);
    for (const container of containers) {
      const onIt = roleAssignments(sim.resources).filter((a) => a.appliesTo.toLowerCase() === container.id.toLowerCase());
      expect(onIt.map(roleGuidOf)).toEqual([STORAGE_BLOB_DATA_CONTRIBUTOR]);
    }
  });
});

describe("report links (issue 12.6)", () => {
  // Get User Delegation Key (POST ?restype=service&comp=userdelegationkey) is authorized by
  // Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action, which can be granted at the storage
  // account or above, not on a container; the built-in Storage Blob Delegator role holds exactly that action.
  const STORAGE_BLOB_DELEGATOR = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a";

  it("are signed with a user delegation key, which Storage Blob Delegator on each capture account (and nowhere else) lets the identity ask for", () => {
    expect(appSources()).toContain("azure/reportLinks.ts");
    const text = readFileSync(join(REPO_ROOT, "azure/reportLinks.ts"), "utf8");
    expect(text).toMatch(/\.getUserDelegationKey\(/);
    const { sim } = simulateAlertcap();
    const accounts = sim.resources.filter((r) => r.type === "Microsoft.Storage/storageAccounts" && r.name.startsWith("stcap")).map((r) => r.id);
    expect(accounts.length).toBe(2);
    const delegator = roleAssignments(sim.resources).filter((a) => roleGuidOf(a) === STORAGE_BLOB_DELEGATOR);
    expect(delegator.map((a) => a.appliesTo).sort()).toEqual(accounts.sort());
    const identity = sim.resources.find((r) => r.type === "Microsoft.ManagedIdentity/userAssignedIdentities" && !r.name.includes("-deploy-"))!;
    for (const a of delegator) expect(str((a.evaluated.properties as ValueObject).principalId!)).toBe(`«reference(${identity.id}).principalId»`);
  });
});

describe("the custom roles", () => {
  it("in the template are the lists of infra/alertcap-role.json", () => {
    const variables = mainTemplate().variables as JsonObject;
    expect(variables.operatorActions).toEqual(listed(roles.captureOperator!.actions));
    expect(variables.operatorInstallAgentActions).toEqual(listed(roles.captureOperator!.installAgentActions));
    expect(variables.storageActions).toEqual(listed(roles.captureStorage!.actions));
  });

  for (const installAgent of [false, true]) {
    it(`hold exactly the needed actions with installAgent=${installAgent}`, () => {
      const { sim } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_INSTALL_AGENT: String(installAgent) });
      expect(sim.problems).toEqual([]);
      const defs = roleDefinitions(sim.resources);
      expect(defs.length).toBe(2);
      const granted = defs.flatMap(actionsOf);
      expect(granted.length, "no action twice").toBe(new Set(granted.map((a) => a.toLowerCase())).size);
      expect([...lower(granted)].sort()).toEqual([...lower(neededActions(installAgent))].sort());
      for (const def of defs) {
        const p = permissionsOf(def);
        expect(p.notActions).toEqual([]);
        expect(p.dataActions).toEqual([]);
        expect(actionsOf(def).filter((a) => a.includes("*"))).toEqual([]);
      }
      const writes = granted.filter((a) => /\/write$/i.test(a) && !/packetCaptures/i.test(a));
      expect(writes.length > 0).toBe(installAgent);
    });
  }

  it("keep listKeys and the SAS actions apart from the allowlisted scopes", () => {
    const { sim } = simulateAlertcap();
    const [operator, storage] = ["alertcap capture operator", "alertcap capture storage"].map((name) =>
      roleDefinitions(sim.resources).find((d) => roleNameOf(d).startsWith(name))!,
    );
    expect(actionsOf(operator!).filter((a) => a.startsWith("Microsoft.Storage/"))).toEqual([]);
    expect(actionsOf(storage!).every((a) => a.startsWith("Microsoft.Storage/storageAccounts/"))).toBe(true);
  });
});

describe("role assignments", () => {
  const { sim } = simulateAlertcap();
  const assignments = roleAssignments(sim.resources);
  const definitions = roleDefinitions(sim.resources);
  const guidOf = (namePrefix: string) => definitions.find((d) => roleNameOf(d).startsWith(namePrefix))!.name;
  const operatorGuid = guidOf("alertcap capture operator");
  const storageGuid = guidOf("alertcap capture storage");
  const allowed = SAMPLE_ENV.ALERTCAP_ALLOWED_SCOPES!.split(",").map((s) => s.trim());
  const watchers = SAMPLE_ENV.ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS!.split(",");

  it("give the capture operator role at each allowlisted scope and watcher resource group, and nowhere else", () => {
    const scopes = assignments.filter((a) => roleGuidOf(a) === operatorGuid).map((a) => a.appliesTo);
    expect(allowed).toContain(`/subscriptions/${OTHER_SUBSCRIPTION}`);
    expect(allowed).toContain(`/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/rg-web`);
    expect([...lower(scopes)].sort()).toEqual([...lower([...allowed, ...watchers])].sort());
    expect(scopes.length).toBe(allowed.length + watchers.length);
    const def = definitions.find((d) => d.name === operatorGuid)!;
    expect(((def.evaluated.properties as ValueObject).assignableScopes as Value[]).map(str).sort()).toEqual([...allowed, ...watchers].sort());
  });

  it("give exactly the allowlist when it holds whole subscriptions only", () => {
    const scopes = [`/subscriptions/${TEST_SUBSCRIPTION}`, `/subscriptions/${OTHER_SUBSCRIPTION}`];
    const { sim: s } = simulateAlertcap({ AZURE_ENV_NAME: "e", AZURE_LOCATION: "westeurope", ALERTCAP_ALLOWED_SCOPES: scopes.join(",") });
    expect(s.problems).toEqual([]);
    const operator = roleDefinitions(s.resources).find((d) => roleNameOf(d).startsWith("alertcap capture operator"))!;
    const at = roleAssignments(s.resources).filter((a) => roleGuidOf(a) === operator.name).map((a) => a.appliesTo);
    expect(at.sort()).toEqual(scopes.sort());
  });

  it("give the capture storage role on each capture account only, and the operator role on none of them", () => {
    const accounts = sim.resources.filter((r) => r.type === "Microsoft.Storage/storageAccounts" && r.name.startsWith("stcap")).map((r) => r.id);
    expect(accounts.length).toBe(2);
    const at = assignments.filter((a) => roleGuidOf(a) === storageGuid).map((a) => a.appliesTo);
    expect(at.sort()).toEqual(accounts.sort());
  });

  it("go to alertcap's identity as a service principal; only the package container's to the deployment identity", () => {
    const identities = sim.resources.filter((r) => r.type === "Microsoft.ManagedIdentity/userAssignedIdentities");
    const app = identities.find((r) => !r.name.includes("-deploy-"))!;
    const deploy = identities.find((r) => r.name.includes("-deploy-"))!;
    expect(identities.length).toBe(2);
    const packageContainer = sim.resources.find((r) => r.type === "Microsoft.Storage/storageAccounts/blobServices/containers" && r.name.startsWith("stpkg"))!;
    for (const a of assignments) {
      const props = a.evaluated.properties as ValueObject;
      const owner = a.appliesTo === packageContainer.id ? deploy : app;
      expect({ at: a.appliesTo, principal: str(props.principalId!), type: props.principalType }).toEqual({ at: a.appliesTo, principal: `«reference(${owner.id}).principalId»`, type: "ServicePrincipal" });
    }
    expect(assignments.filter((a) => a.appliesTo === packageContainer.id).map(roleGuidOf)).toEqual(["ba92f5b4-2d11-453d-a403-e96b0029c9fe"]);
    const site = sim.resources.find((r) => r.type === "Microsoft.Web/sites")!;
    const identity = site.evaluated.identity as ValueObject;
    expect(identity.type).toBe("UserAssigned");
    expect(Object.keys(identity.userAssignedIdentities as ValueObject)).toEqual([app.id, deploy.id]);
    // The code's credential, the host's storage connection and Key Vault references all use alertcap's identity.
    const props = site.evaluated.properties as ValueObject;
    expect(props.keyVaultReferenceIdentity).toBe(app.id);
    const settings = Object.fromEntries(((props.siteConfig as ValueObject).appSettings as Array<{ name: string; value: Value }>).map((s) => [s.name, str(s.value)]));
    expect(settings.AZURE_CLIENT_ID).toBe(`«reference(${app.id}).clientId»`);
    expect(settings.AzureWebJobsStorage__clientId).toBe(`«reference(${app.id}).clientId»`);
    expect(Object.values(settings).filter((v) => v.includes(deploy.id))).toEqual([]);
  });

  it("give the identity data roles only on its own storage and telemetry", () => {
    const builtIn = assignments.filter((a) => roleGuidOf(a) !== operatorGuid && roleGuidOf(a) !== storageGuid);
    const rg = `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/rg-alertcap-prod/`;
    expect(builtIn.every((a) => a.appliesTo.startsWith(rg))).toBe(true);
    const taskHub = sim.resources.find((r) => r.type === "Microsoft.Storage/storageAccounts" && /^st(?!cap|pkg)/.test(r.name))!;
    const onTaskHub = builtIn.filter((a) => a.appliesTo === taskHub.id).map(roleGuidOf).sort();
    // Storage Blob Data Owner, Queue Data Contributor, Table Data Contributor: what identity-based AzureWebJobsStorage
    // with Durable Functions needs (learn.microsoft.com, "Connecting to host storage with an identity")
    expect(onTaskHub).toEqual(["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"]);
    const appInsights = sim.resources.find((r) => r.type === "Microsoft.Insights/components")!;
    expect(builtIn.filter((a) => a.appliesTo === appInsights.id).map(roleGuidOf)).toEqual(["3913510d-42f4-4e42-8a64-420c390055eb"]);
    // Key Vault Secrets User on alertcap's vault, and on nothing else.
    const vault = sim.resources.find((r) => r.type === "Microsoft.KeyVault/vaults")!;
    expect(builtIn.filter((a) => roleGuidOf(a) === "4633458b-17de-408a-b874-0445c86b69e6").map((a) => a.appliesTo)).toEqual([vault.id]);
  });
});

describe("docs/azure-resources.md", () => {
  it("explains every action of the custom roles", () => {
    const readme = readFileSync(join(REPO_ROOT, "docs", "azure-resources.md"), "utf8");
    const all = [...roles.captureOperator!.actions, ...(roles.captureOperator!.installAgentActions ?? []), ...roles.captureStorage!.actions];
    expect(all.filter((a) => !readme.includes(`\`${a.action}\``)).map((a) => a.action)).toEqual([]);
    expect(all.filter((a) => a.why.length < 20).map((a) => a.action)).toEqual([]);
  });
});
