// Network Watcher capture filters → tcpdump (BPF) expressions.
//
// A filter's fields use Network Watcher's notation: a single value ("80", "10.0.0.4"), a range ("80-85",
// "10.0.0.1-10.0.0.255") or a list ("80;443;"). The spec says multiple ranges, and ranges mixed with lists, are not
// supported; we reject those like a validation error. "Local" is the VM's side, "remote" the peer. A packet matches
// when it goes out (source = local, destination = remote) or comes in (destination = local, source = remote), so each
// filter becomes "outbound orientation OR inbound orientation". Several filters are OR-ed, as in the service.

import { isIPv4, isIPv6 } from "node:net";

export interface CaptureFilter {
  protocol?: string | undefined;
  localIPAddress?: string | undefined;
  remoteIPAddress?: string | undefined;
  localPort?: string | undefined;
  remotePort?: string | undefined;
}

type ValueSpec =
  | { kind: "single"; value: string }
  | { kind: "list"; values: string[] }
  | { kind: "range"; from: string; to: string };

export class FilterSyntaxError extends Error {
  constructor(
    readonly field: keyof CaptureFilter,
    message: string,
  ) {
    super(message);
    this.name = "FilterSyntaxError";
  }
}

/** Throws `FilterSyntaxError` for the first field that is not valid Network Watcher notation. */
export function checkFilter(filter: CaptureFilter): void {
  const local = addressSpec(filter.localIPAddress, "localIPAddress");
  const remote = addressSpec(filter.remoteIPAddress, "remoteIPAddress");
  if (local && remote) {
    const localFamilies = addressFamilies(local);
    if (![...addressFamilies(remote)].some((family) => localFamilies.has(family))) {
      // No packet has an IPv4 source and an IPv6 destination; tcpdump refuses such an expression outright.
      throw new FilterSyntaxError("remoteIPAddress", "must include the IP version (IPv4/IPv6) of localIPAddress");
    }
  }
  portSpec(filter.localPort, "localPort");
  portSpec(filter.remotePort, "remotePort");
}

/** The BPF expression for a capture's filters; `undefined` when everything is captured. */
export function filtersToBpf(filters: CaptureFilter[] | undefined): string | undefined {
  if (!filters || filters.length === 0) return undefined;
  const expressions: string[] = [];
  for (const filter of filters) {
    const expression = filterToBpf(filter);
    // A filter with no constraints matches every packet, so the OR of all filters does too.
    if (expression === undefined) return undefined;
    expressions.push(expression);
  }
  return expressions.length === 1 ? expressions[0] : expressions.map((e) => `(${e})`).join(" or ");
}

function filterToBpf(filter: CaptureFilter): string | undefined {
  const protocol = (filter.protocol ?? "Any").toUpperCase();
  const protocolPart = protocol === "TCP" ? "tcp" : protocol === "UDP" ? "udp" : undefined;
  const local = addressSpec(filter.localIPAddress, "localIPAddress");
  const remote = addressSpec(filter.remoteIPAddress, "remoteIPAddress");
  const localPort = portSpec(filter.localPort, "localPort");
  const remotePort = portSpec(filter.remotePort, "remotePort");

  const orientation = (localDir: "src" | "dst", remoteDir: "src" | "dst") =>
    and([
      local && addressToBpf(local, localDir),
      remote && addressToBpf(remote, remoteDir),
      localPort && portToBpf(localPort, localDir, protocolPart),
      remotePort && portToBpf(remotePort, remoteDir, protocolPart),
    ]);
  const outbound = orientation("src", "dst");
  const inbound = orientation("dst", "src");
  const directional = outbound === undefined ? undefined : `(${outbound}) or (${inbound})`;
  if (protocolPart && directional) return `${protocolPart} and (${directional})`;
  return protocolPart ?? directional;
}

function addressFamilies(spec: ValueSpec): Set<4 | 6> {
  const values = spec.kind === "single" ? [spec.value] : spec.kind === "list" ? spec.values : [spec.from, spec.to];
  return new Set(values.map((value) => (isIPv4(value) ? 4 : 6)));
}

function and(parts: Array<string | undefined>): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part !== "");
  return present.length === 0 ? undefined : present.join(" and ");
}

