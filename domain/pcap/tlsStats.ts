import type { TlsSummary } from "./captureSummary.js";
import { addressText, endpointText } from "./addressText.js";
import type { FrameDecoder } from "./frameDecoder.js";
import { BoundedTally } from "./latencySamples.js";
import { safeAscii } from "./safeText.js";

const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_SUPPORTED_VERSIONS = 43;
/** Largest TLSCiphertext record (2^14 + 2048); a longer length is not a TLS record header. */
const MAX_RECORD = 18_432;
const MAX_RECORDS_PER_SEGMENT = 32;
const MAX_EXTENSIONS = 128;
const MAX_NAME_CHARS = 255;
const MAX_SNI_FLOWS = 65_536;

// Per-flow state bits.
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
const ALERT = 4;
const CLIENT_IS_B = 8;

const ALERT_NAMES: Record<number, string> = {
  0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed", 22: "record_overflow",
  30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
  43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
  47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error", 51: "decrypt_error",
  60: "export_restriction", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
  86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
  110: "unsupported_extension", 111: "certificate_unobtainable", 112: "unrecognized_name",
  113: "bad_certificate_status_response", 114: "bad_certificate_hash_value", 115: "unknown_psk_identity",
  116: "certificate_required", 120: "no_application_protocol",
};

export function alertName(code: number): string {
  return ALERT_NAMES[code] ?? `alert_${code}`;
}

export function tlsVersionName(version: number): string {
  if (version === 0x0300) return "SSL 3.0";
  if (version >= 0x0301 && version <= 0x0304) return `TLS 1.${version - 0x0301}`;
  return `0x${version.toString(16).padStart(4, "0")}`;
}

/** GREASE values (RFC 8701) are sent to keep servers honest; they are not versions. */
const isGrease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

/**
 * TLS record headers recognised on any TCP port: ClientHello (SNI, offered versions), ServerHello, and plaintext
 * alerts (two-byte alert records: those sent before encryption starts, which is where handshakes fail). Per flow it
 * notes who said hello, so at the end a handshake that never got a ServerHello is counted as ended by an alert, reset,
 * or abandoned.
 */
export class TlsStats {
  clientHellos = 0;
  /** Plaintext alerts that report an error: all but close_notify (0) and user_canceled (90). */
  errorAlerts = 0;
  serverHellos = 0;
  readonly serverNames = new BoundedTally(1024);
  readonly offeredVersions = new BoundedTally(16);
  private readonly alerts = new BoundedTally(1024);
  private readonly state: Uint8Array;
  private readonly serverNameOfFlow = new Map<number, string>();

  constructor(flowCapacity: number) {
    this.state = new Uint8Array(flowCapacity);
  }

  /**
   * A TCP payload of `flow` sent in `direction` (0: A→B). `tlsPort`: either port is a usual TLS port, so a lone alert
   * record there is believed even before a hello was seen.
   */
  segment(view: DataView, start: number, length: number, flow: number, direction: number, tlsPort: boolean, frame: FrameDecoder): boolean {
    if (length < 6 || view.getUint8(start + 1) !== 3) return false;
    const first = view.getUint8(start);
    if (first !== CONTENT_HANDSHAKE && first !== CONTENT_ALERT) return false;
    const known = tlsPort || (flow >= 0 && this.state[flow] !== 0);
    if (first === CONTENT_ALERT && !known) return false;
    const end = start + length;
    let p = start;
    let any = false;
    for (let n = 0; n < MAX_RECORDS_PER_SEGMENT && p + 5 <= end; n++) {
      const type = view.getUint8(p);
      const recordLength = view.getUint16(p + 3);
      if (view.getUint8(p + 1) !== 3 || view.getUint8(p + 2) > 4 || recordLength > MAX_RECORD || type < 20 || type > 24) break;
      const body = p + 5;
      const bodyEnd = Math.min(end, body + recordLength);
      if (type === CONTENT_HANDSHAKE && bodyEnd - body >= 4) {
        const handshake = view.getUint8(body);
        if (handshake === HANDSHAKE_CLIENT_HELLO) {
          this.clientHello(view, body + 4, Math.min(bodyEnd, body + 4 + readUint24(view, body + 1)), flow, direction);
          any = true;
        } else if (handshake === HANDSHAKE_SERVER_HELLO && (known || n > 0)) {
          this.serverHellos++;
          if (flow >= 0) this.state[flow]! |= SERVER_HELLO;
          any = true;
        }
      } else if (type === CONTENT_ALERT && recordLength === 2 && bodyEnd - body === 2 && (known || any)) {
        const code = view.getUint8(body + 1);
        const role = flow < 0 || (this.state[flow]! & CLIENT_HELLO) === 0 ? "unknown" : ((this.state[flow]! & CLIENT_IS_B) !== 0) === (direction === 1) ? "client" : "server";
        // A client's ephemeral port says nothing: clients are named by address, servers by address and port.
        const address = addressText(frame.ipVersion, frame.source);
        const from = role === "client" ? address : endpointText(address, frame.sourcePort, 6);
        this.alerts.add(`${code} ${role} ${from}`);
        if (code !== 0 && code !== 90) this.errorAlerts++;
        if (flow >= 0) this.state[flow]! |= ALERT;
        any = true;
      }
      p = body + recordLength;
    }
    return any;
  }

