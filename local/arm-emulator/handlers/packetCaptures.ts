// Microsoft.Network packet captures (api-version 2026-01-01): create, get, list, queryStatus, stop, delete,
// answering with the status codes and headers of the recorded service (shared/docs/network-watcher-behaviour.md §1).

import {
  ArmError,
  invalidRequestContent,
  invalidResourceName,
  packetCaptureNotFound,
  parentResourceNotFound,
} from "../http/armErrors.js";
import { param, type ArmRequest, type ArmResponse } from "../http/router.js";
import { newEtag, type NetworkWatcherState } from "../resourceModel.js";
import type { CaptureFailure } from "../faults.js";
import type { AsyncOperation } from "../operations.js";
import {
  captureId,
  captureResource,
  hasContinuousCapture,
  captureStatus,
  type CapturePlan,
  type CaptureRecord,
} from "../capture/captureStore.js";
import { assertValidPacketCaptureBody } from "../capture/requestValidation.js";
import {
  canonicaliseProtocols,
  checkCaptureRequest,
  isValidCaptureName,
  type AcceptedCaptureRequest,
  type PacketCaptureProperties,
} from "../capture/requestChecks.js";
import type { ScaleSetStoragePathForm } from "../options.js";
import { blobEndpointFor, CAPTURE_CONTAINER, defaultCaptureBlobName } from "../capture/storage.js";
import { ASYNC_NOTIFICATION, parseJsonBody, retryAfterHeader, type EmulatorContext } from "./context.js";