function addressToBpf(spec: ValueSpec, dir: "src" | "dst"): string {
  switch (spec.kind) {
    case "single":
      return `${dir} host ${spec.value}`;
    case "list":
      return `(${spec.values.map((value) => `${dir} host ${value}`).join(" or ")})`;
    case "range":
      return `(${ipv4RangeToCidrs(spec.from, spec.to).map((cidr) => `${dir} net ${cidr}`).join(" or ")})`;
  }
}

function portToBpf(spec: ValueSpec, dir: "src" | "dst", protocol: string | undefined): string {
  // `tcp src port 80` keeps the port test on the right protocol; without a protocol BPF tests TCP, UDP and SCTP.
  const prefix = protocol ? `${protocol} ${dir}` : dir;
  switch (spec.kind) {
    case "single":
      return `${prefix} port ${spec.value}`;
    case "list":
      return `(${spec.values.map((value) => `${prefix} port ${value}`).join(" or ")})`;
    case "range":
      return `${prefix} portrange ${spec.from}-${spec.to}`;
  }
}

function parseSpec(raw: string | undefined): ValueSpec | "multipleRanges" | "mixed" | "empty" | undefined {
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (trimmed === "") return undefined;
  const items = trimmed
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) return "empty";
  const ranges = items.filter((item) => item.includes("-"));
  if (ranges.length > 1) return "multipleRanges";
  if (ranges.length === 1 && items.length > 1) return "mixed";
  const [first] = items;
  if (first === undefined) return "empty";
  if (ranges.length === 1) {
    const [from = "", to = "", ...extra] = first.split("-").map((part) => part.trim());
    if (extra.length > 0) return "multipleRanges";
    return { kind: "range", from, to };
  }
  return items.length === 1 ? { kind: "single", value: first } : { kind: "list", values: items };
}

function addressSpec(raw: string | undefined, field: keyof CaptureFilter): ValueSpec | undefined {
  const spec = checkedSpec(raw, field);
  if (!spec) return undefined;
  const values = spec.kind === "single" ? [spec.value] : spec.kind === "list" ? spec.values : [spec.from, spec.to];
  for (const value of values) {
    if (!isIPv4(value) && !isIPv6(value)) throw new FilterSyntaxError(field, `'${value}' is not an IP address`);
  }
  if (spec.kind === "range") {
    if (!isIPv4(spec.from) || !isIPv4(spec.to)) {
      throw new FilterSyntaxError(field, "address ranges are supported for IPv4 only");
    }
    if (ipv4ToNumber(spec.from) > ipv4ToNumber(spec.to)) {
      throw new FilterSyntaxError(field, `range '${raw}' starts after it ends`);
    }
  }
  return spec;
}

function portSpec(raw: string | undefined, field: keyof CaptureFilter): ValueSpec | undefined {
  const spec = checkedSpec(raw, field);
  if (!spec) return undefined;
  const values = spec.kind === "single" ? [spec.value] : spec.kind === "list" ? spec.values : [spec.from, spec.to];
  for (const value of values) {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
      throw new FilterSyntaxError(field, `'${value}' is not a port number (0-65535)`);
    }
  }
  if (spec.kind === "range" && Number(spec.from) > Number(spec.to)) {
    throw new FilterSyntaxError(field, `range '${raw}' starts after it ends`);
  }
  return spec;
}

function checkedSpec(raw: string | undefined, field: keyof CaptureFilter): ValueSpec | undefined {
  const spec = parseSpec(raw);
  if (spec === "multipleRanges") throw new FilterSyntaxError(field, "multiple ranges are not supported");
  if (spec === "mixed") throw new FilterSyntaxError(field, "mixing ranges with multiple entries is not supported");
  if (spec === "empty") throw new FilterSyntaxError(field, "has no entries");
  return spec;
}

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The smallest list of CIDR blocks covering exactly [from, to]. */
export function ipv4RangeToCidrs(from: string, to: string): string[] {
  let start = ipv4ToNumber(from);
  const end = ipv4ToNumber(to);
  const cidrs: string[] = [];
  while (start <= end) {
    // Largest block aligned at `start` that does not run past `end`.
    let size = 32;
    while (size > 0) {
      const blockSize = 2 ** (32 - (size - 1));
      if (start % blockSize !== 0 || start + blockSize - 1 > end) break;
      size--;
    }
    cidrs.push(`${numberToIpv4(start)}/${size}`);
    start += 2 ** (32 - size);
  }
  return cidrs;
}
