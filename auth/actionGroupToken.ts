// Microsoft Entra ID tokens of Azure Monitor's Secure Webhook: an action group with `useAadAuth` calls the webhook
// with `Authorization: Bearer <JWT>`, an app-only access token that Entra ID issues to the action group service for
// our app registration. Off unless ALERTCAP_AAD_TENANT_ID or ALERTCAP_AAD_AUDIENCES is set; the function key stays
// required either way (defence in depth). What is checked and why: shared/docs/alert-webhooks.md §3 and
// infra/README.md ("Secure webhook").
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";

/** The "AzNS AAD Webhook" first-party application: the only caller whose tokens we accept. */
export const ACTION_GROUP_APP_ID = "461e8683-5575-4561-ac7f-899cc907d62a";
/** The app role the setup script assigns to that caller; without it any app in the tenant could get a token for us. */
export const ACTION_GROUP_ROLE = "ActionGroupsSecureWebhook";
/** Clock difference tolerated on nbf/exp: Entra ID and Functions hosts keep NTP time, so a minute is plenty. */
export const CLOCK_SKEW_SECONDS = 60;

export type TokenCheck = { ok: true } | { ok: false; status: 401 | 403 | 503; reason: string };

export interface AadWebhookConfig {
  tenantId: string;
  audiences: string[];
  jwksUrl: URL;
  issuers: string[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

/**
 * The settings, or null when the secure webhook is off. Setting either the tenant or the audiences turns it on, so a
 * half-finished configuration refuses every call (with the reason) instead of quietly accepting unsigned ones.
 */
export function aadWebhookConfig(env: NodeJS.ProcessEnv = process.env): { config: AadWebhookConfig } | { error: string } | null {
  const tenantId = (env.ALERTCAP_AAD_TENANT_ID ?? "").trim();
  const audiences = (env.ALERTCAP_AAD_AUDIENCES ?? "").split(",").map((a) => a.trim()).filter(Boolean);
  if (!tenantId && audiences.length === 0) return null;
  if (!GUID.test(tenantId)) return { error: "ALERTCAP_AAD_TENANT_ID must be the directory (tenant) ID, a GUID." };
  if (audiences.length === 0) return { error: "ALERTCAP_AAD_AUDIENCES must list the app registration's client ID and/or Application ID URI." };
  const override = (env.ALERTCAP_AAD_JWKS_URL ?? "").trim();
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(override || `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`);
  } catch {
    return { error: "ALERTCAP_AAD_JWKS_URL is not a URL." };
  }
  // Signing keys fetched in clear text could be swapped on the way: only tests on this machine may use http.
  if (jwksUrl.protocol !== "https:" && !(jwksUrl.protocol === "http:" && LOOPBACK.test(jwksUrl.hostname))) {
    return { error: "ALERTCAP_AAD_JWKS_URL must be an https URL." };
  }
  // v2 tokens name the login host, v1 tokens sts.windows.net. A sovereign-cloud JWKS override brings its login host.
  const issuers = [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
  if (override && jwksUrl.protocol === "https:") issuers.push(`${jwksUrl.origin}/${tenantId}/v2.0`);
  return { config: { tenantId, audiences, jwksUrl, issuers: [...new Set(issuers)] } };
}

export function aadAuthEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return aadWebhookConfig(env) !== null;
}

// One key set per URL for the worker's lifetime: jose caches the keys (10 minutes) and refetches on an unknown kid.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function keySet(url: URL): ReturnType<typeof createRemoteJWKSet> {
  let keys = keySets.get(url.href);
  if (!keys) {
    keys = createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    keySets.set(url.href, keys);
  }
  return keys;
}

/** A claim value for a reason: they are the caller's words, so short and printable. */
const shown = (value: unknown): string => {
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  const clean = text.replace(/[^\x20-\x7e]/g, "?");
  return JSON.stringify(clean.length > 100 ? `${clean.slice(0, 100)}…` : clean);
};

const reject = (status: 401 | 403 | 503, reason: string): TokenCheck => ({ ok: false, status, reason });

