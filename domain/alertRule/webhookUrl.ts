// The alertcap webhook URL an action group calls. It carries the function key in its `code` query parameter (how
// Azure Functions takes a key in a URL), so it is a secret: everything setup-alert prints goes through
// `maskWebhookSecrets` first, which shows the parameter as `code=***`.

// Query parameters whose value is a credential in a webhook URL: Functions keys (`code`), SAS and Logic Apps (`sig`).
const SECRET_PARAMETER = /([?&](?:code|sig)=)[^&\s"'#<>]*/gi;

/** Loopback hosts, where plain http is how the local stack listens and nothing crosses a network. */
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/i;

export type WebhookUrlCheck = { ok: true; url: string } | { ok: false; error: string };

/** An absolute https URL (http only on loopback, since the URL carries the function key). */
export function checkWebhookUrl(value: string): WebhookUrlCheck {
  const text = value.trim();
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return { ok: false, error: "--webhook-url is not an absolute URL" };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return { ok: false, error: "--webhook-url must be an https URL" };
  }
  if (parsed.protocol === "http:" && !LOOPBACK_HOST.test(parsed.hostname)) {
    return { ok: false, error: "--webhook-url must be https: it carries the function key, which plain http would expose" };
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return { ok: false, error: "--webhook-url must not carry a user name or password (action group webhooks do not support basic auth)" };
  }
  return { ok: true, url: text };
}

/**
 * `text` with the webhook's credentials masked: every `code=`/`sig=` value shown as `***`, and the values of the given
 * webhook URL's secret parameters wherever they appear on their own (an error message may quote them).
 */
export function maskWebhookSecrets(text: string, webhookUrl?: string): string {
  let masked = text;
  for (const secret of secretValuesOf(webhookUrl)) masked = masked.split(secret).join("***");
  return masked.replace(SECRET_PARAMETER, "$1***");
}

function secretValuesOf(webhookUrl: string | undefined): string[] {
  if (webhookUrl === undefined) return [];
  let parsed: URL;
  try {
    parsed = new URL(webhookUrl);
  } catch {
    return [];
  }
  const values = new Set<string>();
  for (const [name, value] of parsed.searchParams) {
    // Short values would also mask innocent text; real keys are long.
    if (/^(code|sig)$/i.test(name) && value.length >= 8) {
      values.add(value);
      values.add(encodeURIComponent(value));
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}
