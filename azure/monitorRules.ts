// The Azure adapter of `alertcap setup-alert`: puts action groups and metric alert rules in place through
// @azure/arm-monitor 8 (actionGroups api-version 2024-10-01-preview, metricAlerts 2026-01-01), and lists a resource
// group's VMs through @azure/arm-compute.
//
// Idempotent: each resource is read first and written only when a field setup-alert sets differs, so a re-run reports
// "unchanged" and touches nothing. The comparison works on the wire bodies (the raw JSON GET answered, taken from the
// SDK's `onResponse`), the same shape the domain builds and --dry-run prints.

import type { ActionGroupResource, MetricAlertCriteriaUnion, MetricAlertResource } from "@azure/arm-monitor";
import type { CaptureTarget } from "../domain/alerts/armId.js";
import type { ActionGroupBody } from "../domain/alertRule/actionGroupBody.js";
import { bodyDifferences } from "../domain/alertRule/bodyDifferences.js";
import type { MetricAlertBody } from "../domain/alertRule/metricAlertBody.js";
import type { ResourceGroupRef } from "../domain/alertRule/resourceGroupId.js";
import { insightsResourceId, type PlannedActionGroup, type PlannedMetricAlert } from "../domain/alertRule/setupPlan.js";
import { armClients, monitorClient } from "./armClients.js";
import { armEndpoint } from "./endpoints.js";

/** The api-versions @azure/arm-monitor 8.0.0 sends (shared/azure-specs/monitor/PROVENANCE.md). */
export const MONITOR_API_VERSIONS = { actionGroups: "2024-10-01-preview", metricAlerts: "2026-01-01" } as const;

export type ApplyOutcome = "created" | "updated" | "unchanged";

export interface AppliedResource {
  readonly kind: "actionGroup" | "metricAlert";
  readonly id: string;
  readonly outcome: ApplyOutcome;
  /** For "updated": the paths that differed (never their values: the webhook URL is a secret). */
  readonly changed: readonly string[];
}

export interface PutRequest {
  readonly method: "PUT";
  readonly url: string;
  readonly body: ActionGroupBody | MetricAlertBody;
}

/** An Azure call that failed, in one sentence: which call, ARM's status, code and message. */
export class AzureCallError extends Error {
  readonly statusCode: number | undefined;

  constructor(call: string, cause: unknown) {
    const details = describeRestError(cause);
    super(`${call} failed: ${details.text}`);
    this.name = "AzureCallError";
    this.statusCode = details.statusCode;
  }
}

/** The request the SDK sends to create or update a planned resource (method, URL with api-version, body). */
export function putRequestFor(resource: PlannedActionGroup | PlannedMetricAlert): PutRequest {
  const type = resource.kind === "actionGroup" ? "actionGroups" : "metricAlerts";
  // The SDK's URL template: lower-case `resourcegroups`, each path parameter percent-encoded.
  const path =
    `/subscriptions/${encodeURIComponent(resource.subscriptionId)}/resourcegroups/${encodeURIComponent(resource.resourceGroup)}` +
    `/providers/Microsoft.Insights/${type}/${encodeURIComponent(resource.name)}`;
  return { method: "PUT", url: `${armEndpoint()}${path}?api-version=${MONITOR_API_VERSIONS[type]}`, body: resource.body };
}

export async function applyActionGroup(planned: PlannedActionGroup): Promise<AppliedResource> {
  const operations = monitorClient(planned.subscriptionId).actionGroups;
  const id = insightsResourceId(planned, "actionGroups");
  const current = await currentBody(`GET action group ${planned.name}`, (options) =>
    operations.get(planned.resourceGroup, planned.name, options),
  );
  const plan = decide(planned.body, current);
  if (plan.outcome !== "unchanged") {
    await call(`PUT action group ${planned.name}`, () =>
      operations.createOrUpdate(planned.resourceGroup, planned.name, sdkActionGroup(planned.body)),
    );
  }
  return { kind: "actionGroup", id, ...plan };
}

