// A local, Functions-compatible host: it loads the app the way the Node worker does (package.json `main`, function
// registrations captured through `@azure/functions-core`), serves its HTTP functions with Azure's routes, keys and
// limits, and plays the Durable extension's part (task hub, management API, the client RPC routes).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { glob } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type CoreApiRegistry, installCoreApi, type RpcHttpData } from "./coreApi.js";
import { type Clock, RealClock } from "./durable/clock.js";
import { type ApiResponse, DurableHttpApi, ManagementUrls } from "./durable/managementApi.js";
import { InstanceStore } from "./durable/store.js";
import { TaskHub } from "./durable/taskHub.js";
import { Invoker } from "./invoker.js";
import { type AuthLevel, type HostKeys, isAuthorized, loadOrCreateKeys } from "./keys.js";
import { consoleLogger, type HostLogger, registerSecret } from "./log.js";
import { RouteTemplate } from "./routes.js";

export interface HostOptions {
  /** The app's folder: host.json and package.json live here. */
  scriptRoot: string;
  /** Overrides package.json `main` (a glob relative to scriptRoot). */
  main?: string;
  dataDir: string;
  port?: number;
  host?: string;
  clock?: Clock;
  logger?: HostLogger;
  /** Fixed function key (ALERTCAP_FUNCTION_KEY); otherwise generated once and kept in the data directory. */
  functionKey?: string;
  /** The host's request body limit (Azure's default is 100 MB). */
  maxRequestBodyBytes?: number;
  /** How many concurrent starts of one absent instance ID are all accepted (TaskHubOptions.startRace). */
  startRace?: number;
}

export interface RunningHost {
  url: string;
  port: number;
  keys: HostKeys;
  hub: TaskHub;
  registry: CoreApiRegistry;
  functionNames: string[];
  close(): Promise<void>;
}

interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    durableTask?: { hubName?: string; maxConcurrentActivityFunctions?: number; maxConcurrentOrchestratorFunctions?: number };
  };
}

interface HttpFunction {
  name: string;
  route: RouteTemplate;
  methods: string[] | undefined;
  authLevel: AuthLevel;
  durableClientBindings: string[];
  triggerBinding: string;
}

const DEFAULT_BODY_LIMIT = 100 * 1024 * 1024;

