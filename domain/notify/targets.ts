// Where completion notifications go, from two app settings:
//
//   ALERTCAP_NOTIFY_URLS    webhook URLs separated by commas (whitespace and newlines also separate; a comma inside
//                           a URL must be written %2C). The message format is chosen per URL from its host:
//                             hooks.slack.com                                     → slack  (Block Kit message)
//                             *.logic.azure.com/workflows/…, *.api.powerplatform.com,
//                             *.api.powerautomate.com, *.flow.microsoft.com       → teams  (Adaptive Card 1.4)
//                             anything else                                       → generic (signed JSON, see genericBody.ts)
//                           A prefix overrides the choice: `teams+https://…`, `slack+https://…`, `generic+https://…`
//                           (e.g. a Logic App that wants the generic JSON: `generic+https://prod-1.….logic.azure.com/workflows/…`).
//   ALERTCAP_NOTIFY_SECRET  optional Standard Webhooks signing secret for generic targets, as the spec defines it:
//                           base64 (standard alphabet, padded or not), optionally prefixed `whsec_`; the key is the
//                           decoded bytes, at least 24 of them. The same string works in receivers' Standard Webhooks
//                           libraries (`new Webhook(secret)`). Anything else is refused with one line at start-up.
//
// The URLs are credentials (Teams `sig=`, the Slack path): a target keeps the full URL for sending and a redacted form
// (scheme + host) for everything else. Problems name the entry by position and redacted form, never the URL.

import type { NotificationResult } from "../capture/progress.js";
import { redactUrl } from "./urlSecrets.js";

export { redactUrl } from "./urlSecrets.js";

export type NotificationFormat = NotificationResult["format"];

export interface NotificationTarget {
  /** The URL to POST to, without any format prefix. A credential: never log it. */
  readonly url: string;
  /** Scheme and host only: what logs, results and errors show. */
  readonly redacted: string;
  readonly format: NotificationFormat;
  /** Whether the format came from a `teams+`/`slack+`/`generic+` prefix or from the host. */
  readonly formatFrom: "prefix" | "host";
  /** HMAC key for Standard Webhooks signatures; only on generic targets, only when a secret is configured. */
  readonly signingKey?: Uint8Array;
}

export interface TargetProblem {
  /** 1-based position of the entry in ALERTCAP_NOTIFY_URLS (after splitting). */
  readonly entry: number;
  /** The entry redacted to scheme + host, or "(invalid URL)". */
  readonly target: string;
  readonly message: string;
}

export interface NotifyTargets {
  readonly targets: NotificationTarget[];
  /** Entries that were rejected, each with a sentence saying why. Valid entries are still returned in `targets`. */
  readonly problems: TargetProblem[];
}

export type SigningSecretResult =
  | { readonly ok: true; readonly key: Uint8Array | undefined }
  | { readonly ok: false; readonly message: string };

const FORMAT_PREFIX = /^([A-Za-z][A-Za-z0-9.-]*)\+(https?:.*)$/s;
const KNOWN_FORMATS: readonly NotificationFormat[] = ["teams", "slack", "generic"];
// Standard Webhooks: "secrets SHOULD be between 24 bytes and 64 bytes"; fewer is refused.
const MIN_SIGNING_KEY_BYTES = 24;
// Standard base64, padded to a multiple of 4 or unpadded (a length of 1 mod 4 cannot be base64 at all).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Reads both settings from an environment-like object (pass `process.env`). Never throws. */
export function readNotifySettings(env: Readonly<Record<string, string | undefined>>): NotifyTargets {
  const secret = parseSigningSecret(env["ALERTCAP_NOTIFY_SECRET"]);
  return parseNotifyTargets(
    env["ALERTCAP_NOTIFY_URLS"],
    secret.ok ? { signingKey: secret.key } : { secretProblem: secret.message },
  );
}

export interface ParseTargetsOptions {
  /** From `parseSigningSecret`: attached to generic targets. */
  readonly signingKey?: Uint8Array | undefined;
  /**
   * Set when ALERTCAP_NOTIFY_SECRET is present but invalid: generic targets are then refused rather than sent
   * unsigned to a receiver that expects signatures. Teams and Slack targets are unaffected.
   */
  readonly secretProblem?: string | undefined;
}

/**
 * Splits and classifies ALERTCAP_NOTIFY_URLS. Empty entries are skipped; an exact duplicate is reported and sent to
 * once. Never throws.
 */
export function parseNotifyTargets(value: string | undefined, options: ParseTargetsOptions = {}): NotifyTargets {
  const targets: NotificationTarget[] = [];
  const problems: TargetProblem[] = [];
  const seen = new Map<string, number>();
  const entries = (value ?? "").split(/[\s,]+/).filter((entry) => entry.length > 0);
  entries.forEach((entry, index) => {
    const entryNumber = index + 1;
    const parsed = parseTarget(entry, options.signingKey);
    if (!parsed.ok) {
      problems.push({ entry: entryNumber, target: redactUrl(entry), message: parsed.message });
      return;
    }
    const { target } = parsed;
    if (target.format === "generic" && options.secretProblem !== undefined) {
      problems.push({
        entry: entryNumber,
        target: target.redacted,
        message: `not used: ${options.secretProblem}`,
      });
      return;
    }
    const first = seen.get(target.url);
    if (first !== undefined) {
      problems.push({ entry: entryNumber, target: target.redacted, message: `duplicate of entry ${first}; sent once` });
      return;
    }
    seen.set(target.url, entryNumber);
    targets.push(target);
  });
  return { targets, problems };
}

