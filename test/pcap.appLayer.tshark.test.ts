// DNS, HTTP and TLS counts against tshark's own fields (dns.flags.rcode, http.response.code,
// tls.handshake.extensions_server_name, tls.alert_message.desc) on every fixture, including the three recorded with
// real clients and servers on loopback (record-app-layer.mjs: c-ares + a DNS responder over UDP and TCP, IPv4 and
// IPv6; curl + node http; openssl s_client/s_server and servers that hang up after the ClientHello). The recorded
// counts are also pinned below, so the fixtures are checked where tshark is missing.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { analyzeCapture, type CaptureSummary } from "../domain/pcap/analyzeCapture.js";
import { rcodeName } from "../domain/pcap/dnsDecoder.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { hasCommand } from "./pcap.oracle.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fixtures", "pcaps");
const fixtureFiles = readdirSync(fixtures).filter((f) => /\.(pcap|pcapng|cap)$/.test(f));
const haveTshark = hasCommand("tshark");

interface AppCounts {
  dnsQueries: number;
  dnsResponses: number;
  rcodes: Record<string, number>;
  httpRequests: number;
  statusCodes: Record<string, number>;
  clientHellos: number;
  serverHellos: number;
  serverNames: Record<string, number>;
  alerts: Record<string, number>;
}

const bump = (record: Record<string, number>, key: string): void => void (record[key] = (record[key] ?? 0) + 1);
const values = (field: string | undefined): string[] => (field ? field.split(",").filter((v) => v !== "") : []);

/**
 * tshark's view, one DNS/HTTP/TLS message per field occurrence. TCP reassembly stays on (tshark's default) and the
 * two ports where record-app-layer.mjs ran servers that only hang up are decoded as TLS, which tshark would not guess.
 */
