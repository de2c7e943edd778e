// The Secure Webhook check against tokens signed by a key pair made here and published by a JWKS server on
// loopback, the way Entra ID publishes its keys: what passes, what is refused and with which status and reason; then
// once through the local stack's webhook.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTION_GROUP_APP_ID, ACTION_GROUP_ROLE, aadAuthEnabled, aadWebhookConfig, checkActionGroupToken } from "../auth/actionGroupToken.js";
import { metricAlert, vmId } from "./support/alerts.js";
import { startTestStack, type TestStack } from "./support/testStack.js";

const TENANT = "8f2f9a1c-3c4d-4e5f-9a0b-1c2d3e4f5a6b";
const OTHER_TENANT = "0d0e0f10-1112-4314-9516-171819202122";
const CLIENT_ID = "5b6c7d8e-9f00-4112-8334-455667788990";
const APP_ID_URI = "api://alertcap-test";
const KID = "test-signing-key";

let server: Server;
let jwksUrl: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  server = createServer((req, res) => {
    jwksRequests++;
    if (req.url === `/${TENANT}/discovery/v2.0/keys`) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${TENANT}/discovery/v2.0/keys`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const env = (): NodeJS.ProcessEnv => ({ ALERTCAP_AAD_TENANT_ID: TENANT, ALERTCAP_AAD_AUDIENCES: `${CLIENT_ID}, ${APP_ID_URI}`, ALERTCAP_AAD_JWKS_URL: jwksUrl });

/** What Entra ID issues to the action group service for our API (v2 shape unless told otherwise). */
function claims(overrides: Partial<JWTPayload> = {}, version: 1 | 2 = 2): JWTPayload {
  const base: JWTPayload =
    version === 2
      ? { iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, aud: CLIENT_ID, azp: ACTION_GROUP_APP_ID, azpacr: "2", idtyp: "app", ver: "2.0" }
      : { iss: `https://sts.windows.net/${TENANT}/`, aud: APP_ID_URI, appid: ACTION_GROUP_APP_ID, appidacr: "2", ver: "1.0" };
  return { ...base, tid: TENANT, oid: "d9c1a2b3-0000-4000-8000-000000000001", sub: "d9c1a2b3-0000-4000-8000-000000000001", roles: [ACTION_GROUP_ROLE], ...overrides };
}

async function token(payload: JWTPayload, options: { key?: CryptoKey; expiresIn?: number; notBefore?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT" })
    .setIssuedAt(now - 60)
    .setNotBefore(now + (options.notBefore ?? -60))
    .setExpirationTime(now + (options.expiresIn ?? 3600))
    .sign(options.key ?? signingKey);
}

const check = (header: string | undefined, e: NodeJS.ProcessEnv = env()) => checkActionGroupToken(header, e);
const bearer = (t: string) => `Bearer ${t}`;
const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("action group tokens", () => {
  it("accept a v2 token and a v1 token from the action group service with its role", async () => {
    expect(await check(bearer(await token(claims())))).toEqual({ ok: true });
    expect(await check(bearer(await token(claims({}, 1))))).toEqual({ ok: true });
  });

  it("accept a token a few seconds past its expiry (clock skew), refuse an expired one", async () => {
    expect(await check(bearer(await token(claims(), { expiresIn: -20 })))).toEqual({ ok: true });
    const expired = await check(bearer(await token(claims(), { expiresIn: -600 })));
    expect(expired).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/expired at/) });
  });

  it("refuse a token not valid yet", async () => {
    expect(await check(bearer(await token(claims(), { notBefore: 600 })))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not valid before/) });
  });

  it("refuse another tenant's token (its issuer), and a tid that contradicts the issuer", async () => {
    const foreign = await check(bearer(await token(claims({ iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`, tid: OTHER_TENANT }))));
    expect(foreign).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(new RegExp(`issued by .*${OTHER_TENANT}.*not by Microsoft Entra ID for tenant ${TENANT}`)) });
    const mixed = await check(bearer(await token(claims({ tid: OTHER_TENANT }))));
    expect(mixed).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/is for tenant/) });
  });

  it("refuse a token for another audience", async () => {
    const result = await check(bearer(await token(claims({ aud: "api://someone-else" }))));
    expect(result).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/audience "api:\/\/someone-else".*ALERTCAP_AAD_AUDIENCES/) });
  });

  it("refuse a valid token issued to another application (403)", async () => {
    const v2 = await check(bearer(await token(claims({ azp: "a0a0a0a0-0000-4000-8000-000000000000" }))));
    expect(v2).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(new RegExp(`application "a0a0a0a0-.*not to Azure Monitor's action group service \\(${ACTION_GROUP_APP_ID}\\)`)) });
    const v1 = await check(bearer(await token(claims({ appid: "a0a0a0a0-0000-4000-8000-000000000000" }, 1))));
    expect(v1).toMatchObject({ ok: false, status: 403 });
  });

  it("refuse the action group's token without the ActionGroupsSecureWebhook role (403), and a user token", async () => {
    const noRole = await check(bearer(await token(claims({ roles: ["Something.Else"] }))));
    expect(noRole).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(/lacks the app role ActionGroupsSecureWebhook/) });
    const noRoles = await check(bearer(await token(claims({ roles: undefined }))));
    expect(noRoles).toMatchObject({ ok: false, status: 403 });
    const user = await check(bearer(await token(claims({ idtyp: "user" }))));
    expect(user).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(/not an application token/) });
  });

  it('refuse an unsigned token (alg "none") and an HMAC token keyed with something public', async () => {
    const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...claims(), exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    expect(await check(bearer(unsigned))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/unsigned \(alg "none"\)/) });
    const hmac = await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: KID }).setExpirationTime("10m").sign(new TextEncoder().encode(KID));
    expect(await check(bearer(hmac))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/signed with "HS256".*RS256/) });
  });

  it("refuse a bad signature: signed by another key under the tenant's key ID, or altered after signing", async () => {
    expect(await check(bearer(await token(claims(), { key: otherKey })))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/signature does not verify/) });
    const [header, , signature] = (await token(claims())).split(".");
    const altered = `${header}.${b64url({ ...claims({ roles: [ACTION_GROUP_ROLE, "Admin"] }), exp: Math.floor(Date.now() / 1000) + 600 })}.${signature}`;
    expect(await check(bearer(altered))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/signature does not verify/) });
  });

  it("refuse a missing header, another scheme, and a bearer value that is not a JWT", async () => {
    expect(await check(undefined)).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/No Authorization header/) });
    expect(await check("Basic dXNlcjpwYXNz")).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not a Bearer token/) });
    expect(await check("Bearer not-a-jwt")).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/not a JSON Web Token/) });
  });

  it("answer 503 when the signing keys cannot be fetched, so the action group retries", async () => {
    const unreachable = { ...env(), ALERTCAP_AAD_JWKS_URL: "http://127.0.0.1:9/keys" };
    const result = await check(bearer(await token(claims())), unreachable);
    expect(result).toMatchObject({ ok: false, status: 503, reason: expect.stringMatching(/signing keys could not be fetched/) });
  });

  it("fetch the key set once and reuse it", async () => {
    const before = jwksRequests;
    for (let i = 0; i < 5; i++) expect(await check(bearer(await token(claims())))).toEqual({ ok: true });
    expect(jwksRequests - before).toBe(0);
  });

  it("never put the token itself in a reason", async () => {
    const t = await token(claims({ aud: "api://elsewhere" }));
    const result = await check(bearer(t));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain(t.split(".")[2]!);
  });
});

