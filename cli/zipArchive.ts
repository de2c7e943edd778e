// A minimal, reproducible ZIP writer for the deployment package: deflate, fixed timestamps, sorted entries, ZIP64 only
// when needed. The zip/yazl/archiver alternatives are either a system tool CI may lack or a dependency for ~80 lines.
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { crc32, deflateRawSync } from "node:zlib";

export interface ZipInput {
  /** Path inside the archive, with forward slashes. */
  name: string;
  /** File on disk whose bytes go into the archive. */
  source: string;
}

const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
const U32 = 0xffffffff;

/** Method, time, date, CRC, sizes and name length: the same run of fields in local and central headers. */
function writeEntryFields(b: Buffer, at: number, f: { stored: boolean; crc: number; packedSize: number; size: number; nameLength: number }): void {
  b.writeUInt16LE(f.stored ? 0 : 8, at);
  b.writeUInt16LE(0, at + 2);
  b.writeUInt16LE(DOS_DATE_1980_01_01, at + 4);
  b.writeUInt32LE(f.crc, at + 6);
  b.writeUInt32LE(f.packedSize, at + 10);
  b.writeUInt32LE(f.size, at + 14);
  b.writeUInt16LE(f.nameLength, at + 18);
}

/** Writes `entries` (in the order given) to `zipPath`; returns the archive size in bytes. */
export function writeZip(zipPath: string, entries: readonly ZipInput[]): number {
  const fd = openSync(zipPath, "w");
  let offset = 0;
  const central: Buffer[] = [];
  const write = (b: Buffer): void => {
    writeSync(fd, b);
    offset += b.length;
  };
  try {
    for (const entry of entries) {
      const data = readFileSync(entry.source);
      const packed = deflateRawSync(data, { level: 9 });
      const stored = packed.length >= data.length;
      const body = stored ? data : packed;
      const name = Buffer.from(entry.name, "utf8");
      const crc = crc32(data);
      const localOffset = offset;
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      writeEntryFields(local, 8, { stored, crc, packedSize: body.length, size: data.length, nameLength: name.length });
      local.writeUInt16LE(0, 28);
      write(local);
      write(name);
      write(body);
      const needs64 = localOffset >= U32;
      const extra = needs64 ? Buffer.alloc(12) : Buffer.alloc(0);
      if (needs64) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(8, 2);
        extra.writeBigUInt64LE(BigInt(localOffset), 4);
      }
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE((3 << 8) | 45, 4); // made by Unix, so the mode below is read
      header.writeUInt16LE(needs64 ? 45 : 20, 6);
      header.writeUInt16LE(0x0800, 8);
      writeEntryFields(header, 10, { stored, crc, packedSize: body.length, size: data.length, nameLength: name.length });
      header.writeUInt16LE(extra.length, 30);
      header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      header.writeUInt32LE(needs64 ? U32 : localOffset, 42);
      central.push(header, name, extra);
    }
    const centralStart = offset;
    for (const b of central) write(b);
    const centralSize = offset - centralStart;
    const count = entries.length;
    if (count >= 0xffff || centralStart >= U32) {
      const zip64End = Buffer.alloc(56);
      const zip64EndAt = offset;
      zip64End.writeUInt32LE(0x06064b50, 0);
      zip64End.writeBigUInt64LE(44n, 4);
      zip64End.writeUInt16LE(45, 12);
      zip64End.writeUInt16LE(45, 14);
      zip64End.writeBigUInt64LE(BigInt(count), 24);
      zip64End.writeBigUInt64LE(BigInt(count), 32);
      zip64End.writeBigUInt64LE(BigInt(centralSize), 40);
      zip64End.writeBigUInt64LE(BigInt(centralStart), 48);
      write(zip64End);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(zip64EndAt), 8);
      locator.writeUInt32LE(1, 16);
      write(locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(count, 0xffff), 8);
    end.writeUInt16LE(Math.min(count, 0xffff), 10);
    end.writeUInt32LE(centralSize, 12);
    end.writeUInt32LE(Math.min(centralStart, U32), 16);
    write(end);
  } finally {
    closeSync(fd);
  }
  return offset;
}
