// Validates Microsoft.Insights PUT bodies against the official definitions (a byte-for-byte copy of
// shared/azure-specs/monitor/monitor-schema.json: metricAlert.json 2026-01-01, actionGroups.json 2024-10-01-preview and
// the common types) with ajv, and turns ajv's findings into an ARM-style 400 naming the offending property path.
//
// Metric alerts are checked against `Validation.MetricAlertResource`, the schema's if/then expression of the swagger
// discriminators (`odata.type`, `criterionType`): against the raw `MetricAlertResource` a static criterion without a
// threshold would pass, because JSON Schema validators ignore swagger's `discriminator`.

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import schemaDocument from "./monitor-schema.json" with { type: "json" };
import { invalidMonitorRequest } from "../http/armErrors.js";
import { schemaErrorMessage, schemaErrorPath } from "../http/schemaErrors.js";

export type MonitorDefinitionName = keyof typeof schemaDocument.definitions;

/** What each Monitor PUT body is validated against. */
export const METRIC_ALERT_DEFINITION: MonitorDefinitionName = "Validation.MetricAlertResource";
export const ACTION_GROUP_DEFINITION: MonitorDefinitionName = "ActionGroupResource";

const ajv = new Ajv({ strict: false, allErrors: true });
// Swagger's number formats are not JSON Schema formats; give them their meaning instead of ignoring them.
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addFormat("float", { type: "number", validate: (n: number) => Number.isFinite(n) });
ajv.addFormat("double", { type: "number", validate: (n: number) => Number.isFinite(n) });
// `arm-id` only appears on the read-only `id` of a resource; any absolute ARM path will do.
ajv.addFormat("arm-id", { type: "string", validate: (id: string) => id.startsWith("/") });
addFormatsModule.default(ajv, ["date-time", "duration", "uuid"]);
ajv.addSchema({ $id: "monitor", definitions: schemaDocument.definitions });

const validators = new Map<string, ValidateFunction>();

function validatorFor(definition: MonitorDefinitionName): ValidateFunction {
  let validator = validators.get(definition);
  if (!validator) {
    validator = ajv.compile({ $ref: `monitor#/definitions/${definition}` });
    validators.set(definition, validator);
  }
  return validator;
}

/** Problems of `value` against a Monitor schema definition, as `path message` strings (empty when valid). */
export function monitorSchemaProblems(definition: MonitorDefinitionName, value: unknown): string[] {
  const validate = validatorFor(definition);
  if (validate(value)) return [];
  return specificErrors(validate.errors ?? []).map((error) => `${schemaErrorPath(error)} ${schemaErrorMessage(error)}`);
}

/** Throws a 400 naming the first schema violation of a PUT body (all of them are listed in `details`). */
export function assertValidMonitorBody(definition: MonitorDefinitionName, body: unknown): void {
  const validate = validatorFor(definition);
  if (validate(body)) return;
  const errors = specificErrors(validate.errors ?? []);
  const [first] = errors;
  if (!first) return;
  const details = errors.map((error) => ({
    code: "InvalidJson",
    message: `'${schemaErrorPath(error)}' ${schemaErrorMessage(error)}`,
    target: schemaErrorPath(error),
  }));
  throw invalidMonitorRequest(schemaErrorPath(first), schemaErrorMessage(first), details);
}

/**
 * The discriminator wrappers add an `if` error ("must match "then" schema") on top of the violation that caused it;
 * the violation itself is what a client needs to see. The deepest path first: it is the most precise.
 */
function specificErrors(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((error) => error.keyword !== "if");
  const chosen = specific.length > 0 ? specific : errors;
  const depth = (error: ErrorObject) => schemaErrorPath(error).split(/[.[]/).length;
  return [...chosen].sort((a, b) => depth(b) - depth(a));
}
