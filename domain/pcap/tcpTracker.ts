import type { FrameDecoder } from "./frameDecoder.js";
import type { PacketClock } from "./packetClock.js";

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

// Per-direction state bits.
const NEXT_SEQ_KNOWN = 1;
const LAST_ACK_KNOWN = 2;
const ISN_KNOWN = 4;
const SENT_SYN = 8;
const SENT_SYN_ACK = 16;
const SENT_RST = 32;
const SENT_FIN = 64;

// Per-connection handshake bits.
const ATTEMPT = 1; // a SYN without ACK opened this connection
const CLIENT_IS_B = 2; // the SYN came from side B of the flow key
const ESTABLISHED = 4; // the client acknowledged the SYN-ACK
const SETTLED = 8; // the attempt has been counted
const SYN_ACK_TIMED = 16; // synAckDelay holds this connection's SYN → SYN-ACK time

/** Wireshark's default out-of-order window when no handshake RTT is known (packet-tcp.c, ooo_thres). */
const OUT_OF_ORDER_SECONDS = 0.003;
/** Wireshark's fast-retransmission window after the duplicate ACKs. */
const FAST_RETRANSMISSION_SECONDS = 0.02;

export interface TcpCounters {
  /** Segments Wireshark would flag `tcp.analysis.retransmission` (payload, SYN and FIN; fast and spurious included). */
  retransmissions: number;
  payloadRetransmissions: number;
  synRetransmissions: number;
  outOfOrder: number;
  spuriousRetransmissions: number;
  duplicateAcks: number;
  connectionAttempts: number;
  /** Attempts whose SYN got a SYN-ACK. */
  handshakesAnswered: number;
  /** Attempts whose SYN got a RST and no SYN-ACK: a closed port or an active reject. */
  handshakesRefused: number;
  /** Attempts whose SYN got nothing back in the capture: a drop (NSG, firewall) or a dead host. */
  handshakesUnanswered: number;
  /** Segments with a zero window and none of SYN, FIN, RST (Wireshark's tcp.analysis.zero_window). */
  zeroWindows: number;
}

export type ConnectionOutcome = "none" | "established" | "answered" | "refused" | "unanswered";

/**
 * TCP health from sequence numbers, per flow of a FlowTable, with Wireshark's `tcp.analysis` rules
 * (tcp_analyze_sequence_number in epan/dissectors/packet-tcp.c) reduced to what the headline counters need: a segment
 * that carries data, SYN or FIN and starts below the highest sequence end seen in its direction is a retransmission,
 * unless it is a keep-alive or arrives within the handshake RTT (3 ms when unknown) of that highest segment (out of
 * order). Fast and spurious (already acknowledged) retransmissions count as retransmissions, as `tcp.analysis.
 * retransmission` does in tshark 4.0. Retransmission counts therefore match tshark's closely, not exactly.
 * A SYN with a new initial sequence number on a known flow is a new connection on a reused port: the state restarts.
 */
export class TcpTracker {
  readonly counters: TcpCounters = {
    retransmissions: 0,
    payloadRetransmissions: 0,
    synRetransmissions: 0,
    outOfOrder: 0,
    spuriousRetransmissions: 0,
    duplicateAcks: 0,
    connectionAttempts: 0,
    handshakesAnswered: 0,
    handshakesRefused: 0,
    handshakesUnanswered: 0,
    zeroWindows: 0,
  };
  /** The segment last passed to `track` was counted a retransmission (its payload was already seen). */
  lastWasRetransmission = false;
  /** Per direction: zero-window segments sent. */
  readonly zeroWindowsSent: Uint32Array;
  /** Per flow: seconds from the first SYN to the first SYN-ACK, when the SYN_ACK_TIMED bit is set. */
  private readonly synAckDelay: Float64Array;
  // Per direction (index flow * 2 + direction).
  private readonly state: Uint8Array;
  private readonly nextSeq: Uint32Array;
  private readonly nextSeqTime: Float64Array;
  private readonly lastAck: Uint32Array;
  private readonly lastAckTime: Float64Array;
  private readonly isn: Uint32Array;
  private readonly window: Uint16Array;
  private readonly dupAcks: Uint16Array;
  // Per flow.
  private readonly handshake: Uint8Array;
  private readonly synTime: Float64Array;
  private readonly rtt: Float64Array;

