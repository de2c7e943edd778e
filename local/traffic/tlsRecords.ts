// TLS records as they appear on the wire, for the synthetic capture: a ClientHello with SNI (TLS 1.3-capable, or a
// legacy client offering at most 1.2), a TLS 1.3 ServerHello, a fatal alert, and opaque encrypted records. Byte
// layouts from RFC 8446 (§4.1.2, §4.1.3, §6) and RFC 6066 (server_name); contents are fixed so files are repeatable.

const HANDSHAKE = 22;
const ALERT = 21;
const CHANGE_CIPHER_SPEC = 20;
const APPLICATION_DATA = 23;

/** Alert description 70 (RFC 8446 §6.2). */
export const PROTOCOL_VERSION_ALERT = 70;

export function clientHello(serverName: string, legacyClient: boolean, seed: number): Buffer {
  const name = Buffer.from(serverName, "ascii");
  const extensions = [
    extension(0x0000, concat(u16(name.length + 3), [0], u16(name.length), name)), // server_name
    extension(0x000a, concat(u16(4), u16(0x001d), u16(0x0017))), // supported_groups: x25519, secp256r1
    extension(0x000d, concat(u16(6), u16(0x0403), u16(0x0804), u16(0x0401))), // signature_algorithms
    ...(legacyClient
      ? []
      : [
          extension(0x002b, concat([4], u16(0x0304), u16(0x0303))), // supported_versions: 1.3, 1.2
          extension(0x0033, concat(u16(36), u16(0x001d), u16(32), filler(32, seed + 1))), // key_share
        ]),
  ];
  const suites = legacyClient ? [0xc02b, 0xc02f, 0xc02c, 0xc030] : [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f];
  const body = concat(
    u16(0x0303),
    filler(32, seed),
    [32],
    filler(32, seed + 2),
    u16(suites.length * 2),
    ...suites.map(u16),
    [1, 0],
    u16(extensions.reduce((sum, e) => sum + e.length, 0)),
    ...extensions,
  );
  return record(HANDSHAKE, 0x0301, handshake(1, body));
}

/** ServerHello choosing TLS 1.3, then the change_cipher_spec and encrypted flights a real server sends. */
export function serverHelloFlight(seed: number): Buffer {
  const extensions = [extension(0x002b, u16(0x0304)), extension(0x0033, concat(u16(0x001d), u16(32), filler(32, seed + 3)))];
  const body = concat(
    u16(0x0303),
    filler(32, seed + 4),
    [32],
    filler(32, seed + 2),
    u16(0x1301),
    [0],
    u16(extensions.reduce((sum, e) => sum + e.length, 0)),
    ...extensions,
  );
  return concat(record(HANDSHAKE, 0x0303, handshake(2, body)), changeCipherSpec(), encrypted(600, seed + 5));
}

export function changeCipherSpec(): Buffer {
  return record(CHANGE_CIPHER_SPEC, 0x0303, Buffer.from([1]));
}

/** An application_data record of `length` opaque bytes. */
export function encrypted(length: number, seed: number): Buffer {
  return record(APPLICATION_DATA, 0x0303, filler(length, seed));
}

export function fatalAlert(description: number): Buffer {
  return record(ALERT, 0x0303, Buffer.from([2, description]));
}

function record(type: number, version: number, fragment: Buffer): Buffer {
  return concat([type], u16(version), u16(fragment.length), fragment);
}

function handshake(type: number, body: Buffer): Buffer {
  return concat([type, (body.length >> 16) & 255, (body.length >> 8) & 255, body.length & 255], body);
}

function extension(type: number, data: Buffer): Buffer {
  return concat(u16(type), u16(data.length), data);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** Repeatable pseudo-random bytes (random values, keys, ciphertext). */
function filler(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 255;
  }
  return bytes;
}

function concat(...parts: Array<Buffer | number[]>): Buffer {
  return Buffer.concat(parts.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part))));
}
