// Issue 11.6: a pcapng with very many Interface Description Blocks (each with its own link type and snap length, and
// packets on all of them) used to cost a linear scan per block and per link-type change: quadratic, seconds for 100k
// IDBs. Reading must grow linearly: 10× the IDBs may cost at most ~3× that factor (a quadratic reader costs 100×).
// Both sizes are timed in the same test against each other, never against a wall-clock limit.
import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { MAX_DISTINCT_LISTED } from "../domain/pcap/packetRecord.js";
import { MAX_INTERFACES_PER_SECTION } from "../domain/pcap/pcapngParser.js";
import { pcapngFile } from "./pcap.synthetic.js";

/** A section header, `count` option-less IDBs (each its own link type and snap length), then a packet on each. */
function manyInterfaces(count: number): Buffer {
  const [shb] = [pcapngFile([{ littleEndian: true, interfaces: [], packets: [] }])];
  const idb = 20;
  const epb = 32 + 20;
  const out = Buffer.alloc(shb!.length + count * (idb + epb));
  shb!.copy(out);
  let at = shb!.length;
  for (let i = 0; i < count; i++, at += idb) {
    out.writeUInt32LE(1, at);
    out.writeUInt32LE(idb, at + 4);
    out.writeUInt16LE(300 + (i % 60_000), at + 8);
    out.writeUInt32LE(1000 + i, at + 12);
    out.writeUInt32LE(idb, at + 16);
  }
  for (let i = 0; i < count; i++, at += epb) {
    out.writeUInt32LE(6, at);
    out.writeUInt32LE(epb, at + 4);
    out.writeUInt32LE(i, at + 8); // interface id
    out.writeUInt32LE(i, at + 16); // timestamp (low word)
    out.writeUInt32LE(20, at + 20);
    out.writeUInt32LE(20, at + 24);
    out.fill(i & 0xff, at + 28, at + 48);
    out.writeUInt32LE(epb, at + 48);
  }
  return out;
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function fastestOf(runs: number, bytes: Buffer): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await analyzeCapture(once(bytes));
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe("pcapng with many interfaces (issue 11.6)", () => {
  it("reads 100k IDBs with a packet on each in linear time, listing a bounded number of link types and snap lengths", async () => {
    const small = manyInterfaces(10_000);
    const large = manyInterfaces(100_000);
    const s = await analyzeCapture(once(large));
    expect(s).toMatchObject({ packets: 100_000, interfaces: 100_000, nonIp: 100_000 });
    expect(s.linkTypes).toHaveLength(MAX_DISTINCT_LISTED);
    expect(s.snapLengths).toHaveLength(MAX_DISTINCT_LISTED);

    await fastestOf(1, small); // warm the JIT before timing
    const smallMs = await fastestOf(3, small);
    const largeMs = await fastestOf(2, large);
    expect(largeMs).toBeLessThan(30 * Math.max(smallMs, 1));
  });

  it("refuses a section with more interfaces than the cap, in one line", async () => {
    const bytes = manyInterfaces(MAX_INTERFACES_PER_SECTION + 1);
    await expect(analyzeCapture(once(bytes))).rejects.toThrow(/more than 262144 interfaces/);
  });
});
