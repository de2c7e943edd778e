// A scale-set alert end to end on the local stack: the emulated Network Watcher writes one .cap per captured instance
// under the capture's folder, and the unchanged orchestrator finds the files (locate) and analyses them (analyse): the
// capture's status shows the merged analysis with one line per instance. Both storagePath forms Network Watcher is
// documented to report: `…/packetcapture_{time}.cap` (Az.Network's example output; the files are not that blob but
// per instance) and the folder `…/packetcapture_{time}`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricAlert } from "./support/alerts.js";
import { type TestStack, startTestStack } from "./support/testStack.js";

const SCALE_SET = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api";

interface InstanceLine {
  instance: string;
  packets: number;
  error: string | null;
}

describe.each([
  { form: "cap" as const, pathEnd: "\\.cap" },
  { form: "folder" as const, pathEnd: "" },
])("a scale-set capture on the local stack whose storagePath has the $form form", ({ form, pathEnd }) => {
  let stack: TestStack;

  beforeAll(async () => {
    // Synthetic capture files: every instance's file is the emulator's 10-packet conversation, not loopback noise.
    stack = await startTestStack({ packetSource: "synthetic", scaleSetStoragePath: form, appSettings: { ALERTCAP_CAPTURE_SECONDS: "20" } });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("is found as instance files and analysed per instance and merged", async () => {
    const accepted = await stack.postAlert(metricAlert(SCALE_SET));
    expect(accepted.status).toBe(202);
    const done = await stack.waitForCapture(accepted.body.id as string, (c) => c.runtimeStatus !== "Running" && c.runtimeStatus !== "Pending", "to finish", 90_000);

    expect(done.failureReason).toBeNull();
    expect(done.storagePath).toMatch(new RegExp(`/virtualmachinescalesets/vmss-api/\\d{4}/\\d\\d/\\d\\d/packetcapture_\\d\\d_\\d\\d_\\d\\d_\\d{3}${pathEnd}$`));
    const analysis = done.analysis as { packets: number; instances: InstanceLine[] };
    const instances = analysis.instances.map(({ instance, packets, error }) => ({ instance, packets, error }));
    // vmss-api has instances 0 and 1 running (2 is stopped: Network Watcher captures no file for it).
    expect(instances.map((i) => i.instance)).toEqual(["0", "1"]);
    expect(instances.every((i) => i.packets > 0 && i.error === null)).toBe(true);
    expect(analysis.packets).toBe(instances.reduce((sum, i) => sum + i.packets, 0));
    expect(done.reportPath).toBe(`${done.storagePath}.report.html`);
  }, 120_000);
});
