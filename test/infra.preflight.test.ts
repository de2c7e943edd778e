// The preprovision preflight: which rights the deployer needs where, how RBAC wildcards grant them, and what a
// narrower allowlist removes. The local ARM emulator serves Network Watcher and Compute, not Microsoft.Authorization,
// so the end-to-end part runs against a small fake of the Authorization REST API (roleDefinitions get, roleAssignments
// list with $filter=assignedTo()/atScope(), delete; 2022-04-01 shapes) over HTTP.
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionMatches, armGuid, isAllowed, operatorRoleId, planDeployerRights, removedScopes } from "../cli/deployerRights.js";
import { armRequester, runPreflight } from "../cli/preflight.js";
import { removeCustomRoles, removeOperatorAssignments, storageRoleId } from "../cli/teardown.js";
import { type JsonObject, OTHER_SUBSCRIPTION, TEST_SUBSCRIPTION, mainTemplate } from "./infraArm.js";

const HOME = `/subscriptions/${TEST_SUBSCRIPTION}`;
const OTHER = `/subscriptions/${OTHER_SUBSCRIPTION}`;
const RG_WEB = `${HOME}/resourceGroups/rg-web`;
const NW_RG = `${HOME}/resourceGroups/NetworkWatcherRG`;
const ME = "0000aaaa-0000-4000-8000-000000000001";
const IDENTITY = "0000bbbb-0000-4000-8000-000000000002";

