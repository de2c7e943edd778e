// What a capture orchestration tells the world while it runs (its customStatus) and when it ends (its output).
// The status endpoints and notifications read these shapes; outside checks read the fields named in contract.md.

export type CapturePhase =
  | "validating"
  | "creating"
  | "capturing"
  | "stopping"
  | "locating"
  | "analysing"
  | "notifying"
  | "cleaning-up"
  | "completed"
  | "failed";

export interface AlertSummary {
  alertId: string | null;
  rule: string | null;
  severity: string | null;
  schema: string | null;
  firedAt: string | null;
}

export interface NotificationResult {
  /** The target with any secret path or query removed. */
  target: string;
  format: "generic" | "teams" | "slack";
  delivered: boolean;
  attempts: number;
  error?: string;
}

export interface CaptureProgress {
  phase: CapturePhase;
  target: string;
  targetKind: string;
  alert: AlertSummary;
  captureName: string | null;
  networkWatcher: string | null;
  /** Network Watcher's packetCaptureStatus: NotStarted, Running, Stopped, Error, Unknown. */
  networkWatcherStatus: string | null;
  stopReason: string | null;
  /** Why alertcap asked for an early stop (alert resolved, operator request, deadline). */
  stopRequestedBecause: string | null;
  startedAt: string | null;
  deadline: string | null;
  /** When alertcap first saw the session final (Stopped or Error). */
  stoppedAt: string | null;
  polls: number;
  nextPollAt: string | null;
  storagePath: string | null;
  failureReason: string | null;
  packetCaptureErrors: string[];
  analysis: unknown;
  reportPath: string | null;
  notifications: NotificationResult[];
}
