// What an emulated VM does on the network, round after round: the exchanges of one round, as plain data.
//
// Both the live generator (real sockets) and the synthetic pcap writer play a round from this description, so the
// two sources show the same kinds of traffic. The servers answer whatever the round asks for (the outcome travels
// with the exchange), so a profile alone decides what succeeds and what fails, and when: a profile whose failures
// start at a chosen time is `(round, elapsedMs) => elapsedMs < startMs ? healthy : failing`.

import type { DnsResponseCode } from "./dnsMessage.js";

/** The resolver's answer code, or `unanswered`: it stays silent. */
export type DnsOutcome = DnsResponseCode | "unanswered";

export type Exchange =
  /** The VM asks its resolver for an A record. */
  | { kind: "dns"; transport: "udp" | "tcp"; name: string; outcome: DnsOutcome }
  /** A load balancer calls the VM's web server, which answers `status`. */
  | { kind: "http"; method: "GET" | "POST"; path: string; status: number }
  /**
   * The VM opens TLS to the API host with this SNI: `ok` (TLS 1.3, one request inside) or `protocolVersionAlert` (the
   * VM offers at most TLS 1.2, the server requires 1.3 and answers a fatal protocol_version alert).
   */
  | { kind: "tls"; serverName: string; outcome: "ok" | "protocolVersionAlert" }
  /** The VM connects to a database port where nothing listens: SYN, RST. */
  | { kind: "refused" }
  /** The VM connects to a host that never answers: SYN and its retransmissions, no SYN-ACK. */
  | { kind: "silent" };

export interface TrafficProfile {
  /** Real milliseconds between the starts of two rounds of one VM. */
  roundIntervalMs: number;
  /** The exchanges of round `round` (0 first), `elapsedMs` after the VM's traffic started. */
  round(round: number, elapsedMs: number): Exchange[];
}

export const DOMAIN = "contoso.test";

/** What every emulated VM does by default: mostly healthy, with a steady share of each kind of failure. */
export const steadyProfile: TrafficProfile = {
  roundIntervalMs: 1000,
  round: (round) => [
    { kind: "dns", transport: "udp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "dns", transport: "udp", name: `db.${DOMAIN}`, outcome: "SERVFAIL" },
    { kind: "dns", transport: "udp", name: `old-api.${DOMAIN}`, outcome: "NXDOMAIN" },
    { kind: "dns", transport: "udp", name: `cache.${DOMAIN}`, outcome: "unanswered" },
    { kind: "dns", transport: "tcp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "http", method: "GET", path: "/health", status: 200 },
    { kind: "http", method: "GET", path: `/api/orders/${1000 + round}`, status: 200 },
    { kind: "http", method: "POST", path: "/api/checkout", status: 503 },
    { kind: "http", method: "GET", path: "/api/reports", status: 500 },
    { kind: "http", method: "GET", path: "/favicon.ico", status: 404 },
    { kind: "tls", serverName: `api.${DOMAIN}`, outcome: "ok" },
    { kind: "tls", serverName: `legacy.${DOMAIN}`, outcome: "protocolVersionAlert" },
    { kind: "refused" },
    { kind: "silent" },
  ],
};
