// POST /api/alerts: the webhook an Azure Monitor action group calls. It decides in milliseconds and never starts
// two captures for one target: the orchestration instance ID is derived from the target (Durable's singleton
// pattern), so repeated deliveries and alert storms land on the one running capture. A Resolved alert becomes an
// event to that capture, which stops it early.
import { randomUUID } from "node:crypto";
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { DurableClient } from "durable-functions";
import { aadAuthEnabled, checkActionGroupToken } from "../auth/actionGroupToken.js";
import { allowedScopes, captureSettingsOrError, configurationProblems, maxAlertBytes, maxTargetsPerAlert } from "../config/appSettings.js";
import type { CaptureTarget } from "../domain/alerts/armId.js";
import { type AlertDecision, decideAlertText } from "../domain/alerts/decide.js";
import { eventLine } from "../domain/telemetry/events.js";
import { captureInstanceId } from "../domain/alerts/instanceId.js";
import { isInScope } from "../domain/alerts/scopes.js";
import type { AlertSummary } from "../domain/capture/progress.js";
import type { CaptureSettings } from "../domain/capture/settings.js";
import { boundedAlertSummary } from "../domain/capture/statusView.js";
import type { CaptureOrchestrationInput } from "../orchestrators/captureOrchestrator.js";
import { ALERT_FIRED_EVENT, ALERT_RESOLVED_EVENT, CAPTURE_ORCHESTRATOR, RECORDER_ORCHESTRATOR } from "../orchestrators/names.js";
import { type AlertFiredEvent, recorderInstanceId } from "../domain/recorder/plan.js";
import { parseRecorderSettings } from "../domain/recorder/settings.js";
import { ACTIVE_RUNTIME_STATUSES } from "./lib/captureInstances.js";


type TargetOutcome = "started" | "already-running" | "cooling-down" | "stop-requested" | "nothing-to-stop";

interface TargetResult {
  target: string;
  id: string;
  outcome: TargetOutcome;
  reason: string;
}

const json = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers,
});

/** `/api/captures/{id}` on the origin the caller reached, without the caller's key. */
function captureStatusUrl(requestUrl: string, id: string): string {
  return new URL(`/api/captures/${encodeURIComponent(id)}`, new URL(requestUrl).origin).href;
}

async function currentStatus(client: DurableClient, instanceId: string) {
  try {
    return await client.getStatus(instanceId, { showInput: false });
  } catch {
    return undefined; // 404: no capture has ever run for this target (or it was purged)
  }
}

/** Each string cut at once: the alert's text is unbounded, and it rides in the orchestration's input and status. */
function alertSummary(decision: AlertDecision): AlertSummary {
  return boundedAlertSummary({
    alertId: decision.alertId,
    rule: decision.alert?.ruleName ?? null,
    severity: decision.alert?.severity ?? null,
    schema: decision.schema,
    firedAt: decision.alert?.firedAt ?? null,
  });
}

/**
 * The instant that names an incident's lookback folder, which the recorder writes and the capture reads: the alert's
 * firing time as an ISO string, or, when the alert carries none that reads as a time, when alertcap received it. Given
 * to both, so they always agree.
 */
function incidentInstant(decision: AlertDecision, receivedAt: Date): string {
  const fired = Date.parse(alertSummary(decision).firedAt ?? "");
  return new Date(Number.isNaN(fired) ? receivedAt.getTime() : fired).toISOString();
}

async function startCapture(client: DurableClient, target: CaptureTarget, decision: AlertDecision, settings: CaptureSettings, incidentAt: string, recorder: string | undefined): Promise<TargetResult> {
  const id = captureInstanceId(target);
  const existing = await currentStatus(client, id);
  if (existing && ACTIVE_RUNTIME_STATUSES.has(existing.runtimeStatus)) {
    return joined(target, id);
  }
  if (existing && settings.cooldownSeconds > 0) {
    const since = (Date.now() - new Date(existing.lastUpdatedTime).getTime()) / 1000;
    if (since < settings.cooldownSeconds) {
      return {
        target: target.id,
        id,
        outcome: "cooling-down",
        reason: `A capture on this target ended ${Math.round(since)} s ago; alertcap waits ${settings.cooldownSeconds} s (ALERTCAP_COOLDOWN_SECONDS) before capturing it again.`,
      };
    }
  }
  // `startedBy` names this delivery, so it can tell afterwards whether its start is the one that runs.
  const delivery = randomUUID();
  const input: CaptureOrchestrationInput & { startedBy: string } = {
    target: { id: target.id, kind: target.kind, subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup, name: target.name, ...(target.instanceId !== undefined ? { instanceId: target.instanceId } : {}) },
    alert: alertSummary(decision),
    incidentAt,
    ...(recorder ? { lookbackExpected: true } : {}),
    settings,
    startedBy: delivery,
  };
  try {
    await client.startNew(CAPTURE_ORCHESTRATOR, { instanceId: id, input });
  } catch {
    // The extension refuses to start over a Pending/Running/Suspended/ContinuedAsNew instance with a 500 (not a
    // 409): another delivery started it a moment ago. Anything else is a real failure.
    const raced = await currentStatus(client, id);
    if (raced && ACTIVE_RUNTIME_STATUSES.has(raced.runtimeStatus)) return joined(target, id);
    throw new Error(`Could not start a capture for ${target.id}.`);
  }
  // Accepted is not yet started: two concurrent starts of an absent ID can both be accepted (Azure Storage), and
  // only the execution the instance row names runs; the other's ExecutionStarted is discarded. So read back
  // whose start runs before saying "started".
  const owner = await runningDelivery(client, id);
  if (owner !== undefined && owner !== delivery) return joined(target, id);
  return { target: target.id, id, outcome: "started", reason: "A packet capture is starting." };
}

