// Long-running operations and their status resources.
//
// ARM answers a long-running request with 201/202 and a URL to poll: `Azure-AsyncOperation` (a status document
// `{"status":"InProgress|Succeeded|Failed"}`) and/or `Location` (202 while running, then the final result). Each
// operation here finishes after a scaled delay; its side effect (capture provisioned, session stopped, capture
// removed) runs in the same tick as the status flip, so a poll never sees "Succeeded" before the effect.

import type { LroFailure } from "./faults.js";
import type { Scheduler } from "./scheduler.js";

export type OperationNamespace = "Microsoft.Network" | "Microsoft.Compute";
export type OperationKind = "create" | "stop" | "delete" | "queryStatus" | "extension";

export interface FinalResult {
  status: number;
  /** `undefined` = no body; `null` = the JSON text `null` (what the real stop Location answers). */
  body?: unknown;
}

export interface AsyncOperation {
  id: string;
  namespace: OperationNamespace;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  kind: OperationKind;
  resourceId: string;
  startedAt: Date;
  endedAt?: Date;
  state: "InProgress" | "Succeeded" | "Failed";
  error?: LroFailure;
  /** Decided when the operation starts (fault injection); kept so a restart can finish the operation the same way. */
  plannedFailure?: LroFailure;
  /** What the Location URL answers once the operation has succeeded. */
  finalResult: () => FinalResult;
}

/** An operation as saved across restarts (without its callbacks). */
export type SavedOperation = Omit<AsyncOperation, "finalResult" | "startedAt" | "endedAt"> & { startedAt: string; endedAt?: string };

export interface StartOperation {
  namespace: OperationNamespace;
  subscriptionId: string;
  location: string;
  apiVersion: string;
  kind: OperationKind;
  resourceId: string;
  durationSeconds: number;
  failure?: LroFailure | undefined;
  onSucceeded?: () => void;
  onFailed?: () => void;
  finalResult?: () => FinalResult;
}

export class OperationStore {
  private readonly operations = new Map<string, AsyncOperation>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly baseUrl: () => string,
  ) {}

  start(request: StartOperation): AsyncOperation {
    const operation: AsyncOperation = {
      id: crypto.randomUUID(),
      namespace: request.namespace,
      subscriptionId: request.subscriptionId,
      location: request.location,
      apiVersion: request.apiVersion,
      kind: request.kind,
      resourceId: request.resourceId,
      startedAt: new Date(),
      state: "InProgress",
      ...(request.failure && { plannedFailure: request.failure }),
      finalResult: request.finalResult ?? (() => ({ status: 200 })),
    };
    this.operations.set(operation.id.toLowerCase(), operation);
    this.scheduler.after(request.durationSeconds, () => {
      if (request.failure) {
        request.onFailed?.();
        operation.error = request.failure;
        operation.state = "Failed";
      } else {
        request.onSucceeded?.();
        operation.state = "Succeeded";
      }
      operation.endedAt = new Date();
    });
    return operation;
  }

  all(): AsyncOperation[] {
    return [...this.operations.values()];
  }

  save(): SavedOperation[] {
    return this.all().map(({ finalResult: _finalResult, startedAt, endedAt, ...rest }) => ({
      ...rest,
      startedAt: startedAt.toISOString(),
      ...(endedAt && { endedAt: endedAt.toISOString() }),
    }));
  }

  /**
   * Brings back operations of an earlier process. One still running then is finished now, the way it was going to
   * finish: the service would have completed it while the emulator was down.
   */
  restore(saved: SavedOperation, finalResult: () => FinalResult): AsyncOperation {
    const { startedAt, endedAt, ...rest } = saved;
    const operation: AsyncOperation = { ...rest, startedAt: new Date(startedAt), finalResult };
    if (endedAt) operation.endedAt = new Date(endedAt);
    if (operation.state === "InProgress") {
      operation.state = operation.plannedFailure ? "Failed" : "Succeeded";
      if (operation.plannedFailure) operation.error = operation.plannedFailure;
      operation.endedAt = new Date();
    }
    this.operations.set(operation.id.toLowerCase(), operation);
    return operation;
  }

  find(namespace: OperationNamespace, subscriptionId: string, operationId: string): AsyncOperation | undefined {
    const operation = this.operations.get(operationId.toLowerCase());
    if (!operation) return undefined;
    if (operation.namespace.toLowerCase() !== namespace.toLowerCase()) return undefined;
    if (operation.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) return undefined;
    return operation;
  }

  /** The `Azure-AsyncOperation` URL: a status document. */
  asyncOperationUrl(operation: AsyncOperation): string {
    const query =
      operation.namespace === "Microsoft.Compute"
        ? `p=${operation.id}&api-version=${operation.apiVersion}`
        : `api-version=${operation.apiVersion}`;
    return `${this.baseUrl()}/subscriptions/${operation.subscriptionId}/providers/${operation.namespace}/locations/${operation.location}/operations/${operation.id}?${query}`;
  }

  /** The `Location` URL: 202 while running, then the operation's final result. */
  locationUrl(operation: AsyncOperation): string {
    return `${this.baseUrl()}/subscriptions/${operation.subscriptionId}/providers/${operation.namespace}/locations/${operation.location}/operationResults/${operation.id}?api-version=${operation.apiVersion}`;
  }
}
