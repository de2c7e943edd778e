import type { TimelineSummary } from "./timeline.js";

/**
 * The triage summary of one capture file, as `alertcap analyze --json` prints it and the notification attaches it.
 * Field names in the first block are a contract (shared/contract.md); the rest may grow. Counts are of the OUTERMOST
 * IP header of each packet; see domain/pcap/README.md for where that legitimately differs from tshark.
 */
export interface CaptureSummary {
  /** "pcap" or "pcapng", from the magic number. */
  format: "pcap" | "pcapng";
  /** LINKTYPE_* values of the file header / interfaces, in order of first appearance. */
  linkTypes: number[];
  packets: number;
  /** Sum of original (on-the-wire) lengths. */
  bytes: number;
  /** Sum of captured lengths (less than `bytes` when a snap length cut packets). */
  capturedBytes: number;
  /** Earliest and latest packet time, ISO 8601 UTC at the file's precision; null without timestamped packets. */
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  ipv4: number;
  ipv6: number;
  /** Packets whose outermost IP header says TCP / UDP / ICMP (v4) and carries the transport header (not a later fragment). */
  tcp: number;
  udp: number;
  icmp: number;
  /** SYN without ACK, SYN with ACK, RST, FIN: packets with the flag, from complete TCP headers. */
  tcpSyn: number;
  tcpSynAck: number;
  tcpRst: number;
  tcpFin: number;
  /** Segments tshark would mark `tcp.analysis.retransmission` (approximately; see tcpHealth for the split). */
  tcpRetransmissions: number;
  topTalkers: TopTalker[];
  topConversations: TopConversation[];
  /** The stream ended inside a record (an interrupted copy or download); everything before it is counted. */
  truncated: boolean;

  formatVariant: string;
  byteOrder: "little-endian" | "big-endian" | "mixed";
  sections: number;
  interfaces: number;
  snapLengths: number[];
  linkTypeNames: string[];
  durationSeconds: number;
  /** Frames without an IP header (ARP, LLDP, …) and frames of link types not decoded. */
  nonIp: number;
  icmpv6: number;
  /** IP fragments after the first: they carry no transport header and count under no transport protocol. */
  ipFragments: number;
  vlanTagged: number;
  protocolMix: ProtocolMix;
  tcpHealth: TcpHealth;
  icmpErrors: { destinationUnreachable: number; timeExceeded: number };
  /** Flows (direction-independent 5-tuples) tracked in the flow table. */
  conversations: number;
  flowTable: { capacity: number; flows: number; saturated: boolean; untrackedPackets: number; untrackedBytes: number };
  flowTableSaturated: boolean;
  /** Traffic of hosts past the host-table cap, summed. */
  otherTalkers: { packets: number; bytes: number };
  timeline: TimelineSummary;
  /** Bytes of the incomplete last record when `truncated`. */
  truncatedTailBytes: number;
  /** Records whose captured length is below the original length (snap length). */
  truncatedRecords: number;
  /** Packets whose capture stops inside a link, IP or transport header. */
  headerTruncatedPackets: number;
  malformedPackets: number;
  /** pcapng Simple Packet Blocks carry no timestamp. */
  packetsWithoutTimestamp: number;
  /** Plain-language caveats about this summary (caps hit, truncation, missing timestamps). */
  notes: string[];

  /** DNS over UDP and TCP port 53. */
  dns: DnsSummary;
  /** HTTP/1.x, recognised by its request and status lines on any TCP port. */
  http: HttpSummary;
  /** TLS handshakes and plaintext alerts, recognised by record headers on any TCP port. */
  tls: TlsSummary;
  /**
   * What most likely went wrong, as plain sentences with their numbers, most important first (application-layer
   * failures, then TCP). Text from packets in them (names, hosts) is printable ASCII, cut short; escape it for HTML.
   */
  findings: string[];
}

export interface DnsSummary {
  queries: number;
  responses: number;
  /** Answers by RCODE mnemonic (NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, else RCODE<n>), EDNS-extended. */
  rcodes: Record<string, number>;
  /** Queries with no answer (same flow and ID) by the end of the capture. */
  unanswered: number;
  /** Messages carried over TCP. */
  overTcp: number;
  /** Port-53 payloads too short for a DNS header. */
  malformed: number;
  /** Busiest servers (the port-53 side), with answer time (query → answer) and the names whose answers failed. */
  servers: Array<{
    server: string;
    queries: number;
    responses: number;
    unanswered: number;
    rcodes: Record<string, number>;
    answerTimeP50Ms: number | null;
    answerTimeP95Ms: number | null;
    failingNames: Array<{ rcode: string; name: string; count: number }>;
  }>;
}

