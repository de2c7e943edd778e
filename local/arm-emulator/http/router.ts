// Route table: ARM path templates with `{param}` segments, matched case-insensitively like ARM matches provider
// namespaces and resource types. Each route carries the swagger operation ID, which fault rules and the request log
// use to name what was called.

export interface ArmRequest {
  method: string;
  /** Decoded path without the query string. */
  path: string;
  query: URLSearchParams;
  apiVersion: string;
  operationId: string;
  params: Readonly<Record<string, string>>;
  bodyText: string;
  /** The emulator's own base URL, for building polling URLs. */
  baseUrl: string;
}

export interface ArmResponse {
  status: number;
  /** `undefined` sends no body; anything else (including `null`) is sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type ArmHandler = (request: ArmRequest) => ArmResponse | Promise<ArmResponse>;

export interface RouteDefinition {
  method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  /** e.g. `/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/...` */
  template: string;
  operationId: string;
  handler: ArmHandler;
}

interface CompiledRoute extends RouteDefinition {
  segments: Array<{ literal: string } | { param: string }>;
}

export type RouteLookup =
  | { kind: "match"; route: RouteDefinition; params: Record<string, string> }
  | { kind: "methodNotAllowed" }
  | { kind: "none" };

export class Router {
  private readonly routes: CompiledRoute[];

  constructor(definitions: RouteDefinition[]) {
    this.routes = definitions.map((definition) => ({ ...definition, segments: compileTemplate(definition.template) }));
  }

  lookup(method: string, path: string): RouteLookup {
    const segments = splitPath(path);
    let pathKnown = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      pathKnown = true;
      if (route.method === method.toUpperCase()) return { kind: "match", route, params };
    }
    return pathKnown ? { kind: "methodNotAllowed" } : { kind: "none" };
  }
}

/** Reads a path parameter the route template guarantees. */
export function param(request: ArmRequest, name: string): string {
  const value = request.params[name];
  if (value === undefined) throw new Error(`route for ${request.operationId} has no parameter '${name}'`);
  return value;
}

function compileTemplate(template: string): CompiledRoute["segments"] {
  return splitPath(template).map((segment) => {
    const paramMatch = /^\{(\w+)\}$/.exec(segment);
    return paramMatch?.[1] ? { param: paramMatch[1] } : { literal: segment.toLowerCase() };
  });
}

function splitPath(path: string): string[] {
  return path.replace(/^\/+|\/+$/g, "").split("/");
}

function matchSegments(
  template: CompiledRoute["segments"],
  segments: string[],
): Record<string, string> | undefined {
  if (template.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of template.entries()) {
    const segment = segments[i] ?? "";
    if ("literal" in part) {
      if (part.literal !== segment.toLowerCase()) return undefined;
    } else {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
      if (decoded === "") return undefined;
      params[part.param] = decoded;
    }
  }
  return params;
}
