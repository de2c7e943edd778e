// Just enough of the DNS wire format (RFC 1035) for the emulated VMs' resolver traffic: a recursive query for one
// A record, its answer (one A record, or none with an error code), and reading a query's ID and name back.

export type DnsResponseCode = "NOERROR" | "SERVFAIL" | "NXDOMAIN" | "REFUSED";

const RCODE_VALUES: Record<DnsResponseCode, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
const TYPE_A = 1;
const CLASS_IN = 1;

export function dnsQuery(id: number, name: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x0100, 2); // standard query, recursion desired
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, question(name)]);
}

/** The answer to `dnsQuery(id, name)`: `address` as the A record when `rcode` is NOERROR, no record otherwise. */
export function dnsResponse(id: number, name: string, rcode: DnsResponseCode, address: string): Buffer {
  const answered = rcode === "NOERROR";
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(0x8180 | RCODE_VALUES[rcode], 2); // response, recursion desired + available
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answered ? 1 : 0, 6);
  if (!answered) return Buffer.concat([header, question(name)]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  Buffer.from(address.split(".").map(Number)).copy(record, 12);
  return Buffer.concat([header, question(name), record]);
}

/** ID and first question name of a query, or `undefined` when `message` is not one this module wrote. */
export function readDnsQuery(message: Buffer): { id: number; name: string } | undefined {
  if (message.length < 17 || message.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset] ?? 0;
    if (length === 0) return { id: message.readUInt16BE(0), name: labels.join(".") };
    if (length > 63 || offset + 1 + length > message.length) return undefined;
    labels.push(message.toString("latin1", offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return undefined;
}

function question(name: string): Buffer {
  const labels = name.split(".").map((label) => {
    const bytes = Buffer.from(label, "latin1");
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(TYPE_A, 1);
  tail.writeUInt16BE(CLASS_IN, 3);
  return Buffer.concat([...labels, tail]);
}
