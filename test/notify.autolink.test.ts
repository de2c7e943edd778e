// A packet sender on the VM must not be able to put a clickable phishing link into a chat notification (found by a
// hostile review; this failed before mrkdwn objects were verbatim and URLs in free text were defanged). The Host header is attacker-chosen; one 503 answer to it makes the finding "HTTP 5xx … from <host>",
// which reaches Slack in `mrkdwn` text objects. alertcap escapes only < > & there, but Slack's mrkdwn text object
// auto-converts bare URLs into links unless `verbatim: true` (Slack reference, MrkdwnElement.verbatim: "When set to
// false (as is default) URLs will be auto-converted into links, conversation names will be link-ified, and certain
// mentions will be automatically parsed"). SECURITY.md promises free text "cannot render as a link or mention".
import { describe, expect, it } from "vitest";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { keyFindings } from "../domain/pcap/keyFindings.js";
import { buildNotificationMessage } from "../domain/notify/message.js";
import { ACK, ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, PSH, tcp, type Packet } from "./pcap.synthetic.js";
import { captureProgress } from "./notify.fixtures.js";

const PHISH = "https://login.microsoftonline.com.evil.example/reauth";

function capture(): Buffer {
  const packets: Packet[] = [];
  const add = (i: number, source: string, destination: string, payload: Buffer): void =>
    void packets.push({ seconds: 1_700_000_000, fraction: i * 1000, data: ethernet(ETHERTYPE_IPV4, ipv4({ source, destination, protocol: 6, payload })) });
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${PHISH}\r\n\r\n`, "latin1");
  add(0, "203.0.113.9", "10.0.0.80", tcp({ sourcePort: 41000, destinationPort: 80, seq: 1, ack: 1, flags: PSH | ACK, payload: request }));
  add(1, "10.0.0.80", "203.0.113.9", tcp({ sourcePort: 80, destinationPort: 41000, seq: 1, ack: 1 + request.length, flags: PSH | ACK, payload: Buffer.from("HTTP/1.1 503 Busy\r\n\r\n") }));
  return pcapFile(packets);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/** Every Block Kit text object in the payload. */
function textObjects(node: unknown, out: Array<{ type: string; text: string; verbatim?: boolean }> = []) {
  if (Array.isArray(node)) for (const n of node) textObjects(n, out);
  else if (node && typeof node === "object") {
    const o = node as Record<string, unknown>;
    if ((o.type === "mrkdwn" || o.type === "plain_text") && typeof o.text === "string") out.push(o as { type: string; text: string; verbatim?: boolean });
    for (const v of Object.values(o)) textObjects(v, out);
  }
  return out;
}

describe("a packet-derived URL in a Slack notification", () => {
  it("is not rendered as a link (mrkdwn text holding it is verbatim, or the URL is broken up)", async () => {
    const findings = keyFindings(await analyzeCapture(once(capture())));
    expect(findings.some((f) => f.includes(PHISH))).toBe(true); // the attacker's URL is a finding, whole
    const { slack, teams, generic } = buildNotificationMessage({
      event: "capture.completed",
      progress: captureProgress(),
      findings,
      idempotencyKey: "alertcap-review2-capture.completed",
      occurredAt: "2025-11-25T10:05:30.000Z",
      stoppedAt: "2025-11-25T10:05:05.000Z",
    });
    const linkable = textObjects(slack).filter((t) => t.type === "mrkdwn" && t.verbatim !== true && t.text.includes(PHISH));
    expect(linkable.map((t) => t.text)).toEqual([]);
    // Nor does the URL survive whole in any chat text (Teams and Slack clients autolink bare URLs); the finding is
    // still there, defanged, for the reader.
    const chat = JSON.stringify({ slack, teams });
    expect(chat).not.toContain(PHISH);
    expect(chat).toContain("https[:]//login.microsoftonline.com.evil.example/reauth");
    // Generic JSON keeps the finding as decoded: it is data for programs, not rendered text.
    expect(JSON.stringify(generic)).toContain(PHISH);
  });
});
