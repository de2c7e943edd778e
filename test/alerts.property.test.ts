import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyseResourceId, parseCaptureTarget } from "../domain/alerts/armId.js";
import { decideAlert, decideAlertText, type AlertDecision } from "../domain/alerts/decide.js";
import { captureInstanceId } from "../domain/alerts/instanceId.js";
import { isInScope } from "../domain/alerts/scopes.js";

// Whatever arrives, intake must answer quickly with a decision that holds together: never an exception, never a
// hang, a sentence for a reason, and a capture or stop only with valid targets taken from the alert itself.

const fixtures = path.join(process.cwd(), "test", "fixtures", "alerts");
const samples = readdirSync(fixtures)
  .filter((name) => name.endsWith(".json"))
  .map((name) => ({ name, body: JSON.parse(readFileSync(path.join(fixtures, name), "utf8")) as unknown }));
const validSamples = samples.filter(({ body }) => decideAlert(body).decision !== "reject");

const MAX_MILLISECONDS_PER_DECISION = 1000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function decideTimed(decide: () => AlertDecision): AlertDecision {
  const started = performance.now();
  const decision = decide();
  expect(performance.now() - started).toBeLessThan(MAX_MILLISECONDS_PER_DECISION);
  return decision;
}

function expectCoherent(decision: AlertDecision): void {
  expect(["capture", "stop", "ignore", "reject"]).toContain(decision.decision);
  expect(typeof decision.reason).toBe("string");
  expect(decision.reason.trim().length).toBeGreaterThan(0);
  expect(decision.reason).not.toMatch(CONTROL);
  expect(() => JSON.stringify(decision)).not.toThrow();
  if (decision.decision === "capture" || decision.decision === "stop") {
    expect(decision.schema).not.toBeNull();
    expect(decision.targets.length).toBeGreaterThan(0);
    expect(decision.target).toBe(decision.targets[0]?.id);
    const candidates = new Set(decision.alert?.candidateTargetIds.map((id) => id.toLowerCase()));
    for (const target of decision.targets) {
      expect(parseCaptureTarget(target.id)).toEqual({ ok: true, target });
      expect(candidates.has(target.key)).toBe(true);
    }
    expect(new Set(decision.targets.map((t) => t.key)).size).toBe(decision.targets.length);
    expect(decision.alert?.condition).toBe(decision.decision === "capture" ? "Fired" : "Resolved");
  } else {
    expect(decision.target).toBeNull();
    expect(decision.targets).toEqual([]);
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type PathStep = string | number;

/** Every path to a value inside the document, the root excluded. */
function pathsOf(value: Json, prefix: PathStep[] = []): PathStep[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  }
  return [];
}

type Mutation =
  | { op: "delete" }
  | { op: "replace"; value: Json }
  | { op: "retype" }
  | { op: "huge" }
  | { op: "deep"; depth: number }
  | { op: "proto"; value: Json };

// Applies the mutation at the path, on a copy. `__proto__` is set the way JSON.parse sets it: as an own property.
function mutate(document: Json, at: PathStep[], mutation: Mutation): Json {
  const copy = JSON.parse(JSON.stringify(document)) as Json;
  const parentPath = at.slice(0, -1);
  const key = at.at(-1);
  // An earlier mutation may have removed or replaced the parent: then this one has nothing to act on.
  let parent: Json | undefined = copy;
  for (const step of parentPath) {
    parent = parent !== null && typeof parent === "object" ? (parent as Record<PathStep, Json>)[step] : undefined;
  }
  if (key === undefined || parent === undefined || parent === null || typeof parent !== "object") return copy;
  const container = parent as Record<PathStep, Json>;
  const current = container[key] as Json;
  switch (mutation.op) {
    case "delete":
      if (Array.isArray(container) && typeof key === "number") container.splice(key, 1);
      else delete container[key];
      break;
    case "replace":
      container[key] = mutation.value;
      break;
    case "retype":
      container[key] =
        typeof current === "string" ? Number(current.length) : typeof current === "number" ? String(current) : current === null ? {} : [current];
      break;
    case "huge":
      container[key] = "A".repeat(300_000);
      break;
    case "deep": {
      let nested: Json = current;
      for (let i = 0; i < mutation.depth; i++) nested = i % 2 === 0 ? [nested] : { d: nested };
      container[key] = nested;
      break;
    }
    case "proto":
      if (!Array.isArray(container)) {
        Object.defineProperty(container, "__proto__", { value: mutation.value, enumerable: true, writable: true, configurable: true });
      }
      break;
  }
  return copy;
}

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ op: "delete" }),
  fc.jsonValue({ maxDepth: 3 }).map((value): Mutation => ({ op: "replace", value: value as Json })),
  fc.constant<Mutation>({ op: "retype" }),
  fc.constant<Mutation>({ op: "huge" }),
  // Bounded so the test's own JSON.stringify (recursive) copes with three of them; far deeper values are below.
  fc.integer({ min: 1, max: 600 }).map((depth): Mutation => ({ op: "deep", depth })),
  fc.jsonValue({ maxDepth: 2 }).map((value): Mutation => ({ op: "proto", value: value as Json })),
);

