// Delivery through real HTTP to a local receiver (node:http on 127.0.0.1): retries, Retry-After, permanent failures,
// timeouts, redirects, signatures, idempotency keys, and that no URL credential reaches a result or a log line.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CaptureProgress } from "../domain/capture/progress.js";
import { buildNotificationMessage, type NotificationMessage } from "../domain/notify/message.js";
import { parseNotifyTargets, readNotifySettings, type NotificationTarget } from "../domain/notify/targets.js";
import { sendNotifications, type DeliveryAttemptLog, type SendOptions } from "../notify/sendNotifications.js";

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw bytes as received: what a receiver must verify the signature over. */
  readonly rawBody: Buffer;
}

interface Reply {
  readonly status: number;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  /** Wait this long before answering (a slow receiver). */
  readonly delayMs?: number;
  /** Answer with the request's own path and query in the body, as some servers do in errors. */
  readonly echoUrl?: boolean;
}

/** A webhook receiver: per path, a script of replies (the last one repeats); records every request. */
class Receiver {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts = new Map<string, Reply[]>();
  private server: Server | undefined;
  base = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const url = req.url ?? "/";
        const path = url.split("?")[0] ?? "/";
        this.requests.push({ method: req.method ?? "", path, headers: req.headers, rawBody: Buffer.concat(chunks) });
        const script = this.scripts.get(path) ?? [{ status: 200, body: "ok" }];
        const reply = (script.length > 1 ? script.shift() : script[0]) ?? { status: 200, body: "ok" };
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
          res.end(reply.echoUrl ? `no such hook: ${url}` : (reply.body ?? ""));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string, ...replies: Reply[]): void {
    this.scripts.set(path, replies);
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

const SIGNING_KEY = Buffer.from("0123456789abcdef0123456789abcdef", "utf8");
const WHSEC = `whsec_${SIGNING_KEY.toString("base64")}`;

function progress(): CaptureProgress {
  return {
    phase: "notifying",
    target: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-db-2",
    targetKind: "virtualMachine",
    alert: { alertId: "a1", rule: "CPU above 95%", severity: "Sev1", schema: "azureMonitorCommonAlertSchema", firedAt: "2025-11-25T09:00:00Z" },
    captureName: "alertcap-vm-db-2",
    networkWatcher: null,
    networkWatcherStatus: "Stopped",
    stopReason: "TimeExceeded",
    stopRequestedBecause: null,
    startedAt: "2025-11-25T09:00:10Z",
    stoppedAt: null,
    deadline: "2025-11-25T09:05:10Z",
    polls: 3,
    nextPollAt: null,
    storagePath: "https://st.blob.core.windows.net/captures/vm-db-2.cap?sv=1&sig=STORAGESASSIG",
    failureReason: null,
    packetCaptureErrors: [],
    analysis: null,
    reportPath: null,
    notifications: [],
  };
}

const message: NotificationMessage = buildNotificationMessage({
  event: "capture.completed",
  progress: progress(),
  findings: ["Retransmissions: 14% of TCP segments", "Top flow 10.1.0.5:51512 → 10.1.0.9:1433"],
  idempotencyKey: "alertcap-instance-42-capture.completed",
  occurredAt: "2025-11-25T09:05:20Z",
});

/** Secrets placed in every target URL's path and query; none may show up in results or logs. */
const PATH_SECRET = "PATHSECRET0123456789";
const QUERY_SECRET = "QUERYSECRET0123456789";

function target(receiver: Receiver, format: "generic" | "teams" | "slack", path: string, secret = true): NotificationTarget {
  const url = `${format}+${receiver.base}${path}${secret ? `?sig=${QUERY_SECRET}&sv=1.0` : ""}`;
  const parsed = format === "generic" ? readNotifySettings({ ALERTCAP_NOTIFY_URLS: url, ALERTCAP_NOTIFY_SECRET: WHSEC }) : parseNotifyTargets(url);
  expect(parsed.problems).toEqual([]);
  return parsed.targets[0]!;
}

/**
 * Verifies a request the way a receiver does, with the official Standard Webhooks library and the secret string as
 * configured in alertcap. `at` is the receiver's clock (the library refuses timestamps 5 minutes off).
 */
function verifyStandardWebhook(request: RecordedRequest, secret: string, at?: number): boolean {
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) headers[name] = String(request.headers[name] ?? "");
  if (at !== undefined) vi.useFakeTimers({ toFake: ["Date"], now: at });
  try {
    new Webhook(secret).verify(request.rawBody, headers);
    return true;
  } catch {
    return false;
  } finally {
    if (at !== undefined) vi.useRealTimers();
  }
}

const OTHER_SECRET = `whsec_${Buffer.from("some-other-key-of-enough-length").toString("base64")}`;

