// The flight recorder's API: POST /api/recorders arms a recorder on a VM or scale set (one eternal orchestration per
// target, so arming twice is one recorder), GET /api/recorders lists them, GET /api/recorders/{id} shows one (its
// session, its status, the ring files uploaded so far, renewals, re-arms, the last error), DELETE /api/recorders/{id}
// disarms it. Function keys; only alertcap's own fields in answers (the durable management URLs carry the system key).
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { type DurableClient, type DurableOrchestrationStatus, OrchestrationRuntimeStatus } from "durable-functions";
import { listRingFiles } from "../azure/lookbackFiles.js";
import { allowedScopes, captureSettingsOrError } from "../config/appSettings.js";
import { isInScope } from "../domain/alerts/scopes.js";
import { isRecorderId, MAX_ARM_REQUEST_BYTES, parseArmRequest, targetRef } from "../domain/recorder/armRequest.js";
import { recorderInstanceId } from "../domain/recorder/plan.js";
import { maxArmedRecorders, parseRecorderSettings } from "../domain/recorder/settings.js";
import type { RecorderOrchestrationInput } from "../domain/recorder/state.js";
import { eventLine } from "../domain/telemetry/events.js";
import { DISARM_EVENT, RECORDER_ORCHESTRATOR } from "../orchestrators/names.js";
import { ACTIVE_RUNTIME_STATUSES } from "./lib/captureInstances.js";

/** Ring files listed per recorder in GET /api/recorders/{id}: the newest ones. */
const MAX_LISTED_FILES = 50;

const error = (status: number, sentence: string): HttpResponseInit => ({ status, jsonBody: { error: sentence } });

/** `/api/recorders/{id}` on the origin the caller reached, without the caller's key. */
const statusUrl = (requestUrl: string, id: string): string => new URL(`/api/recorders/${encodeURIComponent(id)}`, new URL(requestUrl).origin).href;

async function statusOf(client: DurableClient, id: string): Promise<DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(id, { showInput: false });
    return status.name === RECORDER_ORCHESTRATOR ? status : undefined;
  } catch {
    return undefined; // 404: never armed (or purged)
  }
}

/** The recorder as its custom status (while it runs) or its output (once it ended) says. */
function recorderView(status: DurableOrchestrationStatus): Record<string, unknown> {
  const ended = status.output && typeof status.output === "object" ? (status.output as Record<string, unknown>) : undefined;
  const view = ended ?? ((status.customStatus ?? {}) as Record<string, unknown>);
  return {
    id: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    armed: ACTIVE_RUNTIME_STATUSES.has(status.runtimeStatus),
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
    ...view,
    ...(status.runtimeStatus === OrchestrationRuntimeStatus.Failed && typeof status.output === "string" ? { phase: "failed", lastError: status.output } : {}),
  };
}

async function armRecorder(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_ARM_REQUEST_BYTES) return error(413, `The body is ${declared} bytes; a recorder request is at most ${MAX_ARM_REQUEST_BYTES} bytes.`);
  const text = await request.text();
  if (text.length > MAX_ARM_REQUEST_BYTES) return error(413, `The body is over ${MAX_ARM_REQUEST_BYTES} bytes; a recorder request is at most that.`);
  const parsed = parseArmRequest(text);
  if (!parsed.ok) return error(400, parsed.error);
  const policy = allowedScopes();
  if (policy.refuseAll) return error(403, policy.refuseAll);
  if (policy.allowed !== null && !isInScope(parsed.target, policy.allowed)) {
    return error(403, `${parsed.target.id} is outside ALERTCAP_ALLOWED_SCOPES: alertcap does not record it.`);
  }
  const settings = recorderConfigurationProblem();
  if (settings) return error(503, settings);
  const maxArmed = maxArmedRecorders(process.env) ?? 0;
  const target = targetRef(parsed.target);
  const id = recorderInstanceId(target);
  const client = df.getClient(context);
  const answer = (status: number, outcome: string) => ({
    status,
    jsonBody: { id, target: target.id, outcome, statusUrl: statusUrl(request.url, id) },
    headers: { Location: statusUrl(request.url, id) },
  });
  const existing = await statusOf(client, id);
  if (existing && ACTIVE_RUNTIME_STATUSES.has(existing.runtimeStatus)) return answer(200, "already-armed");
  // A soft cap (two requests at the same moment can both pass it): enough to stop a key holder arming a whole scope.
  const active = await client.getStatusBy({ runtimeStatus: [...ACTIVE_RUNTIME_STATUSES] as OrchestrationRuntimeStatus[] });
  const armed = active.filter((s) => s.name === RECORDER_ORCHESTRATOR && ACTIVE_RUNTIME_STATUSES.has(s.runtimeStatus)).length;
  if (armed >= maxArmed) {
    return error(409, `${armed} recorders are armed, at the limit of ${maxArmed} (ALERTCAP_MAX_RECORDERS): disarm one, or raise the limit, before arming ${target.id}.`);
  }
  const input: RecorderOrchestrationInput = { target };
  try {
    await client.startNew(RECORDER_ORCHESTRATOR, { instanceId: id, input });
  } catch {
    // Another request armed it a moment ago (the extension answers 500 to a start over a running instance).
    const raced = await statusOf(client, id);
    if (raced && ACTIVE_RUNTIME_STATUSES.has(raced.runtimeStatus)) return answer(200, "already-armed");
    return error(500, `Could not arm a recorder for ${target.id}.`);
  }
  context.log(eventLine("recorder.armed", { target: target.id, instanceId: id, requested: true }));
  return answer(202, "arming");
}