export function packetCaptureHandlers(context: EmulatorContext) {
  const shapeOptions = (request: ArmRequest) => ({ undocumentedFields: context.behaviour.undocumentedFields, apiVersion: request.apiVersion });

  const watcherOf = (request: ArmRequest): NetworkWatcherState => {
    const name = param(request, "networkWatcherName");
    const watcher = context.model.watcher(param(request, "subscriptionId"), param(request, "resourceGroupName"), name);
    if (!watcher) throw parentResourceNotFound(name);
    return watcher;
  };

  const captureOf = (request: ArmRequest): { watcher: NetworkWatcherState; record: CaptureRecord } => {
    const watcher = watcherOf(request);
    const id = captureId(watcher, param(request, "packetCaptureName"));
    const record = context.captures.get(id);
    if (!record) throw packetCaptureNotFound(id);
    return { watcher, record };
  };

  const pollingHeaders = (operation: AsyncOperation) => ({
    "Azure-AsyncOperation": context.operations.asyncOperationUrl(operation),
    Location: context.operations.locationUrl(operation),
    ...retryAfterHeader(context),
    ...ASYNC_NOTIFICATION,
  });

  return {
    /** PUT: 201 + `provisioningState: Updating`, etag and type + `Azure-AsyncOperation` and `Retry-After` (R1–R3). */
    create(request: ArmRequest): ArmResponse {
      const watcher = watcherOf(request);
      const name = param(request, "packetCaptureName");
      if (!isValidCaptureName(name)) throw invalidResourceName(name);
      const parsed = parseJsonBody(request.bodyText);
      if (!parsed.ok) throw invalidRequestContent(parsed.reason);
      const body = parsed.value;
      prepareBody(body, request.apiVersion);
      assertValidPacketCaptureBody(body);
      const properties = (body as { properties: PacketCaptureProperties }).properties;
      const accepted = checkCaptureRequest(properties, watcher, context.model);

      const id = captureId(watcher, name);
      const existing = context.captures.get(id);
      if (existing) {
        // [synthetic] The real answer to a PUT on an existing capture name is not documented anywhere.
        throw new ArmError(
          409,
          "PacketCaptureAlreadyExists",
          `Packet capture '${existing.name}' already exists under network watcher '${watcher.name}'. ` +
            "A capture session cannot be updated or restarted; delete it first or use another name.",
          { target: name },
        );
      }
      const limit = context.model.regionLimit(watcher.location) ?? context.behaviour.regionCaptureLimit;
      if (context.captures.activeSessionsIn(watcher.subscriptionId, watcher.location) >= limit) {
        // [synthetic] Modelled on NetworkWatcherCountLimitReached; no real code for this limit is known.
        throw new ArmError(
          400,
          "PacketCaptureCountLimitReached",
          `Cannot create more than ${limit} running packet capture sessions for this subscription in region '${watcher.location}'.`,
        );
      }

      const createdAt = context.now();
      const record: CaptureRecord = {
        id,
        name,
        watcher,
        subscriptionId: watcher.subscriptionId,
        location: watcher.location,
        foreign: false,
        echoed: accepted.echoed,
        provisioningState: "Updating",
        createdAt,
        storagePath: reportedStoragePath(accepted, createdAt, context.behaviour.scaleSetStoragePath),
        session: { status: "NotStarted", errors: [] },
        file: { blobs: [], stored: false, segments: [] },
        capturedInstances: [],
        plan: capturePlan(accepted, context.faults.captureFailure(request.operationId)),
      };
      context.captures.add(record);
      watcher.etag = newEtag();
      const operationFailure = context.faults.lroFailure(request.operationId);
      context.sessions.begin(record);
      const operation = context.operations.start({
        namespace: "Microsoft.Network",
        subscriptionId: watcher.subscriptionId,
        location: watcher.location,
        apiVersion: request.apiVersion,
        kind: "create",
        resourceId: id,
        durationSeconds: context.timings.createSeconds,
        failure: operationFailure,
        onSucceeded: () => {
          record.provisioningState = "Succeeded";
          // The GET after a create shows another etag than the 201 did (R2): completing the write renews it.
          watcher.etag = newEtag();
        },
        onFailed: () => {
          record.provisioningState = "Failed";
          context.sessions.abandon(record);
        },
      });
      return {
        status: 201,
        body: captureResource(record, shapeOptions(request)),
        headers: {
          "Azure-AsyncOperation": context.operations.asyncOperationUrl(operation),
          ...retryAfterHeader(context),
          ...ASYNC_NOTIFICATION,
        },
      };
    },

    get(request: ArmRequest): ArmResponse {
      const { record } = captureOf(request);
      // GET answers the etag in a header too (R2, R3).
      return { status: 200, body: captureResource(record, shapeOptions(request)), headers: { ETag: record.watcher.etag } };
    },

    /** Stopped captures stay listed until deleted (R3 lists year-old captures). */
    list(request: ArmRequest): ArmResponse {
      const watcher = watcherOf(request);
      const value = context.captures.underWatcher(watcher).map((record) => captureResource(record, shapeOptions(request)));
      return { status: 200, body: { value } };
    },

    /** Running: 202 + `Location` + a status body; ended: 200 straight away (R1, R2, R3). */
    queryStatus(request: ArmRequest): ArmResponse {
      const { record } = captureOf(request);
      const { status } = record.session;
      if (status !== "NotStarted" && status !== "Running") return { status: 200, body: captureStatus(record) };
      const operation = context.operations.start({
        namespace: "Microsoft.Network",
        subscriptionId: record.subscriptionId,
        location: record.location,
        apiVersion: request.apiVersion,
        kind: "queryStatus",
        resourceId: record.id,
        durationSeconds: context.timings.queryStatusSeconds,
        failure: context.faults.lroFailure(request.operationId),
        finalResult: () => ({ status: 200, body: captureStatus(record) }),
      });
      record.lastQueryOperationId = operation.id;
      return {
        status: 202,
        body: captureStatus(record),
        headers: { Location: context.operations.locationUrl(operation), ...retryAfterHeader(context), ...ASYNC_NOTIFICATION },
      };
    },

    /** 202, empty body, both polling headers; stopping a stopped session succeeds the same way (R1, docs). */
    stop(request: ArmRequest): ArmResponse {
      const { watcher, record } = captureOf(request);
      const failure = context.faults.lroFailure(request.operationId);
      // A failed stop leaves the session running, so only a stop that will succeed touches the recording.
      const { conclude } = failure ? { conclude: () => {} } : context.sessions.requestStop(record);
      const operation = context.operations.start({
        namespace: "Microsoft.Network",
        subscriptionId: record.subscriptionId,
        location: record.location,
        apiVersion: request.apiVersion,
        kind: "stop",
        resourceId: record.id,
        durationSeconds: context.timings.stopSeconds,
        failure,
        onSucceeded: conclude,
        finalResult: () => ({ status: 200, body: null }),
      });
      watcher.etag = newEtag();
      return { status: 202, headers: pollingHeaders(operation) };
    },

    /** 202 + both headers, Location ends in 204; a missing capture is 204 at once. The blob is left in place. */
    delete(request: ArmRequest): ArmResponse {
      const watcher = watcherOf(request);
      const record = context.captures.get(captureId(watcher, param(request, "packetCaptureName")));
      if (!record) return { status: 204 };
      const failure = context.faults.lroFailure(request.operationId);
      const stateBefore = record.provisioningState;
      record.provisioningState = "Deleting";
      if (!failure) context.sessions.stopForDelete(record);
      const operation = context.operations.start({
        namespace: "Microsoft.Network",
        subscriptionId: record.subscriptionId,
        location: record.location,
        apiVersion: request.apiVersion,
        kind: "delete",
        resourceId: record.id,
        durationSeconds: context.timings.deleteSeconds,
        failure,
        onSucceeded: () => {
          context.captures.remove(record.id);
          watcher.etag = newEtag();
        },
        onFailed: () => {
          record.provisioningState = stateBefore;
        },
        finalResult: () => ({ status: 204 }),
      });
      return { status: 202, headers: pollingHeaders(operation) };
    },
  };
}