const sampleWithMutation = fc
  .constantFrom(...samples)
  .chain(({ name, body }) => {
    const paths = pathsOf(body as Json);
    return fc.record({
      name: fc.constant(name),
      body: fc.constant(body as Json),
      mutations: fc.array(fc.tuple(fc.constantFrom(...paths), mutationArbitrary), { minLength: 1, maxLength: 3 }),
    });
  });

describe("intake on arbitrary input", () => {
  it("answers every JSON value with a coherent reject or ignore", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const decision = decideTimed(() => decideAlert(value));
        expectCoherent(decision);
        expect(["reject", "ignore"]).toContain(decision.decision);
        expectCoherent(decideTimed(() => decideAlertText(JSON.stringify(value) ?? "")));
      }),
      { numRuns: 400 },
    );
  });

  it("answers every string, JSON or not, with a coherent decision", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.json({ maxDepth: 4 })), (text) => {
        expectCoherent(decideTimed(() => decideAlertText(text)));
      }),
      { numRuns: 200 },
    );
  });

  it("answers alert-shaped objects with arbitrary field values coherently", () => {
    const anything = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("Fired", "Resolved", "Activated", "Metric", "Event"));
    const essentials = fc.dictionary(
      fc.constantFrom("alertId", "alertRule", "severity", "monitorCondition", "monitoringService", "alertTargetIDs", "signalType"),
      anything,
    );
    const shaped = fc.oneof(
      fc.record({ schemaId: fc.constantFrom("azureMonitorCommonAlertSchema", "AzureMonitorMetricAlert", "Microsoft.Insights/activityLogs", "Microsoft.Insights/LogAlert"), data: fc.record({ essentials, alertContext: anything, context: anything, status: anything }) }),
      fc.record({ status: anything, context: fc.record({ conditionType: anything, resourceId: anything, name: anything }) }),
      fc.record({ AlertRuleName: anything, SearchQuery: anything, WorkspaceId: anything, ResourceId: anything, SearchResult: anything }),
    );
    fc.assert(
      fc.property(shaped, (body) => expectCoherent(decideTimed(() => decideAlert(body)))),
      { numRuns: 400 },
    );
  });
});

