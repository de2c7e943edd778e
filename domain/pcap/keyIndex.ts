/**
 * An open-addressing hash index from fixed-width keys of 32-bit words to dense entry numbers 0, 1, 2, …, with a hard
 * capacity. Keys live in one Uint32Array and slots in one Int32Array, so a lookup allocates nothing and the whole index
 * is a few flat buffers the GC never walks. Key storage is allocated for the full capacity at once: typed arrays are
 * zero-filled by the kernel (calloc → fresh mmap pages), and keys fill it from the front, so untouched capacity costs
 * address space, not resident memory, and keys are never copied. The slot array is the exception: hashing scatters
 * its writes over every page, so a full-size one would cost a page fault per 4 KiB from the first packets on (about
 * 15 µs each on the 2-core benchmark VM; 1,024 of them for the flow and host tables). It starts small and doubles
 * when half full (rebuilt from the stored hashes, keys untouched). When the capacity is reached, new keys are refused
 * (the caller aggregates them elsewhere) rather than evicting anything.
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
  /**
   * Slot s is [2s] = entry + 1 (0 = empty) and [2s + 1] = that entry's hash, side by side so a probe reads one cache
   * line and compares keys only on a full hash match (with 100,000 flows the tables outgrow the CPU caches, and a
   * separate hash array cost a miss per probe). At least twice as many slots as entries, so probes stay short.
   */
  private slots: Int32Array;
  private mask: number;
  /** Largest slot count: the first power of two ≥ twice the capacity. */
  private readonly maxSlots: number;
  /** Past this many entries the slots double; the capacity once they are at their largest (never passed). */
  private growAt: number;

  constructor(
    readonly keyWords: number,
    readonly capacity: number,
  ) {
    this.keys = new Uint32Array(capacity * keyWords);
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.maxSlots = slots;
    const initial = Math.min(slots, INITIAL_SLOTS);
    this.slots = new Int32Array(initial * 2);
    this.mask = initial - 1;
    this.growAt = initial < slots ? initial / 2 : capacity;
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
      const found = slots[slot * 2]! - 1;
      if (found < 0) break;
      if (++probe > MAX_PROBES) {
        this.probes += probe;
        this.overlongProbes++;
        this.inserted = false;
        return -1;
      }
      if (slots[slot * 2 + 1] !== hash) continue;
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
    for (let w = 0; w < words; w++) keys[entry * words + w] = key[w]!;
    slots[slot * 2] = entry + 1;
    slots[slot * 2 + 1] = hash;
    this.inserted = true;
    if (this.size > this.growAt) this.grow();
    return entry;
  }

  /** Doubles the slots and re-places every entry by its stored hash (keys stay where they are). */
  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let o = 0; o < old.length; o += 2) {
      if (old[o] === 0) continue;
      const hash = old[o + 1]!;
      let slot = hash & mask;
      while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * 2] = old[o]!;
      slots[slot * 2 + 1] = hash;
    }
    this.slots = slots;
    this.mask = mask;
    this.growAt = mask + 1 < this.maxSlots ? (mask + 1) / 2 : this.capacity;
  }
}

/**
 * First slot count: 128 KiB, 32 pages, enough for 8,192 entries. Most captures never grow it, and growing is rare
 * enough otherwise: each first call of grow() from optimised code costs a deoptimisation.
 */
const INITIAL_SLOTS = 16_384;

/**
 * Longest probe sequence allowed. The table is at most half full, and linear probing at load α has runs of length k
 * with probability about e^(-k(α - 1 - ln α)), e^(-0.19 k) at α = ½: below 2^-70 for 256, so with a random seed only
 * crafted keys (a seed-independent multicollision) ever reach it.
 */
export const MAX_PROBES = 256;

/**
 * Unpredictable to whoever crafted the capture, which is all the seed needs: V8 seeds Math.random per process from
 * the OS entropy source, and nothing the analyser outputs reveals its values. Not crypto.getRandomValues: its first
 * call loads Node's WebCrypto modules, about 10 ms of a CLI run.
 */
function randomSeed(): number {
  return (Math.random() * 0x1_0000_0000) | 0;
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
