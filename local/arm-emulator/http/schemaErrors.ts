// ajv findings in ARM's words: the offending property path as ARM clients print it (`properties.filters[0].protocol`)
// and a short sentence. Shared by every request validator of the emulator (packet captures, Monitor resources).

import type { ErrorObject } from "ajv";

/** `/properties/filters/0/protocol` → `properties.filters[0].protocol`; a missing property is appended. */
export function schemaErrorPath(error: ErrorObject): string {
  const parts = error.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "required") parts.push(String(error.params["missingProperty"]));
  let path = "";
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path === "" ? part : `.${part}`;
  return path === "" ? "(body)" : path;
}

export function schemaErrorMessage(error: ErrorObject): string {
  switch (error.keyword) {
    case "required":
      return "is required.";
    case "enum":
      return `must be one of ${(error.params["allowedValues"] as unknown[]).map((v) => `'${String(v)}'`).join(", ")}.`;
    case "type":
      return `must be of type ${String(error.params["type"])}.`;
    default:
      return `${error.message ?? "is invalid"}.`;
  }
}