async function tsharkApp(file: string): Promise<AppCounts> {
  const { stdout } = await promisify(execFile)(
    "tshark",
    ["-r", file, "-n", "-d", "tcp.port==8443,tls", "-d", "tcp.port==9443,tls", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
      "-e", "dns.flags.response", "-e", "dns.flags.rcode", "-e", "http.request.method", "-e", "http.response.code",
      "-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name", "-e", "tls.alert_message.desc"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const c: AppCounts = { dnsQueries: 0, dnsResponses: 0, rcodes: {}, httpRequests: 0, statusCodes: {}, clientHellos: 0, serverHellos: 0, serverNames: {}, alerts: {} };
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const [response, rcode, method, status, handshake, sni, alert] = line.split("\t");
    const flags = values(response);
    const codes = values(rcode);
    flags.forEach((flag, i) => {
      if (flag === "0" || flag === "False") c.dnsQueries++;
      else {
        c.dnsResponses++;
        bump(c.rcodes, rcodeName(Number(codes[i] ?? 0)));
      }
    });
    c.httpRequests += values(method).length;
    for (const code of values(status)) bump(c.statusCodes, code);
    for (const type of values(handshake)) {
      if (type === "1") c.clientHellos++;
      if (type === "2") c.serverHellos++;
    }
    for (const name of values(sni)) bump(c.serverNames, name);
    for (const code of values(alert)) bump(c.alerts, code);
  }
  // A request counts when its request line is seen (the "first request byte"); tshark's http.request counts it once
  // the whole message is reassembled, so a request whose body the capture lacks is missing there. Count request
  // lines with tshark's own payload matcher instead (retransmissions excluded, as in the analyser).
  const lines = await promisify(execFile)(
    "tshark",
    ["-r", file, "-n", "-Y", 'tcp.payload matches "^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE) [^ ]+ HTTP/1[.][01]\\r\\n" && !tcp.analysis.retransmission', "-T", "fields", "-e", "frame.number"],
    { encoding: "utf8", maxBuffer: 64 << 20 },
  );
  c.httpRequests = lines.stdout.split("\n").filter((l) => l !== "").length;
  return c;
}

function ours(s: CaptureSummary): AppCounts {
  const alerts: Record<string, number> = {};
  for (const a of s.tls.alerts) alerts[String(a.code)] = (alerts[String(a.code)] ?? 0) + a.count;
  return {
    dnsQueries: s.dns.queries,
    dnsResponses: s.dns.responses,
    rcodes: s.dns.rcodes,
    httpRequests: s.http.requests,
    statusCodes: s.http.statusCodes,
    clientHellos: s.tls.clientHellos,
    serverHellos: s.tls.serverHellos,
    serverNames: s.tls.serverNames,
    alerts,
  };
}

const sorted = (c: AppCounts): AppCounts => JSON.parse(JSON.stringify(c, (_k, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v))) as AppCounts;

// What tshark 4.0.17 said of the recorded fixtures (checked by the tshark test below whenever tshark is there).
const pinned: Record<string, Partial<AppCounts>> = {
  "app-dns.pcap": { dnsQueries: 60, dnsResponses: 58, rcodes: { NOERROR: 42, SERVFAIL: 9, NXDOMAIN: 5, REFUSED: 2 } },
  "app-http.pcap": { httpRequests: 29, statusCodes: { "200": 19, "404": 4, "503": 6 } },
  "app-tls.pcap": {
    clientHellos: 16,
    serverHellos: 9,
    serverNames: { "api.contoso.test": 7, "legacy.contoso.test": 3, "hung.contoso.test": 2, "reset.contoso.test": 2, "v6.contoso.test": 2 },
    alerts: { "48": 2, "50": 2, "80": 3 },
  },
};

describe.concurrent("application layer against tshark", () => {
  for (const [name, expected] of Object.entries(pinned)) {
    it(`${name}: the counts tshark gave when it was recorded`, async () => {
      const s = await analyzeCapture(fileChunks(join(fixtures, name)));
      expect(sorted(ours(s))).toMatchObject(sorted(expected as AppCounts));
    });
  }

  for (const name of fixtureFiles) {
    it.skipIf(!haveTshark)(`${name}: DNS, HTTP and TLS counts equal tshark's`, async () => {
      const file = join(fixtures, name);
      const [s, reference] = await Promise.all([analyzeCapture(fileChunks(file)), tsharkApp(file)]);
      expect(sorted(ours(s))).toEqual(sorted(reference));
    }, 120_000); // tshark takes seconds per file on a loaded 2-core machine
  }

  it("reads the recorded failures the way a person would say them", async () => {
    const dns = await analyzeCapture(fileChunks(join(fixtures, "app-dns.pcap")));
    expect(dns.findings[0]).toBe("SERVFAIL for 9 of 58 DNS answers (16 %), most from 127.0.0.77 (7) for broken-db.contoso.test.");
    expect(dns.dns.unanswered).toBe(2);
    expect(dns.dns.overTcp).toBe(4); // the two truncated answers, asked again over TCP
    const v6 = dns.dns.servers.find((v) => v.server === "::1");
    expect(v6).toMatchObject({ queries: 7, responses: 7, rcodes: { NOERROR: 5, SERVFAIL: 2 } });

    const http = await analyzeCapture(fileChunks(join(fixtures, "app-http.pcap")));
    expect(http.findings[0]).toBe("HTTP 5xx for 5 of 15 responses (33 %) from api.contoso.test: 503 ×5.");
    expect(http.http.hosts.find((h) => h.host === "slow.contoso.test")!.responseTimeP50Ms).toBeGreaterThanOrEqual(300);

    const tls = await analyzeCapture(fileChunks(join(fixtures, "app-tls.pcap")));
    expect(tls.tls.handshakes).toEqual({ started: 16, answered: 9, endedByAlert: 5, reset: 2, abandoned: 0 });
    expect(tls.findings).toContain("TLS alert unknown_ca (48) 2 times, sent by the client 127.0.0.1.");
    expect(tls.findings).toContain("2 of 16 TLS handshakes (13 %) ended after the ClientHello with no ServerHello (2 reset), all for reset.contoso.test.");
  });
});
