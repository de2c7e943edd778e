// Offline checks for ARM JSON templates: the expression language (parse, check, evaluate), a deployment simulator
// that expands copy loops, conditions and nested deployments the way Resource Manager does, and JSON Schema
// validation against the official schemas vendored under infra/schemas/. Nothing here talks to Azure: the Bicep
// compiler and `az deployment validate` need a download or a subscription, CI has neither (infra/README.md).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import AjvModule, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// Both are CommonJS: under NodeNext their default exports arrive as the module objects.
const Ajv = AjvModule.default;
type Ajv = InstanceType<typeof Ajv>;
const addFormats = addFormatsModule.default;

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const INFRA_DIR = join(REPO_ROOT, "infra");
export const SCHEMA_DIR = join(INFRA_DIR, "schemas");

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const readJson = (path: string): Json => JSON.parse(readFileSync(path, "utf8")) as Json;
export const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------------------------
// The function names ARM templates may call: MicrosoftDocs/azure-docs
// articles/azure-resource-manager/templates/template-functions.md @ 0054094590c712f914d5cd0c69d47434fe287cd0
// (lambda helpers from template-functions-lambda.md). list* is a family: listKeys, listAccountSas, ….

export const ARM_FUNCTIONS: ReadonlySet<string> = new Set(
  [
    // array
    "array", "concat", "contains", "createArray", "empty", "first", "indexOf", "intersection", "last", "lastIndexOf",
    "length", "max", "min", "range", "skip", "take", "union",
    // CIDR
    "parseCidr", "cidrSubnet", "cidrHost",
    // comparison
    "coalesce", "equals", "greater", "greaterOrEquals", "less", "lessOrEquals",
    // date
    "dateTimeAdd", "dateTimeFromEpoch", "dateTimeToEpoch", "utcNow",
    // deployment
    "deployment", "environment", "parameters", "variables",
    // lambda
    "filter", "map", "reduce", "sort", "toObject", "lambda", "lambdaVariables",
    // logical
    "and", "bool", "false", "if", "not", "or", "true",
    // numeric
    "add", "copyIndex", "div", "float", "int", "mod", "mul", "sub",
    // object
    "createObject", "items", "json", "null",
    // resource
    "extensionResourceId", "pickZones", "providers", "reference", "references", "resourceId", "subscriptionResourceId",
    "tenantResourceId",
    // scope
    "managementGroup", "resourceGroup", "subscription", "tenant",
    // string
    "base64", "base64ToJson", "base64ToString", "dataUri", "dataUriToString", "endsWith", "format", "guid", "join",
    "newGuid", "padLeft", "replace", "split", "startsWith", "string", "substring", "toLower", "toUpper", "trim",
    "uniqueString", "uri", "uriComponent", "uriComponentToString",
  ].map((name) => name.toLowerCase()),
);

export const isArmFunction = (name: string): boolean => ARM_FUNCTIONS.has(name.toLowerCase()) || /^list[a-z0-9]*$/i.test(name);

// ---------------------------------------------------------------------------------------------------------------
// Expressions: "[fn(args).prop[index]]". A string starting "[[" is a literal that starts with "[".

export type Expr =
  | { kind: "call"; name: string; args: Expr[] }
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "prop"; target: Expr; name: string }
  | { kind: "index"; target: Expr; index: Expr };

export const isExpressionString = (s: string): boolean => s.startsWith("[") && !s.startsWith("[[") && s.endsWith("]");

