// Issue 11.3: the flow and host tables hash keys that a packet sender chooses. With the old fixed-seed hash and
// unbounded linear probing, ports chosen to land in one run of slots made every lookup walk the whole cluster
// (a 13 MB capture took 67 s instead of 2 s). The work done (slots probed) on such a capture must stay within 2× of
// an ordinary capture with the same number of packets and flows.
import { describe, expect, it } from "vitest";
import { CaptureAnalyzer } from "../domain/pcap/captureAnalyzer.js";
import { readCapture } from "../domain/pcap/captureReader.js";
import { finishHash, KeyIndex, MAX_PROBES, mixWord } from "../domain/pcap/keyIndex.js";
import { ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, udp, type Packet } from "./pcap.synthetic.js";

const FLOWS = 3_000;
const CAPACITY = 4_096; // → 8,192 slots
const SLOTS = 8_192;
const VM = "10.0.0.4"; // side A of the flow key (the smaller address)
const ATTACKER = "10.66.0.1";
const VM_WORD = 0x0a000004;
const ATTACKER_WORD = 0x0a420001;

/** The flow hash as it was before the fix: fixed seed 0x9747b28c over address A, address B, ports, protocol. */
function oldFlowSlot(vmPort: number, attackerPort: number): number {
  let hash = mixWord(mixWord(0x9747b28c, VM_WORD), ATTACKER_WORD);
  hash = finishHash(mixWord(mixWord(hash, ((vmPort << 16) | attackerPort) >>> 0), 17 | (4 << 8)));
  return hash & (SLOTS - 1);
}

/** Port pairs whose old-seed slots all fall in the first 32 slots: one long linear-probing cluster. */
function collidingPorts(count: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let vmPort = 1; pairs.length < count; vmPort++) {
    for (let attackerPort = 1024; attackerPort < 65536 && pairs.length < count; attackerPort += 7) {
      if (oldFlowSlot(vmPort, attackerPort) < 32) pairs.push([vmPort, attackerPort]);
    }
  }
  return pairs;
}

function captureOf(pairs: Array<[number, number]>): Buffer {
  const packets: Packet[] = [];
  pairs.forEach(([vmPort, attackerPort], i) => {
    const frame = ethernet(ETHERTYPE_IPV4, ipv4({ source: ATTACKER, destination: VM, protocol: 17, payload: udp(attackerPort, vmPort, 8) }));
    packets.push({ seconds: 1_700_000_000, fraction: i, data: frame }, { seconds: 1_700_000_000, fraction: i, data: frame });
  });
  return pcapFile(packets);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function probesFor(bytes: Buffer): Promise<{ probes: number; conversations: number; packets: number }> {
  const analyzer = new CaptureAnalyzer({ flowTableCapacity: CAPACITY });
  const read = await readCapture(once(bytes), analyzer.consume);
  const s = analyzer.summarize(read);
  return { probes: analyzer.tableProbes, conversations: s.conversations, packets: s.packets };
}

describe("hash flooding (issue 11.3)", () => {
  it("does no more than twice the hashing work on ports crafted to collide under the old fixed seed", async () => {
    const crafted = collidingPorts(FLOWS);
    expect(new Set(crafted.map(([a, b]) => oldFlowSlot(a, b))).size).toBeLessThanOrEqual(32);
    const ordinary = Array.from({ length: FLOWS }, (_, i): [number, number] => [53, 20_000 + i]);

    const attack = await probesFor(captureOf(crafted));
    const normal = await probesFor(captureOf(ordinary));
    expect(attack).toMatchObject({ conversations: FLOWS, packets: 2 * FLOWS });
    expect(normal).toMatchObject({ conversations: FLOWS, packets: 2 * FLOWS });
    expect(attack.probes).toBeLessThanOrEqual(2 * normal.probes);
  });

  it("bounds the probes of keys that collide whatever the seed (refused past MAX_PROBES, not walked forever)", () => {
    const index = new KeyIndex(1, 2_000);
    const key = new Uint32Array(1);
    let refused = 0;
    for (let i = 0; i < 2_000; i++) {
      key[0] = i;
      if (index.findOrInsert(key, 12345) < 0) refused++; // the same full hash for every key
    }
    expect(index.size).toBe(MAX_PROBES + 1); // the last one found its slot after MAX_PROBES occupied ones
    expect(refused).toBe(2_000 - MAX_PROBES - 1);
    expect(index.probes).toBeLessThanOrEqual(2_000 * (MAX_PROBES + 1));
    expect(index.overlongProbes).toBe(refused);
  });
});