describe("secure webhook settings", () => {
  it("are off by default, on when either setting is present", () => {
    expect(aadAuthEnabled({})).toBe(false);
    expect(aadAuthEnabled({ ALERTCAP_AAD_JWKS_URL: "https://login.microsoftonline.us/x/discovery/v2.0/keys" })).toBe(false);
    expect(aadAuthEnabled({ ALERTCAP_AAD_TENANT_ID: TENANT })).toBe(true);
    expect(aadAuthEnabled({ ALERTCAP_AAD_AUDIENCES: CLIENT_ID })).toBe(true);
  });

  it("refuse every call, saying which setting is wrong, when half configured", async () => {
    const t = bearer(await token(claims()));
    expect(await checkActionGroupToken(t, { ALERTCAP_AAD_TENANT_ID: TENANT })).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/misconfigured.*ALERTCAP_AAD_AUDIENCES/) });
    expect(await checkActionGroupToken(t, { ALERTCAP_AAD_TENANT_ID: "contoso.onmicrosoft.com", ALERTCAP_AAD_AUDIENCES: CLIENT_ID })).toMatchObject({
      ok: false,
      status: 401,
      reason: expect.stringMatching(/ALERTCAP_AAD_TENANT_ID must be the directory \(tenant\) ID/),
    });
    expect(await checkActionGroupToken(t, { ...env(), ALERTCAP_AAD_JWKS_URL: "http://keys.example.com/keys" })).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/must be an https URL/) });
  });

  it("use the tenant's public keys and issuers by default, and a sovereign cloud's login host when its JWKS URL is given", () => {
    const base = aadWebhookConfig({ ALERTCAP_AAD_TENANT_ID: TENANT, ALERTCAP_AAD_AUDIENCES: CLIENT_ID });
    expect(base).toMatchObject({ config: { jwksUrl: new URL(`https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`) } });
    const gov = aadWebhookConfig({ ALERTCAP_AAD_TENANT_ID: TENANT, ALERTCAP_AAD_AUDIENCES: CLIENT_ID, ALERTCAP_AAD_JWKS_URL: `https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys` });
    expect(gov && "config" in gov ? gov.config.issuers : []).toContain(`https://login.microsoftonline.us/${TENANT}/v2.0`);
  });
});

describe("the webhook on the local stack with the secure webhook on", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ appSettings: env() });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const post = (authorization?: string) =>
    fetch(`${stack.url}/api/alerts?code=${stack.functionKey}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: metricAlert(vmId("vm-web-1")),
    });

  it("refuses an alert without a token (401, with the reason) and one from another app (403), then accepts the action group's", async () => {
    const none = await post();
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ decision: "reject", reason: expect.stringMatching(/No Authorization header/) });

    const otherApp = await post(bearer(await token(claims({ azp: "a0a0a0a0-0000-4000-8000-000000000000" }))));
    expect(otherApp.status).toBe(403);
    expect(await otherApp.json()).toMatchObject({ decision: "reject" });

    const good = await post(bearer(await token(claims())));
    expect(good.status).toBe(202);
    expect(await good.json()).toMatchObject({ decision: "capture" });
  });

  it("still requires the function key", async () => {
    const res = await fetch(`${stack.url}/api/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: bearer(await token(claims())) },
      body: metricAlert(vmId("vm-web-1")),
    });
    expect(res.status).toBe(401);
  });
});
