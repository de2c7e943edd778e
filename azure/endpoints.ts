// Where Azure is. In Azure nothing is set and the public cloud's endpoints apply; the local stack points ARM at its
// emulator (ALERTCAP_ARM_ENDPOINT, whose self-signed certificate ALERTCAP_ARM_CA_CERT names) and capture blobs at
// Azurite (ALERTCAP_CAPTURE_BLOB_CONNECTION).
import { readFileSync } from "node:fs";
import { Agent } from "node:https";

const PUBLIC_ARM = "https://management.azure.com";

export function armEndpoint(): string {
  return process.env.ALERTCAP_ARM_ENDPOINT?.replace(/\/+$/, "") || PUBLIC_ARM;
}

export function isLocalEmulatorEndpoint(endpoint: string): boolean {
  return /^https:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/i.test(endpoint);
}

const emulatorAgents = new Map<string, Agent>();

/** An HTTPS agent that also trusts the emulator's certificate, or undefined when none is configured. */
export function armTlsAgent(): Agent | undefined {
  const caPath = process.env.ALERTCAP_ARM_CA_CERT;
  if (!caPath) return undefined;
  let agent = emulatorAgents.get(caPath);
  if (!agent) {
    // Only the emulator is reached through this agent, so its certificate is the whole trust list. (Adding Node's
    // root bundle would also work, but https.Agent keys its socket pool by the CA text, hashing 200 kB per request.)
    agent = new Agent({ ca: readFileSync(caPath, "utf8"), keepAlive: true });
    emulatorAgents.set(caPath, agent);
  }
  return agent;
}

/** A connection string for the capture storage account, used instead of the identity when set (Azurite). */
export function captureBlobConnectionString(): string | undefined {
  return process.env.ALERTCAP_CAPTURE_BLOB_CONNECTION || undefined;
}