export async function applyMetricAlert(planned: PlannedMetricAlert): Promise<AppliedResource> {
  const operations = monitorClient(planned.subscriptionId).metricAlerts;
  const id = insightsResourceId(planned, "metricAlerts");
  const current = await currentBody(`GET metric alert ${planned.name}`, (options) =>
    operations.get(planned.resourceGroup, planned.name, options),
  );
  const plan = decide(planned.body, current);
  if (plan.outcome !== "unchanged") {
    await call(`PUT metric alert ${planned.name}`, () =>
      operations.createOrUpdate(planned.resourceGroup, planned.name, sdkMetricAlert(planned.body)),
    );
  }
  return { kind: "metricAlert", id, ...plan };
}

/** The IDs of the VMs in a resource group (scale sets are not included). */
export async function listVirtualMachineIds(ref: ResourceGroupRef): Promise<string[]> {
  return call(`list the VMs of resource group ${ref.resourceGroup}`, async () => {
    const ids: string[] = [];
    for await (const vm of armClients(ref.subscriptionId).compute.virtualMachines.list(ref.resourceGroup)) {
      if (vm.id) ids.push(vm.id);
    }
    return ids;
  });
}

/** Fails with ARM's not-found error when the VM does not exist (before anything is created for it). */
export async function assertVirtualMachineExists(vm: CaptureTarget): Promise<void> {
  await call(`GET VM ${vm.name}`, () => armClients(vm.subscriptionId).compute.virtualMachines.get(vm.resourceGroup, vm.name));
}

function decide(desired: unknown, current: unknown): { outcome: ApplyOutcome; changed: string[] } {
  if (current === undefined) return { outcome: "created", changed: [] };
  const changed = bodyDifferences(desired, current);
  return { outcome: changed.length === 0 ? "unchanged" : "updated", changed };
}

type RawGetOptions = { onResponse: (response: { parsedBody?: unknown }) => void };

/** The resource's body as GET answered it (raw JSON), or undefined when it does not exist. */
async function currentBody(what: string, get: (options: RawGetOptions) => Promise<unknown>): Promise<unknown> {
  let body: unknown;
  try {
    await get({ onResponse: (response) => (body = response.parsedBody) });
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw new AzureCallError(what, error);
  }
  return body;
}

async function call<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new AzureCallError(what, error);
  }
}

// The SDK models flatten `properties` and spell `odata.type` as `odataType`; their serializers write the wire body
// back exactly (checked by test/setupAlert.emulator.test.ts against what the emulator received).

function sdkActionGroup(body: ActionGroupBody): ActionGroupResource {
  return { location: body.location, ...body.properties };
}

function sdkMetricAlert(body: MetricAlertBody): MetricAlertResource {
  const { criteria, ...properties } = body.properties;
  // One branch per criteria type, so that each keeps the criterion type the SDK's union pairs it with.
  const sdkCriteria: MetricAlertCriteriaUnion =
    criteria["odata.type"] === "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria"
      ? { odataType: criteria["odata.type"], allOf: criteria.allOf.map((criterion) => ({ ...criterion })) }
      : { odataType: criteria["odata.type"], allOf: criteria.allOf.map((criterion) => ({ ...criterion })) };
  return { location: body.location, ...properties, criteria: sdkCriteria };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** "404 ResourceNotFound: The Resource … was not found." from a RestError (its `details` is ARM's parsed error body). */
function describeRestError(error: unknown): { text: string; statusCode: number | undefined } {
  const statusCode = statusOf(error);
  const details = (error as { details?: unknown } | null)?.details as
    | { error?: { code?: string; message?: string }; code?: string; message?: string }
    | undefined;
  const code = details?.error?.code ?? details?.code ?? (error as { code?: unknown } | null)?.code;
  const fallback = error instanceof Error ? error.message : String(error);
  // The paging helper's own text ("Pagination failed with unexpected statusCode 404") says less than ARM's code.
  const message = details?.error?.message ?? details?.message ?? (/^Pagination failed/.test(fallback) && typeof code === "string" ? "" : fallback);
  const label = typeof code === "string" ? (message === "" ? code : `${code}:`) : undefined;
  const parts = [statusCode === undefined ? undefined : String(statusCode), label, message];
  return { text: parts.filter((part) => part !== undefined && part !== "").join(" ").replace(/\s+/g, " ").trim(), statusCode };
}
