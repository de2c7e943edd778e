// One credential for every Azure call.
// - In Azure (App Service sets WEBSITE_SITE_NAME): the Function App's managed identity and nothing else, the
//   user-assigned one that AZURE_CLIENT_ID names (the system-assigned one without it). DefaultAzureCredential would
//   try environment secrets, workload identity and more first, and could pick up something other than the identity
//   the roles were granted to.
// - Against the local ARM emulator any bearer token is accepted, so a fixed one is used and no Azure login is needed.
// - Elsewhere (a developer machine running `alertcap setup-alert` against Azure): DefaultAzureCredential, i.e. the
//   Azure CLI / PowerShell / VS Code login.
import { type AccessToken, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { runsInAzure } from "../config/appSettings.js";
import { armEndpoint, isLocalEmulatorEndpoint } from "./endpoints.js";

class LocalEmulatorCredential implements TokenCredential {
  async getToken(): Promise<AccessToken> {
    return { token: "alertcap-local-emulator", expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

/** Which credential the settings call for; a change of settings (tests, a second local stack) gets a new one. */
function credentialKind(): { key: string; make: () => TokenCredential } {
  if (isLocalEmulatorEndpoint(armEndpoint())) return { key: "local", make: () => new LocalEmulatorCredential() };
  const clientId = process.env.AZURE_CLIENT_ID || undefined;
  if (runsInAzure()) {
    return { key: `managed ${clientId ?? ""}`, make: () => (clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential()) };
  }
  return { key: `default ${clientId ?? ""}`, make: () => new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}) };
}

const credentials = new Map<string, TokenCredential>();

export function azureCredential(): TokenCredential {
  const { key, make } = credentialKind();
  let credential = credentials.get(key);
  if (!credential) {
    credential = make();
    credentials.set(key, credential);
  }
  return credential;
}
