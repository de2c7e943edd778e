import { NON_IP_LLC, NON_IP_OTHER, NON_IP_UNKNOWN_LINK } from "./frameDecoder.js";

const ipProtocols: Record<number, string> = {
  0: "IPv6 hop-by-hop",
  1: "ICMP",
  2: "IGMP",
  4: "IPv4-in-IP",
  6: "TCP",
  17: "UDP",
  41: "IPv6-in-IP",
  43: "IPv6 routing",
  44: "IPv6 fragment",
  47: "GRE",
  50: "ESP",
  51: "AH",
  58: "ICMPv6",
  59: "IPv6 no next header",
  89: "OSPF",
  103: "PIM",
  112: "VRRP",
  132: "SCTP",
  255: "unknown",
};

export function ipProtocolName(protocol: number): string {
  return ipProtocols[protocol] ?? `IP protocol ${protocol}`;
}

const etherTypes: Record<number, string> = {
  [NON_IP_UNKNOWN_LINK]: "undecoded link type",
  [NON_IP_LLC]: "802.3/LLC",
  [NON_IP_OTHER]: "other non-IP",
  0x0806: "ARP",
  0x8035: "RARP",
  0x8100: "802.1Q (cut)",
  0x88a8: "802.1ad (cut)",
  0x8847: "MPLS",
  0x8848: "MPLS multicast",
  0x8863: "PPPoE discovery",
  0x8864: "PPPoE session",
  0x888e: "802.1X (EAPOL)",
  0x88cc: "LLDP",
  0x8809: "slow protocols (LACP)",
  0x88f7: "PTP",
  0x8906: "FCoE",
  0x0842: "Wake-on-LAN",
};

export function etherTypeName(etherType: number): string {
  return etherTypes[etherType] ?? `ethertype 0x${etherType.toString(16).padStart(4, "0")}`;
}
