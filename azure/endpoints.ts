// Where Azure is. In Azure nothing is set and the public cloud's endpoints apply; the local stack points ARM at its
// emulator (ALERTCAP_ARM_ENDPOINT, whose self-signed certificate ALERTCAP_ARM_CA_CERT names) and capture blobs at
// Azurite (ALERTCAP_CAPTURE_BLOB_CONNECTION).
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";

const PUBLIC_ARM = "https://management.azure.com";

export function armEndpoint(): string {
  return process.env.ALERTCAP_ARM_ENDPOINT?.replace(/\/+$/, "") || PUBLIC_ARM;
}

export function isLocalEmulatorEndpoint(endpoint: string): boolean {
  return /^https:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/i.test(endpoint);
}

let emulatorAgent: Agent | undefined;

/** An HTTPS agent that also trusts the emulator's certificate, or undefined when none is configured. */
export function armTlsAgent(): Agent | undefined {
  const caPath = process.env.ALERTCAP_ARM_CA_CERT;
  if (!caPath) return undefined;
  emulatorAgent ??= new Agent({ ca: [...rootCertificates, readFileSync(caPath, "utf8")], keepAlive: true });
  return emulatorAgent;
}

/** A connection string for the capture storage account, used instead of the identity when set (Azurite). */
export function captureBlobConnectionString(): string | undefined {
  return process.env.ALERTCAP_CAPTURE_BLOB_CONNECTION || undefined;
}