/** What keeps a recorder from working whatever the target (the capture settings it shares, its own), or null. */
function recorderConfigurationProblem(): string | null {
  const capture = captureSettingsOrError();
  if ("error" in capture) return capture.error;
  const recorder = parseRecorderSettings(process.env);
  return recorder.ok ? null : `alertcap's recorder settings are not valid: ${recorder.errors.join("; ")}`;
}

async function listRecorders(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const client = df.getClient(context);
  const all = await client.getStatusBy({});
  const recorders = all.filter((s) => s.name === RECORDER_ORCHESTRATOR).map(recorderView);
  return { jsonBody: { count: recorders.length, recorders } };
}

async function getRecorder(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? "";
  if (!isRecorderId(id)) return error(400, `'${id.slice(0, 100)}' is not a recorder id (they look like rec-<name>-<hash>; POST /api/recorders answers one).`);
  const status = await statusOf(df.getClient(context), id);
  if (!status) return error(404, `No recorder with id '${id}'.`);
  const view = recorderView(status);
  return { jsonBody: { ...view, files: await ringFilesOf(view) } };
}

/** The ring files the current session has uploaded so far (newest last), read now from Blob storage. */
async function ringFilesOf(view: Record<string, unknown>): Promise<unknown> {
  const session = view.session as { name?: unknown; storagePath?: unknown } | null | undefined;
  if (!session || typeof session.name !== "string" || typeof session.storagePath !== "string") return [];
  try {
    const files = await listRingFiles(session.storagePath, session.name);
    return files
      .sort((a, b) => a.closedAt.localeCompare(b.closedAt))
      .slice(-MAX_LISTED_FILES)
      .map((f) => ({ name: f.blobName.split("/").at(-1), instance: f.instance, sizeBytes: f.sizeBytes, closedAt: f.closedAt }));
  } catch (problem) {
    return { error: `The ring files could not be listed: ${(problem instanceof Error ? problem.message : String(problem)).split("\n")[0]}` };
  }
}

async function disarmRecorder(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? "";
  if (!isRecorderId(id)) return error(400, `'${id.slice(0, 100)}' is not a recorder id (they look like rec-<name>-<hash>; GET /api/recorders lists them).`);
  const client = df.getClient(context);
  const status = await statusOf(client, id);
  if (!status) return error(404, `No recorder with id '${id}'.`);
  if (!ACTIVE_RUNTIME_STATUSES.has(status.runtimeStatus)) return error(409, `The recorder is not armed (${status.runtimeStatus}).`);
  await client.raiseEvent(id, DISARM_EVENT, "disarmed through the API");
  context.log(`recorder ${id}: disarm requested`);
  return { status: 202, jsonBody: { id, outcome: "disarming", statusUrl: statusUrl(request.url, id) } };
}

app.http("recorderArm", { route: "recorders", methods: ["POST"], authLevel: "function", extraInputs: [df.input.durableClient()], handler: armRecorder });
app.http("recorderList", { route: "recorders", methods: ["GET"], authLevel: "function", extraInputs: [df.input.durableClient()], handler: listRecorders });
app.http("recorderStatus", { route: "recorders/{id}", methods: ["GET"], authLevel: "function", extraInputs: [df.input.durableClient()], handler: getRecorder });
app.http("recorderDisarm", { route: "recorders/{id}", methods: ["DELETE"], authLevel: "function", extraInputs: [df.input.durableClient()], handler: disarmRecorder });

app.hook.appStart(() => {
  const recorder = parseRecorderSettings(process.env);
  if (!recorder.ok) console.error(`alertcap: the recorder settings are not valid (${recorder.errors.join("; ")}); no recorder can be armed until they are fixed.`);
});