export interface HttpSummary {
  requests: number;
  responses: number;
  methods: Record<string, number>;
  /** Responses by status code ("200", "503", …). */
  statusCodes: Record<string, number>;
  /** Busiest Host headers; responses whose request was not captured go under "(request not captured)". */
  hosts: Array<{
    host: string;
    requests: number;
    responses: number;
    clientErrors: number;
    serverErrors: number;
    statusCodes: Record<string, number>;
    /** First request byte → status line. */
    responseTimeP50Ms: number | null;
    responseTimeP95Ms: number | null;
  }>;
}

export interface TlsSummary {
  clientHellos: number;
  serverHellos: number;
  /** ClientHello SNI → count. */
  serverNames: Record<string, number>;
  /** Versions offered in ClientHellos (supported_versions, else the legacy version) → ClientHellos offering each. */
  offeredVersions: Record<string, number>;
  /** Plaintext alerts by code, sender role and sender endpoint. */
  alerts: Array<{ code: number; name: string; sender: "client" | "server" | "unknown"; from: string; count: number }>;
  /** Connections with a ClientHello: answered by a ServerHello, or ended by an alert, a reset, or nothing. */
  handshakes: { started: number; answered: number; endedByAlert: number; reset: number; abandoned: number };
  /** Server names of handshakes that got no ServerHello, most first. */
  failedServerNames: Array<{ name: string; alert: number; reset: number; abandoned: number }>;
}

export interface ServiceLatency {
  address: string;
  port: number;
  handshakes: number;
  p50Ms: number;
  p95Ms: number;
}

export interface ProtocolShare {
  name: string;
  packets: number;
  bytes: number;
}

export interface ProtocolMix {
  /** IPv4, IPv6 and each non-IP ethertype, by bytes. */
  network: ProtocolShare[];
  /** Each transport protocol of the outermost IP header, plus later fragments and headers cut before the protocol. */
  transport: Array<ProtocolShare & { ipProtocol: number | null }>;
}

export interface TopTalker {
  address: string;
  packets: number;
  bytes: number;
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
}

export interface TopConversation {
  protocol: string;
  ipProtocol: number;
  /** The side that sent the opening SYN, or else the first packet. */
  source: string;
  sourcePort: number;
  destination: string;
  destinationPort: number;
  packets: number;
  bytes: number;
  packetsFromSource: number;
  bytesFromSource: number;
  packetsFromDestination: number;
  bytesFromDestination: number;
  start: string | null;
  durationSeconds: number;
  /** TCP only: how the (last) connection on this 5-tuple opened, and whether a RST was seen. */
  tcpHandshake?: "none" | "established" | "answered" | "refused" | "unanswered";
  tcpReset?: boolean;
}

export interface TcpHealth {
  connectionAttempts: number;
  handshakesCompleted: number;
  /** SYNs answered by neither SYN-ACK nor RST in the capture: the "can't connect, dropped" signal. */
  synsWithoutAnswer: number;
  /** SYNs answered by RST: closed port or active reject. */
  synsRefused: number;
  /** synsWithoutAnswer + synsRefused. */
  handshakesWithoutSynAck: number;
  synRetransmissions: number;
  payloadRetransmissions: number;
  outOfOrder: number;
  spuriousRetransmissions: number;
  duplicateAcks: number;
  resets: number;
  /** SYN → SYN-ACK time (from the first SYN) per destination service with answered handshakes, slowest p95 first. */
  handshakeLatency: ServiceLatency[];
  /** Segments advertising a zero receive window (Wireshark's tcp.analysis.zero_window), and who sent most of them. */
  zeroWindows: number;
  zeroWindowSenders: Array<{ endpoint: string; count: number }>;
  /** Destinations whose SYNs went unanswered or refused, most attempts first. */
  failedHandshakeTargets: Array<{ address: string; port: number; attempts: number; unanswered: number; refused: number }>;
}
