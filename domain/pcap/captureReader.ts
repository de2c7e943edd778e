import { MAGIC_BYTES, parserForMagic } from "./captureFormat.js";
import { PacketRecord, type CaptureFileInfo, type PacketConsumer } from "./packetRecord.js";
import type { RecordParser } from "./recordParser.js";

export interface CaptureReadResult {
  info: CaptureFileInfo;
  /** The stream ended inside a record: the bytes of that incomplete record, 0 for a complete file. */
  truncatedTailBytes: number;
}

/**
 * Walks the records of a pcap or pcapng byte stream and hands each packet to `consumer`, holding at most one record
 * beyond the current chunk in memory. Chunks are parsed where they lie; only a record that straddles two chunks is
 * copied, into a carry buffer that grows to that record's size. `source` may reuse its chunk buffer once the next
 * chunk is requested: nothing refers to a chunk after its turn.
 */
export async function readCapture(source: AsyncIterable<Uint8Array | string>, consumer: PacketConsumer): Promise<CaptureReadResult> {
  const record = new PacketRecord();
  let parser: RecordParser | null = null;
  let carry = Buffer.allocUnsafe(64 * 1024);
  let carryView = viewOf(carry);
  let carryLength = 0;

  const ensureCarry = (size: number): void => {
    if (size <= carry.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(size, carry.length * 2));
    carry.copy(bigger, 0, 0, carryLength);
    carry = bigger;
    carryView = viewOf(carry);
  };

  for await (const raw of source) {
    if (typeof raw === "string") throw new TypeError("readCapture needs binary chunks; do not set an encoding on the stream");
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (chunk.length === 0) continue;
    let pos = 0;

    if (parser === null) {
      const take = Math.min(MAGIC_BYTES - carryLength, chunk.length);
      chunk.copy(carry, carryLength, 0, take);
      carryLength += take;
      pos = take;
      if (carryLength < MAGIC_BYTES) continue;
      parser = parserForMagic(carry.subarray(0, MAGIC_BYTES), record, consumer);
    }

    // Finish the record that straddled the previous chunk boundary, pulling from the head of this chunk.
    while (carryLength > 0) {
      const measured = parser.measure(carryView, 0, carryLength);
      if (measured > 0 && measured <= carryLength) {
        // We only ever carry up to the length measure asked for, so this is the whole carry.
        parser.consume(carryView, 0, measured);
        carryLength = 0;
        break;
      }
      const needed = measured < 0 ? -measured : measured;
      ensureCarry(needed);
      const take = Math.min(needed - carryLength, chunk.length - pos);
      chunk.copy(carry, carryLength, pos, pos + take);
      carryLength += take;
      pos += take;
      if (carryLength < needed) break; // this chunk is used up and the record is still incomplete
    }
    if (carryLength > 0) continue;

    // The hot loop: whole records inside this chunk.
    const end = chunk.length;
    pos = parser.walk(viewOf(chunk), pos, end);
    if (pos < end) {
      ensureCarry(end - pos);
      chunk.copy(carry, 0, pos, end);
      carryLength = end - pos;
    }
  }

  if (parser === null) parserForMagic(carry.subarray(0, carryLength), record, consumer); // throws: too short
  const done = parser as RecordParser;
  done.finish();
  return { info: done.info, truncatedTailBytes: carryLength };
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
