import type { DnsSummary } from "./captureSummary.js";
import { DnsMessage, rcodeName } from "./dnsDecoder.js";
import { addressText } from "./addressText.js";
import type { FrameDecoder } from "./frameDecoder.js";
import { finishHash, KeyIndex, mixWord } from "./keyIndex.js";
import { BoundedTally, LatencySamples } from "./latencySamples.js";

const MAX_SERVERS = 256;
const MAX_NAMES_PER_SERVER = 256;
/** Queries awaiting an answer; past this the oldest is forgotten (counted in `untrackedQueries`). */
const MAX_PENDING = 65_536;
const MAX_MESSAGES_PER_SEGMENT = 16;

interface Pending {
  time: number;
  server: ServerStats;
}

class ServerStats {
  queries = 0;
  responses = 0;
  unanswered = 0;
  readonly rcodes = new BoundedTally(64);
  readonly latency = new LatencySamples();
  /** "RCODE name" → count, for answers other than NOERROR. */
  readonly failingNames = new BoundedTally(MAX_NAMES_PER_SERVER);
  constructor(readonly address: string) {}
}

/**
 * DNS over UDP and TCP: queries, answers by RCODE, and per server the answer time (query → answer with the same ID
 * on the same flow) and the names whose answers failed. Servers and names are capped tables: a flood of random names
 * or spoofed servers costs bounded memory.
 */
export class DnsStats {
  queries = 0;
  responses = 0;
  overTcp = 0;
  malformed = 0;
  untrackedQueries = 0;
  readonly rcodes = new BoundedTally(64);
  private readonly message = new DnsMessage();
  /** Keyed by the IPv4 address word, or the IPv6 address text (no string per IPv4 packet). */
  private readonly servers = new Map<number | string, ServerStats>();
  /**
   * IPv6 servers met so far by address words, and what `servers` answered for each (its entry, or otherServers once
   * the table was full), so the address text is made once per server, not once per packet. The table only grows, so
   * a remembered answer stays right; an address the index refuses takes the text path.
   */
  private readonly v6Index = new KeyIndex(4, MAX_SERVERS * 4);
  private readonly v6Servers: ServerStats[] = [];
  private readonly otherServers = new ServerStats("(other servers)");
  private readonly pending = new Map<number, Pending>();

  /** A UDP payload to or from port 53 in `frame`; the server is the side on port 53. */
  udp(view: DataView, start: number, length: number, flow: number, time: number, frame: FrameDecoder): void {
    this.one(view, start, length, flow, time, frame);
  }

  /** A TCP segment to or from port 53: each whole length-prefixed message that starts in it (RFC 1035 4.2.2). */
  tcp(view: DataView, start: number, length: number, flow: number, time: number, frame: FrameDecoder): void {
    const end = start + length;
    for (let p = start, n = 0; p + 2 <= end && n < MAX_MESSAGES_PER_SEGMENT; n++) {
      const size = view.getUint16(p);
      if (size < 12 || p + 2 + size > end) return; // a continuation, or a message split over segments: not counted
      if (this.one(view, p + 2, size, flow, time, frame)) this.overTcp++;
      p += 2 + size;
    }
  }

  private one(view: DataView, start: number, length: number, flow: number, time: number, frame: FrameDecoder): boolean {
    const m = this.message;
    if (!m.decode(view, start, length)) {
      this.malformed++;
      return false;
    }
    const server = this.server(frame);
    const key = flow >= 0 ? flow * 65536 + m.id : -1;
    if (!m.response) {
      this.queries++;
      server.queries++;
      if (key >= 0 && !this.pending.has(key)) {
        if (this.pending.size >= MAX_PENDING) {
          const oldest = this.pending.keys().next().value!;
          this.pending.delete(oldest);
          this.untrackedQueries++;
        }
        this.pending.set(key, { time, server });
      }
      return true;
    }
    this.responses++;
    server.responses++;
    const code = rcodeName(m.rcode);
    this.rcodes.add(code);
    server.rcodes.add(code);
    if (m.rcode !== 0) server.failingNames.add(`${code} ${m.name()}`);
    const query = key >= 0 ? this.pending.get(key) : undefined;
    if (query) {
      this.pending.delete(key);
      server.latency.add(time - query.time);
    }
    return true;
  }

  private server(frame: FrameDecoder): ServerStats {
    const words = frame.sourcePort === 53 ? frame.source : frame.destination;
    if (frame.ipVersion === 4) return this.serverOf(words[0]!, words, 4);
    const index = this.v6Index;
    let hash = index.seed;
    for (let w = 0; w < 4; w++) hash = mixWord(hash, words[w]!);
    const entry = index.findOrInsert(words, finishHash(hash));
    if (entry < 0) return this.serverOf(addressText(6, words), words, 6);
    if (index.inserted) this.v6Servers[entry] = this.serverOf(addressText(6, words), words, 6);
    return this.v6Servers[entry]!;
  }

  private serverOf(key: number | string, words: Uint32Array, version: number): ServerStats {
    let s = this.servers.get(key);
    if (!s) {
      if (this.servers.size >= MAX_SERVERS) return this.otherServers;
      s = new ServerStats(addressText(version, words));
      this.servers.set(key, s);
    }
    return s;
  }

  /** When each query still awaiting an answer was sent (seconds since the epoch): at the end, the unanswered ones. */
  unansweredQueryTimes(): number[] {
    return [...this.pending.values()].map((query) => query.time);
  }

  summary(top: number): DnsSummary {
    for (const s of [...this.servers.values(), this.otherServers]) s.unanswered = 0;
    for (const query of this.pending.values()) query.server.unanswered++;
    const all = [...this.servers.values()];
    if (this.otherServers.queries + this.otherServers.responses > 0) all.push(this.otherServers);
    const servers = all
      .sort((a, b) => b.queries + b.responses - (a.queries + a.responses) || (a.address < b.address ? -1 : 1))
      .slice(0, top)
      .map((s) => ({
        server: s.address,
        queries: s.queries,
        responses: s.responses,
        unanswered: s.unanswered,
        rcodes: s.rcodes.record(),
        answerTimeP50Ms: s.latency.percentileMs(50),
        answerTimeP95Ms: s.latency.percentileMs(95),
        failingNames: s.failingNames.top(top).map(([key, count]) => {
          const space = key.indexOf(" ");
          return { rcode: key.slice(0, space), name: key.slice(space + 1), count };
        }),
      }));
    return {
      queries: this.queries,
      responses: this.responses,
      rcodes: this.rcodes.record(),
      unanswered: this.pending.size,
      overTcp: this.overTcp,
      malformed: this.malformed,
      servers,
    };
  }
}
