// One credential for every Azure call. In Azure it is the Function App's user-assigned managed identity
// (AZURE_CLIENT_ID names it; no client secret exists anywhere); on a developer machine DefaultAzureCredential falls
// back to the Azure CLI login. Against the local ARM emulator any bearer token is accepted, so a fixed one is used
// there and no Azure login is needed.
import { type AccessToken, DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { armEndpoint, isLocalEmulatorEndpoint } from "./endpoints.js";

let credential: TokenCredential | undefined;

class LocalEmulatorCredential implements TokenCredential {
  async getToken(): Promise<AccessToken> {
    return { token: "alertcap-local-emulator", expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

export function azureCredential(): TokenCredential {
  if (!credential) {
    credential = isLocalEmulatorEndpoint(armEndpoint())
      ? new LocalEmulatorCredential()
      : new DefaultAzureCredential(process.env.AZURE_CLIENT_ID ? { managedIdentityClientId: process.env.AZURE_CLIENT_ID } : {});
  }
  return credential;
}
