// The HTTPS front door: what ARM does before a resource provider sees a request (authentication, api-version,
// subscription and resource-group checks, throttling), then routing, fault injection, ARM headers and error bodies.

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ArmError,
  internalServerError,
  invalidApiVersion,
  malformedAuthorization,
  methodNotAllowed,
  missingApiVersion,
  missingAuthorization,
  resourceGroupNotFound,
  subscriptionNotFound,
  unknownRoute,
} from "./armErrors.js";
import type { ArmRequest, ArmResponse, Router } from "./router.js";
import type { FaultInjector } from "../faults.js";

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  apiVersion: string | undefined;
  operationId: string | undefined;
  status: number;
  requestId: string;
  /** Set when an injected fault produced the answer. */
  fault?: "throttle" | "serverError" | "reset";
  errorCode?: string;
}

export interface ScopeChecks {
  hasSubscription(subscriptionId: string): boolean;
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean;
}

export interface ArmServerSettings {
  key: string;
  cert: string;
  port: number;
  router: Router;
  scope: ScopeChecks;
  faults: FaultInjector;
  /** ARM's check of a well-formed api-version against the provider's registered ones. */
  checkApiVersion: (path: string, apiVersion: string) => ArmError | undefined;
  onRequestLogged: (entry: RequestLogEntry) => void;
  log: (line: string) => void;
}

export interface RunningArmServer {
  server: Server;
  port: number;
  baseUrl: string;
  close(): Promise<void>;
}

const API_VERSION_PATTERN = /^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha)?$/i;

export async function startArmServer(settings: ArmServerSettings): Promise<RunningArmServer> {
  let baseUrl = "";
  const server = createServer({ key: settings.key, cert: settings.cert }, (req, res) => {
    void handle(req, res, settings, baseUrl);
  });
  // Keep-alive sockets would otherwise hold `close()` open for the SDK's idle timeout.
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;
  return {
    server,
    port,
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, settings: ArmServerSettings, baseUrl: string) {
  const requestId = crypto.randomUUID();
  const correlationId = headerValue(req, "x-ms-correlation-request-id") ?? crypto.randomUUID();
  const url = new URL(req.url ?? "/", "https://127.0.0.1");
  const method = (req.method ?? "GET").toUpperCase();
  const apiVersion = url.searchParams.get("api-version") ?? undefined;
  const logEntry: RequestLogEntry = {
    at: new Date().toISOString(),
    method,
    path: url.pathname,
    apiVersion,
    operationId: undefined,
    status: 0,
    requestId,
  };
  const requestKind: "read" | "write" = method === "GET" || method === "HEAD" ? "read" : "write";
  const send = (response: ArmResponse) => {
    logEntry.status = response.status;
    writeResponse(res, response, { requestId, correlationId, requestKind });
    settings.onRequestLogged(logEntry);
  };
  const sendError = (error: ArmError) => {
    logEntry.errorCode = error.code;
    send({ status: error.status, body: error.toBody(), headers: error.headers });
  };

  try {
    const bodyText = await readBody(req);
    const authorization = headerValue(req, "authorization");
    if (authorization === undefined) return sendError(missingAuthorization());
    if (!/^Bearer\s+\S+/i.test(authorization)) return sendError(malformedAuthorization());
    if (apiVersion === undefined || apiVersion === "") return sendError(missingApiVersion());
    if (!API_VERSION_PATTERN.test(apiVersion)) return sendError(invalidApiVersion(apiVersion));
    const unsupported = settings.checkApiVersion(url.pathname, apiVersion);
    if (unsupported) return sendError(unsupported);

    const lookup = settings.router.lookup(method, url.pathname);
    if (lookup.kind === "match") logEntry.operationId = lookup.route.operationId;
    const scopeError = checkScope(url.pathname, settings.scope);
    if (scopeError) return sendError(scopeError);
    if (lookup.kind === "none") return sendError(unknownRoute(method, url.pathname));
    if (lookup.kind === "methodNotAllowed") return sendError(methodNotAllowed(method));
    const { route, params } = lookup;

    const subscriptionId = params["subscriptionId"] ?? "";
    const faults = settings.faults.onRequest(route.operationId, requestKind, subscriptionId);
    if (faults.delayMs > 0) await sleep(faults.delayMs);
    const dropConnection = (): void => {
      logEntry.fault = "reset";
      logEntry.status = -1;
      settings.onRequestLogged(logEntry);
      req.socket.destroy();
    };
    if (faults.reset) return dropConnection();
    if (faults.error) {
      logEntry.fault = faults.error.status === 429 ? "throttle" : "serverError";
      return sendError(faults.error);
    }

    const request: ArmRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      apiVersion,
      operationId: route.operationId,
      params,
      bodyText,
      baseUrl,
    };
    const response = await route.handler(request);
    if (faults.resetAfterHandler) return dropConnection();
    send(response);
  } catch (error) {
    if (error instanceof ArmError) return sendError(error);
    settings.log(`arm-emulator: ${method} ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`);
    sendError(internalServerError());
  }
}

/** ARM checks the subscription, then the resource group, before any resource provider runs. */
function checkScope(path: string, scope: ScopeChecks): ArmError | undefined {
  const match = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i.exec(path);
  if (!match?.[1]) return undefined;
  const subscriptionId = decodeURIComponent(match[1]);
  if (!scope.hasSubscription(subscriptionId)) return subscriptionNotFound(subscriptionId);
  if (match[2]) {
    const resourceGroup = decodeURIComponent(match[2]);
    if (!scope.hasResourceGroup(subscriptionId, resourceGroup)) return resourceGroupNotFound(resourceGroup);
  }
  return undefined;
}

function writeResponse(
  res: ServerResponse,
  response: ArmResponse,
  ids: { requestId: string; correlationId: string; requestKind: "read" | "write" },
): void {
  if (res.destroyed) return;
  const now = new Date();
  const headers: Record<string, string> = {
    "Cache-Control": "no-cache",
    Pragma: "no-cache",
    Expires: "-1",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "x-ms-request-id": ids.requestId,
    "x-ms-correlation-request-id": ids.correlationId,
    "x-ms-routing-request-id": `LOCAL:${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "")}:${ids.requestId}`,
    [`x-ms-ratelimit-remaining-subscription-${ids.requestKind === "read" ? "reads" : "writes"}`]:
      ids.requestKind === "read" ? "249" : "199",
    ...response.headers,
  };
  let payload: string | undefined;
  if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers["Content-Type"] = "application/json; charset=utf-8";
  }
  headers["Content-Length"] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
