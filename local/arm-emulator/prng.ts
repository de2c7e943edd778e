// Deterministic pseudo-random numbers for fault injection.
//
// Faults must repeat from run to run for the same seed, even though the order in which requests reach the emulator
// varies (a poll may land before or after another client's GET). So we never share one random stream between
// requests: every decision draws from its own generator, seeded by hashing the seed together with *what* is being
// decided (rule, operation, n-th occurrence of that operation).

/** mulberry32: a tiny 32-bit generator with good enough statistics for test faults. Returns numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units of a string: turns a decision key into a 32-bit seed. */
export function hashToSeed(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** One random number in [0, 1) that depends only on the seed and the decision key. */
export function decisionRandom(seed: number, decisionKey: string): number {
  return mulberry32(hashToSeed(`${seed}|${decisionKey}`))();
}
