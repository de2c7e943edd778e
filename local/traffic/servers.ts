// The servers of one emulated VM's block: its web server (the VM), its DNS resolver (UDP and TCP), and the TLS API
// it calls. They answer what the round's exchange asked for: the client registers the outcome under the DNS ID or
// the HTTP request ID before sending, so any profile can make any answer fail.

import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { TRAFFIC_PORTS, type BlockAddresses } from "./addresses.js";
import { dnsResponse, readDnsQuery } from "./dnsMessage.js";
import type { DnsOutcome } from "./profile.js";

export interface TlsIdentity {
  certPem: string;
  keyPem: string;
}

export class BlockServers {
  /** DNS ID → what the resolver does with that query. */
  readonly dnsOutcomes = new Map<number, DnsOutcome>();
  /** `X-Request-Id` → the status the VM's web server answers. */
  readonly httpStatuses = new Map<string, number>();
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly connections = new Set<Socket>();

  /** Resolves once the TLS API listens (its certificate may still be in the making when `bind` resolves). */
  tlsReady: Promise<void> = Promise.resolve();

  private constructor(readonly addresses: BlockAddresses) {}

  /**
   * Binds every server of the block; rejects (with everything bound so far closed) when one cannot bind, e.g.
   * `EADDRINUSE` because another process holds the block. The TLS API follows as soon as `identity` exists, so a
   * recording never waits for a certificate to start.
   */
  static async bind(addresses: BlockAddresses, identity: Promise<TlsIdentity>): Promise<BlockServers> {
    const servers = new BlockServers(addresses);
    try {
      // The web server first: binding the VM's own address is what claims the block.
      await servers.listen(servers.webServer(), addresses.vm, TRAFFIC_PORTS.http);
      await servers.bindUdpResolver();
      await servers.listen(servers.tcpResolver(), addresses.resolver, TRAFFIC_PORTS.dns);
    } catch (error) {
      await servers.close();
      throw error;
    }
    servers.tlsReady = identity.then((tls) => (servers.closed ? undefined : servers.listen(servers.tlsApi(tls), addresses.api, TRAFFIC_PORTS.tls)));
    servers.tlsReady.catch(() => {});
    return servers;
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    await this.tlsReady.catch(() => {});
    for (const connection of this.connections) connection.destroy();
    await Promise.allSettled(this.closers.splice(0).map((close) => close()));
  }

  private webServer(): HttpServer {
    return createHttpServer((request, response) => {
      const status = this.httpStatuses.get(String(request.headers["x-request-id"])) ?? 200;
      this.httpStatuses.delete(String(request.headers["x-request-id"]));
      request.resume();
      const body =
        status >= 500 ? '{"error":"upstream dependency failed"}' : status === 404 ? '{"error":"not found"}' : '{"status":"ok"}';
      response.writeHead(status, { "Content-Type": "application/json", Server: "nginx/1.24.0" });
      response.end(body);
    });
  }

  private tlsApi(identity: TlsIdentity): TlsServer {
    // TLS 1.3 only, so a client offering at most 1.2 gets a plaintext protocol_version alert.
    const server = createTlsServer({ key: identity.keyPem, cert: identity.certPem, minVersion: "TLSv1.3" }, (socket) => {
      socket.once("data", () =>
        socket.end("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}"),
      );
      socket.on("error", () => {});
    });
    server.on("tlsClientError", () => {});
    return server;
  }

  private tcpResolver(): TcpServer {
    return createTcpServer((socket) => {
      socket.on("error", () => {});
      let pending = Buffer.alloc(0);
      socket.on("data", (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
          pending = pending.subarray(2 + message.length);
          const answer = this.answer(message);
          if (answer) socket.write(Buffer.concat([lengthPrefix(answer.length), answer]));
        }
      });
    });
  }

  private async bindUdpResolver(): Promise<void> {
    const socket = createSocket("udp4");
    socket.on("message", (message, peer) => {
      const answer = this.answer(message);
      if (answer) socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(TRAFFIC_PORTS.dns, this.addresses.resolver, () => {
        socket.off("error", reject);
        socket.on("error", () => {});
        resolve();
      });
    });
    this.closers.push(() => closeUdp(socket));
  }

  private answer(message: Buffer): Buffer | undefined {
    const query = readDnsQuery(message);
    if (!query) return undefined;
    const outcome = this.dnsOutcomes.get(query.id) ?? "NOERROR";
    this.dnsOutcomes.delete(query.id);
    return outcome === "unanswered" ? undefined : dnsResponse(query.id, query.name, outcome, this.addresses.api);
  }

  private async listen(server: TcpServer, host: string, port: number): Promise<void> {
    server.on("connection", (socket: Socket) => {
      this.connections.add(socket);
      socket.once("close", () => this.connections.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