describe("intake on mutated official and synthetic samples", () => {
  it("stays coherent whatever is deleted, replaced, retyped, bloated, nested or prototyped", () => {
    fc.assert(
      fc.property(sampleWithMutation, ({ body, mutations }) => {
        const mutated = mutations.reduce((doc, [at, mutation]) => mutate(doc, at, mutation), body);
        expectCoherent(decideTimed(() => decideAlert(mutated)));
        const text = JSON.stringify(mutated);
        expectCoherent(decideTimed(() => decideAlertText(text)));
      }),
      { numRuns: 250 },
    );
  });

  it("copes with values nested 100,000 deep anywhere", () => {
    const deep = (() => {
      let value: Json = "bottom";
      for (let i = 0; i < 100_000; i++) value = i % 2 === 0 ? [value] : { d: value };
      return value;
    })();
    const sample = fc.constantFrom(...samples).chain(({ body }) =>
      fc.record({ body: fc.constant(body as Json), at: fc.constantFrom(...pathsOf(body as Json)) }),
    );
    fc.assert(
      fc.property(sample, ({ body, at }) => {
        const copy = JSON.parse(JSON.stringify(body)) as Json;
        const parent = at.slice(0, -1).reduce<Json>((n, step) => (n as Record<PathStep, Json>)[step] as Json, copy);
        (parent as Record<PathStep, Json>)[at.at(-1) as PathStep] = deep;
        expectCoherent(decideTimed(() => decideAlert(copy)));
      }),
      { numRuns: 100 },
    );
  });

  it("decides the same when unknown fields are added anywhere", () => {
    const sample = fc.constantFrom(...validSamples).chain(({ body }) => {
      const objectPaths = [[], ...pathsOf(body as Json)].filter((at) => {
        const value = at.reduce<Json>((node, step) => (node as Record<PathStep, Json>)[step] as Json, body as Json);
        return value !== null && typeof value === "object" && !Array.isArray(value);
      });
      return fc.record({
        body: fc.constant(body as Json),
        at: fc.constantFrom(...objectPaths),
        key: fc.string({ minLength: 1, maxLength: 12 }).map((k) => `x-extra-${k}`),
        value: fc.jsonValue({ maxDepth: 3 }),
      });
    });
    fc.assert(
      fc.property(sample, ({ body, at, key, value }) => {
        const copy = JSON.parse(JSON.stringify(body)) as Json;
        const node = at.reduce<Json>((n, step) => (n as Record<PathStep, Json>)[step] as Json, copy) as Record<string, Json>;
        node[key] = value as Json;
        const before = decideAlert(body);
        const after = decideAlert(copy);
        expect({ decision: after.decision, target: after.target, schema: after.schema }).toEqual({
          decision: before.decision,
          target: before.target,
          schema: before.schema,
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe("resource IDs", () => {
  const guid = fc.uuid();
  const nameChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!()~'^");
  const computeName = fc
    .tuple(fc.constantFrom(..."abcXYZ019"), fc.array(nameChar, { maxLength: 40 }), fc.constantFrom(..."abcXYZ019_"))
    .map(([first, middle, last]) => `${first}${middle.join("")}${last}`);
  const resourceGroup = fc
    // ASCII only: alertcap refuses the non-ASCII names Azure allows (see alerts.scopes.test.ts).
    .tuple(fc.array(fc.constantFrom(..."abcRG019-_()."), { minLength: 0, maxLength: 40 }), fc.constantFrom(..."aZ9_)"))
    .map(([body, last]) => `${body.join("")}${last}`);

  it("parses every well-formed VM ID into its parts, with a valid instance ID and its own scopes", () => {
    fc.assert(
      fc.property(guid, resourceGroup, computeName, fc.boolean(), (subscription, rg, name, upper) => {
        const raw = `/subscriptions/${subscription}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
        const id = upper ? raw.toUpperCase() : raw;
        const parsed = parseCaptureTarget(id);
        if (!parsed.ok) throw new Error(parsed.error);
        expect(parsed.target).toMatchObject({ id, key: id.toLowerCase(), kind: "virtualMachine" });
        expect(parsed.target.name.toLowerCase()).toBe(name.toLowerCase());
        const instanceId = captureInstanceId(parsed.target);
        expect(instanceId.length).toBeLessThanOrEqual(100);
        expect(instanceId).toMatch(/^cap-vm-[a-z0-9._-]*[0-9a-f]{12}$/);
        expect(isInScope(parsed.target, [`/subscriptions/${subscription}`])).toBe(true);
        expect(isInScope(parsed.target, [`/subscriptions/${subscription}/resourceGroups/${rg}x`])).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("classifies any string without throwing, and only ever captures what parses back to itself", () => {
    const segment = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("subscriptions", "resourceGroups", "providers", "Microsoft.Compute", "virtualMachines", "virtualMachineScaleSets", "..", ""));
    const pathLike = fc.array(segment, { maxLength: 10 }).map((parts) => `/${parts.join("/")}`);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), pathLike), (value) => {
        const analysis = analyseResourceId(value);
        expect(["capturable", "notCapturable", "malformed"]).toContain(analysis.kind);
        if (analysis.kind === "capturable") {
          expect(analysis.target.id).toBe(value.trim());
          expect(captureInstanceId(analysis.target)).not.toMatch(/[/\\#?\u0000-\u001f]/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
