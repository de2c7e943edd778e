/**
 * An open-addressing hash index from fixed-width keys of 32-bit words to dense entry numbers 0, 1, 2, …, with a hard
 * capacity. Keys live in one Uint32Array and slots in one Int32Array, so a lookup allocates nothing and the whole index
 * is a few flat buffers the GC never walks. Storage is allocated for the full capacity at once: typed arrays are
 * zero-filled by the kernel (calloc → fresh mmap pages), so untouched capacity costs address space, not resident
 * memory, and there is no doubling that would copy the tables and leave the old ones as garbage. When the capacity is
 * reached, new keys are refused (the caller aggregates them elsewhere) rather than evicting anything.
 *
 * Keys come from packets, so an attacker chooses them. Two defences against hash flooding (keys crafted to share a
 * slot, which makes linear probing quadratic): every index draws a random `seed` that callers start their hash from,
 * so collisions cannot be computed in advance; and a probe sequence longer than MAX_PROBES refuses the key as if the
 * table were full, so even a seed-independent multicollision costs a bounded amount of work per packet.
 */
export class KeyIndex {
  /** Key words of entry e at [e * keyWords, (e + 1) * keyWords). */
  readonly keys: Uint32Array;
  size = 0;
  /** Whether the last findOrInsert created its entry. */
  inserted = false;
  /** Random per index: callers start their hash from it (mixWord(seed, …)). */
  readonly seed: number;
  /** Slots visited by all lookups so far: the work done, for tests and the benchmark. */
  probes = 0;
  /** Keys refused because their probe sequence was longer than MAX_PROBES (only under attack). */
  overlongProbes = 0;
  private readonly hashes: Int32Array;
  private readonly slots: Int32Array; // entry + 1, 0 = empty; at least twice the capacity, so probes stay short
  private readonly mask: number;

  constructor(
    readonly keyWords: number,
    readonly capacity: number,
  ) {
    this.keys = new Uint32Array(capacity * keyWords);
    this.hashes = new Int32Array(capacity);
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.slots = new Int32Array(slots);
    this.mask = slots - 1;
    this.seed = randomSeed();
  }

  /** Entry of `key` (its first `keyWords` words, hashed by finishHash), inserting it when new; -1 when new and full. */
  findOrInsert(key: Uint32Array, hash: number): number {
    const words = this.keyWords;
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    let slot = hash & mask;
    let probe = 0;
    for (; ; slot = (slot + 1) & mask) {
      const found = slots[slot]! - 1;
      if (found < 0) break;
      if (++probe > MAX_PROBES) {
        this.probes += probe;
        this.overlongProbes++;
        this.inserted = false;
        return -1;
      }
      if (this.hashes[found] !== hash) continue;
      let base = found * words;
      let same = true;
      for (let w = 0; w < words; w++, base++) {
        if (keys[base] !== key[w]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.probes += probe + 1;
        this.inserted = false;
        return found;
      }
    }
    this.probes += probe + 1;
    if (this.size >= this.capacity) {
      this.inserted = false;
      return -1;
    }
    const entry = this.size++;
    keys.set(key.subarray(0, words), entry * words);
    this.hashes[entry] = hash;
    slots[slot] = entry + 1;
    this.inserted = true;
    return entry;
  }
}

/**
 * Longest probe sequence allowed. The table is at most half full, and linear probing at load α has runs of length k
 * with probability about e^(-k(α - 1 - ln α)), e^(-0.19 k) at α = ½: below 2^-70 for 256, so with a random seed only
 * crafted keys (a seed-independent multicollision) ever reach it.
 */
export const MAX_PROBES = 256;

function randomSeed(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! | 0;
}

/** Murmur3's 32-bit mixing, one word at a time. */
export function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  hash ^= Math.imul(k, 0x1b873593);
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

/** The final avalanche, cut to 30 bits so the hash is always a small integer (never a boxed heap number). */
export function finishHash(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash & 0x3fffffff;
}
