// Where each emulated VM lives on loopback: a block of 8 addresses in 127.64.0.0/10, far from 127.0.0.1 where the
// machine's own services (the local Functions host, Azurite, the emulator itself) talk.
//
// A VM's block is chosen by a hash of its key (the VM's resource ID, or the scale set's plus the instance ID), so a
// VM keeps its addresses across runs; when the block is taken (another VM of this process hashed there, or another
// process bound it), the next block is tried. Binding the VM's servers is what claims a block across processes.

import { createHash } from "node:crypto";

/** Host numbers inside a block. */
export const ROLE_OFFSETS = {
  /** The emulated VM itself: its web server, and the source of its outbound calls. */
  vm: 1,
  /** Its DNS resolver. */
  resolver: 2,
  /** The TLS API it calls. */
  api: 3,
  /** The load balancer that calls its web server. */
  loadBalancer: 4,
  /** A database host where nothing listens (connections refused). */
  refusedDatabase: 5,
  /** A host whose listener never answers (in the block of the key `SILENT_HOST_KEY`, shared by all VMs). */
  silentHost: 6,
} as const;

/** The key of the block holding the silent host every emulated VM of a process calls. */
export const SILENT_HOST_KEY = "alertcap-emulated-silent-host";

export type AddressRole = keyof typeof ROLE_OFFSETS;

const BLOCK_SIZE = 8;
const FIRST_ADDRESS = (127 << 24) + (64 << 16); // 127.64.0.0
const BLOCK_COUNT = (1 << 22) / BLOCK_SIZE; // 127.64.0.0/10

export type BlockAddresses = Record<AddressRole, string>;

/** The block a key hashes to (before any probing). */
export function homeBlock(key: string): number {
  return createHash("sha256").update(key.toLowerCase()).digest().readUInt32BE(0) % BLOCK_COUNT;
}

/** The block tried `probe` steps after `home` (wrapping around the range). */
export function probedBlock(home: number, probe: number): number {
  return (home + probe) % BLOCK_COUNT;
}

export function blockAddresses(block: number): BlockAddresses {
  const base = FIRST_ADDRESS + probedBlock(block, 0) * BLOCK_SIZE;
  const at = (offset: number) => ipv4Text(base + offset);
  return {
    vm: at(ROLE_OFFSETS.vm),
    resolver: at(ROLE_OFFSETS.resolver),
    api: at(ROLE_OFFSETS.api),
    loadBalancer: at(ROLE_OFFSETS.loadBalancer),
    refusedDatabase: at(ROLE_OFFSETS.refusedDatabase),
    silentHost: at(ROLE_OFFSETS.silentHost),
  };
}

/** The VM address a key gets when its home block is free (what the synthetic writer uses). */
export function homeAddresses(key: string): BlockAddresses {
  return blockAddresses(homeBlock(key));
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

/** Well-known ports, so tshark and alertcap's analyser decode the traffic without hints. */
export const TRAFFIC_PORTS = {
  dns: 53,
  http: 80,
  tls: 443,
  /** PostgreSQL on the refused database host. */
  refusedDatabase: 5432,
  /** SQL Server on the silent host. */
  silentDatabase: 1433,
} as const;

/** How many blocks past the home block are tried before giving up. */
export const BLOCK_PROBES = 64;
