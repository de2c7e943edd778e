/** Text form of an address as the frame decoder / flow table store it (IPv4 in word 0; IPv6 as four words). */
export function addressText(version: number, words: Uint32Array): string {
  if (version === 4) {
    const a = words[0]!;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
  const groups: number[] = [];
  for (let w = 0; w < 4; w++) groups.push(words[w]! >>> 16, words[w]! & 0xffff);
  // RFC 5952: compress the longest run (length ≥ 2, the first one on a tie) of zero groups to "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** "addr:port" ("[v6]:port") for protocols with ports, the bare address otherwise. */
export function endpointText(address: string, port: number, ipProtocol: number): string {
  if (ipProtocol !== 6 && ipProtocol !== 17 && ipProtocol !== 132) return address;
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
