// The client side of one round's exchanges, with real sockets. Each exchange resolves once everything a capture
// should show of it is on the wire (an answer received, a connection closed, or an unanswered packet sent), so a
// recording stopped after that point holds the whole exchange.

import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { TRAFFIC_PORTS, type BlockAddresses } from "./addresses.js";
import { dnsQuery, readDnsQuery } from "./dnsMessage.js";
import type { DnsOutcome, Exchange } from "./profile.js";
import type { BlockServers } from "./servers.js";

/** How long an attempt that gets no answer is kept open: long enough for the first SYN retransmission (1 s). */
const UNANSWERED_WAIT_MS = 1500;

export interface ClientContext {
  addresses: BlockAddresses;
  servers: BlockServers;
  silentHost: Promise<{ address: string; port: number }>;
  /** The certificate the TLS API presents, which the VM trusts. */
  caPem: Promise<string>;
  nextId: () => number;
}

export class ExchangeClients {
  private readonly sockets = new Set<{ destroy(): void }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly dnsWaiters = new Map<number, () => void>();
  private udp: Promise<UdpSocket> | undefined;
  private stopped = false;

  constructor(private readonly context: ClientContext) {}

  /** Plays one exchange; never rejects (a failed exchange is simply missing from the capture). */
  play(exchange: Exchange): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.start(exchange).catch(() => {});
  }

  private start(exchange: Exchange): Promise<void> {
    switch (exchange.kind) {
      case "dns":
        return exchange.transport === "udp" ? this.udpQuery(exchange.name, exchange.outcome) : this.tcpQuery(exchange.name, exchange.outcome);
      case "http":
        return this.httpCall(exchange.method, exchange.path, exchange.status);
      case "tls":
        return this.tlsCall(exchange.serverName, exchange.outcome === "protocolVersionAlert");
      case "refused":
        return this.connectAttempt(this.context.addresses.refusedDatabase, TRAFFIC_PORTS.refusedDatabase, true);
      case "silent":
        return this.context.silentHost.then(
          (host) => this.connectAttempt(host.address, host.port, false),
          () => {},
        );
    }
  }

  /** Ends every exchange still waiting (unanswered queries, silent connection attempts). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    for (const release of this.dnsWaiters.values()) release();
    void this.udp?.then((socket) => socket.close());
    this.udp = undefined;
  }

  private async udpQuery(name: string, outcome: DnsOutcome): Promise<void> {
    const socket = await this.udpSocket();
    const id = this.context.nextId();
    this.context.servers.dnsOutcomes.set(id, outcome);
    const answered = new Promise<void>((resolve) =>
      this.dnsWaiters.set(id, () => {
        this.dnsWaiters.delete(id);
        resolve();
      }),
    );
    const sent = new Promise<void>((resolve) =>
      socket.send(dnsQuery(id, name), TRAFFIC_PORTS.dns, this.context.addresses.resolver, () => resolve()),
    );
    if (outcome !== "unanswered") return answered;
    await sent;
    // A stub resolver waits, then gives up.
    this.later(UNANSWERED_WAIT_MS, () => this.dnsWaiters.get(id)?.());
  }

  private udpSocket(): Promise<UdpSocket> {
    this.udp ??= new Promise((resolve) => {
      const socket = createSocket("udp4");
      socket.on("error", () => {});
      socket.on("message", (message) => {
        const id = readDnsQuery(message)?.id;
        if (id !== undefined) this.dnsWaiters.get(id)?.();
      });
      // Bound before the first send: an unbound socket would send from 0.0.0.0's choice, not the VM's address.
      socket.bind(0, this.context.addresses.vm, () => resolve(socket));
    });
    return this.udp;
  }

  private tcpQuery(name: string, outcome: DnsOutcome): Promise<void> {
    const id = this.context.nextId();
    this.context.servers.dnsOutcomes.set(id, outcome);
    const query = dnsQuery(id, name);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(query.length);
    return this.tcpExchange(connect({ host: this.context.addresses.resolver, port: TRAFFIC_PORTS.dns, localAddress: this.context.addresses.vm }), (socket) => {
      socket.write(Buffer.concat([prefix, query]));
      if (outcome === "unanswered") this.later(UNANSWERED_WAIT_MS, () => socket.end());
      else socket.once("data", () => socket.end());
    });
  }

  private httpCall(method: string, path: string, status: number): Promise<void> {
    const requestId = String(this.context.nextId());
    this.context.servers.httpStatuses.set(requestId, status);
    return new Promise((resolve) => {
      const call = request(
        {
          host: this.context.addresses.vm,
          port: TRAFFIC_PORTS.http,
          localAddress: this.context.addresses.loadBalancer,
          method,
          path,
          agent: false,
          headers: {
            Host: "www.contoso.test",
            "User-Agent": "Azure-LoadBalancer/1.0",
            "X-Request-Id": requestId,
            ...(method === "POST" ? { "Content-Type": "application/json" } : {}),
          },
        },
        (response) => response.resume(),
      );
      this.track(call, resolve);
      call.once("socket", (socket) => socket.once("close", () => resolve()));
      call.on("error", () => resolve());
      call.end(method === "POST" ? '{"cart":"c-42","items":3}' : undefined);
    });
  }

  private async tlsCall(serverName: string, legacyClient: boolean): Promise<void> {
    const ca = await this.context.caPem;
    await this.context.servers.tlsReady;
    if (this.stopped) return;
    const tcp = connect({ host: this.context.addresses.api, port: TRAFFIC_PORTS.tls, localAddress: this.context.addresses.vm });
    return this.tcpExchange(tcp, (socket) => {
      const tls = connectTls({
        socket,
        servername: serverName,
        ca,
        ...(legacyClient ? { maxVersion: "TLSv1.2" as const } : {}),
      });
      tls.on("error", () => socket.destroy());
      tls.once("secureConnect", () => tls.write(`GET /v1/prices HTTP/1.1\r\nHost: ${serverName}\r\nConnection: close\r\n\r\n`));
      tls.once("end", () => tls.end());
      tls.resume();
    });
  }

  /** SYN, then RST (refused) or nothing (silent: kept trying until the wait ends). */
  private connectAttempt(host: string, port: number, answered: boolean): Promise<void> {
    const socket = connect({ host, port, localAddress: this.context.addresses.vm });
    return new Promise((resolve) => {
      const done = () => {
        socket.destroy();
        resolve();
      };
      this.track(socket, done);
      socket.on("error", done);
      socket.on("connect", done);
      // The SYN leaves inside connect(); a silent host's exchange is complete once it is out.
      if (!answered) setImmediate(() => setImmediate(resolve));
      this.later(UNANSWERED_WAIT_MS, done);
    });
  }

  private tcpExchange(socket: Socket, converse: (socket: Socket) => void): Promise<void> {
    return new Promise((resolve) => {
      this.track(socket, resolve);
      socket.on("error", () => {});
      socket.once("close", () => resolve());
      socket.once("connect", () => converse(socket));
    });
  }

  private track(socket: { destroy(): void; once(event: "close", listener: () => void): unknown }, onClose: () => void): void {
    this.sockets.add(socket);
    socket.once("close", () => {
      this.sockets.delete(socket);
      onClose();
    });
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}
