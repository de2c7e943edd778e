// Names shared by the HTTP functions, the orchestrator and the activities. Import-free on purpose: an HTTP function
// or the orchestrator can name an orchestration or an event without loading the code behind it.

export const CAPTURE_ORCHESTRATOR = "captureOrchestrator";

/** Raised by the webhook when the alert that started a capture is resolved. */
export const ALERT_RESOLVED_EVENT = "alertResolved";

/** Raised by POST /api/captures/{id}/stop. */
export const STOP_REQUESTED_EVENT = "stopRequested";
