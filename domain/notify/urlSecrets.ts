// Webhook URLs carry their credential in the URL itself: the `sig=` query of a Teams Workflows URL, the path of a
// Slack hook (`/services/T…/B…/<secret>`), often a token in a generic receiver's path or query. Storage URLs may carry
// a SAS (`sig=`), Function URLs a key (`code=`). Everything that leaves alertcap in a log, a result or a message goes
// through one of these helpers first.

// Query parameters whose value is a credential wherever they appear: Azure SAS and Logic Apps (`sig`), Azure
// Functions keys (`code`), and the usual token/key names.
const SECRET_QUERY_PARAMS = new Set([
  "sig",
  "code",
  "signature",
  "token",
  "access_token",
  "api-key",
  "apikey",
  "api_key",
  "key",
  "secret",
  "password",
  "x-functions-key",
]);

const isSecretParam = (name: string): boolean => SECRET_QUERY_PARAMS.has(name.toLowerCase());

/**
 * Scheme and host (with a non-default port) of a URL, nothing else: the form in which a notification target may be
 * logged or reported. Accepts the `teams+`/`slack+`/`generic+` override prefix. Never echoes unparseable input.
 */
export function redactUrl(url: string): string {
  const withoutPrefix = url.trim().replace(/^[a-z][a-z0-9.-]*\+(?=https?:)/i, "");
  let parsed: URL;
  try {
    parsed = new URL(withoutPrefix);
  } catch {
    return "(invalid URL)";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return `${parsed.protocol}(redacted)`;
  return `${parsed.protocol}//${parsed.host}`;
}

/**
 * A URL fit to show people (in a card, a chat message, a JSON body): without user info, fragment, or any query
 * parameter that carries a credential (`sig`, `code`, token names). Harmless parameters stay. A value that is not an
 * absolute http(s) URL (a blob path, say) only has secret-looking `name=value` pairs masked.
 */
export function stripUrlSecrets(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return scrubSecrets(value);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return scrubSecrets(value);
  parsed.username = "";
  parsed.password = "";
  parsed.hash = "";
  for (const name of [...parsed.searchParams.keys()]) {
    if (isSecretParam(name)) parsed.searchParams.delete(name);
  }
  return parsed.toString();
}

// Paths of the Functions host's management APIs: durable instance management (start, terminate, purge, raise events
// with the system key) and the host admin API (master key). A link to one is never shown, with or without a key.
const MANAGEMENT_PATH = /\/(runtime\/webhooks|admin)\//i;
// Such a URL inside free text (an error message quoting a status-query URL, say), up to where a URL would end.
const MANAGEMENT_URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>]*\/(?:runtime\/webhooks|admin)\/[^\s"'<>]*/gi;

/** Whether `url` points at a Functions management API (durable instance management or host admin). */
export function isManagementUrl(url: string): boolean {
  try {
    return MANAGEMENT_PATH.test(decodeURIComponent(new URL(url).pathname));
  } catch {
    return MANAGEMENT_PATH.test(url);
  }
}

// `name=value` where name is a credential parameter, in a query string or in free text (an SDK error message quoting a
// SAS URL, say). The value runs to the next separator a URL or a sentence would use.
const SECRET_PAIR = /(^|[?&;\s"'(,])(sig|code|signature|token|access_token|api-key|apikey|api_key|key|secret|password|x-functions-key)=([^&\s"'<>;,)]*)/gi;

/**
 * Free text (an error message, a finding) with credential values masked as `name=(redacted)` and Functions management
 * URLs removed. When the text may
 * quote a particular webhook URL, pass it as `knownSecretUrl`: its path and query, which are the credential, are
 * masked too.
 */
export function scrubSecrets(text: string, knownSecretUrl?: string): string {
  let scrubbed = text;
  if (knownSecretUrl !== undefined) {
    // The whole URL becomes its scheme and host (still useful to read), then any loose piece of it is masked.
    const { whole, pieces } = secretFragmentsOf(knownSecretUrl);
    const shown = `${redactUrl(knownSecretUrl)}/(redacted)`;
    for (const fragment of whole) scrubbed = scrubbed.split(fragment).join(shown);
    for (const fragment of pieces) scrubbed = scrubbed.split(fragment).join("(redacted)");
  }
  return scrubbed
    .replace(MANAGEMENT_URL_IN_TEXT, "(management URL removed)")
    .replace(SECRET_PAIR, (_match, before: string, name: string) => `${before}${name}=(redacted)`);
}

// The parts of a webhook URL that could appear in an echo: the whole URL (as given and as normalised), and the pieces
// that are credentials on their own: its path, its query, each long path segment and each long query value, plain
// and percent-encoded. Longest first, so a piece is never half-replaced by a shorter one.
function secretFragmentsOf(url: string): { whole: string[]; pieces: string[] } {
  const whole = new Set<string>([url]);
  const pieces = new Set<string>();
  try {
    const parsed = new URL(url.replace(/^[a-z][a-z0-9.-]*\+(?=https?:)/i, ""));
    whole.add(parsed.href);
    if (parsed.pathname.length > 1) pieces.add(parsed.pathname);
    if (parsed.search.length > 1) pieces.add(parsed.search.slice(1));
    for (const segment of parsed.pathname.split("/")) if (segment.length >= 8) pieces.add(segment);
    for (const value of parsed.searchParams.values()) if (value.length >= 8) pieces.add(value);
    for (const value of [...pieces]) {
      pieces.add(encodeURIComponent(value));
      try {
        pieces.add(decodeURIComponent(value));
      } catch {
        // not percent-encoded text: nothing more to add
      }
    }
  } catch {
    // Not parseable: only the literal string can be masked.
  }
  const longestFirst = (set: Set<string>) => [...set].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
  return { whole: longestFirst(whole), pieces: longestFirst(pieces) };
}