// Built-in role permissions (learn.microsoft.com built-in-roles: Owner, Contributor, User Access Administrator, Reader).
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const UAA = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const BUILT_IN: Record<string, { actions: string[]; notActions: string[] }> = {
  [OWNER]: { actions: ["*"], notActions: [] },
  [CONTRIBUTOR]: { actions: ["*"], notActions: ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action", "Microsoft.Blueprint/blueprintAssignments/write", "Microsoft.Blueprint/blueprintAssignments/delete", "Microsoft.Compute/galleries/share/action", "Microsoft.Purview/consents/write", "Microsoft.Purview/consents/delete", "Microsoft.Resources/deploymentStacks/manageDenySetting/action", "Microsoft.Subscription/cancel/action", "Microsoft.Subscription/enable/action"] },
  [UAA]: { actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"], notActions: [] },
};

describe("ARM's guid() and the operator role's ID", () => {
  it("is a version-5 UUID of the '-'-joined arguments under ARM's namespace (oracle: Python's uuid.uuid5)", () => {
    expect(armGuid("a", "b", "c")).toBe("a98fa280-e03f-5afa-8d8e-92d0a9c201e8");
    expect(operatorRoleId(TEST_SUBSCRIPTION, "alertcap-prod")).toBe(`${HOME}/providers/Microsoft.Authorization/roleDefinitions/7c37ea2a-6713-5be7-87ae-b961413a7ba6`);
  });

  it("uses the inputs main.json names the role with", () => {
    expect((mainTemplate().variables as JsonObject).operatorRoleGuid).toBe("[guid(subscription().id, parameters('environmentName'), 'alertcap-capture-operator')]");
  });
});

describe("RBAC wildcards", () => {
  it("match case-insensitively, * spanning segments, notActions subtracting within the same role", () => {
    expect(actionMatches("Microsoft.Authorization/*", "Microsoft.Authorization/roleAssignments/write")).toBe(true);
    expect(actionMatches("*/read", "Microsoft.Compute/virtualMachines/read")).toBe(true);
    expect(actionMatches("*/read", "Microsoft.Compute/virtualMachines/write")).toBe(false);
    expect(actionMatches("Microsoft.Authorization/*/Write", "microsoft.authorization/roledefinitions/write")).toBe(true);
    expect(isAllowed([BUILT_IN[CONTRIBUTOR]!], "Microsoft.Web/sites/write")).toBe(true);
    expect(isAllowed([BUILT_IN[CONTRIBUTOR]!], "Microsoft.Authorization/roleAssignments/write")).toBe(false);
    // Contributor + User Access Administrator together can do what Owner can for this deployment.
    expect(isAllowed([BUILT_IN[CONTRIBUTOR]!, BUILT_IN[UAA]!], "Microsoft.Authorization/roleAssignments/write")).toBe(true);
    expect(isAllowed([BUILT_IN[UAA]!], "Microsoft.Resources/deployments/write")).toBe(false);
  });
});

describe("the rights plan", () => {
  it("names the home subscription, every allowlisted scope and watcher group, and the dropped scopes", () => {
    const plan = planDeployerRights({ subscriptionId: TEST_SUBSCRIPTION, allowedScopes: `${RG_WEB}, ${OTHER}`, networkWatcherResourceGroups: NW_RG, removedScopes: [`${HOME}/resourceGroups/rg-old`] });
    expect(plan.map((s) => s.scope)).toEqual([HOME, RG_WEB, OTHER, NW_RG, `${HOME}/resourceGroups/rg-old`]);
    const at = (scope: string) => plan.find((s) => s.scope === scope)!.actions.map((a) => a.action);
    expect(at(HOME)).toEqual(expect.arrayContaining(["Microsoft.Resources/deployments/write", "Microsoft.Authorization/roleDefinitions/write", "Microsoft.KeyVault/vaults/write", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"]));
    expect(at(HOME)).not.toContain("Microsoft.DurableTask/schedulers/write");
    expect(at(OTHER)).toEqual(["Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/roleAssignments/write", "Microsoft.Resources/deployments/write"]);
    expect(at(`${HOME}/resourceGroups/rg-old`)).toContain("Microsoft.Authorization/roleAssignments/delete");
    expect(planDeployerRights({ subscriptionId: TEST_SUBSCRIPTION, allowedScopes: OTHER, durableBackend: "DurableTaskScheduler" })[0]!.actions.map((a) => a.action)).toContain("Microsoft.DurableTask/schedulers/write");
  });

  it("a scope dropped from the allowlist is found whatever its case or trailing slash", () => {
    expect(removedScopes([RG_WEB, OTHER, NW_RG], `${OTHER}/, ${RG_WEB.toUpperCase()}`)).toEqual([NW_RG]);
    expect(removedScopes([], OTHER)).toEqual([]);
  });
});

// ---- a fake of Microsoft.Authorization at its REST boundary -------------------------------------------------------

interface FakeAssignment {
  id: string;
  properties: { scope: string; roleDefinitionId: string; principalId: string; principalType: string };
}

class FakeAuthorization {
  /** By role GUID (lower case). */
  roles = new Map<string, { properties: { roleName: string; type: string; permissions: Array<{ actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }>; assignableScopes: string[] } }>();
  assignments: FakeAssignment[] = [];
  deleted: string[] = [];
  puts: Array<{ guid: string; assignableScopes: string[] }> = [];
  /** Reads at a scope outside the home subscription that still miss a role PUT there: replication delay. */
  replicationLag = 0;
  private lagLeft = new Map<string, number>();
  private server: Server | undefined;
  endpoint = "";

  constructor() {
    for (const [guid, p] of Object.entries(BUILT_IN)) {
      this.roles.set(guid, { properties: { roleName: guid, type: "BuiltInRole", permissions: [{ ...p, dataActions: [], notDataActions: [] }], assignableScopes: ["/"] } });
    }
  }

  assign(scope: string, principalId: string, roleDefinitionId: string): string {
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${armGuid(scope, principalId, roleDefinitionId)}`;
    this.assignments.push({ id, properties: { scope, roleDefinitionId, principalId, principalType: principalId === ME ? "User" : "ServicePrincipal" } });
    return id;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      const path = decodeURIComponent(url.pathname);
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      if (req.headers.authorization !== "Bearer test-token") return send(401, { error: { code: "AuthenticationFailed", message: "no token" } });
      if (url.searchParams.get("api-version") !== "2022-04-01") return send(400, { error: { code: "InvalidApiVersionParameter", message: "api-version" } });
      const roleDef = /^(.*)\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(path);
      if (req.method === "GET" && roleDef) {
        const guid = roleDef[2]!.toLowerCase();
        const lag = this.lagLeft.get(`${roleDef[1]!.toLowerCase()}|${guid}`) ?? 0;
        if (lag > 0) this.lagLeft.set(`${roleDef[1]!.toLowerCase()}|${guid}`, lag - 1);
        const role = lag > 0 ? undefined : this.roles.get(guid);
        return role ? send(200, { id: path, name: guid, type: "Microsoft.Authorization/roleDefinitions", ...role }) : send(404, { error: { code: "RoleDefinitionDoesNotExist", message: "The specified role definition does not exist." } });
      }
      if (req.method === "PUT" && roleDef) {
        let text = "";
        req.on("data", (c: Buffer) => (text += c.toString()));
        req.on("end", () => {
          const body = JSON.parse(text) as { properties: { roleName: string; type: string; permissions: Array<{ actions: string[]; notActions: string[]; dataActions: string[]; notDataActions: string[] }>; assignableScopes: string[] } };
          const guid = roleDef[2]!.toLowerCase();
          const dropped = (this.roles.get(guid)?.properties.assignableScopes ?? []).filter((x) => !body.properties.assignableScopes.some((y) => y.toLowerCase() === x.toLowerCase()));
          const blocking = this.assignments.filter((a) => a.properties.roleDefinitionId.toLowerCase().endsWith(guid) && dropped.some((d) => a.properties.scope.toLowerCase() === d.toLowerCase()));
          if (blocking.length > 0) return send(400, { error: { code: "RoleScopeBeingRemovedContainsAssignments", message: "assignments remain at a scope being removed" } });
          this.roles.set(guid, { properties: body.properties });
          this.puts.push({ guid, assignableScopes: body.properties.assignableScopes });
          for (const scope of body.properties.assignableScopes) if (!scope.toLowerCase().startsWith(HOME.toLowerCase())) this.lagLeft.set(`${scope.toLowerCase()}|${guid}`, this.replicationLag);
          send(200, { id: path, name: guid, type: "Microsoft.Authorization/roleDefinitions", ...body });
        });
        return;
      }
      const list = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments$/i.exec(path);
      if (req.method === "GET" && list) {
        const scope = list[1]!.toLowerCase();
        const filter = url.searchParams.get("$filter") ?? "";
        const assignedTo = /^assignedTo\('([^']+)'\)$/.exec(filter)?.[1];
        const related = (a: FakeAssignment) => {
          const s = a.properties.scope.toLowerCase();
          return scope === s || scope.startsWith(`${s}/`) || s.startsWith(`${scope}/`);
        };
        let value = this.assignments.filter(related);
        if (filter === "atScope()") value = value.filter((a) => scope === a.properties.scope.toLowerCase() || scope.startsWith(`${a.properties.scope.toLowerCase()}/`));
        else if (assignedTo) value = value.filter((a) => a.properties.principalId === assignedTo);
        else return send(400, { error: { code: "UnsupportedQuery", message: filter } });
        return send(200, { value: value.map((a) => ({ ...a, name: a.id.split("/").pop(), type: "Microsoft.Authorization/roleAssignments" })) });
      }
      if (req.method === "DELETE" && roleDef) {
        const guid = roleDef[2]!.toLowerCase();
        if (!this.roles.has(guid)) return send(204, null);
        if (this.assignments.some((a) => a.properties.roleDefinitionId.toLowerCase().endsWith(guid))) return send(409, { error: { code: "RoleDefinitionHasAssignments", message: "There are existing role assignments referencing role" } });
        const role = this.roles.get(guid);
        this.roles.delete(guid);
        return send(200, { id: path, name: guid, ...role });
      }
      if (req.method === "DELETE" && /\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/i.test(path)) {
        const i = this.assignments.findIndex((a) => a.id.toLowerCase() === path.toLowerCase());
        if (i < 0) return send(204, null);
        const [gone] = this.assignments.splice(i, 1);
        this.deleted.push(gone!.id);
        return send(200, gone);
      }
      send(404, { error: { code: "NotFound", message: `${req.method} ${path}` } });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.endpoint = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const credential = { getToken: async () => ({ token: "test-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };
const builtIn = (guid: string) => `/subscriptions/${TEST_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

describe("preflight against the Authorization API", () => {
  const fake = new FakeAuthorization();
  const roleId = operatorRoleId(TEST_SUBSCRIPTION, "alertcap-prod");
  const env = {
    AZURE_SUBSCRIPTION_ID: TEST_SUBSCRIPTION,
    AZURE_ENV_NAME: "alertcap-prod",
    AZURE_PRINCIPAL_ID: ME,
    ALERTCAP_ALLOWED_SCOPES: OTHER,
    ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS: NW_RG,
  };
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it("prints every missing right with its scope and reason, and deletes nothing", async () => {
    fake.assignments = [];
    fake.roles.delete(roleId.split("/").pop()!);
    fake.assign(HOME, ME, builtIn(OWNER));
    fake.assign(OTHER, ME, builtIn(CONTRIBUTOR));
    const lines: string[] = [];
    const r = await runPreflight(env, armRequester(fake.endpoint, credential), (l) => lines.push(l));
    expect(r.missing.map((m) => [m.scope, m.actions.map((a) => a.action)])).toEqual([[OTHER, ["Microsoft.Authorization/roleDefinitions/write", "Microsoft.Authorization/roleAssignments/write"]]]);
    expect(lines).toContain(`ok       ${HOME}`);
    expect(lines).toContain(`ok       ${NW_RG}`); // Owner of the home subscription covers its NetworkWatcherRG
    expect(lines.filter((l) => l.startsWith("MISSING"))).toEqual([
      `MISSING  ${OTHER}  Microsoft.Authorization/roleDefinitions/write  (the capture operator role lists this scope as assignable)`,
      `MISSING  ${OTHER}  Microsoft.Authorization/roleAssignments/write  (assigns the capture operator role to alertcap's identity here)`,
    ]);
    expect(fake.deleted).toEqual([]);
  });

  it("a narrower allowlist: alertcap's assignment at the dropped scope is deleted before provisioning, nothing else", async () => {
    fake.assignments = [];
    fake.deleted = [];
    fake.roles.set(roleId.split("/").pop()!, {
      properties: { roleName: "alertcap capture operator (alertcap-prod, x)", type: "CustomRole", permissions: [{ actions: ["Microsoft.Network/networkWatchers/read"], notActions: [], dataActions: [], notDataActions: [] }], assignableScopes: [RG_WEB, OTHER, NW_RG] },
    });
    fake.assign(HOME, ME, builtIn(OWNER));
    fake.assign(OTHER, ME, builtIn(OWNER));
    const ours = fake.assign(RG_WEB, IDENTITY, roleId);
    const kept = [fake.assign(OTHER, IDENTITY, roleId), fake.assign(RG_WEB, IDENTITY, builtIn(CONTRIBUTOR)), fake.assign(`${RG_WEB}/providers/Microsoft.Compute/virtualMachines/vm1`, IDENTITY, roleId)];
    const lines: string[] = [];
    const r = await runPreflight(env, armRequester(fake.endpoint, credential), (l) => lines.push(l));
    expect(r.missing).toEqual([]);
    expect(r.removed).toEqual([RG_WEB]);
    expect(fake.deleted).toEqual([ours]);
    expect(kept.every((id) => fake.assignments.some((a) => a.id === id))).toBe(true);
    expect(lines).toContain(`removed  alertcap's capture operator assignment at ${RG_WEB} (no longer allowlisted)`);
    // …so that the role's assignable scopes can shrink (the fake refuses, like ARM, while an assignment remains).
    expect(fake.puts.at(-1)).toEqual({ guid: roleId.split("/").pop(), assignableScopes: [OTHER, NW_RG] });
    expect(fake.roles.get(roleId.split("/").pop()!)!.properties.permissions[0]!.actions).toEqual(["Microsoft.Network/networkWatchers/read"]);
  });

  it("without the deletion, shrinking the role fails the way Resource Manager does", async () => {
    fake.assign(`${HOME}/resourceGroups/rg-other`, IDENTITY, roleId);
    fake.roles.get(roleId.split("/").pop()!)!.properties.assignableScopes.push(`${HOME}/resourceGroups/rg-other`);
    const res = await armRequester(fake.endpoint, credential).put(`${roleId}?api-version=2022-04-01`, { properties: { roleName: "x", type: "CustomRole", permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }], assignableScopes: [OTHER, NW_RG] } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toMatch(/RoleScopeBeingRemovedContainsAssignments/);
    fake.assignments = fake.assignments.filter((a) => !a.properties.scope.endsWith("rg-other"));
    fake.roles.get(roleId.split("/").pop()!)!.properties.assignableScopes.pop();
  });

  it("first provision: creates the role with the allowlisted scopes and waits, retrying, until each scope reads it", async () => {
    fake.assignments = [];
    fake.roles.delete(roleId.split("/").pop()!);
    fake.replicationLag = 3;
    fake.assign(HOME, ME, builtIn(OWNER));
    fake.assign(OTHER, ME, builtIn(OWNER));
    const lines: string[] = [];
    const waited: number[] = [];
    const r = await runPreflight(env, armRequester(fake.endpoint, credential), (l) => lines.push(l), { operatorActions: ["Microsoft.Network/networkWatchers/read"], replicationWaits: [1, 2, 3, 4, 5], sleep: async (ms) => void waited.push(ms) });
    expect(r.replicatedAt.sort()).toEqual([NW_RG, OTHER].sort());
    expect(waited).toEqual([1, 2, 3]);
    expect(lines.filter((l) => l.startsWith("waiting")).length).toBe(3);
    expect(lines.at(-1)).toBe("ok       the capture operator role is readable at 2 scope(s)");
    const role = fake.roles.get(roleId.split("/").pop()!)!;
    expect(role.properties).toMatchObject({ type: "CustomRole", assignableScopes: [OTHER, NW_RG], permissions: [{ actions: ["Microsoft.Network/networkWatchers/read"] }] });
    expect(role.properties.roleName).toMatch(/^alertcap capture operator \(alertcap-prod, /);
  });

  it("gives up with a clear line when replication takes longer than its waits", async () => {
    fake.roles.delete(roleId.split("/").pop()!);
    fake.replicationLag = 100;
    await expect(runPreflight(env, armRequester(fake.endpoint, credential), () => {}, { operatorActions: [], replicationWaits: [1], sleep: async () => {} })).rejects.toThrow(/has not replicated to .* yet; run azd provision again in a few minutes/);
    fake.replicationLag = 0;
  });

  it("--dry-run says what it would remove and removes nothing; bad scopes are refused before any call", async () => {
    fake.deleted = [];
    fake.roles.set(roleId.split("/").pop()!, { properties: { roleName: "alertcap capture operator (alertcap-prod, x)", type: "CustomRole", permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }], assignableScopes: [RG_WEB, OTHER, NW_RG] } });
    fake.assign(RG_WEB, IDENTITY, roleId);
    const lines: string[] = [];
    const before = fake.puts.length;
    await runPreflight(env, armRequester(fake.endpoint, credential), (l) => lines.push(l), { apply: false });
    expect(fake.puts.length).toBe(before);
    expect(fake.deleted).toEqual([]);
    expect(lines).toContain(`would remove alertcap's capture operator assignment at ${RG_WEB} (no longer allowlisted)`);
    const bad: string[] = [];
    const r = await runPreflight({ ...env, ALERTCAP_ALLOWED_SCOPES: "subscriptions/x" }, armRequester("http://127.0.0.1:1", credential), (l) => bad.push(l));
    expect(r.problems.join("\n")).toMatch(/subscriptions\/x is not \/subscriptions\/<id>/);
  });
});

describe("azd down removes what lives outside the resource group (predown/postdown hooks)", () => {
  const fake = new FakeAuthorization();
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it("the operator role's assignments at every assignable scope, in every subscription, then both custom roles", async () => {
    const roleId = operatorRoleId(TEST_SUBSCRIPTION, "alertcap-prod");
    const custom = (scopes: string[]) => ({ properties: { roleName: "alertcap", type: "CustomRole", permissions: [{ actions: [], notActions: [], dataActions: [], notDataActions: [] }], assignableScopes: scopes } });
    fake.roles.set(roleId.split("/").pop()!, custom([RG_WEB, OTHER, NW_RG]));
    fake.roles.set(storageRoleId(TEST_SUBSCRIPTION, "alertcap-prod").split("/").pop()!, custom([`${HOME}/resourceGroups/rg-alertcap-prod`]));
    const ours = [fake.assign(RG_WEB, IDENTITY, roleId), fake.assign(OTHER, IDENTITY, roleId), fake.assign(NW_RG, IDENTITY, roleId)];
    const foreign = fake.assign(OTHER, IDENTITY, builtIn(CONTRIBUTOR));
    const arm = armRequester(fake.endpoint, credential);
    const lines: string[] = [];
    // Before down, a role still assigned cannot go.
    expect(await removeCustomRoles(arm, TEST_SUBSCRIPTION, "alertcap-prod", (l) => lines.push(l))).toEqual([storageRoleId(TEST_SUBSCRIPTION, "alertcap-prod")]);
    expect(lines.join("\n")).toMatch(/could not remove custom role .*RoleDefinitionHasAssignments/);
    expect((await removeOperatorAssignments(arm, TEST_SUBSCRIPTION, "alertcap-prod", () => {})).sort()).toEqual([...ours].sort());
    expect(fake.assignments.map((a) => a.id)).toEqual([foreign]);
    expect(await removeCustomRoles(arm, TEST_SUBSCRIPTION, "alertcap-prod", () => {})).toEqual([roleId]);
    expect(await removeOperatorAssignments(arm, TEST_SUBSCRIPTION, "alertcap-prod", () => {})).toEqual([]);
  });

  it("azure.yaml runs them around azd down", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { REPO_ROOT } = await import("./infraArm.js");
    const yaml = readFileSync(join(REPO_ROOT, "azure.yaml"), "utf8");
    expect(yaml).toMatch(/predown:\n\s+posix:\n\s+shell: sh\n\s+run: npm run --silent teardown -- before-down/);
    expect(yaml).toMatch(/postdown:\n\s+posix:\n\s+shell: sh\n\s+run: npm run --silent teardown -- after-down/);
  });
});

describe("azure.yaml runs the preflight before provisioning", () => {
  it("as the preprovision hook, on every shell", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { REPO_ROOT } = await import("./infraArm.js");
    const yaml = readFileSync(join(REPO_ROOT, "azure.yaml"), "utf8");
    const hooks = yaml.slice(yaml.indexOf("\nhooks:"), yaml.indexOf("\nservices:"));
    expect(hooks).toMatch(/preprovision:\n\s+posix:\n\s+shell: sh\n\s+run: npm run --silent preflight\n\s+windows:\n\s+shell: pwsh\n\s+run: npm run --silent preflight/);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.preflight).toBe("tsc && node dist/cli/preflight.js");
  });
});
