// Live traffic of the emulated VMs: each VM that is being recorded gets its own loopback block, servers and round
// timer; the last recording of a VM to stop ends its traffic. One silent host and one TLS certificate serve every VM
// of the process.
//
// Rounds are spaced by the profile's interval, stretched when many VMs are recorded at once (one round per second
// per VM up to 10 VMs, then proportionally slower), so 100 concurrent recordings stay a light load.

import { BLOCK_PROBES, blockAddresses, homeBlock, probedBlock, type BlockAddresses } from "./addresses.js";
import { ExchangeClients } from "./clients.js";
import { DOMAIN, steadyProfile, type TrafficProfile } from "./profile.js";
import { BlockServers, type TlsIdentity } from "./servers.js";
import { startSilentHost, type SilentHost } from "./silentHost.js";

export interface VmTrafficLease {
  /** The VM's addresses (its own is `addresses.vm`; a capture filter `host <vm>` selects exactly its traffic). */
  readonly addresses: BlockAddresses;
  /** Plays one round now; resolves once all of it is on the wire. */
  playRound(): Promise<void>;
  /** Resolves once the rounds under way now are on the wire (so a recording stopped then holds whole rounds). */
  roundsUnderWay(): Promise<void>;
  /** Ends this lease; the VM's traffic stops with its last lease. Safe to call more than once. */
  release(): Promise<void>;
}

export interface VmTrafficOptions {
  profile?: TrafficProfile;
}

/** Real milliseconds between the starts of two exchanges of a round. */
const EXCHANGE_SPACING_MS = 10;

/** VMs with traffic at full pace; beyond this many, every VM's rounds slow down proportionally. */
const FULL_PACE_VMS = 10;

interface VmEntry {
  traffic: Promise<VmTraffic>;
  leases: number;
}

const vms = new Map<string, VmEntry>();
const claimedBlocks = new Set<number>();
let silentHost: Promise<SilentHost> | undefined;
let identity: Promise<TlsIdentity> | undefined;

/** Starts (or joins) the traffic of the VM known by `key`. */
export async function leaseVmTraffic(key: string, options: VmTrafficOptions = {}): Promise<VmTrafficLease> {
  const normalised = key.toLowerCase();
  let entry = vms.get(normalised);
  if (!entry) {
    entry = { traffic: VmTraffic.start(normalised, options.profile ?? steadyProfile), leases: 0 };
    vms.set(normalised, entry);
  }
  entry.leases++;
  let traffic: VmTraffic;
  try {
    traffic = await entry.traffic;
  } catch (error) {
    if (--entry.leases === 0 && vms.get(normalised) === entry) vms.delete(normalised);
    throw error;
  }
  let released: Promise<void> | undefined;
  const current = entry;
  return {
    addresses: traffic.addresses,
    playRound: () => traffic.playRound(),
    roundsUnderWay: () => traffic.roundsUnderWay(),
    release: () => {
      released ??= (async () => {
        if (--current.leases > 0) return;
        if (vms.get(normalised) === current) vms.delete(normalised);
        await traffic.close();
        if (vms.size === 0) await closeSharedHosts();
      })();
      return released;
    },
  };
}

/** The VMs whose traffic runs now (for tests and diagnostics). */
export function activeVmTrafficCount(): number {
  return vms.size;
}

async function closeSharedHosts(): Promise<void> {
  const host = silentHost;
  silentHost = undefined;
  if (host) await host.then((started) => started.close(), () => {});
}

function sharedSilentHost(): Promise<SilentHost> {
  silentHost ??= startSilentHost();
  const current = silentHost;
  current.catch(() => {
    if (silentHost === current) silentHost = undefined;
  });
  return current;
}

function tlsIdentity(): Promise<TlsIdentity> {
  identity ??= createTlsIdentity();
  identity.catch(() => (identity = undefined));
  return identity;
}

async function createTlsIdentity(): Promise<TlsIdentity> {
  // Loaded only when traffic is generated: the library takes half a second to import.
  const { generate } = await import("selfsigned");
  const notBeforeDate = new Date(Date.now() - 3600_000);
  const pems = await generate([{ name: "commonName", value: `api.${DOMAIN}` }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 30 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: `*.${DOMAIN}` }] },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

class VmTraffic {
  private round = 0;
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly underWay = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    readonly addresses: BlockAddresses,
    private readonly block: number,
    private readonly servers: BlockServers,
    private readonly clients: ExchangeClients,
    private readonly profile: TrafficProfile,
  ) {}

  /** Resolves once the VM's block is claimed; the silent host and the TLS certificate may follow (rounds wait). */
  static async start(key: string, profile: TrafficProfile): Promise<VmTraffic> {
    const [servers, block] = await claimBlock(key);
    let nextId = 0x1a00;
    const clients = new ExchangeClients({
      addresses: servers.addresses,
      servers,
      silentHost: sharedSilentHost(),
      caPem: tlsIdentity().then((tls) => tls.certPem),
      nextId: () => (nextId = (nextId + 1) & 0xffff),
    });
    const traffic = new VmTraffic(servers.addresses, block, servers, clients, profile);
    traffic.scheduleNext();
    return traffic;
  }

  playRound(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const now = Date.now();
    const exchanges = this.profile.round(this.round++, now - this.startedAt, now);
    // Spread over the round like a real machine's calls, not one burst (which also overflows a capture's buffer).
    const played = Promise.all(
      exchanges.map((exchange, i) => new Promise<void>((resolve) => setTimeout(resolve, i * EXCHANGE_SPACING_MS)).then(() => this.clients.play(exchange))),
    ).then(() => {});
    this.underWay.add(played);
    void played.then(() => this.underWay.delete(played));
    return played;
  }

  roundsUnderWay(): Promise<void> {
    return Promise.all([...this.underWay]).then(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.clients.stop();
    await this.servers.close();
    claimedBlocks.delete(this.block);
  }

  private scheduleNext(): void {
    const pace = Math.max(1, vms.size / FULL_PACE_VMS);
    this.timer = setTimeout(() => {
      if (this.closed) return;
      void this.playRound();
      this.scheduleNext();
    }, this.profile.roundIntervalMs * pace);
    this.timer.unref();
  }
}

/**
 * The first free block from the key's home block on: free in this process, and bindable (not held by another).
 * Any error but `EADDRINUSE` (e.g. `EACCES` without the right to bind ports below 1024) is thrown as it is.
 */
async function claimBlock(key: string): Promise<[BlockServers, number]> {
  const home = homeBlock(key);
  for (let probe = 0; probe < BLOCK_PROBES; probe++) {
    const block = probedBlock(home, probe);
    if (claimedBlocks.has(block)) continue;
    claimedBlocks.add(block);
    try {
      return [await BlockServers.bind(blockAddresses(block), tlsIdentity()), block];
    } catch (error) {
      claimedBlocks.delete(block);
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw new Error(`no free loopback block for the emulated VM's traffic (${BLOCK_PROBES} tried)`);
}
