// Names shared by the HTTP functions, the orchestrator and the activities. Import-free on purpose: an HTTP function
// or the orchestrator can name an orchestration or an event without loading the code behind it.

export const CAPTURE_ORCHESTRATOR = "captureOrchestrator";

/** Raised by the webhook when the alert that started a capture is resolved. */
export const ALERT_RESOLVED_EVENT = "alertResolved";

/** Raised by POST /api/captures/{id}/stop. */
export const STOP_REQUESTED_EVENT = "stopRequested";

export const RECORDER_ORCHESTRATOR = "recorderOrchestrator";

/** Raised on a target's recorder by the webhook when an alert fires on it: secure the lookback (AlertFiredEvent). */
export const ALERT_FIRED_EVENT = "alertFired";

/** Raised by DELETE /api/recorders/{id}: stop recording, stop the session, end the orchestration. */
export const DISARM_EVENT = "disarmRecorder";
