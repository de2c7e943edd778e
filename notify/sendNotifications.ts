// Delivers one notification event to every configured target: all targets at once, each target's attempts one after
// another. Delivery policy (shared docs notifications.md §3):
//   * success: Slack 200 with body "ok"; Teams and generic any 2xx (Teams Workflows answers 202 when the run is queued);
//   * retried: network errors, timeouts, 408, 429 and 5xx, with exponential back-off and full jitter, or exactly the
//     server's Retry-After (seconds or HTTP date) when it gives one — unless that is longer than maxDelayMs, in which
//     case the target is given up rather than holding the activity;
//   * not retried: any other 4xx, and 3xx (redirects are not followed: a webhook URL that redirects is misconfigured,
//     and following it could carry the body and headers somewhere unintended);
//   * every request carries the event's idempotency key (Idempotency-Key; plus webhook-id, webhook-timestamp and, with
//     a secret, webhook-signature per Standard Webhooks 1.0 for generic targets), unchanged across retries, so a
//     receiver can drop the duplicates that retries and re-run activities produce.
// It never throws: every problem ends up in a NotificationResult, which names the target by scheme and host only.

import { createHmac } from "node:crypto";
import type { NotificationResult } from "../domain/capture/progress.js";
import type { NotificationMessage } from "../domain/notify/message.js";
import type { NotificationTarget } from "../domain/notify/targets.js";
import { redactUrl, scrubSecrets } from "../domain/notify/urlSecrets.js";

export interface SendOptions {
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
  /** Attempts per target, including the first. Default 5. */
  readonly maxAttempts?: number;
  /** First back-off ceiling; doubles per attempt. Default 1,000 ms. */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts, and the longest Retry-After honoured. Default 30,000 ms. */
  readonly maxDelayMs?: number;
  /** Per request, including reading the response. Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch: for webhook-timestamp and HTTP-date Retry-After. Default Date.now. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter. Default Math.random. */
  readonly random?: () => number;
  /** Called once per attempt. Entries name the target by scheme and host only. */
  readonly log?: (entry: DeliveryAttemptLog) => void;
}

export interface DeliveryAttemptLog {
  readonly target: string;
  readonly format: NotificationResult["format"];
  readonly attempt: number;
  /** HTTP status, or null when no response came. */
  readonly status: number | null;
  readonly latencyMs: number;
  readonly outcome: "delivered" | "retrying" | "failed";
  readonly error?: string;
  readonly retryInMs?: number;
}

const DEFAULTS = { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, timeoutMs: 10_000 } as const;
const USER_AGENT = "alertcap-notify/1";
// Enough for any error text a webhook returns ("invalid_payload", a JSON error); the rest is not read.
const RESPONSE_SNIPPET_BYTES = 4096;
const ERROR_SNIPPET_CHARS = 200;

type AttemptResult =
  | { readonly kind: "delivered"; readonly status: number }
  | { readonly kind: "retry"; readonly status: number | null; readonly error: string; readonly retryAfterMs?: number }
  | { readonly kind: "permanent"; readonly status: number | null; readonly error: string };

interface Settings {
  readonly fetch: typeof fetch;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly log: (entry: DeliveryAttemptLog) => void;
}

/** POSTs `message` to every target; one result per target, in the targets' order. Never throws. */
export async function sendNotifications(
  targets: readonly NotificationTarget[],
  message: NotificationMessage,
  options: SendOptions = {},
): Promise<NotificationResult[]> {
  try {
    const settings = settingsFrom(options);
    return await Promise.all(targets.map((target) => deliverSafely(target, message, settings)));
  } catch (error) {
    // Only reachable through a broken argument (e.g. targets not an array); still no throw.
    const reason = `notifications were not sent: ${describeUnexpected(error)}`;
    return Array.isArray(targets)
      ? targets.map((t) => failure(t, 0, reason))
      : [];
  }
}

async function deliverSafely(target: NotificationTarget, message: NotificationMessage, settings: Settings): Promise<NotificationResult> {
  try {
    return await deliver(target, message, settings);
  } catch (error) {
    return failure(target, 0, `not sent: ${scrubSecrets(describeUnexpected(error), target.url)}`);
  }
}

async function deliver(target: NotificationTarget, message: NotificationMessage, settings: Settings): Promise<NotificationResult> {
  const redacted = redactUrl(target.url);
  const payload: unknown = message[target.format];
  if (payload === undefined) return failure(target, 0, `not sent: the message has no "${String(target.format)}" payload`);
  const body = JSON.stringify(payload);
  let lastError = "not attempted";
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    const started = Date.now();
    const result = await attemptOnce(target, message.idempotencyKey, body, settings);
    const latencyMs = Date.now() - started;
    const logBase = { target: redacted, format: target.format, attempt, status: result.status, latencyMs };

    if (result.kind === "delivered") {
      settings.log({ ...logBase, outcome: "delivered" });
      return { target: redacted, format: target.format, delivered: true, attempts: attempt };
    }
    lastError = result.error;
    if (result.kind === "permanent") {
      settings.log({ ...logBase, outcome: "failed", error: result.error });
      return failure(target, attempt, result.error);
    }
    if (attempt === settings.maxAttempts) {
      settings.log({ ...logBase, outcome: "failed", error: result.error });
      break;
    }
    if (result.retryAfterMs !== undefined && result.retryAfterMs > settings.maxDelayMs) {
      const error = `${result.error}; the receiver asked to retry after ${formatMs(result.retryAfterMs)}, longer than the ${formatMs(settings.maxDelayMs)} alertcap waits, so it gave up`;
      settings.log({ ...logBase, outcome: "failed", error });
      return failure(target, attempt, error);
    }
    const delay = result.retryAfterMs ?? backoff(attempt, settings);
    settings.log({ ...logBase, outcome: "retrying", error: result.error, retryInMs: delay });
    await settings.sleep(delay);
  }
  const attempts = settings.maxAttempts;
  return failure(target, attempts, `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}; last: ${lastError}`);
}

