// The polling targets of long-running operations: `Azure-AsyncOperation` status documents (Network and Compute
// flavours) and `Location` operation results.

import { ArmError } from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import type { AsyncOperation, OperationNamespace } from "../operations.js";
import { retryAfterHeader, type EmulatorContext } from "./context.js";

export function operationStatusHandlers(context: EmulatorContext) {
  const find = (request: ArmRequest, namespace: OperationNamespace): AsyncOperation => {
    const operationId = param(request, "operationId");
    const operation = context.operations.find(namespace, param(request, "subscriptionId"), operationId);
    // [synthetic] ARM's answer for an unknown operation ID is not recorded.
    if (!operation) throw new ArmError(404, "OperationNotFound", `The operation '${operationId}' could not be found.`);
    return operation;
  };

  return {
    /** Network: `{"status":"InProgress"}` → `{"status":"Succeeded"}` (stop adds `"properties":{}`, R1) or Failed + error. */
    networkAsyncOperation(request: ArmRequest): ArmResponse {
      const operation = find(request, "Microsoft.Network");
      switch (operation.state) {
        case "InProgress":
          return { status: 200, body: { status: "InProgress" }, headers: retryAfterHeader(context) };
        case "Succeeded":
          return { status: 200, body: { status: "Succeeded", ...(operation.kind === "stop" && { properties: {} }) } };
        case "Failed":
          return {
            status: 200,
            body: { status: "Failed", error: { code: operation.error?.code, message: operation.error?.message, details: [] } },
          };
      }
    },

    /** Location: 202 while running, then the operation's own result (stop 200 `null`, delete 204, queryStatus 200 body). */
    networkOperationResult(request: ArmRequest): ArmResponse {
      const operation = find(request, "Microsoft.Network");
      switch (operation.state) {
        case "InProgress":
          return {
            status: 202,
            headers: { Location: context.operations.locationUrl(operation), ...retryAfterHeader(context) },
          };
        case "Succeeded":
          return operation.finalResult();
        case "Failed":
          throw new ArmError(500, operation.error?.code ?? "InternalServerError", operation.error?.message ?? "An error occurred.");
      }
    },

    /** Compute: `{"startTime","status","name"}`, plus `endTime` (and `error`) once finished. */
    computeAsyncOperation(request: ArmRequest): ArmResponse {
      const operation = find(request, "Microsoft.Compute");
      const body: Record<string, unknown> = {
        startTime: operation.startedAt.toISOString(),
        ...(operation.endedAt && { endTime: operation.endedAt.toISOString() }),
        status: operation.state,
        name: operation.id,
      };
      if (operation.state === "Failed") body["error"] = { code: operation.error?.code, message: operation.error?.message };
      return { status: 200, body, headers: operation.state === "InProgress" ? retryAfterHeader(context) : {} };
    },
  };
}
