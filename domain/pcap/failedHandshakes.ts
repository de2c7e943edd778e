import { addressText } from "./addressText.js";
import type { TcpHealth } from "./captureSummary.js";
import type { FlowTable } from "./flowTable.js";
import { IPPROTO_TCP } from "./frameDecoder.js";
import { finishHash, KeyIndex, mixWord } from "./keyIndex.js";
import type { TcpTracker } from "./tcpTracker.js";
import { topN } from "./topN.js";

/** Key of a server (the side that answered, or should have answered, the SYN): address (4 words), IP version, port. */
export const TARGET_KEY_WORDS = 6;

/**
 * Servers (address, port) whose handshakes failed, most attempts first. Grouped on numeric keys and turned into text
 * only for the `count` reported: a SYN scan leaves a failed handshake in every one of the flow table's flows.
 */
export function failedHandshakeTargets(flows: FlowTable, tcp: TcpTracker, count: number): TcpHealth["failedHandshakeTargets"] {
  const failed: number[] = [];
  for (let f = 0; f < flows.size; f++) {
    if (flows.protocol(f) !== IPPROTO_TCP) continue;
    const outcome = tcp.outcome(f);
    if (outcome === "unanswered" || outcome === "refused") failed.push(f);
  }
  if (failed.length === 0) return [];
  const index = new KeyIndex(TARGET_KEY_WORDS, failed.length);
  const unanswered = new Float64Array(failed.length);
  const refused = new Float64Array(failed.length);
  const key = new Uint32Array(TARGET_KEY_WORDS);
  for (const f of failed) {
    const target = serverEntry(index, key, flows, tcp, f);
    if (tcp.outcome(f) === "refused") refused[target]!++;
    else unanswered[target]!++;
  }
  return topN(index.size, count, (t) => unanswered[t]! + refused[t]!).map((t) => {
    const words = index.keys.subarray(t * TARGET_KEY_WORDS, t * TARGET_KEY_WORDS + 4);
    return {
      address: addressText(index.keys[t * TARGET_KEY_WORDS + 4]!, words),
      port: index.keys[t * TARGET_KEY_WORDS + 5]!,
      attempts: unanswered[t]! + refused[t]!,
      unanswered: unanswered[t]!,
      refused: refused[t]!,
    };
  });
}

/** Entry of flow `f`'s server in `index` (keys of TARGET_KEY_WORDS, filled through the scratch `key`), or -1 if refused. */
export function serverEntry(index: KeyIndex, key: Uint32Array, flows: FlowTable, tcp: TcpTracker, f: number): number {
  const server = tcp.clientDirection(f) ^ 1;
  const base = flows.keyOffset(f) + server * 4;
  const flowKeys = flows.index.keys;
  let hash = index.seed;
  for (let w = 0; w < 4; w++) hash = mixWord(hash, (key[w] = flowKeys[base + w]!));
  key[4] = flows.version(f);
  key[5] = flows.port(f, server);
  return index.findOrInsert(key, finishHash(mixWord(mixWord(hash, key[4]), key[5])));
}
