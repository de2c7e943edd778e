// infra/main.bicep is generated from infra/main.json: azd's Bicep provider only starts from a .bicep file, and an ARM
// JSON template is a valid Bicep module. Rendering the shim from the template (instead of writing it by hand) keeps
// the two in sync by construction, and keeps the Bicep we cannot compile here down to a few regular shapes.
import { type Json, type JsonObject, isObject } from "./infraArm.js";

const quote = (s: string): string => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\$\{/g, "\\${").replace(/\n/g, "\\n")}'`;

function literal(value: Json, indent: string): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `${indent}  ${literal(v, `${indent}  `)}`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${indent}  ${/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : quote(k)}: ${literal(v, `${indent}  `)}`).join("\n")}\n${indent}}`;
}

const BICEP_TYPE: Record<string, string> = { string: "string", securestring: "string", int: "int", bool: "bool", array: "array", object: "object", secureobject: "object" };

export function renderBicepShim(template: JsonObject): string {
  const parameters = (isObject(template.parameters) ? template.parameters : {}) as Record<string, JsonObject>;
  const outputs = (isObject(template.outputs) ? template.outputs : {}) as Record<string, JsonObject>;
  const lines: string[] = [
    "// GENERATED from main.json by test/infraBicep.ts: do not edit. Regenerate with",
    "//   ALERTCAP_WRITE_BICEP_SHIM=1 npx vitest run dist/test/infra.template",
    "// azd compiles a .bicep entry point; everything alertcap deploys is in main.json (validated offline in CI, see",
    "// README.md), which this file deploys as a module with the same parameters and outputs.",
    "targetScope = 'subscription'",
    "",
  ];
  for (const [name, spec] of Object.entries(parameters)) {
    const type = String(spec.type).toLowerCase();
    const metadata = isObject(spec.metadata) ? { ...spec.metadata } : {};
    const description = metadata.description;
    delete metadata.description;
    if (typeof description === "string") lines.push(`@description(${quote(description)})`);
    if (Object.keys(metadata).length > 0) lines.push(`@metadata(${literal(metadata, "")})`);
    if (type.startsWith("secure")) lines.push("@secure()");
    for (const key of ["minLength", "maxLength", "minValue", "maxValue"] as const) {
      if (typeof spec[key] === "number") lines.push(`@${key}(${spec[key]})`);
    }
    if (Array.isArray(spec.allowedValues)) lines.push(`@allowed(${literal(spec.allowedValues, "")})`);
    const bicepType = BICEP_TYPE[type];
    if (!bicepType) throw new Error(`parameter ${name}: type ${String(spec.type)} has no Bicep equivalent here`);
    lines.push(`param ${name} ${bicepType}${"defaultValue" in spec ? ` = ${literal(spec.defaultValue!, "")}` : ""}`, "");
  }
  lines.push("module alertcap 'main.json' = {", "  name: take('alertcap-${environmentName}', 64)", "  params: {");
  for (const name of Object.keys(parameters)) lines.push(`    ${name}: ${name}`);
  lines.push("  }", "}", "");
  for (const [name, spec] of Object.entries(outputs)) {
    const type = BICEP_TYPE[String(spec.type).toLowerCase()];
    if (!type || String(spec.type).toLowerCase().startsWith("secure")) throw new Error(`output ${name}: type ${String(spec.type)} is not allowed`);
    lines.push(`output ${name} ${type} = alertcap.outputs.${name}`);
  }
  return `${lines.join("\n")}\n`;
}
