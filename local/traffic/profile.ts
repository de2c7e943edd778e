// What an emulated VM does on the network, round after round: the exchanges of one round, as plain data.
//
// Both the live generator (real sockets) and the synthetic pcap writer play a round from this description, so the
// two sources show the same kinds of traffic. The servers answer whatever the round asks for (the outcome travels
// with the exchange), so a profile alone decides what succeeds and what fails, and when: `failingFromProfile(startAt)`
// is healthy until `startAt` (an instant on the emulator's clock, virtual or real) and failing from then on.

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
  /** Milliseconds between the starts of two rounds of one VM (real ms live, the emulator clock's ms when synthetic). */
  roundIntervalMs: number;
  /**
   * The exchanges of round `round` (0 first), `elapsedMs` after the VM's traffic started; `atMs` is the round's start
   * as epoch milliseconds on the emulator's clock (real, or virtual in tests), for profiles that change at an instant.
   */
  round(round: number, elapsedMs: number, atMs: number): Exchange[];
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

/** A VM with nothing wrong: every name resolves, every request succeeds, every handshake completes. */
export const healthyProfile: TrafficProfile = {
  roundIntervalMs: 1000,
  round: (round) => [
    { kind: "dns", transport: "udp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "dns", transport: "udp", name: `db.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "dns", transport: "tcp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "http", method: "GET", path: "/health", status: 200 },
    { kind: "http", method: "GET", path: `/api/orders/${1000 + round}`, status: 200 },
    { kind: "http", method: "POST", path: "/api/checkout", status: 200 },
    { kind: "http", method: "GET", path: "/api/reports", status: 200 },
    { kind: "tls", serverName: `api.${DOMAIN}`, outcome: "ok" },
  ],
};

/**
 * The same VM once its database's DNS record broke: `db.contoso.test` answers SERVFAIL, the calls that need the
 * database answer 503, and the VM, no longer able to find its database, tries a stale address where nothing listens
 * (refused). Same exchanges as `healthyProfile` otherwise, so a before/after comparison isolates the failure.
 */
export const failingProfile: TrafficProfile = {
  roundIntervalMs: 1000,
  round: (round) => [
    { kind: "dns", transport: "udp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "dns", transport: "udp", name: `db.${DOMAIN}`, outcome: "SERVFAIL" },
    { kind: "dns", transport: "tcp", name: `api.${DOMAIN}`, outcome: "NOERROR" },
    { kind: "http", method: "GET", path: "/health", status: 200 },
    { kind: "http", method: "GET", path: `/api/orders/${1000 + round}`, status: 503 },
    { kind: "http", method: "POST", path: "/api/checkout", status: 503 },
    { kind: "http", method: "GET", path: "/api/reports", status: 503 },
    { kind: "tls", serverName: `api.${DOMAIN}`, outcome: "ok" },
    { kind: "refused" },
  ],
};

/**
 * Healthy until `startAt`, failing from then on (DNS SERVFAIL for `db.contoso.test`, HTTP 503s, refused connections):
 * a failure that begins at a chosen instant, e.g. some minutes before an alert fires. The instant is read on the
 * emulator's clock, so it works the same for live traffic (real time) and synthetic files (real or virtual time).
 */
export function failingFromProfile(startAt: Date, healthy: TrafficProfile = healthyProfile, failing: TrafficProfile = failingProfile): TrafficProfile {
  const startMs = startAt.getTime();
  return {
    roundIntervalMs: healthy.roundIntervalMs,
    round: (round, elapsedMs, atMs) => (atMs < startMs ? healthy : failing).round(round, elapsedMs, atMs),
  };
}

/** A profile by name, as the inventory and the options give it (see local/arm-emulator/README.md). */
export type TrafficProfileSpec =
  | "steady"
  | "healthy"
  | "failing"
  /** Healthy until the instant, then failing. */
  | { failingFrom: Date };

export function trafficProfileFor(spec: TrafficProfileSpec): TrafficProfile {
  if (spec === "steady") return steadyProfile;
  if (spec === "healthy") return healthyProfile;
  if (spec === "failing") return failingProfile;
  return failingFromProfile(spec.failingFrom);
}
