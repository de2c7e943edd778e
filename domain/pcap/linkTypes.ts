// LINKTYPE_* values (tcpdump.org/linktypes.html) the frame decoder understands, plus names for the report.
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_DLT12 = 12; // DLT_RAW on most BSDs and Linux; old files carry it instead of 101
export const LINKTYPE_RAW_DLT14 = 14; // DLT_RAW on OpenBSD
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108; // OpenBSD loopback: like NULL, but the family is always big-endian
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const names: Record<number, string> = {
  [LINKTYPE_NULL]: "NULL/loopback",
  [LINKTYPE_ETHERNET]: "Ethernet",
  [LINKTYPE_RAW_DLT12]: "Raw IP (DLT 12)",
  [LINKTYPE_RAW_DLT14]: "Raw IP (DLT 14)",
  [LINKTYPE_RAW]: "Raw IP",
  [LINKTYPE_LOOP]: "OpenBSD loopback",
  [LINKTYPE_LINUX_SLL]: "Linux cooked (SLL)",
  [LINKTYPE_IPV4]: "Raw IPv4",
  [LINKTYPE_IPV6]: "Raw IPv6",
  [LINKTYPE_LINUX_SLL2]: "Linux cooked v2 (SLL2)",
  105: "IEEE 802.11",
  127: "802.11 radiotap",
  147: "user 0",
};

export function linkTypeName(linkType: number): string {
  return names[linkType] ?? `link type ${linkType} (not decoded)`;
}