async function attemptOnce(target: NotificationTarget, idempotencyKey: string, body: string, settings: Settings): Promise<AttemptResult> {
  let response: Response;
  try {
    response = await settings.fetch(target.url, {
      method: "POST",
      headers: headersFor(target, idempotencyKey, body, settings.now()),
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
  } catch (error) {
    return describeRequestError(error, target, settings.timeoutMs);
  }

  const status = response.status;
  const snippet = await readSnippet(response);
  const answered = `the receiver answered HTTP ${status}${snippetSuffix(snippet, target)}`;

  if (status >= 200 && status < 300) {
    if (target.format !== "slack") return { kind: "delivered", status };
    // Slack's only success is 200 "ok"; anything else from hooks.slack.com means the post did not happen.
    if (status === 200 && (snippet === null || snippet.trim() === "ok")) return { kind: "delivered", status };
    return { kind: "permanent", status, error: `${answered} instead of 200 "ok"` };
  }
  // With redirect: "manual", fetch hands back the 3xx itself (status 0 where it is opaque).
  if (status === 0 || (status >= 300 && status < 400)) {
    return {
      kind: "permanent",
      status,
      error: `the receiver answered with a redirect (HTTP ${status}); redirects are not followed, configure the final URL`,
    };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), settings.now());
    return retryAfterMs === undefined ? { kind: "retry", status, error: answered } : { kind: "retry", status, error: answered, retryAfterMs };
  }
  return { kind: "permanent", status, error: answered };
}

function headersFor(target: NotificationTarget, idempotencyKey: string, body: string, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "idempotency-key": idempotencyKey,
  };
  if (target.format === "generic") {
    // The timestamp is the attempt's, so each retry is signed afresh and passes receivers' 5-minute freshness check;
    // the id stays the event's.
    const timestamp = String(Math.floor(nowMs / 1000));
    headers["webhook-id"] = idempotencyKey;
    headers["webhook-timestamp"] = timestamp;
    if (target.signingKey !== undefined) {
      headers["webhook-signature"] = signStandardWebhook(target.signingKey, idempotencyKey, timestamp, body);
    }
  }
  return headers;
}

/** Standard Webhooks 1.0: `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`. */
export function signStandardWebhook(key: Uint8Array, id: string, timestamp: string, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`, "utf8").digest("base64");
  return `v1,${mac}`;
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

// Full jitter: uniformly random up to the exponential ceiling, so targets that failed together do not retry together.
function backoff(attempt: number, settings: Settings): number {
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(settings.random() * ceiling);
}

function describeRequestError(error: unknown, target: NotificationTarget, timeoutMs: number): AttemptResult {
  const name = error instanceof Error ? error.name : "";
  if (name === "TimeoutError" || name === "AbortError") {
    return { kind: "retry", status: null, error: `no response within ${formatMs(timeoutMs)}` };
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (error instanceof TypeError && cause === undefined) {
    // fetch rejects a request it cannot build (a bad header value, say) with a bare TypeError: retrying cannot help.
    return { kind: "permanent", status: null, error: `the request could not be made: ${scrubSecrets(error.message, target.url)}` };
  }
  const detail =
    typeof cause?.code === "string"
      ? cause.code
      : typeof cause?.message === "string"
        ? cause.message
        : error instanceof Error
          ? error.message
          : String(error);
  return { kind: "retry", status: null, error: `the request failed (${scrubSecrets(detail, target.url)})` };
}

// Reads at most a few KB of the response (and releases the connection), never throwing: null when it could not be read.
async function readSnippet(response: Response): Promise<string | null> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
    return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES));
  } catch {
    return null;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

// A receiver may echo the request URL or headers; the snippet is scrubbed of the target's credential first.
function snippetSuffix(snippet: string | null, target: NotificationTarget): string {
  if (snippet === null) return "";
  const oneLine = scrubSecrets(snippet, target.url).replace(/\s+/g, " ").trim();
  if (oneLine === "") return "";
  return `: ${oneLine.length > ERROR_SNIPPET_CHARS ? `${oneLine.slice(0, ERROR_SNIPPET_CHARS - 1)}…` : oneLine}`;
}

function failure(target: NotificationTarget, attempts: number, error: string): NotificationResult {
  return {
    target: redactUrl(typeof target?.url === "string" ? target.url : ""),
    format: target?.format ?? "generic",
    delivered: false,
    attempts,
    error,
  };
}

function settingsFrom(options: SendOptions): Settings {
  const positive = (value: number | undefined, fallback: number): number =>
    value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
  return {
    fetch: options.fetch ?? globalThis.fetch,
    maxAttempts: Math.max(1, Math.floor(positive(options.maxAttempts, DEFAULTS.maxAttempts))),
    baseDelayMs: positive(options.baseDelayMs, DEFAULTS.baseDelayMs),
    maxDelayMs: positive(options.maxDelayMs, DEFAULTS.maxDelayMs),
    timeoutMs: Math.max(1, positive(options.timeoutMs, DEFAULTS.timeoutMs)),
    now: options.now ?? Date.now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    log: (entry) => {
      try {
        options.log?.(entry);
      } catch {
        // A failing logger must not stop deliveries.
      }
    },
  };
}

function describeUnexpected(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
