import { addressText, endpointText } from "./addressText.js";
import type { ServiceLatency, TcpHealth } from "./captureSummary.js";
import type { FlowTable } from "./flowTable.js";
import { IPPROTO_TCP } from "./frameDecoder.js";
import { serverEntry, TARGET_KEY_WORDS as SERVICE_KEY_WORDS } from "./failedHandshakes.js";
import { KeyIndex } from "./keyIndex.js";
import type { TcpTracker } from "./tcpTracker.js";
import { topN } from "./topN.js";

/**
 * SYN → SYN-ACK time per destination service (server address and port), from the flows' timed handshakes: made
 * once at the end, so the per-packet path only stores one number per connection. Slowest p95 first.
 */
export function handshakeLatency(flows: FlowTable, tcp: TcpTracker, count: number): ServiceLatency[] {
  const timed: number[] = [];
  for (let f = 0; f < flows.size; f++) if (flows.protocol(f) === IPPROTO_TCP && tcp.synAckSeconds(f) >= 0) timed.push(f);
  if (timed.length === 0) return [];
  const index = new KeyIndex(SERVICE_KEY_WORDS, timed.length);
  const groupOf = new Int32Array(timed.length);
  const key = new Uint32Array(SERVICE_KEY_WORDS);
  timed.forEach((f, i) => (groupOf[i] = serverEntry(index, key, flows, tcp, f)));
  const delays: number[][] = Array.from({ length: index.size }, () => []);
  timed.forEach((f, i) => {
    if (groupOf[i]! >= 0) delays[groupOf[i]!]!.push(tcp.synAckSeconds(f));
  });
  const percentiles = delays.map((list) => {
    const sorted = Float64Array.from(list).sort();
    const at = (p: number): number => Math.round(sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]! * 1e6) / 1e3;
    return { p50: at(50), p95: at(95) };
  });
  return topN(index.size, count, (g) => percentiles[g]!.p95).map((g) => ({
    address: addressText(index.keys[g * SERVICE_KEY_WORDS + 4]!, index.keys.subarray(g * SERVICE_KEY_WORDS, g * SERVICE_KEY_WORDS + 4)),
    port: index.keys[g * SERVICE_KEY_WORDS + 5]!,
    handshakes: delays[g]!.length,
    p50Ms: percentiles[g]!.p50,
    p95Ms: percentiles[g]!.p95,
  }));
}

/** The endpoints that advertised a zero window most often. */
export function zeroWindowSenders(flows: FlowTable, tcp: TcpTracker, count: number): TcpHealth["zeroWindowSenders"] {
  if (tcp.counters.zeroWindows === 0) return [];
  const sent = tcp.zeroWindowsSent;
  return topN(flows.size * 2, count, (d) => sent[d]!)
    .filter((d) => sent[d]! > 0)
    .map((d) => {
      const f = d >>> 1;
      const side = d & 1; // direction 0 is A→B: side A sent it
      return { endpoint: endpointText(addressText(flows.version(f), flows.address(f, side)), flows.port(f, side), IPPROTO_TCP), count: sent[d]! };
    });
}