/**
 * Tolerances of the real service applied before schema validation: protocol case, `continuousCapture: null`; and
 * before api-version 2024-05-01, whose PacketCapture has no `continuousCapture`, `captureSettings` or
 * `storageLocation.localPath`, those fields are dropped unread, as a resource provider drops properties its
 * api-version does not define (assumed: ARM does not reject unknown properties).
 */
function prepareBody(body: unknown, apiVersion: string): void {
  canonicaliseProtocols(body);
  const properties = (body as { properties?: Record<string, unknown> } | null)?.properties;
  if (!properties || typeof properties !== "object") return;
  if (properties["continuousCapture"] === null) delete properties["continuousCapture"];
  if (!hasContinuousCapture(apiVersion)) {
    delete properties["continuousCapture"];
    delete properties["captureSettings"];
    const location = properties["storageLocation"];
    if (location && typeof location === "object") delete (location as Record<string, unknown>)["localPath"];
  }
}

function capturePlan(accepted: AcceptedCaptureRequest, failure: CaptureFailure | undefined): CapturePlan {
  const { target } = accepted;
  const resource = target.kind === "vm" ? target.vm : target.scaleSet;
  return {
    target: {
      kind: target.kind,
      id: resource.id,
      name: resource.name,
      include: target.kind === "vmss" ? target.include : [],
      exclude: target.kind === "vmss" ? target.exclude : [],
    },
    filters: accepted.filters,
    bytesPerPacket: accepted.bytesPerPacket,
    totalBytes: accepted.totalBytes,
    timeLimitSeconds: accepted.timeLimitSeconds,
    uploadsToStorage: accepted.storageAccount !== undefined || Boolean(accepted.storagePath),
    ...(accepted.storagePath && { givenStoragePath: accepted.storagePath }),
    ...(failure !== undefined && { failure }),
    ...(accepted.continuous !== undefined && { continuous: accepted.continuous }),
  };
}

/** `storagePath` as the create response already reports it: as given, `""` for filePath only, else the default. */
function reportedStoragePath(accepted: AcceptedCaptureRequest, createdAt: Date, scaleSetForm: ScaleSetStoragePathForm): string {
  if (accepted.storagePath) return accepted.storagePath;
  if (!accepted.storageAccount) return "";
  const target = accepted.target;
  const resource = target.kind === "vm" ? target.vm : target.scaleSet;
  const blobName = defaultCaptureBlobName(
    { subscriptionId: resource.subscriptionId, resourceGroup: resource.resourceGroup, kind: target.kind, name: resource.name },
    createdAt,
  ).replace(/\.cap$/, "");
  // [assumed] A continuous capture's storagePath is the folder its ring files are uploaded into (no `.cap`).
  const suffix = accepted.continuous === undefined && (target.kind === "vm" || scaleSetForm === "cap") ? ".cap" : "";
  return `${blobEndpointFor(accepted.storageAccount.name, accepted.storageAccount.blobEndpoint)}${CAPTURE_CONTAINER}/${blobName}${suffix}`;
}
