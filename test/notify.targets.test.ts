// ALERTCAP_NOTIFY_URLS / ALERTCAP_NOTIFY_SECRET parsing, and the redaction every log and result relies on.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  formatFromHost,
  parseNotifyTargets,
  parseSigningSecret,
  readNotifySettings,
  redactUrl,
} from "../domain/notify/targets.js";
import { scrubSecrets, stripUrlSecrets } from "../domain/notify/urlSecrets.js";
import { signStandardWebhook } from "../notify/sendNotifications.js";

const TEAMS_LOGIC = "https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b2c3d/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TEAMS-SIG-SECRET";
const TEAMS_PP = "https://default0a1b.2c.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=PP-SIG-SECRET";
const SLACK = "https://hooks.slack.com/services/T00000000/B00000000/SLACKPATHSECRETXXXXXXXX";

describe("parseNotifyTargets: format per URL", () => {
  it("chooses Slack, Teams and generic from the host", () => {
    const { targets, problems } = parseNotifyTargets(
      [
        SLACK,
        TEAMS_LOGIC,
        TEAMS_PP,
        "https://x.api.powerautomate.com/hook?sig=a",
        "https://emea.flow.microsoft.com/x?sig=b",
        "https://receiver.example.net/hooks/alertcap?token=abc",
      ].join(","),
    );
    expect(problems).toEqual([]);
    expect(targets.map((t) => t.format)).toEqual(["slack", "teams", "teams", "teams", "teams", "generic"]);
    expect(targets.every((t) => t.formatFrom === "host")).toBe(true);
  });

  it("treats a logic.azure.com URL that is not a workflow trigger, and look-alike hosts, as generic", () => {
    expect(formatFromHost("prod-1.westus.logic.azure.com", "/other/path")).toBe("generic");
    expect(formatFromHost("hooks.slack.com.evil.example", "/services/x")).toBe("generic");
    expect(formatFromHost("notlogic.azure.com", "/workflows/x")).toBe("generic");
    expect(formatFromHost("HOOKS.SLACK.COM.", "/services/x")).toBe("slack");
  });

  it("honours teams+, slack+ and generic+ prefixes (any case), also over http for local receivers", () => {
    const { targets, problems } = parseNotifyTargets(
      "teams+http://127.0.0.1:8080/t, SLACK+https://chat.internal/s, generic+" + TEAMS_LOGIC,
    );
    expect(problems).toEqual([]);
    expect(targets.map((t) => [t.format, t.formatFrom])).toEqual([
      ["teams", "prefix"],
      ["slack", "prefix"],
      ["generic", "prefix"],
    ]);
    expect(targets[0]?.url).toBe("http://127.0.0.1:8080/t");
    expect(targets[2]?.url.startsWith("https://prod-12.westeurope.logic.azure.com/workflows/")).toBe(true);
  });

  it("treats whitespace as a separator, so a URL broken by a space becomes separate (rejected) entries", () => {
    const { targets, problems } = parseNotifyTargets("https://ok.example/a not a-url");
    expect(targets).toHaveLength(1);
    expect(problems.map((p) => [p.entry, p.message])).toEqual([
      [2, "not a valid absolute URL"],
      [3, "not a valid absolute URL"],
    ]);
  });

  it("splits on commas and whitespace, skips empty entries and drops exact duplicates with a note", () => {
    const { targets, problems } = parseNotifyTargets(`  ,${SLACK},,\n ${SLACK}\thttps://a.example/x ,`);
    expect(targets.map((t) => t.redacted)).toEqual(["https://hooks.slack.com", "https://a.example"]);
    expect(problems).toEqual([{ entry: 2, target: "https://hooks.slack.com", message: "duplicate of entry 1; sent once" }]);
  });

  it("returns nothing for an unset or blank setting", () => {
    expect(parseNotifyTargets(undefined)).toEqual({ targets: [], problems: [] });
    expect(parseNotifyTargets(" , ,\n")).toEqual({ targets: [], problems: [] });
  });

  it("removes a fragment, keeps the query (it is the credential) and normalises the URL", () => {
    const { targets } = parseNotifyTargets("https://Receiver.Example.net:443/hook?sig=s3cr3t#frag");
    expect(targets[0]?.url).toBe("https://receiver.example.net/hook?sig=s3cr3t");
    expect(targets[0]?.redacted).toBe("https://receiver.example.net");
  });
});

