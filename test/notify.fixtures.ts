// A finished capture's progress, as the orchestrator hands it to the notify activity: shared by the notification tests.
import type { CaptureProgress } from "../domain/capture/progress.js";

export const VM = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-1";

/** A completed capture on VM; override what a test is about. */
export function captureProgress(overrides: Partial<CaptureProgress> = {}): CaptureProgress {
  return {
    phase: "completed",
    target: VM,
    targetKind: "virtualMachine",
    alert: {
      alertId: "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.AlertsManagement/alerts/aaaa",
      rule: "High outbound flows",
      severity: "Sev2",
      schema: "azureMonitorCommonAlertSchema",
      firedAt: "2025-11-25T10:00:00.000Z",
    },
    captureName: "alertcap-vm-web-1-20251125T100005Z",
    networkWatcher: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope",
    networkWatcherStatus: "Stopped",
    stopReason: "TimeExceeded",
    stopRequestedBecause: null,
    startedAt: "2025-11-25T10:00:05.000Z",
    stoppedAt: null,
    deadline: "2025-11-25T10:05:05.000Z",
    polls: 6,
    nextPollAt: null,
    storagePath: "https://stcaptures.blob.core.windows.net/network-watcher-logs/vm-web-1/capture.cap",
    failureReason: null,
    packetCaptureErrors: [],
    analysis: null,
    reportPath: "reports/vm-web-1.html",
    notifications: [],
    ...overrides,
  };
}

