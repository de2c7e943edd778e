import { finishHash, KeyIndex, mixWord } from "./keyIndex.js";

const HOST_KEY_WORDS = 5; // address (4 words; IPv4 in word 0) + IP version

/** Per-address traffic totals for top talkers, capped like the flow table; hosts past the cap go to `other*`. */
export class HostTable {
  readonly index: KeyIndex;
  readonly bytesSent: Float64Array;
  readonly bytesReceived: Float64Array;
  readonly packetsSent: Float64Array;
  readonly packetsReceived: Float64Array;
  otherBytes = 0;
  otherPackets = 0;
  saturated = false;
  private readonly key = new Uint32Array(HOST_KEY_WORDS);

  constructor(capacity: number) {
    this.index = new KeyIndex(HOST_KEY_WORDS, capacity);
    this.bytesSent = new Float64Array(capacity);
    this.bytesReceived = new Float64Array(capacity);
    this.packetsSent = new Float64Array(capacity);
    this.packetsReceived = new Float64Array(capacity);
  }

  /** Entry of an address (`words` as the frame decoder gives them), or -1 when the table is full. */
  entryOf(version: number, words: Uint32Array, offset = 0): number {
    const key = this.key;
    let hash = mixWord(this.index.seed, version);
    key[4] = version;
    for (let w = 0; w < 4; w++) {
      const word = version === 4 && w > 0 ? 0 : words[offset + w]!;
      key[w] = word;
      hash = mixWord(hash, word);
    }
    const entry = this.index.findOrInsert(key, finishHash(hash));
    if (entry < 0 && this.index.size >= this.index.capacity) this.saturated = true;
    return entry;
  }

  add(entry: number, packetsSent: number, bytesSent: number, packetsReceived: number, bytesReceived: number): void {
    if (entry < 0) {
      this.otherPackets += packetsSent + packetsReceived;
      this.otherBytes += bytesSent + bytesReceived;
      return;
    }
    this.packetsSent[entry]! += packetsSent;
    this.bytesSent[entry]! += bytesSent;
    this.packetsReceived[entry]! += packetsReceived;
    this.bytesReceived[entry]! += bytesReceived;
  }

  version(entry: number): number {
    return this.index.keys[entry * HOST_KEY_WORDS + 4]!;
  }

  addressWords(entry: number): Uint32Array {
    return this.index.keys.subarray(entry * HOST_KEY_WORDS, entry * HOST_KEY_WORDS + 4);
  }
}