describe("parseNotifyTargets: rejected entries", () => {
  const problemFor = (entry: string) => {
    const { targets, problems } = parseNotifyTargets(entry);
    expect(targets).toEqual([]);
    expect(problems).toHaveLength(1);
    return problems[0]!;
  };

  it("rejects non-http schemes", () => {
    expect(problemFor("ftp://files.example/x").message).toMatch(/unsupported scheme "ftp"; only http and https/);
    expect(problemFor("javascript:alert(1)").message).toMatch(/unsupported scheme "javascript"/);
    expect(problemFor("file:///etc/passwd").message).toMatch(/unsupported scheme "file"/);
  });

  it("rejects malformed URLs and unknown prefixes with a sentence each", () => {
    expect(problemFor("not-a-url").message).toBe("not a valid absolute URL");
    expect(problemFor("https://exa%mple.com/x").message).toBe("not a valid absolute URL");
    expect(problemFor("hooks.slack.com/services/x").message).toBe("not a valid absolute URL");
    expect(problemFor("https://").message).toBe("not a valid absolute URL");
    expect(problemFor("discord+https://discord.example/api/webhooks/1/abc").message).toMatch(
      /unknown format prefix "discord\+"; use teams\+, slack\+ or generic\+/,
    );
  });

  it("rejects retired Office 365 connector URLs, even with a teams+ prefix, and points to Workflows", () => {
    for (const legacy of [
      "https://contoso.webhook.office.com/webhookb2/aaa@bbb/IncomingWebhook/ccc/ddd",
      "teams+https://contoso.webhook.office.com/webhookb2/aaa/IncomingWebhook/ccc/ddd",
      "https://outlook.office.com/webhook/aaa@bbb/IncomingWebhook/ccc/ddd",
    ]) {
      const problem = problemFor(legacy);
      expect(problem.message).toMatch(/retired/);
      expect(problem.message).toMatch(/Workflows/);
      expect(problem.message).not.toMatch(/IncomingWebhook|ccc|ddd/);
    }
  });

  it("rejects plain http to Slack or Teams hosts (the URL is the credential) and user info in URLs", () => {
    expect(problemFor("http://hooks.slack.com/services/T/B/X").message).toBe("Slack webhook URLs must use https");
    expect(problemFor("http://prod-1.westus.logic.azure.com/workflows/x/triggers?sig=a").message).toBe(
      "Teams webhook URLs must use https",
    );
    expect(problemFor("https://user:pass@receiver.example/x").message).toMatch(/user name or password .* ALERTCAP_NOTIFY_SECRET/);
  });

  it("numbers problems by entry and never quotes a path or query", () => {
    const { targets, problems } = parseNotifyTargets(`${SLACK},ftp://h.example/PATHSECRET?sig=QSECRET,https://ok.example/x`);
    expect(targets).toHaveLength(2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ entry: 2, target: "ftp:(redacted)" });
    expect(JSON.stringify(problems)).not.toMatch(/PATHSECRET|QSECRET/);
  });
});