/** `%NAME%` in host.json is an app setting reference, resolved from the environment as the host does. */
const resolveSetting = (value: string | undefined): string | undefined =>
  value?.replace(/%([^%]+)%/g, (_, name: string) => process.env[name] ?? "");

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const logger = options.logger ?? consoleLogger();
  const scriptRoot = resolve(options.scriptRoot);
  const hostJson = JSON.parse(readFileSync(join(scriptRoot, "host.json"), "utf8")) as HostJson;
  const durableConfig = hostJson.extensions?.durableTask ?? {};
  // The extension's default hub name when the setting is empty; Azure requires 3–50 alphanumerics.
  const hubName = resolveSetting(durableConfig.hubName) || "TestHubName";
  const routePrefix = hostJson.extensions?.http?.routePrefix ?? "api";

  const registry = installCoreApi();
  const main = options.main ?? (JSON.parse(readFileSync(join(scriptRoot, "package.json"), "utf8")) as { main: string }).main;
  let loaded = 0;
  for await (const file of glob(main, { cwd: scriptRoot })) {
    await import(pathToFileURL(join(scriptRoot, file)).href);
    loaded++;
  }
  if (loaded === 0) throw new Error(`No files match the app's main "${main}" under ${scriptRoot}: run \`npm run build\` first.`);
  await registry.runHooks("appStart", { hookData: {}, appHookData: {}, functionAppDirectory: scriptRoot });

  const keys = loadOrCreateKeys(options.dataDir, options.functionKey);
  for (const key of [keys.functionKey, keys.masterKey, keys.systemKey]) registerSecret(key);
  const invoker = new Invoker(registry, logger);
  const clock = options.clock ?? new RealClock();
  const store = new InstanceStore(options.dataDir, hubName);
  const hub = new TaskHub({
    hubName,
    store,
    invoker,
    clock,
    logger,
    ...(options.startRace ? { startRace: options.startRace } : {}),
    ...(durableConfig.maxConcurrentActivityFunctions ? { maxConcurrentActivityFunctions: durableConfig.maxConcurrentActivityFunctions } : {}),
    ...(durableConfig.maxConcurrentOrchestratorFunctions
      ? { maxConcurrentOrchestratorFunctions: durableConfig.maxConcurrentOrchestratorFunctions }
      : {}),
  });

  const httpFunctions = collectHttpFunctions(registry, routePrefix);
  const bodyLimit = options.maxRequestBodyBytes ?? DEFAULT_BODY_LIMIT;

  // The extension's loopback listener for DurableClient (LocalHttpListener). Loopback is no boundary on a shared
  // machine, so it takes a key like the public routes: the system key (header or `code`), or the per-process key
  // that the rpcBaseUrl handed to the app carries as its first path segment (durable-functions resolves relative
  // URLs against that base and sends no header or query of its own).
  const rpcKey = randomBytes(24).toString("base64url");
  registerSecret(rpcKey);
  let rpcApi: DurableHttpApi | undefined;
  const rpcServer = createServer((req, res) => void handleRpc(req, res));
  await listen(rpcServer, 0, "127.0.0.1");
  const rpcPort = (rpcServer.address() as AddressInfo).port;
  const rpcBaseUrl = `http://127.0.0.1:${rpcPort}/${rpcKey}/durabletask/`;

  async function handleRpc(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = parseRequestUrl(req.url);
      const body = await readBody(req, bodyLimit);
      if (!url) return send(res, { status: 400, headers: {} });
      const keyed = url.pathname.startsWith(`/${rpcKey}/durabletask/`);
      const base = keyed ? `/${rpcKey}/durabletask/` : "/durabletask/";
      if (!keyed && !isAuthorized("system", headerValue(req, "x-functions-key") ?? url.searchParams.get("code") ?? undefined, keys)) {
        return send(res, { status: 401, headers: {} });
      }
      if (!url.pathname.startsWith(base) || !rpcApi) return send(res, { status: 404, headers: {} });
      if (body === undefined) return send(res, { status: 413, headers: {} });
      send(res, await rpcApi.handle(apiRequest(req, url, base, body)));
    } catch (error) {
      logger.log("rpc", `${req.method} request failed: ${String(error)}`, "error");
      if (!res.headersSent) send(res, { status: 500, headers: {} });
    }
  }

  const server = createServer((req, res) => void handleHttp(req, res));
  await listen(server, options.port ?? 7071, options.host ?? "127.0.0.1");
  const port = (server.address() as AddressInfo).port;
  const ownHost = `127.0.0.1:${port}`;
  const url = `http://127.0.0.1:${port}`;
  // Core Tools sets this locally too; durable-functions rewrites management URLs to localhost:7071 without it.
  process.env.WEBSITE_HOSTNAME ??= `127.0.0.1:${port}`;
  const managementUrls = new ManagementUrls(`${url}/runtime/webhooks/durabletask`, hubName, keys.systemKey);
  const managementApi = new DurableHttpApi(hub, managementUrls);
  rpcApi = managementApi;
  const clientBindingJson = JSON.stringify(managementUrls.clientBindingData(rpcBaseUrl));

  hub.start();
  logger.log("host", `loaded ${registry.functions.size} functions from ${loaded} file(s); task hub "${hubName}"; listening on ${url}`);
  logger.log("host", `durable client listener on http://127.0.0.1:${rpcPort} (key required)`);

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    // The path and query only: the Host header is the caller's to write (`Host: [` is not a URL authority), so it
    // never takes part in parsing, and the function sees it only when it is a plain host[:port].
    const url = parseRequestUrl(req.url);
    let status = 500;
    try {
      if (!url) {
        req.resume();
        return send(res, { status: (status = 400), headers: {}, body: { Message: "The request target is not a valid path." } });
      }
      const declared = Number(req.headers["content-length"] ?? "0");
      if (declared > bodyLimit) {
        req.resume();
        status = 413;
        return send(res, { status, headers: {}, body: { Message: `The request body is larger than the limit of ${bodyLimit} bytes.` } });
      }
      const body = await readBody(req, bodyLimit);
      if (body === undefined) {
        status = 413;
        return send(res, { status, headers: {}, body: { Message: `The request body is larger than the limit of ${bodyLimit} bytes.` } });
      }
      const presentedKey = headerValue(req, "x-functions-key") ?? url.searchParams.get("code") ?? undefined;

      if (url.pathname.startsWith("/runtime/webhooks/durabletask/") || url.pathname === "/runtime/webhooks/durabletask") {
        if (!isAuthorized("system", presentedKey, keys)) return send(res, { status: (status = 401), headers: {} });
        const answer = await managementApi.handle(apiRequest(req, url, "/runtime/webhooks/durabletask/", body));
        status = answer.status;
        return send(res, answer);
      }
      if (url.pathname === "/") {
        status = 200;
        return send(res, { status, headers: { "Content-Type": "text/plain" }, body: "Your Functions 4.0 app is up and running (alertcap local host)" });
      }
      if (url.pathname === "/admin/host/status") {
        if (!isAuthorized("admin", presentedKey, keys)) return send(res, { status: (status = 401), headers: {} });
        status = 200;
        return send(res, { status, headers: {}, body: { state: "Running", version: "4.1037.0.0 (alertcap local host)", processUptime: Math.round(process.uptime() * 1000), rssBytes: process.memoryUsage().rss } });
      }

      const candidates = httpFunctions
        .map((fn) => ({ fn, match: fn.route.match(url.pathname) }))
        .filter((c) => c.match && (!c.fn.methods || c.fn.methods.includes(req.method ?? "GET")));
      const chosen = candidates.sort((a, b) => b.fn.route.precedence - a.fn.route.precedence)[0];
      if (!chosen?.match) return send(res, { status: (status = 404), headers: {} });
      if (!isAuthorized(chosen.fn.authLevel, presentedKey, keys)) return send(res, { status: (status = 401), headers: {} });

      const host = plainHost(req.headers.host) ?? ownHost;
      const answer = await invokeHttpFunction(chosen.fn, req, new URL(`${url.pathname}${url.search}`, `http://${host}`), body, chosen.match.params);
      status = answer.status;
      send(res, answer);
    } catch (error) {
      logger.log("http", `${req.method} ${url?.pathname ?? "(unparsed)"} failed: ${(error as Error).stack ?? String(error)}`, "error");
      if (!res.headersSent) send(res, { status: (status = 500), headers: {} });
    } finally {
      logger.log("http", `${req.method} ${url ? `${url.pathname}${url.search}` : "(unparsed)"} -> ${status} (${Date.now() - started} ms)`);
    }
  }

  async function invokeHttpFunction(fn: HttpFunction, req: IncomingMessage, url: URL, body: Buffer, params: Record<string, string>): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    const http: RpcHttpData = {
      method: req.method ?? "GET",
      url: url.href,
      headers,
      query: Object.fromEntries(url.searchParams),
      params,
      body: { bytes: body },
    };
    const inputData = [
      { name: fn.triggerBinding, data: { http } },
      ...fn.durableClientBindings.map((name) => ({ name, data: { string: clientBindingJson } })),
    ];
    const response = await invoker.invoke(fn.name, { inputData });
    const out = response.returnValue?.http ?? response.outputData?.find((o) => o.data?.http)?.data?.http;
    if (!out) return { status: 204, headers: {} };
    const bytes = out.body?.bytes ? Buffer.from(out.body.bytes) : out.body?.string !== undefined ? Buffer.from(out.body.string) : Buffer.alloc(0);
    return { status: Number(out.statusCode ?? 200), headers: out.headers ?? {}, body: bytes };
  }

  return {
    url,
    port,
    keys,
    hub,
    registry,
    functionNames: [...registry.functions.keys()],
    async close() {
      hub.close();
      await registry.runHooks("appTerminate", { hookData: {}, appHookData: {} });
      await Promise.all([closeServer(server), closeServer(rpcServer)]);
    },
  };
}

