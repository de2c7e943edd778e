// GET /api/captures/{id} and GET /api/captures: what a capture is doing or did, from durable state (the
// orchestration's customStatus while it runs, its output once it ends). Only alertcap's own fields: the durable
// management payload carries the system key, which must never reach a caller of these routes.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { OrchestrationRuntimeStatus, type DurableClient, type DurableOrchestrationStatus } from "durable-functions";
import { reportLinkFields } from "../azure/reportLinks.js";
import type { CaptureProgress } from "../domain/capture/progress.js";
import { CAPTURE_ORCHESTRATOR } from "../orchestrators/names.js";
import { isCaptureInstanceId } from "./lib/captureInstances.js";

const RUNTIME_STATUSES = new Map(Object.values(OrchestrationRuntimeStatus).map((s) => [String(s).toLowerCase(), s]));

function captureView(status: DurableOrchestrationStatus): Record<string, unknown> {
  const finished = status.output && typeof status.output === "object" ? (status.output as Partial<CaptureProgress>) : undefined;
  const progress = finished ?? ((status.customStatus ?? {}) as Partial<CaptureProgress>);
  return {
    id: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    createdTime: status.createdTime,
    lastUpdatedTime: status.lastUpdatedTime,
    ...progress,
    // An orchestration that crashed has a failure message as its output rather than a progress object.
    ...(status.runtimeStatus === OrchestrationRuntimeStatus.Failed && typeof status.output === "string"
      ? { phase: "failed", failureReason: status.output }
      : {}),
  };
}

async function getCapture(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? "";
  if (!isCaptureInstanceId(id)) return { status: 400, jsonBody: { error: "The capture id is not a valid orchestration instance id." } };
  const client = df.getClient(context);
  let status: DurableOrchestrationStatus;
  try {
    status = await client.getStatus(id, { showInput: false });
  } catch {
    return { status: 404, jsonBody: { error: `No capture with id '${id}'.` } };
  }
  if (status.name !== CAPTURE_ORCHESTRATOR) return { status: 404, jsonBody: { error: `No capture with id '${id}'.` } };
  const view = captureView(status);
  // reportUrl: a read-only link to the report a person can open, minted now and never stored in durable state.
  return { jsonBody: { ...view, ...(await reportLinkFields(view.reportPath)) } };
}

async function listCaptures(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const wanted = (request.query.get("status") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  const unknown = wanted.filter((s) => !RUNTIME_STATUSES.has(s));
  if (unknown.length > 0) {
    return { status: 400, jsonBody: { error: `Unknown status '${unknown.join("', '")}'; use ${[...RUNTIME_STATUSES.values()].join(", ")}.` } };
  }
  const target = request.query.get("target")?.toLowerCase();
  const client: DurableClient = df.getClient(context);
  const statuses = wanted.map((s) => RUNTIME_STATUSES.get(s)!);
  const all = await client.getStatusBy(statuses.length > 0 ? { runtimeStatus: statuses } : {});
  const captures = all
    .filter((s) => s.name === CAPTURE_ORCHESTRATOR)
    .map(captureView)
    .filter((view) => !target || String(view.target ?? "").toLowerCase() === target);
  return { jsonBody: { count: captures.length, captures } };
}

app.http("captureStatus", {
  route: "captures/{id}",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: getCapture,
});

app.http("captureList", {
  route: "captures",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: listCaptures,
});
