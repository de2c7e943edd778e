// Validates packet-capture bodies against the official swagger definitions (a copy of
// shared/azure-specs/packetcapture-schema.json, api-version 2026-01-01) with ajv, and turns ajv's findings into an
// ARM-style 400 that names the offending property path.

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import schemaDocument from "./packetcapture-schema.json" with { type: "json" };
import { invalidCaptureRequest, type ArmError } from "../http/armErrors.js";
import { schemaErrorMessage as errorMessage, schemaErrorPath as errorPath } from "../http/schemaErrors.js";

export type SchemaDefinitionName = keyof typeof schemaDocument.definitions;

const ajv = new Ajv({ strict: false, allErrors: true });
// Swagger's integer formats are not JSON Schema formats; give them their meaning instead of ignoring them.
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
addFormatsModule.default(ajv, ["date-time", "uri"]);
ajv.addSchema({ $id: "packetcapture", definitions: withImplicitObjectTypes(schemaDocument.definitions) });

const validators = new Map<string, ValidateFunction>();

/**
 * Swagger tooling treats a definition with `properties` as an object even without `"type": "object"`; JSON Schema
 * does not (`required` is then ignored for a string). Make that implicit type explicit, on a copy.
 */
function withImplicitObjectTypes(definitions: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(definitions) as Record<string, Record<string, unknown>>;
  for (const definition of Object.values(copy)) {
    if (definition["properties"] !== undefined && definition["type"] === undefined) definition["type"] = "object";
  }
  return copy;
}

function validatorFor(definition: SchemaDefinitionName): ValidateFunction {
  let validator = validators.get(definition);
  if (!validator) {
    validator = ajv.compile({ $ref: `packetcapture#/definitions/${definition}` });
    validators.set(definition, validator);
  }
  return validator;
}

/** Problems of `value` against a schema definition, as `path message` strings (empty when valid). */
export function schemaProblems(definition: SchemaDefinitionName, value: unknown): string[] {
  const validate = validatorFor(definition);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((error) => `${errorPath(error)} ${errorMessage(error)}`);
}

/** Throws a 400 for the first schema violation of a PUT body (all of them are listed in `details`). */
export function assertValidPacketCaptureBody(body: unknown): void {
  const validate = validatorFor("PacketCapture");
  if (validate(body)) return;
  const errors = validate.errors ?? [];
  const [first] = errors;
  if (!first) return;
  throw toArmError(first, errors);
}

function toArmError(first: ErrorObject, all: ErrorObject[]): ArmError {
  const details = all.map((error) => ({
    code: "InvalidJson",
    message: `'${errorPath(error)}' ${errorMessage(error)}`,
    target: errorPath(error),
  }));
  return invalidCaptureRequest(errorPath(first), errorMessage(first), details);
}
