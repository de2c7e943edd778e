// tshark as the test oracle for `alertcap analyze` counts. Counts are of the OUTERMOST IP header (the contract);
// tshark's display filters match a protocol anywhere in a frame (TCP quoted inside an ICMP error, IPv6 inside IPv4),
// so instead of `-z io,stat` filters this reads each frame's protocol stack (`frame.protocols`) and takes the first
// IP layer and the layer right after it, skipping IPv6 extension headers. IP reassembly is off, so a fragmented
// datagram's transport counts in its first fragment, as in the analyser.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";

export interface OracleCounts {
  packets: number;
  bytes: number;
  capturedBytes: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  icmp: number;
  tcpSyn: number;
  tcpSynAck: number;
  tcpRst: number;
  tcpFin: number;
}

export function hasCommand(command: string, args = ["--version"]): boolean {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

const IPV6_EXTENSION_LAYERS = /^(ipv6\.|ah$)/;

/** Async, so tests can run several tshark processes at once (each takes ~0.5 s, mostly start-up). */
export async function tsharkCounts(file: string): Promise<OracleCounts> {
  const { stdout } = await promisify(execFile)(
    "tshark",
    ["-r", file, "-n", "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f",
      "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.encap_type", "-e", "frame.protocols", "-e", "tcp.flags"],
    { encoding: "utf8", maxBuffer: 512 << 20 },
  );
  const c: OracleCounts = { packets: 0, bytes: 0, capturedBytes: 0, ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, tcpSyn: 0, tcpSynAck: 0, tcpRst: 0, tcpFin: 0 };
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const [len = "", capLen = "", encap = "", protocols = "", flagsText = ""] = line.split("\t");
    if (encap === "") continue; // pcapng custom blocks show up as "frames" without an encapsulation; not packets
    c.packets++;
    c.bytes += Number(len);
    c.capturedBytes += Number(capLen);
    const layers = protocols.split(":");
    const ipAt = layers.findIndex((l) => l === "ip" || l === "ipv6");
    if (ipAt < 0) continue;
    if (layers[ipAt] === "ip") c.ipv4++;
    else c.ipv6++;
    let next = ipAt + 1;
    while (next < layers.length && IPV6_EXTENSION_LAYERS.test(layers[next]!)) next++;
    const transport = layers[next];
    if (transport === "tcp") {
      c.tcp++;
      if (flagsText !== "") {
        const flags = parseInt(flagsText, 16);
        if ((flags & 0x12) === 0x02) c.tcpSyn++;
        if ((flags & 0x12) === 0x12) c.tcpSynAck++;
        if (flags & 0x04) c.tcpRst++;
        if (flags & 0x01) c.tcpFin++;
      }
    } else if (transport === "udp") c.udp++;
    else if (transport === "icmp") c.icmp++;
  }
  return c;
}

/** The analyser summary's fields that the oracle also counts. */
export function countsOf(summary: OracleCounts): OracleCounts {
  const { packets, bytes, capturedBytes, ipv4, ipv6, tcp, udp, icmp, tcpSyn, tcpSynAck, tcpRst, tcpFin } = summary;
  return { packets, bytes, capturedBytes, ipv4, ipv6, tcp, udp, icmp, tcpSyn, tcpSynAck, tcpRst, tcpFin };
}
