import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_DLT12,
  LINKTYPE_RAW_DLT14,
} from "./linkTypes.js";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD1 = 0x9100;
const ETHERTYPE_QINQ_OLD2 = 0x9200;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
const IPPROTO_SCTP = 132;

/** Pseudo ethertypes for frames whose network layer is not identified by an ethertype. */
export const NON_IP_UNKNOWN_LINK = -1; // link type we do not decode
export const NON_IP_LLC = -2; // 802.3 length field + LLC
export const NON_IP_OTHER = -3; // raw/NULL/MPLS/PPP payload that is not IP

const MAX_ENCAPSULATIONS = 8; // VLAN/MPLS nesting we follow before giving up
const MAX_IPV6_EXTENSION_HEADERS = 16;

/**
 * Decodes the outermost link, network and transport headers of one frame into plain fields, reused for every packet
 * (no allocation). Every read is bounded by the captured length; the network and transport lengths come from the IP
 * headers (and the original length), never from the captured length, so snap-length captures count the wire truth.
 */
export class FrameDecoder {
  /** 4 or 6 for the outermost IP header, 0 when the frame carries no IP. */
  ipVersion = 0;
  /** For non-IP frames: the ethertype, or one of the NON_IP_* values. */
  etherType = 0;
  vlanTags = 0;
  /**
   * Transport protocol of the outermost IP header (after IPv6 extension headers), once that header is captured whole;
   * -1 when not known. Set for later fragments too, which are flagged by `laterFragment`.
   */
  ipProtocol = -1;
  /** The frame is an IP fragment other than the first, so it has no transport header. */
  laterFragment = false;
  /** Source and destination addresses are present (IPv4: word 0 only). */
  addressesKnown = false;
  readonly source = new Uint32Array(4);
  readonly destination = new Uint32Array(4);
  portsKnown = false;
  sourcePort = 0;
  destinationPort = 0;
  /** The 20-byte TCP header is present, so flags, seq, ack and window are valid. */
  tcpHeaderKnown = false;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  /** TCP payload bytes from the IP lengths. */
  tcpPayloadLength = 0;
  icmpType = -1;
  icmpCode = -1;
  /** TCP or UDP payload: where it starts in the view, and how many of its bytes were captured (0 when none). */
  payloadOffset = 0;
  payloadCaptured = 0;
  /** The capture stops inside a link, network or transport header. */
  headerTruncated = false;
  /** A header is impossible (bad IP version, IHL < 5, TCP data offset < 5). */
  malformed = false;

  decode(view: DataView, off: number, capturedLength: number, originalLength: number, linkType: number): void {
    this.ipVersion = 0;
    this.etherType = NON_IP_UNKNOWN_LINK;
    this.vlanTags = 0;
    this.ipProtocol = -1;
    this.laterFragment = false;
    this.addressesKnown = false;
    this.portsKnown = false;
    this.tcpHeaderKnown = false;
    this.icmpType = -1;
    this.payloadCaptured = 0;
    this.headerTruncated = false;
    this.malformed = false;

    const end = off + capturedLength;
    const wireEnd = off + originalLength;
    switch (linkType) {
      case LINKTYPE_ETHERNET:
        if (capturedLength < 14) return this.truncated();
        this.etherPayload(view, view.getUint16(off + 12), off + 14, end, wireEnd);
        return;
      case LINKTYPE_RAW:
      case LINKTYPE_RAW_DLT12:
      case LINKTYPE_RAW_DLT14:
        this.rawIp(view, off, end, wireEnd);
        return;
      case LINKTYPE_IPV4:
        this.ipv4(view, off, end, wireEnd);
        return;
      case LINKTYPE_IPV6:
        this.ipv6(view, off, end, wireEnd);
        return;
      case LINKTYPE_LINUX_SLL:
        if (capturedLength < 16) return this.truncated();
        this.etherPayload(view, view.getUint16(off + 14), off + 16, end, wireEnd);
        return;
      case LINKTYPE_LINUX_SLL2:
        if (capturedLength < 20) return this.truncated();
        this.etherPayload(view, view.getUint16(off), off + 20, end, wireEnd);
        return;
      case LINKTYPE_NULL:
      case LINKTYPE_LOOP: {
        if (capturedLength < 4) return this.truncated();
        // NULL stores the address family in the writing host's byte order, which need not be the file's; a family
        // fits in 16 bits, so a value with only high bits set was written big-endian. LOOP is always big-endian.
        let family = view.getUint32(off, linkType === LINKTYPE_NULL);
        if (family > 0xffff && (family & 0xffff) === 0) family = byteSwap32(family);
        this.nullPayload(view, family, off + 4, end, wireEnd);
        return;
      }
      default:
        return; // etherType stays NON_IP_UNKNOWN_LINK
    }
  }

