// ARM clients, one pair per subscription, built once and shared by all activities of this worker. The SDKs retry
// throttling (429, honouring Retry-After) and transient 5xx themselves; the orchestrator's retry policy sits on top.
// The Monitor client (alert rules, action groups: `alertcap setup-alert`) is built the same way, on demand. Every
// client gets the cloud's endpoint and token scope (ALERTCAP_CLOUD): the SDKs would ask for the public cloud's scope.
import { ComputeManagementClient } from "@azure/arm-compute";
import { MonitorClient } from "@azure/arm-monitor";
import { NetworkManagementClient } from "@azure/arm-network";
import { azureCredential } from "./credential.js";
import { armEndpoint, armTlsAgent, armTokenScope } from "./endpoints.js";

export interface ArmClients {
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

type ClientOptions = NonNullable<ConstructorParameters<typeof NetworkManagementClient>[2]>;
type PipelinePolicy = NonNullable<ClientOptions["additionalPolicies"]>[number]["policy"];

const clients = new Map<string, ArmClients>();
const monitorClients = new Map<string, MonitorClient>();

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

/** The same endpoint, token scope, retries and emulator trust for every ARM client. */
function clientOptions(): ClientOptions {
  return {
    endpoint: armEndpoint(),
    credentials: { scopes: [armTokenScope()] },
    retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 },
    additionalPolicies: emulatorTlsPolicy().map((policy) => ({ policy, position: "perCall" as const })),
  };
}

/** Clients are per endpoint too: a process that is pointed at another ARM (a second local stack) gets new ones. */
const cacheKey = (subscriptionId: string): string => `${armEndpoint()} ${subscriptionId}`;

export function armClients(subscriptionId: string): ArmClients {
  let pair = clients.get(cacheKey(subscriptionId));
  if (!pair) {
    const options = clientOptions();
    pair = {
      network: new NetworkManagementClient(azureCredential(), subscriptionId, options),
      compute: new ComputeManagementClient(azureCredential(), subscriptionId, options),
    };
    clients.set(cacheKey(subscriptionId), pair);
  }
  return pair;
}

export function monitorClient(subscriptionId: string): MonitorClient {
  let client = monitorClients.get(cacheKey(subscriptionId));
  if (!client) {
    client = new MonitorClient(azureCredential(), subscriptionId, clientOptions());
    monitorClients.set(cacheKey(subscriptionId), client);
  }
  return client;
}
