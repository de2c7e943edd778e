// Real Azure SDK clients pointed at the emulator: a fake credential (the emulator accepts any bearer token) and a
// pipeline policy that trusts the emulator's self-signed certificate for this client only.
//
// Why a policy and not NODE_EXTRA_CA_CERTS: Node reads that variable once, at process start, before the emulator
// has generated its certificate. core-rest-pipeline's Node HTTP client builds its https.Agent from
// `request.tlsSettings`, so setting `tlsSettings.ca` on every request of one client trusts the emulator there and
// nowhere else (Mozilla's CAs are replaced for that client only). The alertcap Azure adapter uses the same code
// when `ALERTCAP_ARM_ENDPOINT` points at the emulator (see local/arm-emulator/README.md).

import { ComputeManagementClient, type ComputeManagementClientOptionalParams } from "@azure/arm-compute";
import { NetworkManagementClient, type NetworkManagementClientOptionalParams } from "@azure/arm-network";

type TokenCredential = ConstructorParameters<typeof NetworkManagementClient>[0];
type PipelinePolicy = NonNullable<NetworkManagementClientOptionalParams["additionalPolicies"]>[number]["policy"];

/** Any token will do: the emulator checks that a bearer token is present, not what it says. */
export const fakeCredential: TokenCredential = {
  getToken: async () => ({ token: "fake-token", expiresOnTimestamp: Date.now() + 3600_000 }),
};

/** Trusts one PEM certificate (the emulator's) for the requests of the client this policy is added to. */
export function trustCertificatePolicy(caPem: string): PipelinePolicy {
  // One object for all requests: the HTTP client caches its https.Agent per tlsSettings object.
  const tlsSettings = { ca: caPem };
  return {
    name: "trustArmEmulatorCertificate",
    sendRequest(request, next) {
      request.tlsSettings ??= tlsSettings;
      return next(request);
    },
  };
}

export interface EmulatorEndpoint {
  url: string;
  caCertPem: string;
}

/** Client options for the emulator; retries are kept short so fault tests stay fast. */
export function emulatorClientOptions(emulator: EmulatorEndpoint): NetworkManagementClientOptionalParams & ComputeManagementClientOptionalParams {
  return {
    endpoint: emulator.url,
    additionalPolicies: [{ policy: trustCertificatePolicy(emulator.caCertPem), position: "perCall" }],
    retryOptions: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 200 },
  };
}

export function networkClient(emulator: EmulatorEndpoint, subscriptionId: string): NetworkManagementClient {
  return new NetworkManagementClient(fakeCredential, subscriptionId, emulatorClientOptions(emulator));
}

export function computeClient(emulator: EmulatorEndpoint, subscriptionId: string): ComputeManagementClient {
  return new ComputeManagementClient(fakeCredential, subscriptionId, emulatorClientOptions(emulator));
}