export function parseExpression(source: string): Expr {
  const text = source.slice(1, -1);
  let pos = 0;
  const fail = (message: string): never => {
    throw new Error(`${message} at character ${pos + 1} of ${source}`);
  };
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const identifier = (): string => {
    skip();
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos));
    if (!match) return fail("expected a name");
    pos += match[0].length;
    return match[0];
  };
  const expect = (ch: string) => {
    skip();
    if (text[pos] !== ch) fail(`expected "${ch}"`);
    pos++;
  };
  const primary = (): Expr => {
    skip();
    const ch = text[pos];
    if (ch === "'") {
      let value = "";
      pos++;
      for (;;) {
        if (pos >= text.length) fail("unterminated string");
        if (text[pos] === "'") {
          if (text[pos + 1] === "'") {
            value += "'";
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        value += text[pos];
        pos++;
      }
      return { kind: "string", value };
    }
    const number = /^-?\d+/.exec(text.slice(pos));
    if (number) {
      pos += number[0].length;
      return { kind: "number", value: Number(number[0]) };
    }
    const name = identifier();
    expect("(");
    const args: Expr[] = [];
    skip();
    if (text[pos] === ")") pos++;
    else {
      for (;;) {
        args.push(expression());
        skip();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        expect(")");
        break;
      }
    }
    return { kind: "call", name, args };
  };
  const expression = (): Expr => {
    let node = primary();
    for (;;) {
      skip();
      if (text[pos] === ".") {
        pos++;
        node = { kind: "prop", target: node, name: identifier() };
      } else if (text[pos] === "[") {
        pos++;
        const index = expression();
        expect("]");
        node = { kind: "index", target: node, index };
      } else return node;
    }
  };
  const result = expression();
  skip();
  if (pos !== text.length) fail("unexpected text after the expression");
  return result;
}

export function walkExpr(expr: Expr, visit: (node: Expr) => void): void {
  visit(expr);
  if (expr.kind === "call") expr.args.forEach((a) => walkExpr(a, visit));
  else if (expr.kind === "prop") walkExpr(expr.target, visit);
  else if (expr.kind === "index") {
    walkExpr(expr.target, visit);
    walkExpr(expr.index, visit);
  }
}

/** Every expression string in a JSON value (keys too), with its JSON path. */
export function expressionsIn(value: Json, path: string, out: Array<{ path: string; source: string }> = []): Array<{ path: string; source: string }> {
  if (typeof value === "string") {
    if (isExpressionString(value)) out.push({ path, source: value });
  } else if (Array.isArray(value)) value.forEach((v, i) => expressionsIn(v, `${path}[${i}]`, out));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (isExpressionString(k)) out.push({ path: `${path}{key}`, source: k });
      expressionsIn(v, `${path}.${k}`, out);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Values: JSON, plus Unknown for what only Azure knows at deployment time (reference() of a resource, keys, …).

export class Unknown {
  constructor(readonly text: string) {}
  toString(): string {
    return `«${this.text}»`;
  }
}

export type Value = null | boolean | number | string | Unknown | Value[] | { [key: string]: Value };
export type ValueObject = { [key: string]: Value };
const isValueObject = (v: Value | undefined): v is ValueObject => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Unknown);

export const str = (v: Value): string => {
  if (typeof v === "string") return v;
  if (v instanceof Unknown) return v.toString();
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(toJson(v));
};

/** Unknown values become their «marker» string: what schema checks see in their place. */
export function toJson(v: Value): Json {
  if (v instanceof Unknown) return v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (isValueObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** The deterministic stand-in for ARM's uniqueString: 13 characters of [a-z2-7] (Azure's own hash differs). */
export function uniqueString(...parts: string[]): string {
  const digest = createHash("sha256").update(parts.join("|")).digest();
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let out = "";
  for (let i = 0; i < 13; i++) out += alphabet[digest[i]! % 32];
  return out;
}

export function guid(...parts: string[]): string {
  const h = createHash("sha1").update(parts.join("-")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment simulation.

export interface DeploymentScope {
  tenantId: string;
  subscriptionId: string;
  resourceGroup?: string;
  location: string;
  deploymentName: string;
}

export interface SimResource {
  /** Where it sits in the template files, e.g. main.json resources[3].properties.template.resources[5]. */
  path: string;
  scope: DeploymentScope;
  type: string;
  apiVersion: string;
  name: string;
  /** Full ARM ID. */
  id: string;
  /** The scope an extension resource (role assignment) applies to: its `scope` or the deployment's scope. */
  appliesTo: string;
  raw: JsonObject;
  evaluated: ValueObject;
  copyIndex: number | null;
  /** IDs this resource calls reference() on. */
  references: string[];
  dependsOn: string[];
}

export interface SimDeployment {
  path: string;
  scope: DeploymentScope;
  template: JsonObject;
  parameters: Record<string, Value>;
  resources: SimResource[];
  /** Resources whose condition was false; `id` when their type and name evaluate (dependsOn may name them). */
  skipped: Array<{ path: string; copyIndex: number | null; id?: string }>;
  outputs: Record<string, Value>;
  children: SimDeployment[];
}

export class SimulationError extends Error {}

const scopeId = (s: DeploymentScope): string =>
  s.resourceGroup === undefined ? `/subscriptions/${s.subscriptionId}` : `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}`;

/** `Microsoft.Storage/storageAccounts/blobServices/containers` + `a/default/c` → `Microsoft.Storage/storageAccounts/a/blobServices/default/containers/c` */
export function typedPath(type: string, names: string[]): string {
  const [namespace, ...types] = type.split("/");
  if (types.length !== names.length) throw new SimulationError(`type ${type} needs ${types.length} name segments, got ${names.length} (${names.join("/")})`);
  return `${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join("/")}`;
}

function resourceIdFn(scope: DeploymentScope, args: string[]): string {
  const typeAt = args.findIndex((a) => a.includes("/"));
  if (typeAt < 0) throw new SimulationError(`resourceId(${args.join(", ")}) has no resource type`);
  const before = args.slice(0, typeAt);
  const type = args[typeAt]!;
  const names = args.slice(typeAt + 1);
  let subscriptionId = scope.subscriptionId;
  let resourceGroup = scope.resourceGroup;
  if (before.length === 2) [subscriptionId, resourceGroup] = before as [string, string];
  else if (before.length === 1) resourceGroup = before[0];
  if (resourceGroup === undefined) return `/subscriptions/${subscriptionId}/providers/${typedPath(type, names)}`;
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${typedPath(type, names)}`;
}

interface EvalContext {
  sim: Simulator;
  deployment: SimDeployment;
  parameters: Record<string, Value>;
  variables: Map<string, Value>;
  copy: Map<string, number>;
  inVariables: boolean;
  references: string[];
}

type Fn = (ctx: EvalContext, args: Expr[]) => Value;

const arg = (ctx: EvalContext, args: Expr[], i: number): Value => {
  const a = args[i];
  if (!a) throw new SimulationError(`missing argument ${i + 1}`);
  return ctx.sim.evalExpr(a, ctx);
};
const all = (ctx: EvalContext, args: Expr[]): Value[] => args.map((a) => ctx.sim.evalExpr(a, ctx));
const needString = (v: Value, what: string): string => {
  if (typeof v === "string") return v;
  if (v instanceof Unknown) return v.toString();
  throw new SimulationError(`${what} needs a string, got ${JSON.stringify(toJson(v))}`);
};
const needArray = (v: Value, what: string): Value[] => {
  if (Array.isArray(v)) return v;
  throw new SimulationError(`${what} needs an array, got ${JSON.stringify(toJson(v))}`);
};
const needNumber = (v: Value, what: string): number => {
  if (typeof v === "number") return v;
  throw new SimulationError(`${what} needs an integer, got ${JSON.stringify(toJson(v))}`);
};
const deepEqual = (a: Value, b: Value): boolean => JSON.stringify(toJson(a)) === JSON.stringify(toJson(b));

const FUNCTIONS: Record<string, Fn> = {
  parameters: (ctx, args) => {
    const name = needString(arg(ctx, args, 0), "parameters()");
    if (!(name in ctx.parameters)) throw new SimulationError(`parameters('${name}') is not a parameter of this template`);
    return ctx.parameters[name]!;
  },
  variables: (ctx, args) => ctx.sim.variable(ctx, needString(arg(ctx, args, 0), "variables()")),
  if: (ctx, args) => (arg(ctx, args, 0) === true ? arg(ctx, args, 1) : arg(ctx, args, 2)),
  equals: (ctx, args) => deepEqual(arg(ctx, args, 0), arg(ctx, args, 1)),
  not: (ctx, args) => arg(ctx, args, 0) !== true,
  and: (ctx, args) => all(ctx, args).every((v) => v === true),
  or: (ctx, args) => all(ctx, args).some((v) => v === true),
  true: () => true,
  false: () => false,
  null: () => null,
  greater: (ctx, args) => needNumber(arg(ctx, args, 0), "greater()") > needNumber(arg(ctx, args, 1), "greater()"),
  less: (ctx, args) => needNumber(arg(ctx, args, 0), "less()") < needNumber(arg(ctx, args, 1), "less()"),
  empty: (ctx, args) => {
    const v = arg(ctx, args, 0);
    if (v === null || v === "") return true;
    if (Array.isArray(v)) return v.length === 0;
    if (isValueObject(v)) return Object.keys(v).length === 0;
    return false;
  },
  length: (ctx, args) => {
    const v = arg(ctx, args, 0);
    if (typeof v === "string" || Array.isArray(v)) return v.length;
    if (isValueObject(v)) return Object.keys(v).length;
    throw new SimulationError(`length() of ${JSON.stringify(toJson(v))}`);
  },
  concat: (ctx, args) => {
    const values = all(ctx, args);
    if (values.length > 0 && values.every(Array.isArray)) return (values as Value[][]).flat(1);
    return values.map(str).join("");
  },
  union: (ctx, args) => {
    const values = all(ctx, args);
    if (values.every(Array.isArray)) {
      const out: Value[] = [];
      for (const v of (values as Value[][]).flat(1)) if (!out.some((o) => deepEqual(o, v))) out.push(v);
      return out;
    }
    if (values.every(isValueObject)) return Object.assign({}, ...values) as ValueObject;
    throw new SimulationError("union() needs all arrays or all objects");
  },
  contains: (ctx, args) => {
    const [container, item] = [arg(ctx, args, 0), arg(ctx, args, 1)];
    if (typeof container === "string") return container.toLowerCase().includes(needString(item, "contains()").toLowerCase());
    if (Array.isArray(container)) return container.some((c) => deepEqual(c, item));
    if (isValueObject(container)) return Object.keys(container).some((k) => k.toLowerCase() === needString(item, "contains()").toLowerCase());
    throw new SimulationError("contains() of a non-container");
  },
  createArray: (ctx, args) => all(ctx, args),
  createObject: (ctx, args) => {
    const values = all(ctx, args);
    const out: ValueObject = {};
    for (let i = 0; i < values.length; i += 2) out[needString(values[i]!, "createObject() key")] = values[i + 1] ?? null;
    return out;
  },
  split: (ctx, args) => {
    const s = needString(arg(ctx, args, 0), "split()");
    const d = arg(ctx, args, 1);
    const delimiters = Array.isArray(d) ? d.map((x) => needString(x, "split()")) : [needString(d, "split()")];
    return delimiters.reduce<string[]>((parts, delim) => parts.flatMap((p) => p.split(delim)), [s]);
  },
  join: (ctx, args) => needArray(arg(ctx, args, 0), "join()").map(str).join(needString(arg(ctx, args, 1), "join()")),
  first: (ctx, args) => {
    const v = arg(ctx, args, 0);
    return typeof v === "string" ? v.slice(0, 1) : (needArray(v, "first()")[0] ?? null);
  },
  last: (ctx, args) => {
    const v = arg(ctx, args, 0);
    return typeof v === "string" ? v.slice(-1) : (needArray(v, "last()").at(-1) ?? null);
  },
  take: (ctx, args) => {
    const v = arg(ctx, args, 0);
    const n = needNumber(arg(ctx, args, 1), "take()");
    return typeof v === "string" ? v.slice(0, n) : needArray(v, "take()").slice(0, n);
  },
  skip: (ctx, args) => {
    const v = arg(ctx, args, 0);
    const n = needNumber(arg(ctx, args, 1), "skip()");
    return typeof v === "string" ? v.slice(n) : needArray(v, "skip()").slice(n);
  },
  toLower: (ctx, args) => needString(arg(ctx, args, 0), "toLower()").toLowerCase(),
  toUpper: (ctx, args) => needString(arg(ctx, args, 0), "toUpper()").toUpperCase(),
  trim: (ctx, args) => needString(arg(ctx, args, 0), "trim()").trim(),
  replace: (ctx, args) => needString(arg(ctx, args, 0), "replace()").split(needString(arg(ctx, args, 1), "replace()")).join(needString(arg(ctx, args, 2), "replace()")),
  startsWith: (ctx, args) => needString(arg(ctx, args, 0), "startsWith()").toLowerCase().startsWith(needString(arg(ctx, args, 1), "startsWith()").toLowerCase()),
  endsWith: (ctx, args) => needString(arg(ctx, args, 0), "endsWith()").toLowerCase().endsWith(needString(arg(ctx, args, 1), "endsWith()").toLowerCase()),
  string: (ctx, args) => {
    const v = arg(ctx, args, 0);
    // ARM formats booleans the .NET way.
    if (typeof v === "boolean") return v ? "True" : "False";
    return str(v);
  },
  int: (ctx, args) => {
    const v = arg(ctx, args, 0);
    const n = typeof v === "number" ? v : Number(needString(v, "int()"));
    if (!Number.isInteger(n)) throw new SimulationError(`int() of ${str(v)}`);
    return n;
  },
  format: (ctx, args) => {
    const [fmt, ...rest] = all(ctx, args);
    return needString(fmt ?? null, "format()").replace(/\{(\d+)(:[^}]*)?\}/g, (_m, n: string) => {
      const v = rest[Number(n)];
      if (v === undefined) throw new SimulationError(`format() has no argument ${n}`);
      return typeof v === "boolean" ? (v ? "True" : "False") : str(v);
    });
  },
  uniqueString: (ctx, args) => uniqueString(...all(ctx, args).map(str)),
  guid: (ctx, args) => guid(...all(ctx, args).map(str)),
  copyIndex: (ctx, args) => {
    const values = all(ctx, args);
    const name = typeof values[0] === "string" ? values[0] : "";
    const offset = typeof values[0] === "number" ? values[0] : typeof values[1] === "number" ? values[1] : 0;
    const index = ctx.copy.get(name);
    if (index === undefined) throw new SimulationError(name ? `copyIndex('${name}') outside that copy loop` : "copyIndex() outside a copy loop");
    return index + offset;
  },
  subscription: (ctx) => ({
    id: `/subscriptions/${ctx.deployment.scope.subscriptionId}`,
    subscriptionId: ctx.deployment.scope.subscriptionId,
    tenantId: ctx.deployment.scope.tenantId,
    displayName: "simulated subscription",
  }),
  resourceGroup: (ctx) => {
    const s = ctx.deployment.scope;
    if (s.resourceGroup === undefined) throw new SimulationError("resourceGroup() in a subscription-scope template");
    return { id: scopeId(s), name: s.resourceGroup, location: s.location, type: "Microsoft.Resources/resourceGroups", properties: { provisioningState: "Succeeded" } };
  },
  tenant: (ctx) => ({ tenantId: ctx.deployment.scope.tenantId, countryCode: "US", displayName: "simulated tenant" }),
  deployment: (ctx) => ({ name: ctx.deployment.scope.deploymentName, location: ctx.deployment.scope.location, properties: {} }),
  environment: () => ({ name: "AzureCloud", suffixes: { storage: "core.windows.net" }, authentication: { loginEndpoint: "https://login.microsoftonline.com/" } }),
  resourceId: (ctx, args) => resourceIdFn(ctx.deployment.scope, all(ctx, args).map((v) => needString(v, "resourceId()"))),
  subscriptionResourceId: (ctx, args) => {
    const values = all(ctx, args).map((v) => needString(v, "subscriptionResourceId()"));
    const typeAt = values.findIndex((a) => a.includes("/"));
    const subscriptionId = typeAt === 1 ? values[0]! : ctx.deployment.scope.subscriptionId;
    return `/subscriptions/${subscriptionId}/providers/${typedPath(values[typeAt]!, values.slice(typeAt + 1))}`;
  },
  tenantResourceId: (ctx, args) => {
    const [type, ...names] = all(ctx, args).map((v) => needString(v, "tenantResourceId()"));
    return `/providers/${typedPath(type!, names)}`;
  },
  extensionResourceId: (ctx, args) => {
    const [scope, type, ...names] = all(ctx, args).map((v) => needString(v, "extensionResourceId()"));
    return `${scope}/providers/${typedPath(type!, names)}`;
  },
  reference: (ctx, args) => {
    if (ctx.inVariables) throw new SimulationError("reference() cannot be used in variables");
    const target = needString(arg(ctx, args, 0), "reference()");
    const id = target.startsWith("/") ? target : resourceIdFn(ctx.deployment.scope, [target]);
    ctx.references.push(id);
    return ctx.sim.referenceOf(ctx, id);
  },
};

export interface SimulateOptions {
  scope: Omit<DeploymentScope, "deploymentName"> & { deploymentName?: string };
  parameters: Record<string, Json>;
  /** Label for paths in messages (a file name). */
  file?: string;
}

export class Simulator {
  readonly problems: string[] = [];
  readonly deployments: SimDeployment[] = [];
  /** Nested deployments by ID (lower case), for reference(...).outputs. */
  private readonly byId = new Map<string, SimDeployment>();
  private readonly pending = new Map<string, () => SimDeployment>();

  /** Every resource of every deployment, depth first. */
  get resources(): SimResource[] {
    return this.deployments.flatMap((d) => d.resources);
  }

  run(template: JsonObject, options: SimulateOptions): SimDeployment {
    const scope: DeploymentScope = { deploymentName: "main", ...options.scope };
    return this.deploy(template, scope, options.parameters as Record<string, Value>, options.file ?? "template");
  }

  evalExpr(expr: Expr, ctx: EvalContext): Value {
    switch (expr.kind) {
      case "string":
        return expr.value;
      case "number":
        return expr.value;
      case "prop": {
        const target = this.evalExpr(expr.target, ctx);
        if (target instanceof Unknown) return new Unknown(`${target.text}.${expr.name}`);
        if (!isValueObject(target)) throw new SimulationError(`.${expr.name} of ${JSON.stringify(toJson(target))}`);
        const key = Object.keys(target).find((k) => k.toLowerCase() === expr.name.toLowerCase());
        if (key === undefined) throw new SimulationError(`no property ${expr.name} in ${JSON.stringify(Object.keys(target))}`);
        return target[key]!;
      }
      case "index": {
        const target = this.evalExpr(expr.target, ctx);
        const index = this.evalExpr(expr.index, ctx);
        if (target instanceof Unknown) return new Unknown(`${target.text}[${str(index)}]`);
        if (Array.isArray(target)) {
          const i = needNumber(index, "[index]");
          if (i < 0 || i >= target.length) throw new SimulationError(`index ${i} outside an array of ${target.length}`);
          return target[i]!;
        }
        if (isValueObject(target)) {
          const key = needString(index, "[key]");
          if (!(key in target)) throw new SimulationError(`no property ${key}`);
          return target[key]!;
        }
        throw new SimulationError(`[${str(index)}] of ${JSON.stringify(toJson(target))}`);
      }
      case "call": {
        const fn = Object.entries(FUNCTIONS).find(([name]) => name.toLowerCase() === expr.name.toLowerCase())?.[1];
        if (fn) return fn(ctx, expr.args);
        if (/^list/i.test(expr.name)) {
          const values = all(ctx, expr.args);
          return new Unknown(`${expr.name}(${values.map(str).join(", ")})`);
        }
        if (isArmFunction(expr.name)) throw new SimulationError(`${expr.name}() is an ARM function this offline evaluator does not implement`);
        throw new SimulationError(`${expr.name}() is not an ARM template function`);
      }
    }
  }

  /** Evaluates a JSON value: expression strings (and expression keys) become values. */
  evalValue(value: Json, ctx: EvalContext): Value {
    if (typeof value === "string") {
      if (isExpressionString(value)) return this.evalExpr(parseExpression(value), ctx);
      return value.startsWith("[[") ? value.slice(1) : value;
    }
    if (Array.isArray(value)) return value.map((v) => this.evalValue(v, ctx));
    if (isObject(value)) {
      const out: ValueObject = {};
      for (const [k, v] of Object.entries(value)) out[str(this.evalValue(k, ctx))] = this.evalValue(v, ctx);
      return out;
    }
    return value;
  }

  variable(ctx: EvalContext, name: string): Value {
    const cached = ctx.variables.get(name);
    if (cached !== undefined) return cached;
    const variables = ctx.deployment.template.variables;
    if (!isObject(variables)) throw new SimulationError(`variables('${name}'): the template has no variables`);
    const inner: EvalContext = { ...ctx, inVariables: true, copy: new Map() };
    let value: Value;
    const loop = Array.isArray(variables.copy) ? variables.copy.find((c) => isObject(c) && c.name === name) : undefined;
    if (isObject(loop)) {
      const count = needNumber(this.evalValue(loop.count ?? null, inner), `copy ${name} count`);
      value = Array.from({ length: count }, (_, i) => this.evalValue(loop.input ?? null, { ...inner, copy: new Map([[name, i]]) }));
    } else if (name in variables && name !== "copy") {
      value = this.evalValue(variables[name]!, inner);
    } else throw new SimulationError(`variables('${name}') is not a variable of this template`);
    ctx.variables.set(name, value);
    return value;
  }

  referenceOf(ctx: EvalContext, id: string): Value {
    const key = id.toLowerCase();
    if (!this.byId.has(key)) {
      const start = this.pending.get(key);
      if (start) start();
    }
    const deployment = this.byId.get(key);
    if (deployment) return { outputs: Object.fromEntries(Object.entries(deployment.outputs).map(([k, v]) => [k, { type: "string", value: v }])) };
    return new Unknown(`reference(${id})`);
  }

  private deploy(template: JsonObject, scope: DeploymentScope, given: Record<string, Value>, path: string): SimDeployment {
    const deployment: SimDeployment = { path, scope, template, parameters: {}, resources: [], skipped: [], outputs: {}, children: [] };
    this.deployments.push(deployment);
    const ctx: EvalContext = { sim: this, deployment, parameters: deployment.parameters, variables: new Map(), copy: new Map(), inVariables: false, references: [] };
    this.bindParameters(template, given, ctx, path);

    const resources = Array.isArray(template.resources) ? template.resources : [];
    // First the IDs (so reference() of a nested deployment can run it on demand), then everything else.
    const expanded: Array<{ raw: JsonObject; rawPath: string; copyIndex: number | null; copy: Map<string, number> }> = [];
    resources.forEach((raw, i) => {
      if (!isObject(raw)) return;
      const rawPath = `${path} resources[${i}]`;
      const copy = isObject(raw.copy) ? raw.copy : undefined;
      if (copy) {
        const count = needNumber(this.evalValue(copy.count ?? null, ctx), `${rawPath} copy.count`);
        for (let n = 0; n < count; n++) expanded.push({ raw, rawPath, copyIndex: n, copy: new Map([["", n], [String(copy.name), n]]) });
      } else expanded.push({ raw, rawPath, copyIndex: null, copy: new Map() });
    });

    const done = new Map<number, SimResource | null>();
    const realize = (k: number): SimResource | null => {
      if (done.has(k)) return done.get(k)!;
      done.set(k, null);
      const item = expanded[k]!;
      const local: EvalContext = { ...ctx, copy: item.copy, references: [] };
      const where = item.copyIndex === null ? item.rawPath : `${item.rawPath} (copy ${item.copyIndex})`;
      try {
        if ("condition" in item.raw && this.evalValue(item.raw.condition!, local) !== true) {
          const id = this.skippedId(item.raw, local, deployment, where);
          deployment.skipped.push({ path: item.rawPath, copyIndex: item.copyIndex, ...(id ? { id } : {}) });
          return null;
        }
        const isNested = item.raw.type === "Microsoft.Resources/deployments" && isObject(item.raw.properties) && isObject(item.raw.properties.template);
        const evaluated: ValueObject = {};
        for (const [key, value] of Object.entries(item.raw)) {
          if (key === "copy" || key === "condition") continue;
          if (key === "properties" && isNested) {
            const props = item.raw.properties as JsonObject;
            const evalOptions = props.expressionEvaluationOptions;
            if (!isObject(evalOptions) || String(evalOptions.scope).toLowerCase() !== "inner") {
              throw new SimulationError("nested templates must use expressionEvaluationOptions.scope 'inner' (parameters are passed explicitly)");
            }
            const out: ValueObject = {};
            for (const [pk, pv] of Object.entries(props)) out[pk] = pk === "template" ? (pv as Value) : this.evalValue(pv, local);
            evaluated.properties = out;
          } else evaluated[key] = this.evalValue(value, local);
        }
        const resource = this.describe(evaluated, item.raw, deployment, where, item.copyIndex, local.references);
        deployment.resources.push(resource);
        done.set(k, resource);
        if (isNested) this.nested(resource, deployment);
        return resource;
      } catch (error) {
        this.problems.push(`${where}: ${(error as Error).message}`);
        return null;
      }
    };

    // Register nested deployments by ID so that a reference() to one runs it first.
    expanded.forEach((item, k) => {
      if (item.raw.type !== "Microsoft.Resources/deployments") return;
      try {
        const local: EvalContext = { ...ctx, copy: item.copy, references: [] };
        const name = str(this.evalValue(item.raw.name ?? null, local));
        const id = this.nestedDeploymentId(item.raw, local, name).toLowerCase();
        this.pending.set(id, () => {
          realize(k);
          return this.byId.get(id)!;
        });
      } catch {
        // reported when the resource itself is realized
      }
    });
    expanded.forEach((_, k) => realize(k));

    this.checkDependencies(deployment);
    const outputs = isObject(template.outputs) ? template.outputs : {};
    for (const [name, output] of Object.entries(outputs)) {
      if (!isObject(output)) continue;
      try {
        if ("condition" in output && this.evalValue(output.condition!, ctx) !== true) continue;
        deployment.outputs[name] = this.evalValue(output.value ?? null, ctx);
      } catch (error) {
        this.problems.push(`${path} outputs.${name}: ${(error as Error).message}`);
      }
    }
    return deployment;
  }

  private bindParameters(template: JsonObject, given: Record<string, Value>, ctx: EvalContext, path: string): void {
    const declared = isObject(template.parameters) ? template.parameters : {};
    for (const name of Object.keys(given)) {
      if (!(name in declared)) this.problems.push(`${path}: parameter ${name} is given but the template does not declare it`);
    }
    for (const [name, spec] of Object.entries(declared)) {
      if (!isObject(spec)) continue;
      let value: Value | undefined = given[name];
      if (value === undefined && "defaultValue" in spec) value = this.evalValue(spec.defaultValue!, ctx);
      if (value === undefined) {
        this.problems.push(`${path}: parameter ${name} has no value and no default`);
        continue;
      }
      const problem = parameterProblem(spec, value);
      if (problem) this.problems.push(`${path}: parameter ${name} ${problem}`);
      ctx.parameters[name] = value;
    }
  }

  private nestedDeploymentId(raw: JsonObject, ctx: EvalContext, name: string): string {
    const sub = raw.subscriptionId !== undefined ? this.evalValue(raw.subscriptionId, ctx) : undefined;
    const rg = raw.resourceGroup !== undefined ? this.evalValue(raw.resourceGroup, ctx) : undefined;
    return deploymentId(ctx.deployment.scope, name, sub, rg);
  }

  /** The ID a skipped resource would have had: Resource Manager drops dependsOn entries naming it. */
  private skippedId(raw: JsonObject, ctx: EvalContext, deployment: SimDeployment, path: string): string | undefined {
    try {
      const evaluated: ValueObject = {};
      for (const key of ["type", "name", "apiVersion", "scope", "subscriptionId", "resourceGroup"]) {
        if (raw[key] !== undefined) evaluated[key] = this.evalValue(raw[key]!, ctx);
      }
      return this.describe(evaluated, raw, deployment, path, null, []).id;
    } catch {
      return undefined;
    }
  }

  private describe(evaluated: ValueObject, raw: JsonObject, deployment: SimDeployment, path: string, copyIndex: number | null, references: string[]): SimResource {
    const type = needString(evaluated.type ?? null, "type");
    const name = needString(evaluated.name ?? null, "name");
    const apiVersion = needString(evaluated.apiVersion ?? null, "apiVersion");
    const s = deployment.scope;
    let id: string;
    let appliesTo = scopeId(s);
    if (type === "Microsoft.Resources/deployments") {
      id = deploymentId(s, name, evaluated.subscriptionId, evaluated.resourceGroup);
    } else if (type === "Microsoft.Resources/resourceGroups") {
      id = `/subscriptions/${s.subscriptionId}/resourceGroups/${name}`;
    } else if (evaluated.scope !== undefined) {
      const target = str(evaluated.scope);
      appliesTo = target.startsWith("/") ? target : `${scopeId(s)}/providers/${target}`;
      id = `${appliesTo}/providers/${typedPath(type, name.split("/"))}`;
    } else {
      id = `${scopeId(s)}/providers/${typedPath(type, name.split("/"))}`;
    }
    const dependsOn = Array.isArray(evaluated.dependsOn) ? evaluated.dependsOn.map(str) : [];
    return { path, scope: s, type, apiVersion, name, id, appliesTo, raw, evaluated, copyIndex, references: [...references], dependsOn };
  }

  private nested(resource: SimResource, parent: SimDeployment): void {
    const props = resource.evaluated.properties as ValueObject;
    const template = props.template as unknown as JsonObject;
    const s = parent.scope;
    const subscriptionId = resource.evaluated.subscriptionId !== undefined ? str(resource.evaluated.subscriptionId) : s.subscriptionId;
    let resourceGroup: string | undefined;
    if (resource.evaluated.resourceGroup !== undefined) resourceGroup = str(resource.evaluated.resourceGroup);
    else if (resource.evaluated.subscriptionId === undefined) resourceGroup = s.resourceGroup;
    const scope: DeploymentScope = {
      tenantId: s.tenantId,
      subscriptionId,
      location: resource.evaluated.location !== undefined ? str(resource.evaluated.location) : s.location,
      deploymentName: resource.name,
      ...(resourceGroup !== undefined ? { resourceGroup } : {}),
    };
    const expected = resourceGroup === undefined ? "subscriptionDeploymentTemplate.json" : "deploymentTemplate.json";
    const schema = String(template.$schema ?? "");
    if (!schema.includes(expected)) this.problems.push(`${resource.path}: a ${resourceGroup === undefined ? "subscription" : "resource group"} deployment needs a ${expected} template, not ${schema}`);
    const given: Record<string, Value> = {};
    const parameters = isValueObject(props.parameters) ? props.parameters : {};
    for (const [name, p] of Object.entries(parameters)) {
      if (isValueObject(p) && "value" in p) given[name] = p.value!;
      else this.problems.push(`${resource.path}: parameter ${name} must be passed as { "value": … }`);
    }
    const child = this.deploy(template, scope, given, `${resource.path}.properties.template`);
    parent.children.push(child);
    this.byId.set(resource.id.toLowerCase(), child);
  }

  /** dependsOn resolves within the template; reference() of a sibling resource comes after it. */
  private checkDependencies(deployment: SimDeployment): void {
    const matches = (entry: string, r: SimResource): boolean => {
      const e = entry.toLowerCase();
      if (r.id.toLowerCase() === e || r.name.toLowerCase() === e) return true;
      // subscriptionResourceId('Microsoft.Resources/resourceGroups', n) names a group by its provider-style ID.
      if (r.type === "Microsoft.Resources/resourceGroups") return e === `/subscriptions/${r.scope.subscriptionId}/providers/microsoft.resources/resourcegroups/${r.name}`.toLowerCase();
      const loop = isObject(r.raw.copy) ? String(r.raw.copy.name) : undefined;
      return loop !== undefined && loop.toLowerCase() === e;
    };
    for (const r of deployment.resources) {
      for (const entry of r.dependsOn) {
        const skipped = deployment.skipped.some((k) => k.id !== undefined && k.id.toLowerCase() === entry.toLowerCase());
        if (!skipped && !deployment.resources.some((other) => other !== r && matches(entry, other))) {
          this.problems.push(`${r.path}: dependsOn ${entry} matches no resource in this template`);
        }
      }
    }
    const before = (r: SimResource, target: SimResource, seen = new Set<SimResource>()): boolean => {
      if (seen.has(r)) return false;
      seen.add(r);
      return deployment.resources.some((d) => r.dependsOn.some((e) => matches(e, d)) && (d === target || before(d, target, seen)));
    };
    for (const r of deployment.resources) {
      for (const ref of r.references) {
        const target = deployment.resources.find((d) => d.id.toLowerCase() === ref.toLowerCase());
        if (target && target !== r && !before(r, target)) this.problems.push(`${r.path}: reference(${ref}) without depending on that resource`);
      }
    }
  }
}

/** Where a nested deployment runs: resourceGroup names a group, subscriptionId alone a subscription, neither the parent's scope. */
function deploymentId(parent: DeploymentScope, name: string, subscriptionId: Value | undefined, resourceGroup: Value | undefined): string {
  const sub = subscriptionId !== undefined ? str(subscriptionId) : parent.subscriptionId;
  const rg = resourceGroup !== undefined ? str(resourceGroup) : subscriptionId === undefined ? parent.resourceGroup : undefined;
  return rg === undefined
    ? `/subscriptions/${sub}/providers/Microsoft.Resources/deployments/${name}`
    : `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Resources/deployments/${name}`;
}

function parameterProblem(spec: JsonObject, value: Value): string | null {
  const type = String(spec.type).toLowerCase();
  const ok =
    (type === "string" || type === "securestring") ? typeof value === "string" || value instanceof Unknown
    : type === "int" ? typeof value === "number" && Number.isInteger(value)
    : type === "bool" ? typeof value === "boolean"
    : type === "array" ? Array.isArray(value)
    : type === "object" || type === "secureobject" ? isValueObject(value)
    : false;
  if (!ok) return `must be of type ${spec.type}, got ${JSON.stringify(toJson(value))}`;
  if (Array.isArray(spec.allowedValues) && !spec.allowedValues.some((a) => deepEqual(a as Value, value))) return `must be one of ${JSON.stringify(spec.allowedValues)}`;
  if (typeof value === "number") {
    if (typeof spec.minValue === "number" && value < spec.minValue) return `must be at least ${spec.minValue}`;
    if (typeof spec.maxValue === "number" && value > spec.maxValue) return `must be at most ${spec.maxValue}`;
  }
  if (typeof value === "string" || Array.isArray(value)) {
    if (typeof spec.minLength === "number" && value.length < spec.minLength) return `must have length ≥ ${spec.minLength}`;
    if (typeof spec.maxLength === "number" && value.length > spec.maxLength) return `must have length ≤ ${spec.maxLength}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Static checks over the template text (no parameter values needed).

/** Every expression parses, calls only ARM functions, and names declared parameters and variables; copyIndex only in loops; reference/list* not in variables. */
export function staticProblems(template: JsonObject, file: string): string[] {
  const problems: string[] = [];
  const parameters = new Set(Object.keys(isObject(template.parameters) ? template.parameters : {}));
  const variablesObj = isObject(template.variables) ? template.variables : {};
  const variables = new Set(Object.keys(variablesObj).filter((k) => k !== "copy"));
  if (Array.isArray(variablesObj.copy)) for (const c of variablesObj.copy) if (isObject(c)) variables.add(String(c.name));

  const check = (source: string, path: string, where: { inVariables: boolean; inCopy: boolean }) => {
    let expr: Expr;
    try {
      expr = parseExpression(source);
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
      return;
    }
    walkExpr(expr, (node) => {
      if (node.kind !== "call") return;
      if (!isArmFunction(node.name)) problems.push(`${path}: ${node.name}() is not an ARM template function`);
      const lower = node.name.toLowerCase();
      const literal = node.args[0]?.kind === "string" ? node.args[0].value : undefined;
      if (lower === "parameters" && (literal === undefined || !parameters.has(literal))) problems.push(`${path}: parameters('${literal ?? "?"}') is not declared`);
      if (lower === "variables" && (literal === undefined || !variables.has(literal))) problems.push(`${path}: variables('${literal ?? "?"}') is not declared`);
      if (lower === "copyindex" && !where.inCopy) problems.push(`${path}: copyIndex() outside a copy loop`);
      if (where.inVariables && (lower === "reference" || lower.startsWith("list"))) problems.push(`${path}: ${node.name}() cannot be used in variables`);
    });
  };
  const scan = (value: Json, path: string, where: { inVariables: boolean; inCopy: boolean }, skipTemplate: boolean) => {
    for (const e of expressionsIn(value, path)) {
      if (skipTemplate && e.path.includes(".properties.template")) continue;
      check(e.source, e.path, where);
    }
  };
  for (const [name, v] of Object.entries(variablesObj)) {
    if (name === "copy" && Array.isArray(v)) v.forEach((c, i) => scan(c, `${file} variables.copy[${i}]`, { inVariables: true, inCopy: true }, false));
    else scan(v, `${file} variables.${name}`, { inVariables: true, inCopy: false }, false);
  }
  for (const [name, p] of Object.entries(isObject(template.parameters) ? template.parameters : {})) {
    if (isObject(p) && "defaultValue" in p) scan(p.defaultValue!, `${file} parameters.${name}.defaultValue`, { inVariables: true, inCopy: false }, false);
  }
  const resources = Array.isArray(template.resources) ? template.resources : [];
  resources.forEach((r, i) => {
    if (!isObject(r)) return;
    const path = `${file} resources[${i}]`;
    const nested = r.type === "Microsoft.Resources/deployments" && isObject(r.properties) && isObject(r.properties.template);
    scan(r, path, { inVariables: false, inCopy: isObject(r.copy) }, nested);
    if (nested) problems.push(...staticProblems((r.properties as JsonObject).template as JsonObject, `${path}.properties.template`));
  });
  if (isObject(template.outputs)) scan(template.outputs, `${file} outputs`, { inVariables: false, inCopy: false }, false);
  return problems;
}

/** Every template in the file: the main one and each inline nested template, with its path. */
export function templatesIn(template: JsonObject, path: string): Array<{ path: string; template: JsonObject }> {
  const out = [{ path, template }];
  const resources = Array.isArray(template.resources) ? template.resources : [];
  resources.forEach((r, i) => {
    if (isObject(r) && r.type === "Microsoft.Resources/deployments" && isObject(r.properties) && isObject(r.properties.template)) {
      out.push(...templatesIn(r.properties.template, `${path} resources[${i}].properties.template`));
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Schema validation against the vendored official schemas.

const EXPRESSION_REF = "https://schema.management.azure.com/schemas/common/definitions.json#/definitions/expression";
const SUBSCRIPTION_TEMPLATE_ID = "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json";
const RG_TEMPLATE_ID = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json";
const PARAMETERS_ID = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json";

type SchemaNode = { [key: string]: unknown };

function listSchemaFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? listSchemaFiles(full) : entry.endsWith(".json") ? [full] : [];
  });
}

/**
 * The vendored schemas are draft-04 and written for editors. To let ajv (draft-07) enforce them:
 * - draft-04 `id` → `$id` at each file's root (nothing else differs for the keywords these files use);
 * - object definitions of the resource-provider files that list their properties get additionalProperties:false
 *   ("closed"), so a misspelt property is an error instead of being silently ignored by Azure;
 * - the template schemas' `resource` (a oneOf over every resource type Azure has) becomes the base fields only:
 *   each resource is validated on its own against exactly its type and API version;
 * - for the template as written ("raw"), any value may be an ARM expression (Resource Manager evaluates a "[…]"
 *   string anywhere), so every constrained schema also admits an expression, and oneOf becomes anyOf (an
 *   expression name matches every name-discriminated variant). The exact oneOf checks apply to the deployed values.
 */
const CONSTRAINTS = ["type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "required", "properties", "additionalProperties", "items", "oneOf"];

function transformSchema(node: unknown, mode: "raw" | "evaluated", isRoot = true): unknown {
  if (Array.isArray(node)) return node.map((n) => transformSchema(n, mode, false));
  if (typeof node !== "object" || node === null) return node;
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(node as SchemaNode)) {
    const isMap = k === "properties" || k === "definitions" || /resourceDefinitions$/.test(k);
    if (isMap && typeof v === "object" && v !== null && !Array.isArray(v)) {
      // names here are property or definition names, not schema keywords: transform each value only
      out[k] = Object.fromEntries(Object.entries(v as SchemaNode).map(([name, schema]) => [name, transformSchema(schema, mode, false)]));
    } else out[k] = transformSchema(v, mode, false);
  }
  if (mode === "raw") {
    if (Array.isArray(out.oneOf)) {
      out.anyOf = out.oneOf;
      delete out.oneOf;
    }
    const admitsExpression = Array.isArray(out.anyOf) && out.anyOf.some((b) => typeof b === "object" && b !== null && (b as SchemaNode).$ref === EXPRESSION_REF);
    if (!isRoot && !admitsExpression && CONSTRAINTS.some((c) => c in out)) return { anyOf: [out, { $ref: EXPRESSION_REF }] };
  }
  return out;
}

/** Closes every definition of a resource-provider schema file (not the resource roots: they are combined with the template's base fields, and checked by name instead). */
function closeDefinitions(schema: SchemaNode): SchemaNode {
  const definitions = schema.definitions as Record<string, SchemaNode> | undefined;
  if (!definitions) return schema;
  for (const def of Object.values(definitions)) {
    if (typeof def.properties === "object" && def.properties !== null && !("additionalProperties" in def) && Object.keys(def.properties).length > 0) {
      def.additionalProperties = false;
    }
  }
  return schema;
}

interface ResourceSchemaRef {
  ref: string;
  /** Property names a resource of this type may have at its root (the type's own plus the template's base fields). */
  rootProperties: Set<string>;
}

export class SchemaValidator {
  private readonly ajv: Record<"raw" | "evaluated", Ajv> = { raw: this.newAjv(), evaluated: this.newAjv() };
  private readonly compiled = new Map<string, ValidateFunction>();
  /** "rg|microsoft.web/sites|2024-04-01" → schema reference */
  private readonly index = new Map<string, ResourceSchemaRef>();
  private readonly baseProperties: Record<"rg" | "subscription", Set<string>>;
  private readonly subscriptionResourceRefs: Set<string>;
  readonly files: string[];

  constructor(schemaDir = SCHEMA_DIR) {
    this.files = listSchemaFiles(schemaDir).map((f) => relative(schemaDir, f));
    const rootProps = (def: SchemaNode | undefined): string[] => {
      if (!def) return [];
      const own = Object.keys((def.properties as SchemaNode | undefined) ?? {});
      const branches = ((def.oneOf ?? def.allOf ?? []) as SchemaNode[]).flatMap((b) => Object.keys((b.properties as SchemaNode | undefined) ?? {}));
      return [...own, ...branches];
    };
    let rg: SchemaNode | undefined;
    let sub: SchemaNode | undefined;
    for (const file of this.files) {
      const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8")) as SchemaNode;
      const id = String(schema.id ?? "").replace(/#$/, "");
      if (!id) throw new Error(`${file} has no id`);
      delete schema.$schema;
      for (const mode of ["raw", "evaluated"] as const) {
        const source = structuredClone(schema);
        if (/\/Microsoft\.[^/]+\.json$/.test(id)) closeDefinitions(source);
        // definitions.json holds the expression definition itself: it must not refer to itself
        const copy = (id.endsWith("/common/definitions.json") ? source : transformSchema(source, mode)) as SchemaNode;
        copy.$id = id;
        delete copy.id;
        if (id === RG_TEMPLATE_ID || id === SUBSCRIPTION_TEMPLATE_ID) {
          const definitions = copy.definitions as SchemaNode;
          definitions.resource = { $ref: "#/definitions/ARMResourceBase" };
        }
        this.ajv[mode].addSchema(copy);
      }
      if (id === RG_TEMPLATE_ID) rg = schema;
      if (id === SUBSCRIPTION_TEMPLATE_ID) sub = schema;
      for (const [group, kind] of [["resourceDefinitions", "rg"], ["subscription_resourceDefinitions", "subscription"]] as const) {
        const defs = schema[group] as Record<string, SchemaNode> | undefined;
        for (const [name, def] of Object.entries(defs ?? {})) {
          const props = (def.properties ?? (def.oneOf as SchemaNode[] | undefined)?.[0]?.properties) as SchemaNode | undefined;
          const type = ((def.properties as SchemaNode | undefined)?.type as SchemaNode | undefined)?.enum as string[] | undefined;
          const apiVersion = ((def.properties as SchemaNode | undefined)?.apiVersion as SchemaNode | undefined)?.enum as string[] | undefined;
          const typeName = type?.[0] ?? (def.description as string | undefined);
          const version = apiVersion?.[0] ?? /\/(\d{4}-\d{2}-\d{2}(?:-preview)?)\//.exec(`/${file}`)?.[1];
          if (!typeName || !version || !props) continue;
          this.index.set(`${kind}|${typeName.toLowerCase()}|${version}`, { ref: `${id}#/${group}/${name}`, rootProperties: new Set(rootProps(def)) });
        }
      }
    }
    if (!rg || !sub) throw new Error("the deployment template schemas are not vendored");
    const base = (schema: SchemaNode): Set<string> => {
      const defs = schema.definitions as Record<string, SchemaNode>;
      const props = new Set<string>(Object.keys((defs.ARMResourceBase!.properties as SchemaNode) ?? {}));
      for (const part of (defs.resourceBase!.allOf as SchemaNode[]) ?? []) for (const k of Object.keys((part.properties as SchemaNode | undefined) ?? {})) props.add(k);
      // Nested deployments name their target with these two (ARM reads them; the schemas omit them).
      props.add("subscriptionId");
      props.add("resourceGroup");
      return props;
    };
    this.baseProperties = { rg: base(rg), subscription: base(sub) };
    const subscriptionResource = JSON.stringify((sub.definitions as SchemaNode).resource);
    this.subscriptionResourceRefs = new Set([...subscriptionResource.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!));
  }

  private newAjv(): Ajv {
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(ajv);
    return ajv;
  }

  private validator(mode: "raw" | "evaluated", key: string, schema: object): ValidateFunction {
    const cacheKey = `${mode}|${key}`;
    let v = this.compiled.get(cacheKey);
    if (!v) {
      v = this.ajv[mode].compile(schema);
      this.compiled.set(cacheKey, v);
    }
    return v;
  }

  /** The template's own structure: sections, parameter and output definitions, resource base fields. */
  validateTemplate(template: JsonObject, path: string): string[] {
    const schemaId = String(template.$schema ?? "");
    const id = schemaId.includes("subscriptionDeploymentTemplate.json") ? SUBSCRIPTION_TEMPLATE_ID : schemaId.includes("/deploymentTemplate.json") ? RG_TEMPLATE_ID : undefined;
    if (!id) return [`${path}: $schema ${schemaId} is not a deployment template schema that is vendored`];
    const validate = this.validator("raw", id, { $ref: `${id}#` });
    return validate(template) ? [] : formatErrors(validate.errors, path);
  }

  validateParametersFile(parameters: JsonObject, path: string): string[] {
    const validate = this.validator("evaluated", PARAMETERS_ID, { $ref: `${PARAMETERS_ID}#` });
    return validate(parameters) ? [] : formatErrors(validate.errors, path);
  }

  /** A resource as written (expressions allowed) or as deployed (values), against its own type's schema. */
  validateResource(resource: JsonObject, mode: "raw" | "evaluated", scopeKind: "rg" | "subscription", path: string): string[] {
    const type = String(resource.type);
    const apiVersion = String(resource.apiVersion);
    const entry = this.index.get(`${scopeKind}|${type.toLowerCase()}|${apiVersion}`);
    if (!entry) return [`${path}: no vendored schema for ${type}@${apiVersion} at ${scopeKind} scope (vendor it from Azure/azure-resource-manager-schemas)`];
    const problems: string[] = [];
    if (scopeKind === "subscription" && !this.subscriptionResourceRefs.has(entry.ref)) {
      problems.push(`${path}: ${type}@${apiVersion} is not listed as a subscription-scope resource by subscriptionDeploymentTemplate.json`);
    }
    const allowed = new Set([...entry.rootProperties, ...this.baseProperties[scopeKind]]);
    for (const key of Object.keys(resource)) if (!allowed.has(key)) problems.push(`${path}: ${type} has no property "${key}"`);
    const templateId = scopeKind === "subscription" ? SUBSCRIPTION_TEMPLATE_ID : RG_TEMPLATE_ID;
    const validate = this.validator(mode, `${templateId}|${entry.ref}`, { allOf: [{ $ref: `${templateId}#/definitions/resourceBase` }, { $ref: entry.ref }] });
    // A child type declared at the top level is named parent/child. Some schemas' name patterns describe that whole
    // name (^.*/default$), others only the child's own segment (Key Vault secrets): either form passing is enough.
    const segmentOnly = (): boolean =>
      mode === "evaluated" && type.split("/").length > 2 && typeof resource.name === "string" && validate({ ...resource, name: resource.name.split("/").at(-1)! });
    if (!validate(resource)) {
      const errors = validate.errors;
      if (!segmentOnly()) problems.push(...formatErrors(errors, path));
    }
    return problems;
  }
}

function formatErrors(errors: ErrorObject[] | null | undefined, path: string): string[] {
  // anyOf/oneOf report every failed branch; the leaf messages say what is actually wrong.
  // …and an expression branch's complaint ("must match pattern ^\[…") only says the value is not an expression.
  const leaves = (errors ?? []).filter((e) => !["anyOf", "oneOf", "allOf", "if"].includes(e.keyword) && !e.schemaPath.includes("definitions.json#/definitions/expression"));
  const pick = leaves.length > 0 ? leaves : (errors ?? []);
  return [...new Set(pick.map((e) => `${path}${e.instancePath}: ${e.message ?? e.keyword}${e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ""}${e.keyword === "enum" ? ` ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}` : ""}`))];
}

// ---------------------------------------------------------------------------------------------------------------
// azd parameters: main.parameters.json holds ${VAR} and ${VAR=default}; azd substitutes its environment.

export function azdParameters(file: JsonObject, env: Record<string, string>, template: JsonObject): Record<string, Json> {
  const declared = isObject(template.parameters) ? template.parameters : {};
  const out: Record<string, Json> = {};
  for (const [name, entry] of Object.entries(isObject(file.parameters) ? file.parameters : {})) {
    if (!isObject(entry)) continue;
    const raw = String(entry.value ?? "");
    const text = raw.replace(/\$\{([A-Z0-9_]+)(?:=([^}]*))?\}/g, (_m, v: string, d: string | undefined) => env[v] ?? d ?? "");
    const type = String(isObject(declared[name]) ? (declared[name] as JsonObject).type : "string").toLowerCase();
    // azd (and ARM) turn "true"/"600" into the parameter's declared type.
    out[name] = type === "int" ? Number(text) : type === "bool" ? text.toLowerCase() === "true" : text;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// alertcap's own template, deployed on paper with azd-style parameters.

export const TEST_TENANT = "72f988bf-0000-4000-8000-000000000001";
export const TEST_SUBSCRIPTION = "11111111-1111-4111-8111-111111111111";
export const OTHER_SUBSCRIPTION = "22222222-2222-4222-8222-222222222222";

export const mainTemplate = (): JsonObject => readJson(join(INFRA_DIR, "main.json")) as JsonObject;
export const mainParametersFile = (): JsonObject => readJson(join(INFRA_DIR, "main.parameters.json")) as JsonObject;

/** The azd environment of a typical deployment: a resource group and a whole subscription allowlisted, two regions. */
export const SAMPLE_ENV: Readonly<Record<string, string>> = {
  AZURE_ENV_NAME: "alertcap-prod",
  AZURE_LOCATION: "westeurope",
  ALERTCAP_ALLOWED_SCOPES: `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/rg-web, /subscriptions/${OTHER_SUBSCRIPTION}`,
  ALERTCAP_NETWORK_WATCHER_RESOURCE_GROUPS: `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/NetworkWatcherRG`,
  ALERTCAP_CAPTURE_REGIONS: "westeurope,northeurope",
};

export function simulateAlertcap(env: Record<string, string> = SAMPLE_ENV): { sim: Simulator; main: SimDeployment; parameters: Record<string, Json> } {
  const template = mainTemplate();
  const parameters = azdParameters(mainParametersFile(), env, template);
  const sim = new Simulator();
  const main = sim.run(template, {
    scope: { tenantId: TEST_TENANT, subscriptionId: TEST_SUBSCRIPTION, location: String(parameters.location) },
    parameters,
    file: "infra/main.json",
  });
  return { sim, main, parameters };
}

/** The app settings of the (one) Function App, as deployed. */
export function appSettingsOf(sim: Simulator): Record<string, Value> {
  const sites = sim.resources.filter((r) => r.type === "Microsoft.Web/sites");
  if (sites.length !== 1) throw new Error(`expected one Function App, found ${sites.length}`);
  const props = sites[0]!.evaluated.properties as ValueObject;
  const siteConfig = props.siteConfig as ValueObject;
  const settings = siteConfig.appSettings as Array<{ name: string; value: Value }>;
  return Object.fromEntries(settings.map((s) => [s.name, s.value]));
}
