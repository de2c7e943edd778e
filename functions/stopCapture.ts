// POST /api/captures/{id}/stop: an operator ends a capture early. The orchestration stops its own capture (it is
// the only one that knows the name it created) and then goes on to locate, analyse and notify as usual.
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { CAPTURE_ORCHESTRATOR, STOP_REQUESTED_EVENT } from "../orchestrators/names.js";
import { ACTIVE_RUNTIME_STATUSES, isCaptureInstanceId } from "./lib/captureInstances.js";


async function stopCapture(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const id = request.params.id ?? "";
  if (!isCaptureInstanceId(id)) return { status: 400, jsonBody: { error: "The capture id is not a valid orchestration instance id." } };
  let reason = "stop requested through the API";
  const text = await request.text();
  if (text.trim()) {
    try {
      const body = JSON.parse(text) as { reason?: unknown };
      if (typeof body.reason === "string" && body.reason.trim()) reason = body.reason.trim().slice(0, 200);
    } catch {
      return { status: 400, jsonBody: { error: 'The body must be empty or JSON such as {"reason": "…"}.' } };
    }
  }
  const client = df.getClient(context);
  let status;
  try {
    status = await client.getStatus(id, { showInput: false });
  } catch {
    return { status: 404, jsonBody: { error: `No capture with id '${id}'.` } };
  }
  if (status.name !== CAPTURE_ORCHESTRATOR) return { status: 404, jsonBody: { error: `No capture with id '${id}'.` } };
  if (!ACTIVE_RUNTIME_STATUSES.has(status.runtimeStatus)) {
    return { status: 409, jsonBody: { error: `The capture has already finished (${status.runtimeStatus}).` } };
  }
  await client.raiseEvent(id, STOP_REQUESTED_EVENT, reason);
  context.log(`stop requested for ${id}`);
  return { status: 202, jsonBody: { id, stopRequested: true, reason } };
}

app.http("stopCapture", {
  route: "captures/{id}/stop",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: stopCapture,
});