function collectHttpFunctions(registry: CoreApiRegistry, routePrefix: string): HttpFunction[] {
  const out: HttpFunction[] = [];
  for (const [name, { metadata }] of registry.functions) {
    const trigger = Object.entries(metadata.bindings).find(([, b]) => b.type.toLowerCase() === "httptrigger");
    if (!trigger) continue;
    const [triggerBinding, binding] = trigger;
    const route = typeof binding.route === "string" && binding.route.length > 0 ? binding.route : name;
    const methods = Array.isArray(binding.methods) ? (binding.methods as string[]).map((m) => m.toUpperCase()) : undefined;
    const authLevel = (typeof binding.authLevel === "string" ? binding.authLevel.toLowerCase() : "function") as AuthLevel;
    const durableClientBindings = Object.entries(metadata.bindings)
      .filter(([, b]) => b.type === "durableClient" || b.type === "orchestrationClient")
      .map(([bindingName]) => bindingName);
    out.push({ name, route: new RouteTemplate(`${routePrefix}/${route}`), methods, authLevel, durableClientBindings, triggerBinding });
  }
  return out;
}

/**
 * The request target as a URL on a fixed origin, or undefined when it is not a path the routes can read: not
 * origin-form, or with a percent-escape that does not decode (routes and the durable API decode every segment).
 */
function parseRequestUrl(target: string | undefined): URL | undefined {
  if (!target || !target.startsWith("/")) return undefined;
  try {
    const url = new URL(target, "http://127.0.0.1");
    decodeURIComponent(url.pathname);
    return url;
  } catch {
    return undefined;
  }
}

/** A Host header that is a plain name or address with an optional port, or undefined. */
function plainHost(value: string | undefined): string | undefined {
  return value && /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/.test(value) ? value : undefined;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function apiRequest(req: IncomingMessage, url: URL, base: string, body: Buffer) {
  return {
    method: req.method ?? "GET",
    path: url.pathname.slice(base.length),
    query: url.searchParams,
    contentType: headerValue(req, "content-type"),
    continuationToken: headerValue(req, "x-ms-continuation-token"),
    body,
  };
}

/** Reads the body, or answers undefined once it passes `limit` bytes (the rest is drained, not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => resolveBody(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, answer: ApiResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: Buffer | string = "";
  if (Buffer.isBuffer(answer.body)) payload = answer.body;
  else if (typeof answer.body === "string") payload = answer.body;
  else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json; charset=utf-8";
  }
  res.writeHead(answer.status, headers);
  res.end(payload);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolveListen();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