/** One entry: an optional format prefix, then an absolute http(s) URL. */
export function parseTarget(
  entry: string,
  signingKey?: Uint8Array | undefined,
): { ok: true; target: NotificationTarget } | { ok: false; message: string } {
  let rawUrl = entry.trim();
  let forced: NotificationFormat | undefined;
  const prefixed = FORMAT_PREFIX.exec(rawUrl);
  if (prefixed) {
    const name = (prefixed[1] ?? "").toLowerCase();
    if (!isKnownFormat(name)) {
      return { ok: false, message: `unknown format prefix "${name}+"; use teams+, slack+ or generic+ before the URL` };
    }
    forced = name;
    rawUrl = prefixed[2] ?? "";
  }

  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, message: "not a valid absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, message: `unsupported scheme "${url.protocol.replace(/:$/, "")}"; only http and https are allowed` };
  }
  if (url.username !== "" || url.password !== "") {
    // fetch refuses such URLs, and the credential would travel in clear text in logs of proxies; the receiver should
    // authenticate with the signature instead.
    return { ok: false, message: "user name or password in the URL is not supported; use ALERTCAP_NOTIFY_SECRET to authenticate" };
  }
  const host = url.hostname.replace(/\.$/, "").toLowerCase();
  if (host === "") return { ok: false, message: "URL has no host" };
  if (isLegacyTeamsConnector(host, url.pathname)) {
    return {
      ok: false,
      message:
        "Office 365 connector (Incoming Webhook) URLs are retired and no longer deliver; create a Teams Workflows webhook " +
        '("When a Teams webhook request is received") and use its URL',
    };
  }

  const detected = formatFromHost(host, url.pathname);
  const format = forced ?? detected;
  // Slack and Teams endpoints are HTTPS only; plain http to them would send the credential in clear text.
  if (url.protocol === "http:" && forced === undefined && format !== "generic") {
    return { ok: false, message: `${format === "slack" ? "Slack" : "Teams"} webhook URLs must use https` };
  }
  url.hash = "";
  const href = url.toString();
  const target: NotificationTarget = {
    url: href,
    redacted: redactUrl(href),
    format,
    formatFrom: forced === undefined ? "host" : "prefix",
    ...(format === "generic" && signingKey !== undefined ? { signingKey } : {}),
  };
  return { ok: true, target };
}

/** Which format a host (and path) implies when no prefix is given. */
export function formatFromHost(host: string, pathname: string): NotificationFormat {
  const h = host.replace(/\.$/, "").toLowerCase();
  if (h === "hooks.slack.com") return "slack";
  if (h.endsWith(".logic.azure.com") && /^\/workflows\//i.test(pathname)) return "teams";
  if (h.endsWith(".api.powerplatform.com") || h.endsWith(".api.powerautomate.com") || h.endsWith(".flow.microsoft.com")) {
    return "teams";
  }
  return "generic";
}

function isLegacyTeamsConnector(host: string, pathname: string): boolean {
  if (host === "webhook.office.com" || host.endsWith(".webhook.office.com")) return true;
  // The older connector URL shape, before tenant subdomains.
  return (host === "outlook.office.com" || host === "outlook.office365.com") && /^\/webhook(b2)?\//i.test(pathname);
}

/**
 * ALERTCAP_NOTIFY_SECRET → HMAC key, read the way Standard Webhooks libraries read it: an optional `whsec_` prefix,
 * then base64. Unset or blank → no key (generic requests go unsigned). Never throws and never echoes the secret.
 */
export function parseSigningSecret(value: string | undefined): SigningSecretResult {
  const secret = (value ?? "").trim();
  if (secret === "") return { ok: true, key: undefined };
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  if (encoded === "" || !BASE64.test(encoded)) {
    return {
      ok: false,
      message:
        "ALERTCAP_NOTIFY_SECRET must be a Standard Webhooks secret: base64 of at least 24 random bytes, optionally prefixed whsec_ (e.g. whsec_ + `openssl rand -base64 32`)",
    };
  }
  const key = new Uint8Array(Buffer.from(encoded, "base64"));
  if (key.length < MIN_SIGNING_KEY_BYTES) {
    return {
      ok: false,
      message: `ALERTCAP_NOTIFY_SECRET decodes to ${key.length} bytes; Standard Webhooks needs at least ${MIN_SIGNING_KEY_BYTES} (e.g. whsec_ + \`openssl rand -base64 32\`)`,
    };
  }
  return { ok: true, key };
}

function isKnownFormat(name: string): name is NotificationFormat {
  return (KNOWN_FORMATS as readonly string[]).includes(name);
}