  private setPayload(start: number, end: number, length: number): void {
    this.payloadOffset = start;
    const captured = Math.min(end - start, length);
    this.payloadCaptured = captured > 0 ? captured : 0;
  }

  private truncated(): void {
    this.headerTruncated = true;
  }

  private etherPayload(view: DataView, etherType: number, p: number, end: number, wireEnd: number): void {
    for (let depth = 0; depth < MAX_ENCAPSULATIONS; depth++) {
      switch (etherType) {
        case ETHERTYPE_IPV4:
          this.ipv4(view, p, end, wireEnd);
          return;
        case ETHERTYPE_IPV6:
          this.ipv6(view, p, end, wireEnd);
          return;
        case ETHERTYPE_VLAN:
        case ETHERTYPE_QINQ:
        case ETHERTYPE_QINQ_OLD1:
        case ETHERTYPE_QINQ_OLD2:
          this.vlanTags++;
          if (end - p < 4) {
            this.etherType = etherType;
            return this.truncated();
          }
          etherType = view.getUint16(p + 2);
          p += 4;
          continue;
        case ETHERTYPE_MPLS:
        case ETHERTYPE_MPLS_MULTICAST:
          this.mplsPayload(view, etherType, p, end, wireEnd);
          return;
        case ETHERTYPE_PPPOE_SESSION: {
          this.etherType = etherType;
          if (end - p < 8) return this.truncated();
          const pppProtocol = view.getUint16(p + 6);
          if (pppProtocol === PPP_IPV4) this.ipv4(view, p + 8, end, wireEnd);
          else if (pppProtocol === PPP_IPV6) this.ipv6(view, p + 8, end, wireEnd);
          return;
        }
        default:
          this.etherType = etherType < 0x0600 ? NON_IP_LLC : etherType;
          return;
      }
    }
    this.etherType = etherType;
  }

  /** MPLS carries no payload type: after the bottom-of-stack label, the IP version nibble decides (as Wireshark does). */
  private mplsPayload(view: DataView, etherType: number, p: number, end: number, wireEnd: number): void {
    this.etherType = etherType;
    for (let labels = 0; labels < MAX_ENCAPSULATIONS; labels++) {
      if (end - p < 4) return this.truncated();
      const bottomOfStack = (view.getUint8(p + 2) & 1) !== 0;
      p += 4;
      if (bottomOfStack) {
        this.rawIp(view, p, end, wireEnd);
        return;
      }
    }
  }

  private nullPayload(view: DataView, family: number, p: number, end: number, wireEnd: number): void {
    switch (family) {
      case 2: // AF_INET everywhere
        this.ipv4(view, p, end, wireEnd);
        return;
      case 10: // AF_INET6: Linux
      case 23: // Windows
      case 24: // NetBSD, OpenBSD, BSD/OS
      case 28: // FreeBSD, DragonFly
      case 30: // macOS
        this.ipv6(view, p, end, wireEnd);
        return;
      default:
        this.etherType = NON_IP_OTHER;
    }
  }

  private rawIp(view: DataView, p: number, end: number, wireEnd: number): void {
    if (end - p < 1) {
      this.etherType = NON_IP_OTHER;
      return this.truncated();
    }
    const version = view.getUint8(p) >> 4;
    if (version === 4) this.ipv4(view, p, end, wireEnd);
    else if (version === 6) this.ipv6(view, p, end, wireEnd);
    else this.etherType = NON_IP_OTHER;
  }

  private ipv4(view: DataView, p: number, end: number, wireEnd: number): void {
    // Counted as IPv4 once the link layer says so, even when the header is cut or bogus (tshark does the same).
    this.ipVersion = 4;
    const captured = end - p;
    if (captured < 1) return this.truncated();
    const versionAndLength = view.getUint8(p);
    const headerLength = (versionAndLength & 15) * 4;
    if (versionAndLength >> 4 !== 4 || headerLength < 20) {
      this.malformed = true;
      return;
    }
    if (captured < 20) return this.truncated();
    this.source[0] = view.getUint32(p + 12);
    this.destination[0] = view.getUint32(p + 16);
    this.addressesKnown = true;
    if (captured < headerLength) return this.truncated();
    this.ipProtocol = view.getUint8(p + 9);
    if ((view.getUint16(p + 6) & 0x1fff) !== 0) {
      // Only the first fragment carries the transport header; later ones count as IP fragments, not as TCP/UDP.
      this.laterFragment = true;
      return;
    }
    const totalLength = view.getUint16(p + 2);
    if (totalLength !== 0 && totalLength < headerLength) this.malformed = true;
    const onWire = wireEnd - p;
    // Total length 0 is TCP segmentation offload on the capturing host: the frame length is the truth then.
    const ipLength = totalLength === 0 || totalLength > onWire ? onWire : totalLength;
    this.transport(view, p + headerLength, end, ipLength - headerLength);
  }

