// Where Azure is. ALERTCAP_CLOUD names the cloud (the public cloud when unset): its Resource Manager endpoint, the
// token scope for it, and the DNS suffix of its storage accounts. The local stack points ARM at its emulator
// (ALERTCAP_ARM_ENDPOINT, whose self-signed certificate ALERTCAP_ARM_CA_CERT names) and capture blobs at Azurite
// (ALERTCAP_CAPTURE_BLOB_CONNECTION).
import { readFileSync } from "node:fs";
import { Agent } from "node:https";

export interface AzureCloud {
  name: CloudName;
  /** Resource Manager, without a trailing slash. */
  armEndpoint: string;
  /** `{account}.blob.{storageSuffix}` is an account's blob endpoint. */
  storageSuffix: string;
}

// Endpoints as `az cloud show` lists them. The names are the Azure SDKs' (go-autorest's AZURE_ENVIRONMENT values).
const CLOUDS = {
  AzurePublicCloud: { armEndpoint: "https://management.azure.com", storageSuffix: "core.windows.net" },
  AzureUSGovernment: { armEndpoint: "https://management.usgovcloudapi.net", storageSuffix: "core.usgovcloudapi.net" },
  AzureChinaCloud: { armEndpoint: "https://management.chinacloudapi.cn", storageSuffix: "core.chinacloudapi.cn" },
} as const;

export type CloudName = keyof typeof CLOUDS;

/** Storage takes tokens for this audience in every cloud (the SDK's default, made explicit so it is one decision). */
export const STORAGE_TOKEN_SCOPE = "https://storage.azure.com/.default";

/** The cloud ALERTCAP_CLOUD names; throws a one-line error for a name that is not one. */
export function azureCloud(): AzureCloud {
  const configured = process.env.ALERTCAP_CLOUD?.trim() || "AzurePublicCloud";
  // AzureCloud is the public cloud's name in the Azure CLI, PowerShell and Bicep's environment().name.
  const wanted = configured.toLowerCase() === "azurecloud" ? "AzurePublicCloud" : configured;
  const name = Object.keys(CLOUDS).find((known) => known.toLowerCase() === wanted.toLowerCase()) as CloudName | undefined;
  if (!name) {
    throw new Error(`ALERTCAP_CLOUD is "${configured.slice(0, 100)}", which is not a cloud alertcap knows: use ${Object.keys(CLOUDS).join(", ")}.`);
  }
  return { name, ...CLOUDS[name] };
}

/** The configuration problem with ALERTCAP_CLOUD, or null when it names a known cloud. */
export function cloudSettingError(): string | null {
  try {
    azureCloud();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export function armEndpoint(): string {
  return process.env.ALERTCAP_ARM_ENDPOINT?.replace(/\/+$/, "") || azureCloud().armEndpoint;
}

/**
 * The scope of ARM tokens: `{endpoint}/.default`. The ARM SDK clients ask for the public cloud's scope whatever their
 * endpoint (@azure/arm-network 39: `credentials.scopes ?? ["https://management.azure.com/.default"]`), so it is
 * always passed explicitly.
 */
export function armTokenScope(): string {
  return `${armEndpoint()}/.default`;
}

/** `https://{account}.blob.{suffix}` in the configured cloud. */
export function blobEndpointOf(accountName: string): string {
  return `https://${accountName.toLowerCase()}.blob.${azureCloud().storageSuffix}`;
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
