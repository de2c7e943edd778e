// ARM clients, one pair per subscription, built once and shared by all activities of this worker. The SDKs retry
// throttling (429, honouring Retry-After) and transient 5xx themselves; the orchestrator's retry policy sits on top.
import { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import { azureCredential } from "./credential.js";
import { armEndpoint, armTlsAgent } from "./endpoints.js";

export interface ArmClients {
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

type ClientOptions = NonNullable<ConstructorParameters<typeof NetworkManagementClient>[2]>;
type PipelinePolicy = NonNullable<ClientOptions["additionalPolicies"]>[number]["policy"];

const clients = new Map<string, ArmClients>();

/** Sends ARM requests through an agent that trusts the local emulator's certificate (only when one is configured). */
function emulatorTlsPolicy(): PipelinePolicy[] {
  const agent = armTlsAgent();
  if (!agent) return [];
  return [
    {
      name: "alertcapEmulatorTls",
      sendRequest: (request, next) => {
        request.agent = agent;
        return next(request);
      },
    },
  ];
}

export function armClients(subscriptionId: string): ArmClients {
  let pair = clients.get(subscriptionId);
  if (!pair) {
    const options = {
      endpoint: armEndpoint(),
      retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 },
      additionalPolicies: emulatorTlsPolicy().map((policy) => ({ policy, position: "perCall" as const })),
    };
    pair = {
      network: new NetworkManagementClient(azureCredential(), subscriptionId, options),
      compute: new ComputeManagementClient(azureCredential(), subscriptionId, options),
    };
    clients.set(subscriptionId, pair);
  }
  return pair;
}
