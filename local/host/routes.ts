// Azure Functions HTTP route templates (ASP.NET Core routing syntax as the host uses it): literal segments matched
// case-insensitively, `{name}`, optional `{name?}`, catch-all `{*name}`, and the common inline constraints.

export interface RouteMatch {
  params: Record<string, string>;
}

type Segment =
  | { kind: "literal"; text: string }
  | { kind: "param"; name: string; optional: boolean; catchAll: boolean; constraints: string[] };

const CONSTRAINTS: Record<string, (value: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v),
  long: (v) => /^-?\d+$/.test(v),
  alpha: (v) => /^[a-z]+$/i.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v.replace(/[{}()]/g, "")),
  double: (v) => v.trim() !== "" && !Number.isNaN(Number(v)),
  decimal: (v) => v.trim() !== "" && !Number.isNaN(Number(v)),
};

function parseSegment(raw: string, route: string): Segment {
  const param = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)((?::[^}?]+)*)(\?)?\}$/.exec(raw);
  if (!param) {
    if (raw.includes("{") || raw.includes("}")) throw new Error(`Unsupported route segment "${raw}" in route "${route}"`);
    return { kind: "literal", text: raw.toLowerCase() };
  }
  const constraints = (param[3] ?? "").split(":").filter(Boolean);
  for (const c of constraints) {
    const name = c.replace(/\(.*\)$/, "");
    if (!CONSTRAINTS[name] && !/^(minlength|maxlength|length|min|max|range|regex)$/.test(name)) {
      throw new Error(`Unknown route constraint "${c}" in route "${route}"`);
    }
  }
  return { kind: "param", name: param[2]!, catchAll: param[1] === "*", optional: param[4] === "?", constraints };
}

function satisfies(constraint: string, value: string): boolean {
  const [, name, arg] = /^(\w+)(?:\((.*)\))?$/.exec(constraint) ?? [];
  if (!name) return false;
  const check = CONSTRAINTS[name];
  if (check) return check(value);
  const numbers = (arg ?? "").split(",").map(Number);
  switch (name) {
    case "minlength":
      return value.length >= numbers[0]!;
    case "maxlength":
      return value.length <= numbers[0]!;
    case "length":
      return numbers.length === 1 ? value.length === numbers[0] : value.length >= numbers[0]! && value.length <= numbers[1]!;
    case "min":
      return Number(value) >= numbers[0]!;
    case "max":
      return Number(value) <= numbers[0]!;
    case "range":
      return Number(value) >= numbers[0]! && Number(value) <= numbers[1]!;
    case "regex":
      return new RegExp(arg ?? "").test(value);
    default:
      return false;
  }
}

export class RouteTemplate {
  private readonly segments: Segment[];

  constructor(readonly template: string) {
    this.segments = template.split("/").filter((s) => s.length > 0).map((s) => parseSegment(s, template));
  }

  /** Literal segments first, so `captures/stats` wins over `captures/{id}` as in ASP.NET's route precedence. */
  get precedence(): number {
    return this.segments.reduce((score, s, i) => score + (s.kind === "literal" ? 2 : s.catchAll ? 0 : 1) * 10 ** (6 - Math.min(i, 6)), 0);
  }

  match(path: string): RouteMatch | undefined {
    const parts = path.split("/").filter((s) => s.length > 0);
    const params: Record<string, string> = {};
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const part = parts[i];
      if (segment.kind === "literal") {
        if (part === undefined || decodeURIComponent(part).toLowerCase() !== segment.text) return undefined;
        continue;
      }
      if (segment.catchAll) {
        const rest = parts.slice(i).map(decodeURIComponent).join("/");
        if (rest) params[segment.name] = rest;
        return { params };
      }
      if (part === undefined) {
        if (!segment.optional) return undefined;
        continue;
      }
      const value = decodeURIComponent(part);
      if (!segment.constraints.every((c) => satisfies(c, value))) return undefined;
      params[segment.name] = value;
    }
    return parts.length <= this.segments.length ? { params } : undefined;
  }
}