/**
 * Checks the Authorization header of a webhook call. 401: no valid token for this app (missing, malformed,
 * unsigned, bad signature, wrong issuer, tenant or audience, expired). 403: a valid token, but not from the action
 * group service or without its app role. 503: the tenant's signing keys could not be fetched (the action group
 * retries 503s, so a passing outage loses no alert).
 */
export async function checkActionGroupToken(authorizationHeader: string | null | undefined, env: NodeJS.ProcessEnv = process.env): Promise<TokenCheck> {
  const found = aadWebhookConfig(env);
  if (found === null) return { ok: true };
  if ("error" in found) return reject(401, `The secure webhook is misconfigured, so no alert is accepted: ${found.error}`);
  const { config } = found;

  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? "");
  if (!authorizationHeader) return reject(401, "No Authorization header: this webhook requires a Microsoft Entra ID token (action group Secure Webhook with useAadAuth).");
  if (!match) return reject(401, "The Authorization header is not a Bearer token.");
  const token = match[1]!;

  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return reject(401, "The bearer token is not a JSON Web Token.");
  }
  if (!alg || alg.toLowerCase() === "none") return reject(401, 'The token is unsigned (alg "none"); only tokens signed by Microsoft Entra ID are accepted.');

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet(config.jwksUrl), {
      algorithms: ["RS256"],
      issuer: config.issuers,
      audience: config.audiences,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "iss", "aud", "tid"],
    }));
  } catch (error) {
    return verificationFailure(error, token, config);
  }

  if (payload.tid !== config.tenantId) return reject(401, `The token is for tenant ${shown(payload.tid)}, not ${config.tenantId}.`);
  const caller = payload.azp ?? payload.appid;
  if (caller !== ACTION_GROUP_APP_ID) {
    return reject(403, `The token was issued to application ${shown(caller ?? "none")}, not to Azure Monitor's action group service (${ACTION_GROUP_APP_ID}).`);
  }
  if (payload.idtyp !== undefined && payload.idtyp !== "app") return reject(403, `The token is a ${shown(payload.idtyp)} token, not an application token.`);
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  if (!roles.includes(ACTION_GROUP_ROLE)) {
    return reject(403, `The token lacks the app role ${ACTION_GROUP_ROLE}: assign it to the AzNS AAD Webhook service principal (infra/README.md, "Secure webhook").`);
  }
  return { ok: true };
}

function verificationFailure(error: unknown, token: string, config: AadWebhookConfig): TokenCheck {
  if (error instanceof errors.JWTExpired) return reject(401, `The token expired at ${new Date(Number(error.payload.exp) * 1000).toISOString()}.`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    const value = error.payload[error.claim];
    switch (error.claim) {
      case "iss":
        return reject(401, `The token was issued by ${shown(value)}, not by Microsoft Entra ID for tenant ${config.tenantId}.`);
      case "aud":
        return reject(401, `The token is for audience ${shown(value)}, which is not in ALERTCAP_AAD_AUDIENCES.`);
      case "nbf":
        return reject(401, `The token is not valid before ${new Date(Number(value) * 1000).toISOString()}.`);
      default:
        return reject(401, `The token's ${error.claim} claim is ${error.reason === "missing" ? "missing" : "invalid"}.`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return reject(401, `The token is signed with ${shown(safeAlg(token))}; Microsoft Entra ID signs with RS256.`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject(401, "The token's signature does not verify against the tenant's signing keys.");
  if (error instanceof errors.JWKSNoMatchingKey) return reject(401, "The token is signed with a key the tenant does not publish.");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid || error instanceof errors.JWKInvalid) return reject(401, "The bearer token is malformed.");
  // Anything else is the key fetch: a timeout, a network error, a non-200 answer or a broken key set.
  return reject(503, `The tenant's signing keys could not be fetched from ${config.jwksUrl.origin}, so the token cannot be checked; try again.`);
}

function safeAlg(token: string): string {
  try {
    return decodeProtectedHeader(token).alg ?? "nothing";
  } catch {
    return "nothing";
  }
}