const joined = (target: CaptureTarget, id: string): TargetResult => ({
  target: target.id,
  id,
  outcome: "already-running",
  reason: "A capture is already running for this target; this alert joins it.",
});

const OWNER_WAIT_MS = 5000;
const OWNER_POLL_MS = 100;

/**
 * The `startedBy` of the execution that runs, once the task hub has taken the instance out of Pending (by then a
 * duplicate start has been discarded). After OWNER_WAIT_MS it answers from the row as it stands (the last writer,
 * which is the one dedupe keeps); undefined when that cannot be read.
 */
async function runningDelivery(client: DurableClient, id: string): Promise<string | undefined> {
  const deadline = Date.now() + OWNER_WAIT_MS;
  for (;;) {
    let status: Awaited<ReturnType<DurableClient["getStatus"]>> | undefined;
    try {
      status = await client.getStatus(id, { showInput: true });
    } catch {
      status = undefined; // not visible yet
    }
    const pending = !status || status.runtimeStatus === "Pending";
    if (!pending || Date.now() > deadline) {
      const startedBy = (status?.input as { startedBy?: unknown } | null | undefined)?.startedBy;
      return typeof startedBy === "string" ? startedBy : undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, OWNER_POLL_MS));
  }
}

/** The recorder armed on the target (or, for a scale-set instance, on its scale set), if one is. */
async function armedRecorder(client: DurableClient, target: CaptureTarget): Promise<string | undefined> {
  // An alert on one scale-set instance is also news for a recorder armed on the whole scale set.
  const candidates = [target, ...(target.kind === "virtualMachineScaleSetInstance" ? [{ id: target.id.replace(/\/virtualMachines\/[^/]+$/i, ""), name: target.name }] : [])];
  for (const candidate of candidates) {
    const status = await currentStatus(client, recorderInstanceId(candidate));
    if (status && status.name === RECORDER_ORCHESTRATOR && ACTIVE_RUNTIME_STATUSES.has(status.runtimeStatus)) return status.instanceId;
  }
  return undefined;
}

/**
 * A recorder armed on the target secures the minutes before the alert (ALERT_FIRED_EVENT, docs/flight-recorder.md);
 * the capture just started is the incident. A failure to tell it is logged, never fails the capture.
 */