  private clientHello(view: DataView, p: number, end: number, flow: number, direction: number): void {
    this.clientHellos++;
    if (flow >= 0) this.state[flow] = CLIENT_HELLO | (direction === 1 ? CLIENT_IS_B : 0);
    let serverName: string | null = null;
    let versionsOffered = false;
    if (p + 2 > end) return;
    const legacyVersion = view.getUint16(p);
    p += 34; // version + random
    if (p + 1 > end) return this.noteHello(flow, serverName, versionsOffered, legacyVersion);
    p += 1 + view.getUint8(p); // session id
    if (p + 2 > end) return this.noteHello(flow, serverName, versionsOffered, legacyVersion);
    p += 2 + view.getUint16(p); // cipher suites
    if (p + 1 > end) return this.noteHello(flow, serverName, versionsOffered, legacyVersion);
    p += 1 + view.getUint8(p); // compression methods
    if (p + 2 > end) return this.noteHello(flow, serverName, versionsOffered, legacyVersion);
    const extensionsEnd = Math.min(end, p + 2 + view.getUint16(p));
    p += 2;
    for (let n = 0; n < MAX_EXTENSIONS && p + 4 <= extensionsEnd; n++) {
      const type = view.getUint16(p);
      const length = view.getUint16(p + 2);
      const data = p + 4;
      const dataEnd = data + length;
      if (dataEnd > extensionsEnd) break;
      if (type === EXTENSION_SERVER_NAME && length >= 5 && view.getUint8(data + 2) === 0) {
        const nameLength = view.getUint16(data + 3);
        if (data + 5 + nameLength <= dataEnd) serverName = safeAscii(view, data + 5, nameLength, MAX_NAME_CHARS);
      } else if (type === EXTENSION_SUPPORTED_VERSIONS && length >= 1) {
        const listEnd = Math.min(dataEnd, data + 1 + view.getUint8(data));
        for (let v = data + 1; v + 2 <= listEnd; v += 2) {
          const version = view.getUint16(v);
          if (isGrease(version)) continue;
          this.offeredVersions.add(tlsVersionName(version));
          versionsOffered = true;
        }
      }
      p = dataEnd;
    }
    this.noteHello(flow, serverName, versionsOffered, legacyVersion);
  }

  private noteHello(flow: number, serverName: string | null, versionsOffered: boolean, legacyVersion: number): void {
    if (!versionsOffered) this.offeredVersions.add(tlsVersionName(legacyVersion));
    if (serverName === null) return;
    this.serverNames.add(serverName);
    if (flow >= 0 && this.serverNameOfFlow.size < MAX_SNI_FLOWS) this.serverNameOfFlow.set(flow, serverName);
  }

  summary(flows: number, wasReset: (flow: number) => boolean, top: number): TlsSummary {
    const handshakes = { started: 0, answered: 0, endedByAlert: 0, reset: 0, abandoned: 0 };
    const failedByName = new Map<string, { name: string; alert: number; reset: number; abandoned: number }>();
    for (let f = 0; f < flows && f < this.state.length; f++) {
      const s = this.state[f]!;
      if ((s & CLIENT_HELLO) === 0) continue;
      handshakes.started++;
      if ((s & SERVER_HELLO) !== 0) {
        handshakes.answered++;
        continue;
      }
      const how = (s & ALERT) !== 0 ? "alert" : wasReset(f) ? "reset" : "abandoned";
      if (how === "alert") handshakes.endedByAlert++;
      else if (how === "reset") handshakes.reset++;
      else handshakes.abandoned++;
      const name = this.serverNameOfFlow.get(f) ?? "(no SNI)";
      let entry = failedByName.get(name);
      if (!entry) failedByName.set(name, (entry = { name, alert: 0, reset: 0, abandoned: 0 }));
      entry[how]++;
    }
    const alerts = this.alerts.top(top).map(([key, count]) => {
      const [code = "0", sender = "unknown", from = ""] = key.split(" ");
      return { code: Number(code), name: alertName(Number(code)), sender: sender as "client" | "server" | "unknown", from, count };
    });
    const total = (e: { alert: number; reset: number; abandoned: number }): number => e.alert + e.reset + e.abandoned;
    return {
      clientHellos: this.clientHellos,
      serverHellos: this.serverHellos,
      serverNames: this.serverNames.record(),
      offeredVersions: this.offeredVersions.record(),
      alerts,
      handshakes,
      failedServerNames: [...failedByName.values()].sort((a, b) => total(b) - total(a) || (a.name < b.name ? -1 : 1)).slice(0, top),
    };
  }
}

function readUint24(view: DataView, p: number): number {
  return (view.getUint8(p) << 16) | view.getUint16(p + 1);
}