  private ipv6(view: DataView, p: number, end: number, wireEnd: number): void {
    this.ipVersion = 6;
    const captured = end - p;
    if (captured < 1) return this.truncated();
    if (view.getUint8(p) >> 4 !== 6) {
      this.malformed = true;
      return;
    }
    if (captured < 40) return this.truncated();
    for (let i = 0; i < 4; i++) {
      this.source[i] = view.getUint32(p + 8 + 4 * i);
      this.destination[i] = view.getUint32(p + 24 + 4 * i);
    }
    this.addressesKnown = true;
    const payloadLength = view.getUint16(p + 4);
    const onWire = wireEnd - p - 40;
    // Payload length 0 means a jumbogram (or offload); the frame length is the truth then.
    let remaining = payloadLength === 0 || payloadLength > onWire ? onWire : payloadLength;
    let nextHeader = view.getUint8(p + 6);
    let q = p + 40;
    for (let n = 0; n < MAX_IPV6_EXTENSION_HEADERS; n++) {
      let headerLength: number;
      switch (nextHeader) {
        case 0: // hop-by-hop options
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
        case 139: // HIP
        case 140: // shim6
          if (end - q < 2) return this.truncated();
          headerLength = (view.getUint8(q + 1) + 1) * 8;
          break;
        case 51: // authentication header: length in 4-octet units, minus 2
          if (end - q < 2) return this.truncated();
          headerLength = (view.getUint8(q + 1) + 2) * 4;
          break;
        case 44: {
          // fragment header: only the fragment at offset 0 carries the transport header
          if (end - q < 8) return this.truncated();
          if (view.getUint16(q + 2) >> 3 !== 0) {
            this.ipProtocol = view.getUint8(q);
            this.laterFragment = true;
            return;
          }
          headerLength = 8;
          break;
        }
        default:
          if (q > end) return this.truncated();
          this.ipProtocol = nextHeader;
          this.transport(view, q, end, remaining);
          return;
      }
      nextHeader = view.getUint8(q);
      q += headerLength;
      remaining -= headerLength;
    }
    this.malformed = true; // more extension headers than any real stack sends
  }

  private transport(view: DataView, q: number, end: number, transportLength: number): void {
    const captured = end - q;
    switch (this.ipProtocol) {
      case IPPROTO_TCP: {
        if (captured < 4) return this.truncated();
        this.sourcePort = view.getUint16(q);
        this.destinationPort = view.getUint16(q + 2);
        this.portsKnown = true;
        // Like tshark, trust flags and sequence numbers only with the whole 20-byte fixed header.
        if (captured < 20) return this.truncated();
        const headerLength = (view.getUint8(q + 12) >> 4) * 4;
        if (headerLength < 20) {
          this.malformed = true;
          return;
        }
        this.tcpSeq = view.getUint32(q + 4);
        this.tcpAck = view.getUint32(q + 8);
        this.tcpFlags = view.getUint8(q + 13);
        this.tcpWindow = view.getUint16(q + 14);
        const payload = transportLength - headerLength;
        this.tcpPayloadLength = payload > 0 ? payload : 0;
        this.tcpHeaderKnown = true;
        this.setPayload(q + headerLength, end, this.tcpPayloadLength);
        return;
      }
      case IPPROTO_UDP:
      case IPPROTO_SCTP:
        if (captured < 4) return this.truncated();
        this.sourcePort = view.getUint16(q);
        this.destinationPort = view.getUint16(q + 2);
        this.portsKnown = true;
        if (this.ipProtocol === IPPROTO_UDP) {
          if (captured < 8) return this.truncated();
          // The smaller of the UDP and IP lengths: neither is trusted alone.
          const udpLength = view.getUint16(q + 4) - 8;
          this.setPayload(q + 8, end, Math.min(udpLength, transportLength - 8));
        }
        return;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        if (captured < 2) return this.truncated();
        this.icmpType = view.getUint8(q);
        this.icmpCode = view.getUint8(q + 1);
        return;
      default:
        return;
    }
  }
}

function byteSwap32(value: number): number {
  return (((value & 0xff) << 24) | ((value & 0xff00) << 8) | ((value >>> 8) & 0xff00) | (value >>> 24)) >>> 0;
}