  /** State for flows 0 … capacity - 1 of a FlowTable (allocated whole; see KeyIndex on why that costs no memory). */
  constructor(
    capacity: number,
    private readonly clock: PacketClock,
  ) {
    this.state = new Uint8Array(capacity * 2);
    this.nextSeq = new Uint32Array(capacity * 2);
    this.nextSeqTime = new Float64Array(capacity * 2);
    this.lastAck = new Uint32Array(capacity * 2);
    this.lastAckTime = new Float64Array(capacity * 2);
    this.isn = new Uint32Array(capacity * 2);
    this.window = new Uint16Array(capacity * 2);
    this.dupAcks = new Uint16Array(capacity * 2);
    this.handshake = new Uint8Array(capacity);
    this.synTime = new Float64Array(capacity);
    this.rtt = new Float64Array(capacity);
    this.zeroWindowsSent = new Uint32Array(capacity * 2);
    this.synAckDelay = new Float64Array(capacity);
  }

  /** The segment `frame` (with a complete TCP header), sent in `direction` (0: A→B) of `flow`, at the clock's time. */
  track(flow: number, direction: number, frame: FrameDecoder): void {
    const flags = frame.tcpFlags;
    const seq = frame.tcpSeq;
    const ack = frame.tcpAck;
    const window = frame.tcpWindow;
    const payload = frame.tcpPayloadLength;
    const time = this.clock.now;
    const fwd = flow * 2 + direction;
    const rev = fwd ^ 1;
    const state = this.state;
    const c = this.counters;
    const retransmissionsBefore = c.retransmissions;

    if ((flags & (SYN | ACK)) === SYN) {
      if ((state[fwd]! & ISN_KNOWN) !== 0 && this.isn[fwd] !== seq) this.restart(flow);
      if ((state[fwd]! & ISN_KNOWN) === 0) {
        this.isn[fwd] = seq;
        state[fwd]! |= ISN_KNOWN;
      }
      state[fwd]! |= SENT_SYN;
      if ((this.handshake[flow]! & ATTEMPT) === 0) {
        this.handshake[flow] = ATTEMPT | (direction === 1 ? CLIENT_IS_B : 0);
        this.synTime[flow] = time;
        c.connectionAttempts++;
      }
    } else if ((flags & (SYN | ACK)) === (SYN | ACK)) {
      state[fwd]! |= SENT_SYN_ACK;
      const h = this.handshake[flow]!;
      if ((h & (ATTEMPT | SYN_ACK_TIMED)) === ATTEMPT && ((h & CLIENT_IS_B) !== 0) === (direction === 0)) {
        this.handshake[flow] = h | SYN_ACK_TIMED;
        this.synAckDelay[flow] = time - this.synTime[flow]!;
      }
    } else if ((flags & ACK) !== 0 && (state[rev]! & SENT_SYN_ACK) !== 0 && (this.handshake[flow]! & (ATTEMPT | ESTABLISHED)) === ATTEMPT) {
      this.handshake[flow]! |= ESTABLISHED;
      this.rtt[flow] = time - this.synTime[flow]!;
    }
    if (window === 0 && (flags & (SYN | FIN | RST)) === 0) {
      c.zeroWindows++;
      this.zeroWindowsSent[fwd]!++;
    }
    if ((flags & RST) !== 0) state[fwd]! |= SENT_RST;
    if ((flags & FIN) !== 0) state[fwd]! |= SENT_FIN;

    const fwdState = state[fwd]!;
    const nextSeq = this.nextSeq[fwd]!;
    let duplicateAck = false;
    if ((fwdState & NEXT_SEQ_KNOWN) !== 0) {
      const control = flags & (SYN | FIN | RST);
      const keepAlive = payload <= 1 && control === 0 && seq === ((nextSeq - 1) >>> 0);
      duplicateAck =
        payload === 0 && window !== 0 && control === 0 && (fwdState & LAST_ACK_KNOWN) !== 0 &&
        window === this.window[fwd] && seq === nextSeq && ack === this.lastAck[fwd];
      if (duplicateAck) {
        c.duplicateAcks++;
        if (this.dupAcks[fwd]! < 0xffff) this.dupAcks[fwd]!++;
      }
      if (!keepAlive && (payload > 0 || (flags & (SYN | FIN)) !== 0) && seqBefore(seq, nextSeq)) {
        const end = (seq + payload) >>> 0;
        const rtt = this.rtt[flow]!;
        if (this.dupAcks[rev]! >= 2 && this.lastAck[rev] === seq && time - this.lastAckTime[rev]! < FAST_RETRANSMISSION_SECONDS) {
          this.countRetransmission(flags, payload);
        } else if (time - this.nextSeqTime[fwd]! < (rtt > 0 ? rtt : OUT_OF_ORDER_SECONDS) && nextSeq !== end) {
          c.outOfOrder++;
        } else {
          // Data the receiver had already acknowledged is "spurious"; tshark still flags it a retransmission too.
          if (payload > 0 && (state[rev]! & LAST_ACK_KNOWN) !== 0 && !seqBefore(this.lastAck[rev]!, end)) c.spuriousRetransmissions++;
          this.countRetransmission(flags, payload);
        }
      }
    }
    if (!duplicateAck) this.dupAcks[fwd] = 0;

    // Highest sequence end in this direction; SYN and FIN take one sequence number each.
    let end = (seq + payload) >>> 0;
    if ((flags & (SYN | FIN)) !== 0) end = (end + 1) >>> 0;
    if ((fwdState & NEXT_SEQ_KNOWN) === 0 || seqBefore(nextSeq, end)) {
      this.nextSeq[fwd] = end;
      this.nextSeqTime[fwd] = time;
      state[fwd]! |= NEXT_SEQ_KNOWN;
    }
    if ((flags & ACK) !== 0) {
      this.lastAck[fwd] = ack;
      this.lastAckTime[fwd] = time;
      state[fwd]! |= LAST_ACK_KNOWN;
    }
    this.window[fwd] = window;
    this.lastWasRetransmission = c.retransmissions !== retransmissionsBefore;
  }

