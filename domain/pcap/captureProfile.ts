import { addressText } from "./addressText.js";
import { CaptureAnalyzer, type AnalyzeOptions } from "./captureAnalyzer.js";
import { readCapture } from "./captureReader.js";
import type { CaptureSummary } from "./captureSummary.js";
import type { FlowTable } from "./flowTable.js";
import { IPPROTO_TCP } from "./frameDecoder.js";
import type { HostTable } from "./hostTable.js";
import { ipProtocolName } from "./protocolNames.js";
import type { TcpTracker } from "./tcpTracker.js";

/** One address seen in the capture, with its traffic (sent + received). */
export interface Talker {
  address: string;
  packets: number;
  bytes: number;
}

/**
 * A service as its clients see it: server address, transport protocol and server port (null for protocols without
 * ports), with the traffic of every flow to it and how its TCP handshakes went.
 */
export interface DestinationService {
  address: string;
  protocol: string;
  ipProtocol: number;
  port: number | null;
  flows: number;
  packets: number;
  bytes: number;
  /** TCP flows that opened with a SYN, and of those the ones refused with RST or never answered. */
  tcpAttempts: number;
  tcpRefused: number;
  tcpUnanswered: number;
}

/**
 * A capture's summary plus every talker and destination service (not only the top N): what `alertcap diff` compares.
 * Both lists cover the hosts and flows the analyser's capped tables hold (see `summary.notes` when a cap was hit).
 */
export interface CaptureProfile {
  summary: CaptureSummary;
  talkers: Talker[];
  services: DestinationService[];
}

const PORTED = new Set([6, 17, 132]);

/** Reads a capture once and profiles it. Throws what analyzeCapture throws (CaptureFormatError, read errors). */
export async function profileCapture(source: AsyncIterable<Uint8Array>, options: AnalyzeOptions = {}): Promise<CaptureProfile> {
  const analyzer = new CaptureAnalyzer(options);
  const read = await readCapture(source, analyzer.consume);
  return profileOf(analyzer, analyzer.summarize(read));
}

/** The profile of what an analyser has consumed, with its summary (for callers that feed analysers themselves). */
export function profileOf(analyzer: CaptureAnalyzer, summary: CaptureSummary): CaptureProfile {
  const { hosts, flows, tcp } = analyzer.tables;
  return { summary, talkers: talkersOf(hosts), services: servicesOf(flows, tcp) };
}

function talkersOf(hosts: HostTable): Talker[] {
  const talkers: Talker[] = [];
  for (let h = 0; h < hosts.index.size; h++) {
    talkers.push({
      address: addressText(hosts.version(h), hosts.addressWords(h)),
      packets: hosts.packetsSent[h]! + hosts.packetsReceived[h]!,
      bytes: hosts.bytesSent[h]! + hosts.bytesReceived[h]!,
    });
  }
  return talkers.sort((a, b) => b.bytes - a.bytes);
}

/**
 * Which side of a flow is the server: for TCP the side that did not send the opening SYN; otherwise the side on the
 * lower port (clients use ephemeral ports, services well-known ones); on equal ports the receiver of the first packet.
 */
function serverSide(flows: FlowTable, tcp: TcpTracker, f: number): number {
  if (flows.protocol(f) === IPPROTO_TCP) {
    const client = tcp.clientDirection(f);
    if (client >= 0) return client ^ 1;
  }
  const portA = flows.port(f, 0);
  const portB = flows.port(f, 1);
  if (portA !== portB) return portA < portB ? 0 : 1;
  return flows.firstDirection[f]! ^ 1;
}

function servicesOf(flows: FlowTable, tcp: TcpTracker): DestinationService[] {
  const byKey = new Map<string, DestinationService>();
  for (let f = 0; f < flows.size; f++) {
    const server = serverSide(flows, tcp, f);
    const ipProtocol = flows.protocol(f);
    const address = addressText(flows.version(f), flows.address(f, server));
    const port = PORTED.has(ipProtocol) ? flows.port(f, server) : null;
    const key = `${address} ${ipProtocol} ${port}`;
    let service = byKey.get(key);
    if (!service) {
      service = { address, protocol: ipProtocolName(ipProtocol), ipProtocol, port, flows: 0, packets: 0, bytes: 0, tcpAttempts: 0, tcpRefused: 0, tcpUnanswered: 0 };
      byKey.set(key, service);
    }
    service.flows++;
    service.packets += flows.packets[f * 2]! + flows.packets[f * 2 + 1]!;
    service.bytes += flows.bytes[f * 2]! + flows.bytes[f * 2 + 1]!;
    if (ipProtocol === IPPROTO_TCP) {
      const outcome = tcp.outcome(f);
      if (outcome !== "none") service.tcpAttempts++;
      if (outcome === "refused") service.tcpRefused++;
      else if (outcome === "unanswered") service.tcpUnanswered++;
    }
  }
  return [...byKey.values()].sort((a, b) => b.bytes - a.bytes);
}