describe("sendNotifications through a real HTTP receiver", () => {
  let receiver: Receiver;
  let sleeps: number[];
  let logs: DeliveryAttemptLog[];
  let options: SendOptions;

  beforeEach(async () => {
    receiver = new Receiver();
    await receiver.start();
    sleeps = [];
    logs = [];
    options = {
      baseDelayMs: 10,
      maxDelayMs: 2000,
      timeoutMs: 2000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      log: (entry) => logs.push(entry),
    };
  });
  afterEach(async () => {
    await receiver.stop();
  });

  const assertNoSecrets = (...things: unknown[]) => {
    const text = JSON.stringify(things);
    expect(text).not.toContain(PATH_SECRET);
    expect(text).not.toContain(QUERY_SECRET);
    expect(text).not.toContain("STORAGESASSIG");
  };

  it("retries a generic target through 500, 500 to 200, with the same webhook-id and a valid signature each time", async () => {
    const path = `/generic/${PATH_SECRET}`;
    receiver.on(path, { status: 500, body: "boom" }, { status: 500, body: "boom" }, { status: 200 });
    const results = await sendNotifications([target(receiver, "generic", path)], message, options);

    expect(results).toEqual([{ target: receiver.base, format: "generic", delivered: true, attempts: 3 }]);
    const requests = receiver.requestsTo(path);
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(request.method).toBe("POST");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["webhook-id"]).toBe(message.idempotencyKey);
      expect(request.headers["webhook-id"]).toMatch(/^evt_[A-Za-z0-9_-]{32}$/);
      expect(request.headers["idempotency-key"]).toBe(message.idempotencyKey);
      expect(String(request.headers["webhook-timestamp"])).toMatch(/^\d{10}$/);
      expect(verifyStandardWebhook(request, WHSEC)).toBe(true);
      expect(verifyStandardWebhook(request, OTHER_SECRET)).toBe(false);
      expect(request.rawBody.equals(requests[0]!.rawBody)).toBe(true);
    }
    const body = JSON.parse(requests[0]!.rawBody.toString("utf8")) as NotificationMessage["generic"];
    expect(body).toEqual(message.generic);
    expect(body.id).toBe(requests[0]!.headers["webhook-id"]);
    // Full jitter with random = 0.5: half of 10 ms, then half of 20 ms.
    expect(sleeps).toEqual([5, 10]);
    expect(logs.map((l) => [l.attempt, l.status, l.outcome])).toEqual([
      [1, 500, "retrying"],
      [2, 500, "retrying"],
      [3, 200, "delivered"],
    ]);
    assertNoSecrets(results, logs);
  });

  it("signs over the exact bytes sent, also when the body has non-ASCII text", async () => {
    const path = "/generic/unicode";
    const unicode = buildNotificationMessage({
      event: "capture.failed",
      progress: { ...progress(), failureReason: "Überlast — 負荷 🚨" },
      findings: ["naïve café"],
      idempotencyKey: "k-unicode",
      occurredAt: "2025-11-25T09:05:20Z",
    });
    const results = await sendNotifications([target(receiver, "generic", path, false)], unicode, options);
    expect(results[0]?.delivered).toBe(true);
    const [request] = receiver.requestsTo(path);
    expect(verifyStandardWebhook(request!, WHSEC)).toBe(true);
    expect(JSON.parse(request!.rawBody.toString("utf8")).data.failureReason).toBe("Überlast — 負荷 🚨");
  });

  it("sends generic requests unsigned (but with webhook-id and timestamp) when no secret is set", async () => {
    const path = "/generic/unsigned";
    const [unsigned] = parseNotifyTargets(`${receiver.base}${path}`).targets;
    const results = await sendNotifications([unsigned!], message, options);
    expect(results[0]?.delivered).toBe(true);
    const [request] = receiver.requestsTo(path);
    expect(request!.headers["webhook-signature"]).toBeUndefined();
    expect(request!.headers["webhook-id"]).toBe(message.idempotencyKey);
    expect(request!.headers["webhook-timestamp"]).toBeDefined();
  });

  it("waits exactly Retry-After (seconds) on 429, then delivers", async () => {
    const path = `/teams/${PATH_SECRET}`;
    receiver.on(path, { status: 429, headers: { "retry-after": "1" } }, { status: 202 });
    const results = await sendNotifications([target(receiver, "teams", path)], message, options);
    expect(results).toEqual([{ target: receiver.base, format: "teams", delivered: true, attempts: 2 }]);
    expect(sleeps).toEqual([1000]);
    expect(logs[0]).toMatchObject({ status: 429, outcome: "retrying", retryInMs: 1000 });
  });

  it("retries 408 Request Timeout like a 5xx", async () => {
    const path = "/generic/408";
    receiver.on(path, { status: 408 }, { status: 201 });
    const results = await sendNotifications([target(receiver, "generic", path)], message, options);
    expect(results[0]).toMatchObject({ delivered: true, attempts: 2 });
    expect(sleeps).toEqual([5]);
  });

  it("really sleeps for Retry-After when no sleep is injected", async () => {
    const path = "/generic/real-sleep";
    receiver.on(path, { status: 503, headers: { "retry-after": "1" } }, { status: 204 });
    const { sleep: _unused, ...realSleep } = options;
    const started = Date.now();
    const results = await sendNotifications([target(receiver, "generic", path)], message, realSleep);
    expect(results[0]).toMatchObject({ delivered: true, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it("honours an HTTP-date Retry-After against the injected clock", async () => {
    const path = "/generic/date";
    const now = Date.parse("2025-11-25T09:10:00Z");
    receiver.on(path, { status: 503, headers: { "retry-after": new Date(now + 1500).toUTCString() } }, { status: 200 });
    const results = await sendNotifications([target(receiver, "generic", path)], message, { ...options, now: () => now });
    expect(results[0]).toMatchObject({ delivered: true, attempts: 2 });
    // HTTP dates have whole seconds: 09:10:01 is 1,000 ms after the injected now.
    expect(sleeps).toEqual([1000]);
    const request = receiver.requestsTo(path)[0]!;
    expect(request.headers["webhook-timestamp"]).toBe(String(now / 1000));
    expect(verifyStandardWebhook(request, WHSEC, now)).toBe(true);
  });

  it("gives up, with a sentence saying why, when Retry-After is longer than it waits", async () => {
    const path = "/generic/long-wait";
    receiver.on(path, { status: 429, headers: { "retry-after": "3600" } });
    const [result] = await sendNotifications([target(receiver, "generic", path)], message, options);
    expect(result).toMatchObject({ delivered: false, attempts: 1 });
    expect(result!.error).toMatch(/HTTP 429.*retry after 3600 s, longer than the 2 s alertcap waits/);
    expect(sleeps).toEqual([]);
  });

  it("does not retry a permanent 400 and reports the receiver's answer without URL secrets", async () => {
    const path = `/slack/services/T0/B0/${PATH_SECRET}`;
    receiver.on(path, { status: 400, echoUrl: true });
    const results = await sendNotifications([target(receiver, "slack", path)], message, options);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ target: receiver.base, format: "slack", delivered: false, attempts: 1 });
    expect(results[0]!.error).toMatch(/^the receiver answered HTTP 400: no such hook: /);
    expect(receiver.requestsTo(path)).toHaveLength(1);
    expect(sleeps).toEqual([]);
    assertNoSecrets(results, logs);
  });

  it("stops after maxAttempts on a persistent 503 and says so", async () => {
    const path = "/generic/down";
    receiver.on(path, { status: 503, body: "maintenance" });
    const [result] = await sendNotifications([target(receiver, "generic", path)], message, { ...options, maxAttempts: 4 });
    expect(result).toMatchObject({ delivered: false, attempts: 4 });
    expect(result!.error).toBe("gave up after 4 attempts; last: the receiver answered HTTP 503: maintenance");
    expect(receiver.requestsTo(path)).toHaveLength(4);
    expect(sleeps).toEqual([5, 10, 20]);
  });

  it("times out a slow receiver per request and retries it", async () => {
    const path = "/generic/slow";
    receiver.on(path, { status: 200, delayMs: 1500 });
    const started = Date.now();
    const [result] = await sendNotifications([target(receiver, "generic", path)], message, { ...options, timeoutMs: 150, maxAttempts: 2 });
    expect(Date.now() - started).toBeLessThan(1200);
    expect(result).toMatchObject({ delivered: false, attempts: 2 });
    expect(result!.error).toBe("gave up after 2 attempts; last: no response within 150 ms");
    expect(logs.map((l) => l.status)).toEqual([null, null]);
  });

  it("does not follow redirects", async () => {
    const path = "/generic/moved";
    receiver.on(path, { status: 302, headers: { location: `/generic/elsewhere?sig=${QUERY_SECRET}` } });
    const [result] = await sendNotifications([target(receiver, "generic", path)], message, options);
    expect(result).toMatchObject({ delivered: false, attempts: 1 });
    expect(result!.error).toMatch(/redirect \(HTTP 302\); redirects are not followed/);
    expect(receiver.requestsTo("/generic/elsewhere")).toHaveLength(0);
    assertNoSecrets(result);
  });

  it("counts Slack as delivered only on 200 ok; 200 with another body is a failure", async () => {
    receiver.on("/slack/ok", { status: 200, body: "ok" });
    receiver.on("/slack/odd", { status: 200, body: "invalid_token" });
    const results = await sendNotifications(
      [target(receiver, "slack", "/slack/ok"), target(receiver, "slack", "/slack/odd")],
      message,
      options,
    );
    expect(results[0]).toEqual({ target: receiver.base, format: "slack", delivered: true, attempts: 1 });
    expect(results[1]).toMatchObject({ delivered: false, attempts: 1 });
    expect(results[1]!.error).toBe('the receiver answered HTTP 200: invalid_token instead of 200 "ok"');
  });

  it("sends each format its own body, all with the Idempotency-Key, and webhook-* headers only to generic", async () => {
    const results = await sendNotifications(
      [target(receiver, "teams", "/t"), target(receiver, "slack", "/s"), target(receiver, "generic", "/g")],
      message,
      options,
    );
    expect(results.map((r) => r.delivered)).toEqual([true, true, true]);
    const [teams] = receiver.requestsTo("/t");
    const [slack] = receiver.requestsTo("/s");
    const [generic] = receiver.requestsTo("/g");
    for (const request of [teams, slack, generic]) expect(request!.headers["idempotency-key"]).toBe(message.idempotencyKey);
    expect(teams!.headers["webhook-id"]).toBeUndefined();
    expect(slack!.headers["webhook-signature"]).toBeUndefined();
    const teamsBody = JSON.parse(teams!.rawBody.toString("utf8"));
    expect(teamsBody).toEqual(message.teams);
    expect(teamsBody.attachments[0].content.version).toBe("1.4");
    expect(teams!.rawBody.length).toBeLessThanOrEqual(20 * 1024);
    const slackBody = JSON.parse(slack!.rawBody.toString("utf8"));
    expect(typeof slackBody.text).toBe("string");
    expect(slackBody.blocks.length).toBeGreaterThan(0);
    expect(slackBody.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.parse(generic!.rawBody.toString("utf8"))).toEqual(message.generic);
    // The storage SAS in the progress never leaves alertcap.
    assertNoSecrets(teamsBody, slackBody, generic!.rawBody.toString("utf8"));
  });

  it("posts to all targets concurrently, with results in the targets' order", async () => {
    for (const p of ["/a", "/b", "/c"]) receiver.on(p, { status: 200, body: "ok", delayMs: 300 });
    const started = Date.now();
    const results = await sendNotifications(
      [target(receiver, "generic", "/a"), target(receiver, "slack", "/b"), target(receiver, "teams", "/c")],
      message,
      options,
    );
    expect(Date.now() - started).toBeLessThan(800);
    expect(results.map((r) => [r.format, r.delivered])).toEqual([
      ["generic", true],
      ["slack", true],
      ["teams", true],
    ]);
  });

  it("retries a refused connection and reports it, without throwing", async () => {
    const closed = new Receiver();
    await closed.start();
    const base = closed.base;
    await closed.stop();
    const [gone] = parseNotifyTargets(`generic+${base}/x/${PATH_SECRET}?sig=${QUERY_SECRET}`).targets;
    const results = await sendNotifications([gone!], message, { ...options, maxAttempts: 3 });
    expect(results[0]).toMatchObject({ target: base, delivered: false, attempts: 3 });
    expect(results[0]!.error).toBe("gave up after 3 attempts; last: the request failed (ECONNREFUSED)");
    assertNoSecrets(results, logs);
  });

  it("never throws: a fetch that throws with the URL in its message, or a broken argument, ends in results", async () => {
    const [t] = parseNotifyTargets(`https://receiver.example/${PATH_SECRET}?sig=${QUERY_SECRET}`).targets;
    const throwingFetch = (async (url: string | URL | Request) => {
      throw new Error(`cannot reach ${String(url)}`);
    }) as typeof fetch;
    const results = await sendNotifications([t!], message, { ...options, fetch: throwingFetch, maxAttempts: 2 });
    expect(results[0]).toMatchObject({ target: "https://receiver.example", delivered: false, attempts: 2 });
    expect(results[0]!.error).toBe(
      "gave up after 2 attempts; last: the request failed (cannot reach https://receiver.example/(redacted))",
    );
    assertNoSecrets(results, logs);

    const badLogger = await sendNotifications([t!], message, {
      ...options,
      fetch: (async () => new Response("ok", { status: 200 })) as typeof fetch,
      log: () => {
        throw new Error("logger down");
      },
    });
    expect(badLogger[0]?.delivered).toBe(true);

    await expect(sendNotifications(null as unknown as NotificationTarget[], message)).resolves.toEqual([]);
    await expect(sendNotifications([], message)).resolves.toEqual([]);
    const noPayload = await sendNotifications([t!], { idempotencyKey: "k" } as NotificationMessage, options);
    expect(noPayload[0]).toMatchObject({ delivered: false, attempts: 0 });
  });
});