describe("signing secret", () => {
  const key32 = Buffer.alloc(32, 7);

  // Each accepted secret must give the key the official Standard Webhooks library derives from the same string,
  // or a receiver configured with it could not verify alertcap's signatures.
  const libraryKey = (secret: string): Buffer => {
    const id = "evt_x";
    const at = new Date(1_700_000_000_000);
    const signature = new Webhook(secret).sign(id, at, "{}");
    return Buffer.from(signature.split(",")[1]!, "base64");
  };
  const ourKey = (secret: string): Buffer => {
    const parsed = parseSigningSecret(secret);
    if (!parsed.ok || parsed.key === undefined) throw new Error(`refused: ${parsed.ok ? "no key" : parsed.message}`);
    return Buffer.from(signStandardWebhook(parsed.key, "evt_x", "1700000000", "{}").split(",")[1]!, "base64");
  };

  it("reads secrets as Standard Webhooks libraries do: base64, optionally whsec_-prefixed, padded or not", () => {
    const key25 = Buffer.alloc(25, 9); // base64 length 36 with "==": exercises padding
    for (const secret of [
      `whsec_${key32.toString("base64")}`,
      key32.toString("base64"),
      `whsec_${key25.toString("base64")}`,
      `whsec_${key25.toString("base64").replace(/=+$/, "")}`,
      key25.toString("base64").replace(/=+$/, ""),
    ]) {
      expect(ourKey(secret).equals(libraryKey(secret)), secret).toBe(true);
    }
    const whsec = parseSigningSecret(`whsec_${key32.toString("base64")}`);
    expect(whsec.ok && Buffer.from(whsec.key!).equals(key32)).toBe(true);
    expect(parseSigningSecret(undefined)).toEqual({ ok: true, key: undefined });
    expect(parseSigningSecret("   ")).toEqual({ ok: true, key: undefined });
  });

  it("refuses what the spec does not allow, with one line that does not echo the secret", () => {
    for (const secret of [
      "a-long-raw-shared-secret-value", // a passphrase: the library cannot decode it
      "whsec_not*base64!",
      "whsec_",
      `whsec_${Buffer.alloc(32, 1).toString("base64url")}_-`, // URL-safe alphabet
      `whsec_${Buffer.alloc(23, 1).toString("base64")}`, // 23 bytes: under the spec's 24
      Buffer.alloc(16, 1).toString("base64"),
      "abcde", // 1 mod 4: not base64 at all
    ]) {
      const parsed = parseSigningSecret(secret);
      expect(parsed.ok, secret).toBe(false);
      const message = parsed.ok ? "" : parsed.message;
      expect(message).toMatch(/^ALERTCAP_NOTIFY_SECRET /);
      expect(message).not.toContain("\n");
      expect(message).not.toContain(secret.replace(/^whsec_/, "") || "(empty)");
    }
    const short = parseSigningSecret(`whsec_${Buffer.alloc(23, 1).toString("base64")}`);
    expect(short.ok ? "" : short.message).toMatch(/23 bytes; Standard Webhooks needs at least 24/);
  });

  it("attaches the key to generic targets only", () => {
    const settings = readNotifySettings({
      ALERTCAP_NOTIFY_URLS: `${SLACK},${TEAMS_LOGIC},https://receiver.example/hook`,
      ALERTCAP_NOTIFY_SECRET: `whsec_${key32.toString("base64")}`,
    });
    expect(settings.problems).toEqual([]);
    expect(settings.targets.map((t) => [t.format, t.signingKey !== undefined])).toEqual([
      ["slack", false],
      ["teams", false],
      ["generic", true],
    ]);
  });

  it("refuses generic targets (rather than sending them unsigned) when the secret is invalid", () => {
    const settings = readNotifySettings({
      ALERTCAP_NOTIFY_URLS: `${SLACK},https://receiver.example/hook`,
      ALERTCAP_NOTIFY_SECRET: "whsec_***",
    });
    expect(settings.targets.map((t) => t.format)).toEqual(["slack"]);
    expect(settings.problems).toEqual([
      {
        entry: 2,
        target: "https://receiver.example",
        message: expect.stringMatching(/^not used: ALERTCAP_NOTIFY_SECRET must be a Standard Webhooks secret: base64 of at least 24 random bytes/),
      },
    ]);
  });
});

describe("redaction helpers", () => {
  it("redactUrl keeps scheme and host (and a non-default port) only", () => {
    expect(redactUrl(TEAMS_LOGIC)).toBe("https://prod-12.westeurope.logic.azure.com");
    expect(redactUrl(SLACK)).toBe("https://hooks.slack.com");
    expect(redactUrl("teams+http://127.0.0.1:7071/api/x?code=abc")).toBe("http://127.0.0.1:7071");
    expect(redactUrl("https://user:pw@h.example/x")).toBe("https://h.example");
    expect(redactUrl("garbage SECRET")).toBe("(invalid URL)");
  });

  it("stripUrlSecrets drops sig/code/token parameters and user info but keeps harmless parameters", () => {
    expect(stripUrlSecrets("https://acct.blob.core.windows.net/c/f.cap?sv=2022-11-02&se=2030-01-01&sr=b&sp=r&sig=AbC%2Bd%3D")).toBe(
      "https://acct.blob.core.windows.net/c/f.cap?sv=2022-11-02&se=2030-01-01&sr=b&sp=r",
    );
    expect(stripUrlSecrets("https://app.azurewebsites.net/api/captures/1?code=KEY&x=1")).toBe(
      "https://app.azurewebsites.net/api/captures/1?x=1",
    );
    expect(stripUrlSecrets("https://u:p@h.example/p?Token=t#frag")).toBe("https://h.example/p");
    expect(stripUrlSecrets("container/dir/file.cap")).toBe("container/dir/file.cap");
  });

  it("scrubSecrets masks credential values in free text and any fragment of a known webhook URL", () => {
    const text = "PUT https://a.blob.core.windows.net/c/x?sv=1&sig=SASSIG&se=2 failed; code=FUNCKEY (token=T1)";
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).not.toMatch(/SASSIG|FUNCKEY|T1\)/);
    expect(scrubbed).toContain("sig=(redacted)");
    const echo = `unknown webhook /services/T00000000/B00000000/SLACKPATHSECRETXXXXXXXX`;
    expect(scrubSecrets(echo, SLACK)).not.toContain("SLACKPATHSECRET");
    expect(scrubSecrets(`bad sig ${encodeURIComponent("TEAMS-SIG-SECRET")}`, TEAMS_LOGIC)).not.toContain("TEAMS-SIG-SECRET");
  });
});