  /** Which side sent the opening SYN, if any: 0 = A, 1 = B, -1 = none seen. */
  clientDirection(flow: number): number {
    const h = this.handshake[flow] ?? 0;
    return (h & ATTEMPT) === 0 ? -1 : (h & CLIENT_IS_B) !== 0 ? 1 : 0;
  }

  outcome(flow: number): ConnectionOutcome {
    const h = this.handshake[flow] ?? 0;
    if ((h & ATTEMPT) === 0) return "none";
    if ((h & ESTABLISHED) !== 0) return "established";
    const server = flow * 2 + ((h & CLIENT_IS_B) !== 0 ? 0 : 1);
    const serverState = this.state[server]!;
    if ((serverState & SENT_SYN_ACK) !== 0) return "answered";
    if ((serverState & SENT_RST) !== 0) return "refused";
    return "unanswered";
  }

  /** SYN → SYN-ACK seconds of the flow's (last) connection, or -1 when no SYN-ACK answered its SYN. */
  synAckSeconds(flow: number): number {
    return ((this.handshake[flow] ?? 0) & SYN_ACK_TIMED) !== 0 ? this.synAckDelay[flow]! : -1;
  }

  /** Whether either side of the flow sent a RST. */
  reset(flow: number): boolean {
    return ((this.state[flow * 2]! | this.state[flow * 2 + 1]!) & SENT_RST) !== 0;
  }

  /** Counts the handshake outcome of every flow not yet counted; call once, when the capture ends. */
  settleAll(flows: number): void {
    for (let f = 0; f < flows; f++) this.settle(f);
  }

  private settle(flow: number): void {
    const h = this.handshake[flow]!;
    if ((h & ATTEMPT) === 0 || (h & SETTLED) !== 0) return;
    this.handshake[flow] = h | SETTLED;
    const outcome = this.outcome(flow);
    if (outcome === "refused") this.counters.handshakesRefused++;
    else if (outcome === "unanswered") this.counters.handshakesUnanswered++;
    else this.counters.handshakesAnswered++;
  }

  private restart(flow: number): void {
    this.settle(flow);
    for (const i of [flow * 2, flow * 2 + 1]) {
      this.state[i] = 0;
      this.dupAcks[i] = 0;
    }
    this.handshake[flow] = 0;
    this.rtt[flow] = 0;
  }

  private countRetransmission(flags: number, payload: number): void {
    const c = this.counters;
    c.retransmissions++;
    if ((flags & SYN) !== 0) c.synRetransmissions++;
    else if (payload > 0) c.payloadRetransmissions++;
  }
}

/** a < b in 32-bit sequence space (RFC 1982). */
function seqBefore(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
