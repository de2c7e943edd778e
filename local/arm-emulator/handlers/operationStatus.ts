// The polling targets of long-running operations: `Azure-AsyncOperation` status documents (Network and Compute
// flavours) and `Location` operation results.

import { ArmError } from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import type { AsyncOperation, OperationNamespace } from "../operations.js";
import { ASYNC_NOTIFICATION, retryAfterHeader, type EmulatorContext } from "./context.js";

export function operationStatusHandlers(context: EmulatorContext) {
  const find = (request: ArmRequest, namespace: OperationNamespace): AsyncOperation => {
    const operationId = param(request, "operationId");
    const operation = context.operations.find(namespace, param(request, "subscriptionId"), operationId);
    // [synthetic] ARM's answer for an unknown operation ID is not recorded.
    if (!operation) throw new ArmError(404, "OperationNotFound", `The operation '${operationId}' could not be found.`);
    return operation;
  };

  return {
    /**
     * Network: `{"status":"InProgress"}` → `{"status":"Succeeded"}` (stop adds `"properties":{}`, R1) or Failed + error.
     * The status document carries no `Retry-After` (R1, 2026): a client polls it at its own interval.
     */
    networkAsyncOperation(request: ArmRequest): ArmResponse {
      const operation = find(request, "Microsoft.Network");
      switch (operation.state) {
        case "InProgress":
          return { status: 200, body: { status: "InProgress" } };
        case "Succeeded":
          return { status: 200, body: { status: "Succeeded", ...(operation.kind === "stop" && { properties: {} }) } };
        case "Failed":
          return {
            status: 200,
            body: { status: "Failed", error: { code: operation.error?.code, message: operation.error?.message, details: [] } },
          };
      }
    },

    /**
     * Location: while running 202 with body `null`, both polling URLs and `Retry-After` (the shape of the recorded
     * stop result, R1/R2, with R3's pacing), then the operation's own result (stop 200 `null`, delete 204,
     * queryStatus 200 with the status as it is then).
     */
    networkOperationResult(request: ArmRequest): ArmResponse {
      const operation = find(request, "Microsoft.Network");
      switch (operation.state) {
        case "InProgress":
          return {
            status: 202,
            body: null,
            headers: {
              "Azure-AsyncOperation": context.operations.asyncOperationUrl(operation),
              Location: context.operations.locationUrl(operation),
              ...retryAfterHeader(context),
              ...ASYNC_NOTIFICATION,
            },
          };
        case "Succeeded": {
          // The final answer still names its polling URLs: Location, plus Azure-AsyncOperation for operations that
          // have one (stop's 200 `null` in R1 and R2; queryStatus's 200 in R2 and R3 only Location).
          const result = operation.finalResult();
          return {
            ...result,
            headers: {
              ...(operation.kind !== "queryStatus" && { "Azure-AsyncOperation": context.operations.asyncOperationUrl(operation) }),
              Location: context.operations.locationUrl(operation),
              ...ASYNC_NOTIFICATION,
            },
          };
        }
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
      return { status: 200, body };
    },
  };
}