async function alertRecorder(client: DurableClient, recorder: string, incidentId: string, incidentAt: string, context: InvocationContext): Promise<void> {
  const recorderSettings = parseRecorderSettings(process.env);
  const event: AlertFiredEvent = {
    incidentId,
    firedAt: incidentAt,
    lookbackSeconds: recorderSettings.ok ? recorderSettings.settings.lookbackSeconds : 600,
  };
  try {
    await client.raiseEvent(recorder, ALERT_FIRED_EVENT, event);
    context.log(`recorder ${recorder}: asked to secure the lookback of ${incidentId}`);
  } catch (error) {
    context.warn(`recorder ${recorder}: could not be asked to secure the lookback of ${incidentId}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
}

async function requestStop(client: DurableClient, target: CaptureTarget, decision: AlertDecision): Promise<TargetResult> {
  const id = captureInstanceId(target);
  const existing = await currentStatus(client, id);
  if (!existing || !ACTIVE_RUNTIME_STATUSES.has(existing.runtimeStatus)) {
    return { target: target.id, id, outcome: "nothing-to-stop", reason: "No capture is running for this target: nothing to stop." };
  }
  await client.raiseEvent(id, ALERT_RESOLVED_EVENT, { alertId: decision.alertId, resolvedAt: decision.alert?.resolvedAt ?? null });
  return { target: target.id, id, outcome: "stop-requested", reason: "The alert is resolved: the running capture stops early." };
}

export async function receiveAlert(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  // Secure Webhook (off unless ALERTCAP_AAD_* is set): an Entra ID token from the action group service, on top of
  // the function key. Checked before the body is read, so an unauthenticated caller costs us nothing.
  if (aadAuthEnabled()) {
    const auth = await checkActionGroupToken(request.headers.get("authorization"));
    if (!auth.ok) {
      context.warn(`alert refused (${auth.status}): ${auth.reason}`);
      return json(auth.status, { decision: "reject", reason: auth.reason }, auth.status === 401 ? { "WWW-Authenticate": 'Bearer realm="alertcap"' } : {});
    }
  }
  const limit = maxAlertBytes();
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    return json(415, { decision: "reject", reason: `Content-Type must be application/json (Azure Monitor sends JSON), not "${contentType.slice(0, 100) || "none"}".` });
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return json(413, { decision: "reject", reason: `The body is ${declared} bytes; alertcap accepts alerts up to ${limit} bytes.` });
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > limit) return json(413, { decision: "reject", reason: `The body is ${bytes.length} bytes; alertcap accepts alerts up to ${limit} bytes.` });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return json(400, { decision: "reject", reason: "The body is not valid UTF-8 text, so it cannot be an Azure Monitor alert." });
  }

  const decision = decideAlertText(text);
  const summary = { decision: decision.decision, schema: decision.schema, alertId: decision.alertId, target: decision.target, reason: decision.reason };
  context.log(`alert ${decision.decision}: ${decision.reason}`);
  if (decision.decision === "reject") return json(400, summary);
  if (decision.decision === "ignore") return json(200, summary);

  const policy = allowedScopes();
  if (policy.refuseAll) return json(403, { ...summary, decision: "reject", reason: policy.refuseAll });
  const inScope = decision.targets.filter((t) => policy.allowed === null || isInScope(t, policy.allowed));
  const outOfScope = decision.targets.filter((t) => !inScope.includes(t));
  if (inScope.length === 0) {
    return json(403, {
      ...summary,
      decision: "reject",
      reason: `${outOfScope.map((t) => t.id).join(", ")} is outside ALERTCAP_ALLOWED_SCOPES: no capture was started.`,
    });
  }

  const targetLimit = maxTargetsPerAlert();
  const acting = inScope.slice(0, targetLimit);
  const overLimit = inScope.slice(targetLimit);

  const client = df.getClient(context);
  let results: TargetResult[];
  if (decision.decision === "capture") {
    const settings = captureSettingsOrError();
    const incidentAt = incidentInstant(decision, new Date());
    if ("error" in settings) {
      context.error(settings.error);
      return json(503, { ...summary, reason: settings.error });
    }
    results = await Promise.all(
      acting.map(async (t) => {
        // Looked for first, so the capture knows a lookback is coming (it waits for one that is not there yet).
        const recorder = await armedRecorder(client, t);
        const result = await startCapture(client, t, decision, settings.settings, incidentAt, recorder);
        if (result.outcome === "started" && recorder) await alertRecorder(client, recorder, result.id, incidentAt, context);
        return result;
      }),
    );
  } else {
    results = await Promise.all(acting.map((t) => requestStop(client, t, decision)));
  }
  for (const r of results) {
    context.log(eventLine("alert.received", { target: r.target, instanceId: r.id, decision: decision.decision, outcome: r.outcome, schema: decision.schema, alertId: decision.alertId, rule: decision.alert?.ruleName ?? null }));
  }
  const skipped = [
    ...overLimit.map((t) => ({ target: t.id, outcome: "skipped", reason: `Beyond the first ${targetLimit} targets of one alert (ALERTCAP_MAX_TARGETS_PER_ALERT): left alone.` })),
    ...outOfScope.map((t) => ({ target: t.id, outcome: "out-of-scope", reason: "Outside ALERTCAP_ALLOWED_SCOPES: left alone." })),
  ];
  const first = results[0]!;
  const acted = results.some((r) => r.outcome === "started" || r.outcome === "already-running" || r.outcome === "stop-requested");
  const reason = results.length === 1 ? `${decision.reason} ${first.reason}` : decision.reason;
  // Links go to alertcap's own status route only. The durable management URLs carry the system key, which opens
  // start/terminate/purge/raise-event on every instance: whoever holds the webhook URL must never receive it.
  const statusUrl = captureStatusUrl(request.url, first.id);
  const body = { ...summary, reason, id: first.id, statusUrl, targets: [...results, ...skipped] };
  return acted ? json(202, body, { Location: statusUrl, "Retry-After": "10" }) : json(200, body);
}

app.http("alerts", {
  route: "alerts",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: receiveAlert,
});

app.hook.appStart(() => {
  for (const problem of configurationProblems()) console.error(`alertcap: ${problem} No capture starts until it is fixed.`);
  const policy = allowedScopes();
  if (policy.refuseAll) console.warn(`alertcap: ${policy.notice}`);
  else console.log(`alertcap: ${policy.notice}`);
});
