// Capture planning and settings: the names alertcap gives captures (and recognises as its own), what it asks
// Network Watcher for, and how app settings are read.
import { describe, expect, it } from "vitest";
import { boundedWaitDelaySeconds, captureName, captureNameStartTime, captureTarget, isCaptureNameFor, nextPollDelaySeconds, type CaptureTargetRef } from "../domain/capture/plan.js";
import { parseCaptureSettings, storageAccountFor } from "../domain/capture/settings.js";

const SUB = "00000000-0000-0000-0000-000000000001";
const vm: CaptureTargetRef = { id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/Web_01.prod`, kind: "virtualMachine", subscriptionId: SUB, resourceGroup: "rg", name: "Web_01.prod" };
const instance: CaptureTargetRef = { id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/api/virtualMachines/7`, kind: "virtualMachineScaleSetInstance", subscriptionId: SUB, resourceGroup: "rg", name: "api", instanceId: "7" };
const storage = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${name}`;

describe("capture names", () => {
  it("are deterministic, valid ARM names, and recognised as alertcap's own", () => {
    const at = new Date("2026-11-25T02:03:04.567Z");
    expect(captureName(vm, at)).toBe("alertcap-web-01-prod-20261125-020304");
    expect(captureName(vm, at, 2)).toBe("alertcap-web-01-prod-20261125-020304-3");
    expect(captureName(instance, at)).toBe("alertcap-api-7-20261125-020304");
    const long = { ...vm, name: "v".repeat(64) };
    expect(captureName(long, at).length).toBeLessThanOrEqual(80);
    expect(captureName(long, at)).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
    expect(isCaptureNameFor(captureName(vm, at, 1), vm)).toBe(true);
  });

  it("do not claim captures that only look similar", () => {
    expect(isCaptureNameFor("alertcap-web-01-prod-clash", vm)).toBe(false);
    expect(isCaptureNameFor("alertcap-web-01-prod-20261125-020304", instance)).toBe(false);
    expect(isCaptureNameFor("ops-alertcap-web-01-prod-20261125-020304", vm)).toBe(false);
    expect(isCaptureNameFor("alertcap-web-01-prod-20261125-020304x", vm)).toBe(false);
  });

  it("carry their start time (to the second), read back for any alertcap name and no other", () => {
    const at = new Date("2026-11-25T02:03:04.567Z");
    expect(captureNameStartTime(captureName(vm, at))?.toISOString()).toBe("2026-11-25T02:03:04.000Z");
    expect(captureNameStartTime(captureName(instance, at, 2))?.toISOString()).toBe("2026-11-25T02:03:04.000Z");
    expect(captureNameStartTime("ops-team-capture")).toBeNull();
    expect(captureNameStartTime("alertcap-web-01-prod-clash")).toBeNull();
  });
});

describe("what alertcap asks Network Watcher for", () => {
  it("captures a scale-set instance on its scale set, scoped to the instance (Network Watcher refuses instance targets)", () => {
    expect(captureTarget(instance)).toEqual({
      target: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/api`,
      targetType: "AzureVMSS",
      scope: { include: ["7"] },
    });
    expect(captureTarget(vm)).toEqual({ target: vm.id, targetType: "AzureVM" });
  });

  it("polls quickly at first, then at the configured interval", () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => nextPollDelaySeconds(n, 30))).toEqual([5, 10, 20, 30, 30, 30]);
    expect(nextPollDelaySeconds(0, 2)).toBe(2);
  });
});

describe("capture settings", () => {
  it("read defaults and a storage account per region", () => {
    const parsed = parseCaptureSettings({ ALERTCAP_CAPTURE_STORAGE_ID: `${storage("west")}, northeurope=${storage("north")}` });
    if (!parsed.ok) throw new Error(parsed.errors.join());
    expect(parsed.settings).toMatchObject({ timeLimitSeconds: 600, pollSeconds: 30, bytesToCapturePerPacket: 0, totalBytesPerSession: 1073741824, deleteCaptureWhenDone: true, installAgent: false, filters: [] });
    expect(storageAccountFor(parsed.settings, "North Europe")).toBe(storage("north"));
    expect(storageAccountFor(parsed.settings, "westus2")).toBe(storage("west"));
  });

  it("say what is wrong with each bad setting", () => {
    const parsed = parseCaptureSettings({
      ALERTCAP_CAPTURE_STORAGE_ID: "not-an-id",
      ALERTCAP_CAPTURE_SECONDS: "99999",
      ALERTCAP_CAPTURE_FILTERS: '[{"protocol":"ICMP"}]',
      ALERTCAP_INSTALL_AGENT: "maybe",
    });
    expect(parsed.ok).toBe(false);
    const errors = parsed.ok ? [] : parsed.errors.join("\n");
    expect(errors).toMatch(/ALERTCAP_CAPTURE_STORAGE_ID entry "not-an-id" must be a storage account ARM ID/);
    expect(errors).toMatch(/ALERTCAP_CAPTURE_SECONDS must be a whole number from 1 to 18000/);
    expect(errors).toMatch(/ALERTCAP_CAPTURE_FILTERS is not a valid filter list/);
    expect(errors).toMatch(/ALERTCAP_INSTALL_AGENT must be true or false/);
    expect(parseCaptureSettings({}).ok).toBe(false);
  });
});

describe("waits outside the watch loop (the file's upload, the agent's install)", () => {
  const FILE_WAIT = { firstSeconds: 2, capSeconds: 60, maxChecks: 24 };
  /** How many checks a wait of `total` seconds makes before giving up (its history grows with this). */
  const checks = (total: number, wait: typeof FILE_WAIT) => {
    let elapsed = 0;
    let n = 1;
    while (elapsed < total) elapsed += boundedWaitDelaySeconds(n++ - 1, total, wait);
    return n;
  };

  it("check quickly at first, as before, and take a bounded number of checks however long the wait", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => boundedWaitDelaySeconds(n, 600, FILE_WAIT))).toEqual([2, 4, 8, 16, 32, 60, 60]);
    // ALERTCAP_FILE_WAIT_SECONDS at its maximum, 2 hours: at 60 s a pause this was ~125 checks in one history.
    expect(checks(7200, FILE_WAIT)).toBeLessThanOrEqual(24);
    expect(checks(600, FILE_WAIT)).toBeLessThanOrEqual(24);
    expect(checks(900, { firstSeconds: 5, capSeconds: 30, maxChecks: 24 })).toBeLessThanOrEqual(24);
  });
});
