import type { FrameDecoder } from "./frameDecoder.js";
import type { HostTable } from "./hostTable.js";
import { finishHash, KeyIndex, mixWord } from "./keyIndex.js";
import type { PacketClock } from "./packetClock.js";

/** Flow key: address A (4 words), address B (4 words), portA << 16 | portB, protocol | IP version << 8. */
const FLOW_KEY_WORDS = 10;
/** Flow protocol when the IP header is cut before its protocol field could be trusted. */
const UNKNOWN_PROTOCOL = 255;

/**
 * Conversations keyed by the direction-independent 5-tuple (addresses and ports in a canonical order: side A is the
 * smaller address, then the smaller port), in flat typed arrays indexed by a dense flow number. Capped: once
 * `capacity` flows exist, packets of new flows are not tracked per flow (they still count everywhere else, and their
 * hosts still count for top talkers) and `saturated` is set. That bound is what keeps memory flat on scans and floods.
 */
export class FlowTable {
  readonly index: KeyIndex;
  /** Packets and bytes per direction: [flow * 2] A→B, [flow * 2 + 1] B→A. */
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  readonly firstTime: Float64Array;
  readonly lastTime: Float64Array;
  /** Direction of the flow's first packet (0: A→B). */
  readonly firstDirection: Uint8Array;
  readonly hostA: Int32Array;
  readonly hostB: Int32Array;
  saturated = false;
  untrackedPackets = 0;
  untrackedBytes = 0;
  /** Direction of the packet last passed to `observe`. */
  direction = 0;
  private readonly key = new Uint32Array(FLOW_KEY_WORDS);

  constructor(
    capacity: number,
    private readonly hosts: HostTable,
    private readonly clock: PacketClock,
  ) {
    this.index = new KeyIndex(FLOW_KEY_WORDS, capacity);
    this.packets = new Float64Array(capacity * 2);
    this.bytes = new Float64Array(capacity * 2);
    this.firstTime = new Float64Array(capacity);
    this.lastTime = new Float64Array(capacity);
    this.firstDirection = new Uint8Array(capacity);
    this.hostA = new Int32Array(capacity);
    this.hostB = new Int32Array(capacity);
  }

  /** Counts one packet (at the clock's time) of a decoded frame whose addresses are known; its flow, or -1 if untracked. */
  observe(frame: FrameDecoder, wireBytes: number): number {
    const key = this.key;
    const src = frame.source;
    const dst = frame.destination;
    const version = frame.ipVersion;
    const srcPort = frame.portsKnown ? frame.sourcePort : 0;
    const dstPort = frame.portsKnown ? frame.destinationPort : 0;
    let hash = this.index.seed;
    let swapped: boolean;
    if (version === 4) {
      const a = src[0]!;
      const b = dst[0]!;
      swapped = a > b || (a === b && srcPort > dstPort);
      key[0] = swapped ? b : a;
      key[4] = swapped ? a : b;
      key[1] = key[2] = key[3] = key[5] = key[6] = key[7] = 0;
      hash = mixWord(mixWord(hash, key[0]!), key[4]!);
    } else {
      let order = 0;
      for (let w = 0; w < 4 && order === 0; w++) order = src[w]! < dst[w]! ? -1 : src[w]! > dst[w]! ? 1 : 0;
      swapped = order > 0 || (order === 0 && srcPort > dstPort);
      const first = swapped ? dst : src;
      const second = swapped ? src : dst;
      for (let w = 0; w < 4; w++) {
        key[w] = first[w]!;
        key[4 + w] = second[w]!;
        hash = mixWord(mixWord(hash, key[w]!), key[4 + w]!);
      }
    }
    key[8] = (swapped ? (dstPort << 16) | srcPort : (srcPort << 16) | dstPort) >>> 0;
    const protocol = frame.ipProtocol >= 0 ? frame.ipProtocol : UNKNOWN_PROTOCOL;
    key[9] = protocol | (version << 8);
    hash = finishHash(mixWord(mixWord(hash, key[8]!), key[9]!));

    const flow = this.index.findOrInsert(key, hash);
    if (flow < 0) {
      // Refused: the table is full, or (only with crafted keys) the probe sequence was too long; see KeyIndex.
      if (this.index.size >= this.index.capacity) this.saturated = true;
      this.untrackedPackets++;
      this.untrackedBytes += wireBytes;
      const hosts = this.hosts;
      hosts.add(hosts.entryOf(version, src), 1, wireBytes, 0, 0);
      hosts.add(hosts.entryOf(version, dst), 0, 0, 1, wireBytes);
      return -1;
    }
    const direction = swapped ? 1 : 0;
    const time = this.clock.now;
    if (this.index.inserted) {
      this.firstTime[flow] = time;
      this.firstDirection[flow] = direction;
      // Hosts are registered when their first flow appears, so tracked flows claim host slots first.
      this.hostA[flow] = this.hosts.entryOf(version, key, 0);
      this.hostB[flow] = this.hosts.entryOf(version, key, 4);
    }
    this.direction = direction;
    const slot = flow * 2 + direction;
    this.packets[slot]!++;
    this.bytes[slot]! += wireBytes;
    this.lastTime[flow] = time;
    return flow;
  }

  get size(): number {
    return this.index.size;
  }

  version(flow: number): number {
    return this.index.keys[flow * FLOW_KEY_WORDS + 9]! >>> 8;
  }

  protocol(flow: number): number {
    return this.index.keys[flow * FLOW_KEY_WORDS + 9]! & 0xff;
  }

  /** Port of side A (0) or B (1). */
  port(flow: number, side: number): number {
    const ports = this.index.keys[flow * FLOW_KEY_WORDS + 8]!;
    return side === 0 ? ports >>> 16 : ports & 0xffff;
  }

  /** Where flow `flow`'s key starts in `index.keys`: address A at +0, address B at +4. */
  keyOffset(flow: number): number {
    return flow * FLOW_KEY_WORDS;
  }

  /** Address words of side A (0) or B (1). */
  address(flow: number, side: number): Uint32Array {
    const base = flow * FLOW_KEY_WORDS + side * 4;
    return this.index.keys.subarray(base, base + 4);
  }

  /** Adds every flow's traffic to its two hosts (call once, at the end). */
  creditHosts(): void {
    for (let f = 0; f < this.index.size; f++) {
      const ab = f * 2;
      this.hosts.add(this.hostA[f]!, this.packets[ab]!, this.bytes[ab]!, this.packets[ab + 1]!, this.bytes[ab + 1]!);
      this.hosts.add(this.hostB[f]!, this.packets[ab + 1]!, this.bytes[ab + 1]!, this.packets[ab]!, this.bytes[ab]!);
    }
  }
}
