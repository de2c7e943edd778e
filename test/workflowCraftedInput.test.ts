// An orchestration started directly through the durable management API (anyone holding the system key can) with an
// input of the caller's choosing must not act beyond the app's configuration: the activities re-derive the scope,
// the subscription, the storage account, the limits and the agent install from the target ID and the app settings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { armClients } from "../azure/armClients.js";
import { SAMPLE_STORAGE_ID } from "../local/stack.js";
import { vmId } from "./support/alerts.js";
import { eventually } from "./support/hostProcess.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000001";
const ATTACKER_ACCOUNT = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-eu/providers/Microsoft.Storage/storageAccounts/eucaptures`;

/** Settings an attacker would like: their storage account, 5-hour captures, the agent installed anywhere. */
const craftedSettings = {
  timeLimitSeconds: 18000,
  pollSeconds: 1,
  bytesToCapturePerPacket: 0,
  totalBytesPerSession: 4294967295,
  stopGraceSeconds: 0,
  fileWaitSeconds: 5,
  maxCapturesPerRegion: 10000,
  cooldownSeconds: 0,
  installAgent: true,
  deleteCaptureWhenDone: true,
  storageAccounts: [{ region: null, id: ATTACKER_ACCOUNT }],
  filters: [],
};

const alert = { alertId: null, rule: "crafted", severity: null, schema: null, firedAt: null };

function targetOf(name: string, resourceGroup = "rg-app", claimedSubscription = SUBSCRIPTION) {
  return { id: vmId(name, resourceGroup), kind: "virtualMachine", subscriptionId: claimedSubscription, resourceGroup, name };
}

interface Output {
  phase: string;
  failureReason: string | null;
  captureName: string | null;
}

describe("an orchestration started with a crafted input", () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      appSettings: { ALERTCAP_ALLOWED_SCOPES: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-app`, ALERTCAP_CAPTURE_SECONDS: "60", ALERTCAP_INSTALL_AGENT: "false" },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function start(instanceId: string, input: unknown): Promise<void> {
    const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/orchestrators/captureOrchestrator/${instanceId}?code=${stack.systemKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    expect(res.status).toBe(202);
  }

  async function output(instanceId: string): Promise<Output> {
    return eventually(async () => {
      const res = await fetch(`${stack.url}/runtime/webhooks/durabletask/instances/${instanceId}?code=${stack.systemKey}`);
      const status = (await res.json()) as { runtimeStatus: string; output: Output };
      return ["Completed", "Failed", "Terminated"].includes(status.runtimeStatus) ? status.output : undefined;
    }, `${instanceId} to end`, 120_000);
  }

  const captureNames = async (watcher: string): Promise<string[]> => {
    const names: string[] = [];
    for await (const c of armClients(SUBSCRIPTION).network.packetCaptures.list("NetworkWatcherRG", watcher)) names.push(c.name!);
    return names;
  };

  it("refuses a target outside ALERTCAP_ALLOWED_SCOPES", async () => {
    await start("crafted-out-of-scope", { target: targetOf("vm-eu-1", "rg-eu"), alert, settings: craftedSettings });
    const done = await output("crafted-out-of-scope");
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/outside ALERTCAP_ALLOWED_SCOPES/);
    expect((await captureNames("NetworkWatcher_northeurope")).filter((n) => n.startsWith("alertcap-vm-eu-1"))).toEqual([]);
  });

  it("does not install the agent when the app settings do not allow it", async () => {
    await start("crafted-agent", { target: targetOf("vm-noagent"), alert, settings: craftedSettings });
    const done = await output("crafted-agent");
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/ALERTCAP_INSTALL_AGENT/);
    const extensions = await armClients(SUBSCRIPTION).compute.virtualMachineExtensions.list("rg-app", "vm-noagent");
    expect(extensions.value ?? []).toEqual([]);
  });

  it("captures with the configured account and limits, whatever the input claims", async () => {
    // The claimed subscription is ignored too: the target's ID names it.
    await start("crafted-settings", { target: targetOf("vm-web-1", "rg-app", "ffffffff-ffff-ffff-ffff-ffffffffffff"), alert, settings: craftedSettings });
    const running = await stack.waitForCapture("crafted-settings", (c) => c.networkWatcherStatus === "Running" || c.phase === "failed", "to run");
    expect(running.failureReason).toBeNull();
    const capture = await armClients(SUBSCRIPTION).network.packetCaptures.get("NetworkWatcherRG", "NetworkWatcher_westus2", running.captureName!);
    expect(capture.storageLocation?.storageId).toBe(SAMPLE_STORAGE_ID);
    expect(capture.timeLimitInSeconds).toBe(60);
    await fetch(`${stack.url}/api/captures/crafted-settings/stop?code=${stack.functionKey}`, { method: "POST" });
    await output("crafted-settings");
  });

  it("never stops or deletes a capture that a crafted watch state names", async () => {
    const progress = { phase: "capturing", target: vmId("vm-web-1"), deadline: "2020-01-01T00:00:00.000Z", stopRequestedBecause: null, polls: 0, packetCaptureErrors: [], notifications: [] };
    await start("crafted-carried", {
      target: targetOf("vm-web-1"),
      alert,
      carried: {
        progress,
        settings: craftedSettings,
        watcher: { subscriptionId: SUBSCRIPTION, resourceGroup: "NetworkWatcherRG", name: "NetworkWatcher_westus2" },
        captureName: "ops-team-capture",
        owned: true,
        orchestrationStartedAt: "2020-01-01T00:00:00.000Z",
        generation: 1,
      },
    });
    const done = await output("crafted-carried");
    expect(done.phase).toBe("failed");
    expect(done.failureReason).toMatch(/Refused/);
    const status = await armClients(SUBSCRIPTION).network.packetCaptures.getStatus("NetworkWatcherRG", "NetworkWatcher_westus2", "ops-team-capture").pollUntilDone();
    expect(status.packetCaptureStatus).toBe("Running");
  });
});
