// Network Watcher capture filters applied to synthetic packets (tcpdump applies them as BPF to real ones): a packet
// matches a filter going out (source = local) or coming in (destination = local); several filters are OR-ed.
// The notation was checked when the capture was created, so this only reads it.

export interface FilterablePacket {
  protocol: "TCP" | "UDP";
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
}

export interface NetworkWatcherFilter {
  protocol?: string | undefined;
  localIPAddress?: string | undefined;
  remoteIPAddress?: string | undefined;
  localPort?: string | undefined;
  remotePort?: string | undefined;
}

export function matchesCaptureFilters(packet: FilterablePacket, filters: NetworkWatcherFilter[]): boolean {
  return filters.length === 0 || filters.some((filter) => matchesFilter(packet, filter));
}

function matchesFilter(packet: FilterablePacket, filter: NetworkWatcherFilter): boolean {
  const protocol = (filter.protocol ?? "Any").toUpperCase();
  if ((protocol === "TCP" || protocol === "UDP") && protocol !== packet.protocol) return false;
  const oriented = (local: [string, number], remote: [string, number]) =>
    matchesValue(filter.localIPAddress, local[0], ipv4Number) &&
    matchesValue(filter.remoteIPAddress, remote[0], ipv4Number) &&
    matchesValue(filter.localPort, local[1], Number) &&
    matchesValue(filter.remotePort, remote[1], Number);
  const source: [string, number] = [packet.source, packet.sourcePort];
  const destination: [string, number] = [packet.destination, packet.destinationPort];
  return oriented(source, destination) || oriented(destination, source);
}

function matchesValue<T extends string | number>(notation: string | undefined, value: T, toNumber: (text: string) => number): boolean {
  const items = (notation ?? "")
    .split(";")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) return true;
  const actual = toNumber(String(value));
  return items.some((item) => {
    const [from = "", to] = item.split("-").map((part) => part.trim());
    return to === undefined ? toNumber(from) === actual : toNumber(from) <= actual && actual <= toNumber(to);
  });
}

function ipv4Number(address: string): number {
  const octets = address.split(".").map(Number);
  // IPv6 filters never match the synthetic (IPv4) traffic.
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet))) return Number.NaN;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}
