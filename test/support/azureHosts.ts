// Azure's own hosts (management.usgovcloudapi.net, {account}.blob.core.windows.net, …) reached from a test without
// DNS or the internet, the way a machine behind a corporate proxy reaches them: HTTPS_PROXY names a local forward
// proxy, the SDK sends `CONNECT host:443` and then TLS for that host through the tunnel. The proxy records the CONNECT
// target and hands the tunnel to an HTTPS server holding a certificate for the Azure host names, which the process
// trusts (tls.setDefaultCACertificates) for the test's duration. So the SDK's real pipeline, TLS and proxy code run,
// and the test sees which host each request was for, with its method, path and headers.
//
// The App Service managed-identity endpoint (IDENTITY_ENDPOINT / IDENTITY_HEADER) is served here too, so a real
// ManagedIdentityCredential fetches its tokens from it; each token names the resource and client ID it was issued
// for, so a request's Authorization header shows the scope that was asked.
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { getCACertificates, setDefaultCACertificates, type TLSSocket } from "node:tls";

export interface SeenRequest {
  /** The host name the client asked for in TLS (SNI). */
  sni: string;
  method: string;
  host: string;
  path: string;
  authorization: string | null;
}

export interface TokenRequest {
  resource: string | null;
  clientId: string | null;
  secretHeader: string | null;
}

export type Answer = (request: SeenRequest) => { status: number; body?: unknown; headers?: Record<string, string> };

export interface AzureHosts {
  /** Every request that reached an Azure host through the proxy. */
  requests: SeenRequest[];
  /** Every CONNECT, including those whose TLS never completed. */
  tunnels: string[];
  tokenRequests: TokenRequest[];
  /** The environment that makes this process use the proxy and the managed-identity endpoint. */
  env: Record<string, string>;
  answer: Answer;
  close(): Promise<void>;
}

/** The bearer token the fake identity endpoint issues for a resource and client. */
export const tokenFor = (resource: string, clientId: string | null): string => `mi|${clientId ?? "system"}|${resource}`;

const HOST_NAMES = [
  "management.azure.com",
  "management.usgovcloudapi.net",
  "management.chinacloudapi.cn",
  "*.blob.core.windows.net",
  "*.blob.core.usgovcloudapi.net",
  "*.blob.core.chinacloudapi.cn",
  "evil.example",
  "*.evil.example",
];

async function certificate(): Promise<{ cert: string; key: string }> {
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: "alertcap test Azure hosts" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(Date.now() - 3600_000),
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: HOST_NAMES.map((value) => ({ type: 2, value })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

const listen = async (server: Server): Promise<number> => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
};

const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  // A string body goes as it is (Blob storage answers XML: pass its content-type in headers).
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers }).end(text);
};

export async function startAzureHosts(): Promise<AzureHosts> {
  const { cert, key } = await certificate();
  const defaultCas = getCACertificates("default");
  setDefaultCACertificates([...defaultCas, cert]);

  const hosts: AzureHosts = {
    requests: [],
    tunnels: [],
    tokenRequests: [],
    env: {},
    answer: () => ({ status: 404, body: { error: { code: "NotFound", message: "nothing here" } } }),
    close: async () => undefined,
  };
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  const azure = createHttpsServer({ cert, key }, (req: IncomingMessage, res: ServerResponse) => {
    const seen: SeenRequest = {
      sni: String((req.socket as TLSSocket).servername || ""),
      method: req.method ?? "",
      host: (req.headers.host ?? "").toLowerCase(),
      path: req.url ?? "",
      authorization: req.headers.authorization ?? null,
    };
    hosts.requests.push(seen);
    req.resume();
    req.once("end", () => {
      const { status, body, headers } = hosts.answer(seen);
      reply(res, status, body, headers);
    });
  });

  const proxy = createHttpServer((_req, res) => reply(res, 405, { error: "this proxy only tunnels" }));
  proxy.on("connection", track);
  proxy.on("connect", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const target = (req.url ?? "").toLowerCase();
    hosts.tunnels.push(target);
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    azure.emit("connection", socket);
  });

  const secret = "test-identity-header";
  const identity = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const resource = url.searchParams.get("resource");
    const clientId = url.searchParams.get("client_id");
    hosts.tokenRequests.push({ resource, clientId, secretHeader: (req.headers["x-identity-header"] as string | undefined) ?? null });
    if (!resource) return reply(res, 400, { error: "resource is required" });
    reply(res, 200, {
      access_token: tokenFor(resource, clientId),
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: "Bearer",
      client_id: clientId ?? "system",
    });
  });
  identity.on("connection", track);

  const proxyPort = await listen(proxy);
  const identityPort = await listen(identity);
  hosts.env = {
    HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`,
    NO_PROXY: "127.0.0.1",
    IDENTITY_ENDPOINT: `http://127.0.0.1:${identityPort}/msi/token`,
    IDENTITY_HEADER: secret,
  };
  hosts.close = async () => {
    setDefaultCACertificates(defaultCas);
    for (const socket of sockets) socket.destroy();
    await Promise.all([proxy, identity].map((server) => new Promise((resolve) => server.close(resolve))));
    azure.close();
  };
  return hosts;
}

/** A TCP listener that must stay silent: it counts every connection (and keeps what arrived on it). */
export async function startSilentListener(): Promise<{ url: string; port: number; connections: () => number; received: () => string; close(): Promise<void> }> {
  const { createServer } = await import("node:net");
  let connections = 0;
  let received = "";
  const server = createServer((socket) => {
    connections++;
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    received: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
