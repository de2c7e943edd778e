// The report leads with the findings and draws a chart per application layer with data; names decoded from packets
// (DNS names, Host headers, SNI) are attacker-chosen and must reach the HTML, text and JSON only as inert text.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { analyzeCapture } from "../domain/pcap/analyzeCapture.js";
import { fileChunks } from "../domain/pcap/fileChunks.js";
import { htmlReport } from "../domain/pcap/htmlReport.js";
import { keyFindings } from "../domain/pcap/keyFindings.js";
import { textReport } from "../domain/pcap/textReport.js";
import { ACK, ETHERTYPE_IPV4, ethernet, ipv4, pcapFile, PSH, tcp, udp, type Packet } from "./pcap.synthetic.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fixtures", "pcaps");
const HOSTILE = `<img src=x onerror=alert(1)>"'&`;

function dnsServfail(id: number, name: string, response: boolean): Buffer {
  const question = Buffer.concat([...name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "latin1")])), Buffer.from([0, 0, 1, 0, 1])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(response ? 0x8182 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, question]);
}

function hostileCapture(): Buffer {
  const packets: Packet[] = [];
  const add = (i: number, source: string, destination: string, protocol: number, payload: Buffer): void =>
    void packets.push({ seconds: 1_700_000_000, fraction: i * 1000, data: ethernet(ETHERTYPE_IPV4, ipv4({ source, destination, protocol, payload })) });
  const name = `${HOSTILE}.\u0007bell.contoso.test`;
  add(0, "10.0.0.4", "10.0.0.53", 17, udp(40000, 53, dnsServfail(7, name, false)));
  add(1, "10.0.0.53", "10.0.0.4", 17, udp(53, 40000, dnsServfail(7, name, true)));
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOSTILE}\r\n\r\n`, "latin1");
  add(2, "10.0.0.4", "10.0.0.80", 6, tcp({ sourcePort: 41000, destinationPort: 80, seq: 1, ack: 1, flags: PSH | ACK, payload: request }));
  add(3, "10.0.0.80", "10.0.0.4", 6, tcp({ sourcePort: 80, destinationPort: 41000, seq: 1, ack: 1 + request.length, flags: PSH | ACK, payload: Buffer.from("HTTP/1.1 503 Busy\r\n\r\n") }));
  return pcapFile(packets);
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe("application layer in the reports", () => {
  it("opens the HTML report with the findings, then a chart per layer with data", async () => {
    for (const [file, chart] of [["app-dns.pcap", "dns-chart"], ["app-http.pcap", "http-chart"], ["app-tls.pcap", "tls-chart"]] as const) {
      const s = await analyzeCapture(fileChunks(join(fixtures, file)));
      const html = htmlReport(s, { title: file, generatedAt: "2026-12-02T00:00:00Z" });
      const findings = html.indexOf('id="findings"');
      expect(findings).toBeGreaterThan(0);
      expect(findings).toBeLessThan(html.indexOf(`id="${chart}"`));
      expect(html.indexOf(`id="${chart}"`)).toBeLessThan(html.indexOf('id="headline"'));
      expect(keyFindings(s)[0]).toBe(s.findings[0]);
    }
  });

  it("keeps hostile names inert in HTML, text and notification lines", async () => {
    const s = await analyzeCapture(once(hostileCapture()));
    expect(s.dns.rcodes).toEqual({ SERVFAIL: 1 });
    expect(s.http.statusCodes).toEqual({ "503": 1 });
    const name = s.dns.servers[0]!.failingNames[0]!.name;
    expect(name).toContain("\\x07bell"); // the control byte is shown, not sent to a terminal
    const html = htmlReport(s, { title: HOSTILE, generatedAt: "2026-12-02T00:00:00Z" });
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#38;");
    const text = textReport(s, "hostile.pcap");
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    for (const line of keyFindings(s)) expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
