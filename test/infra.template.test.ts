// infra/main.json, checked offline: the official deployment-template and resource-type schemas (vendored under
// infra/schemas/, see PROVENANCE.md), the ARM expression language, and a dry run of the deployment with azd-style
// parameters. infra/README.md says why this and not the Bicep compiler.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  INFRA_DIR,
  type JsonObject,
  REPO_ROOT,
  SAMPLE_ENV,
  SCHEMA_DIR,
  SchemaValidator,
  Simulator,
  TEST_SUBSCRIPTION,
  TEST_TENANT,
  azdParameters,
  isObject,
  mainParametersFile,
  mainTemplate,
  simulateAlertcap,
  staticProblems,
  templatesIn,
  toJson,
} from "./infraArm.js";

const schemas = new SchemaValidator();

function schemaProblems(template: JsonObject, file: string): string[] {
  const problems: string[] = [];
  for (const { path, template: t } of templatesIn(template, file)) {
    problems.push(...schemas.validateTemplate(t, path));
    const kind = String(t.$schema).includes("subscriptionDeploymentTemplate") ? "subscription" : "rg";
    const resources = Array.isArray(t.resources) ? t.resources : [];
    resources.forEach((r, i) => {
      if (isObject(r)) problems.push(...schemas.validateResource(r, "raw", kind, `${path} resources[${i}]`));
    });
  }
  return problems;
}

function deployedProblems(env: Record<string, string>, template?: JsonObject): string[] {
  let sim: Simulator;
  if (template) {
    sim = new Simulator();
    sim.run(template, { scope: { tenantId: TEST_TENANT, subscriptionId: TEST_SUBSCRIPTION, location: "westeurope" }, parameters: azdParameters(mainParametersFile(), env, template), file: "mutated" });
  } else ({ sim } = simulateAlertcap(env));
  const problems = [...sim.problems];
  for (const r of sim.resources) {
    const kind = r.scope.resourceGroup === undefined ? "subscription" : "rg";
    problems.push(...schemas.validateResource(toJson(r.evaluated) as JsonObject, "evaluated", kind, `${r.path} as deployed`));
  }
  return problems;
}

describe("infra/main.json against the official schemas", () => {
  it("reads the vendored schemas PROVENANCE.md records, byte for byte", () => {
    const provenance = readFileSync(join(SCHEMA_DIR, "PROVENANCE.md"), "utf8");
    const rows = [...provenance.matchAll(/^\| `schemas\/([^`]+)` \| `([0-9a-f]{40})` \| `([0-9a-f]{64})` \|$/gm)].map((m) => [m[1]!, m[3]!] as const);
    expect(rows.map(([path]) => path).sort()).toEqual([...schemas.files].sort());
    for (const [path, sha] of rows) expect(createHash("sha256").update(readFileSync(join(SCHEMA_DIR, path))).digest("hex"), path).toBe(sha);
  });

  it("every template section, parameter, output and resource base field matches the deployment template schemas", () => {
    const problems = templatesIn(mainTemplate(), "main.json").flatMap(({ path, template }) => schemas.validateTemplate(template, path));
    expect(problems).toEqual([]);
  });

  it("every resource, as written, matches the schema of its type and API version (misspelt properties included)", () => {
    expect(schemaProblems(mainTemplate(), "main.json")).toEqual([]);
  });

  it("deploys on paper, and every resource as deployed matches its schema", () => {
    expect(deployedProblems(SAMPLE_ENV)).toEqual([]);
  });

  it("deploys on paper with only the required settings and with every option on", () => {
    const minimal = { AZURE_ENV_NAME: "x", AZURE_LOCATION: "eastus2", ALERTCAP_ALLOWED_SCOPES: `/subscriptions/${TEST_SUBSCRIPTION}` };
    expect(deployedProblems(minimal)).toEqual([]);
    const everything = {
      ...SAMPLE_ENV,
      ALERTCAP_INSTALL_AGENT: "true",
      ALERTCAP_AAD_TENANT_ID: TEST_TENANT,
      ALERTCAP_AAD_AUDIENCES: "api://alertcap,00000000-0000-4000-8000-00000000abcd",
      ALERTCAP_NOTIFY_URLS: "https://hooks.slack.com/services/T/B/x",
      ALERTCAP_CAPTURE_FILTERS: '[{"protocol":"TCP","localPort":"443"}]',
    };
    expect(deployedProblems(everything)).toEqual([]);
  });

  it("deploys on paper with each durable backend, the deployer's data roles on and off", () => {
    expect(deployedProblems({ ...SAMPLE_ENV, ALERTCAP_DURABLE_BACKEND: "DurableTaskScheduler", AZURE_PRINCIPAL_ID: "00000000-0000-4000-8000-0000000000aa" })).toEqual([]);
    expect(deployedProblems({ ...SAMPLE_ENV, ALERTCAP_DURABLE_BACKEND: "DurableTaskScheduler", ALERTCAP_DTS_SKU: "Dedicated", ALERTCAP_NOTIFY_FROM_VAULT: "true" })).toEqual([]);
    expect(deployedProblems({ ...SAMPLE_ENV, ALERTCAP_DURABLE_BACKEND: "AzureStorage", AZURE_PRINCIPAL_ID: "00000000-0000-4000-8000-0000000000aa", ALERTCAP_DEPLOYER_DATA_ACCESS: "false" })).toEqual([]);
  });

  it("uses only ARM functions, declared parameters and variables, and copyIndex only inside loops", () => {
    expect(staticProblems(mainTemplate(), "main.json")).toEqual([]);
  });
});

describe("the checks catch what they claim to", () => {
  const mutate = (edit: (t: JsonObject) => void): JsonObject => {
    const t = mainTemplate();
    edit(t);
    return t;
  };
  const inner = (t: JsonObject): JsonObject => {
    const resources = t.resources as JsonObject[];
    const nested = resources.find((r) => r.type === "Microsoft.Resources/deployments" && !("condition" in r) && !("copy" in r))!;
    return (nested.properties as JsonObject).template as JsonObject;
  };
  const resourceOf = (t: JsonObject, type: string): JsonObject => (inner(t).resources as JsonObject[]).find((r) => r.type === type)!;

  it("a misspelt storage property", () => {
    const t = mutate((t) => {
      const props = resourceOf(t, "Microsoft.Storage/storageAccounts").properties as JsonObject;
      props.allowSharedKeyAcess = props.allowSharedKeyAccess!;
      delete props.allowSharedKeyAccess;
    });
    expect(schemaProblems(t, "mutated").join("\n")).toMatch(/allowSharedKeyAcess/);
  });

  it("a value outside the schema's enum, and a resource root property that does not exist", () => {
    const t = mutate((t) => {
      const storage = resourceOf(t, "Microsoft.Storage/storageAccounts");
      (storage.properties as JsonObject).minimumTlsVersion = "TLS1_9";
      storage.sku_name = "Standard_LRS";
    });
    const problems = schemaProblems(t, "mutated").join("\n");
    expect(problems).toMatch(/minimumTlsVersion.*allowed values|must be equal to one of the allowed values/);
    expect(problems).toMatch(/no property "sku_name"/);
  });

  it("an API version with no vendored schema", () => {
    const t = mutate((t) => {
      resourceOf(t, "Microsoft.Web/serverfarms").apiVersion = "2019-08-01";
    });
    expect(schemaProblems(t, "mutated").join("\n")).toMatch(/no vendored schema for Microsoft.Web\/serverfarms@2019-08-01/);
  });

  it("an unknown function, an undeclared parameter or variable, copyIndex outside a loop", () => {
    const t = mutate((t) => {
      const storage = resourceOf(t, "Microsoft.Storage/storageAccounts");
      storage.location = "[resourceGroupLocation()]";
      storage.tags = "[parameters('tagz')]";
      storage.kind = "[variables('kinds')[copyIndex()]]";
    });
    const problems = staticProblems(t, "mutated").join("\n");
    expect(problems).toMatch(/resourceGroupLocation\(\) is not an ARM template function/);
    expect(problems).toMatch(/parameters\('tagz'\) is not declared/);
    expect(problems).toMatch(/variables\('kinds'\) is not declared/);
    expect(problems).toMatch(/copyIndex\(\) outside a copy loop/);
  });

  it("an expression that does not parse", () => {
    const t = mutate((t) => {
      resourceOf(t, "Microsoft.Web/serverfarms").name = "[format('plan-{0}', parameters('resourceToken')]";
    });
    expect(staticProblems(t, "mutated").join("\n")).toMatch(/expected "\)"/);
  });

  it("a dependsOn that names nothing, and a reference() without the dependency", () => {
    const t = mutate((t) => {
      const site = resourceOf(t, "Microsoft.Web/sites");
      site.dependsOn = ["[resourceId('Microsoft.Web/serverfarms', 'no-such-plan')]"];
    });
    const sim = new Simulator();
    sim.run(t, {
      scope: { tenantId: TEST_TENANT, subscriptionId: TEST_SUBSCRIPTION, location: "westeurope" },
      parameters: azdParameters(mainParametersFile(), SAMPLE_ENV, t),
      file: "mutated",
    });
    const problems = sim.problems.join("\n");
    expect(problems).toMatch(/dependsOn .*serverfarms\/no-such-plan matches no resource/);
    expect(problems).toMatch(/reference\(.*storageAccounts\/st[a-z0-9]+\) without depending on that resource/);
  });

  it("a deployed value the schema refuses, though its expression is fine (a storage account name with a hyphen)", () => {
    const t = mutate((t) => {
      (inner(t).variables as JsonObject).taskHubStorageName = "[format('st-{0}', parameters('resourceToken'))]";
    });
    expect(schemaProblems(t, "mutated")).toEqual([]);
    expect(deployedProblems(SAMPLE_ENV, t).join("\n")).toMatch(/storageAccounts.*\/name: must match pattern "\^\[a-z0-9\]\+\$"|\/name: must match pattern/);
  });

  it("a parameter value outside its declared range", () => {
    const { sim } = simulateAlertcap({ ...SAMPLE_ENV, ALERTCAP_CAPTURE_SECONDS: "18001" });
    expect(sim.problems.join("\n")).toMatch(/parameter captureSeconds must be at most 18000/);
  });
});

describe("infra/main.parameters.json (what azd passes)", () => {
  const file = mainParametersFile();
  const template = mainTemplate();
  const declared = template.parameters as JsonObject;
  const given = file.parameters as JsonObject;

  it("matches the official parameters-file schema", () => {
    expect(schemas.validateParametersFile(file, "main.parameters.json")).toEqual([]);
  });

  it("passes every template parameter alertcap documents, and only declared ones", () => {
    expect(Object.keys(given).filter((name) => !(name in declared))).toEqual([]);
    const required = Object.entries(declared).filter(([, spec]) => isObject(spec) && !("defaultValue" in spec)).map(([name]) => name);
    expect(required.filter((name) => !(name in given))).toEqual([]);
  });

  it("falls back to the template's own defaults when the azd environment sets nothing", () => {
    const parameters = azdParameters(file, {}, template);
    for (const [name, spec] of Object.entries(declared)) {
      if (!isObject(spec) || !("defaultValue" in spec) || !(name in parameters)) continue;
      expect({ name, value: parameters[name] }).toEqual({ name, value: spec.defaultValue });
    }
  });
});

describe("outputs", () => {
  const template = mainTemplate();

  it("never carry a key, a secret or a secure parameter", () => {
    const outputs = templatesIn(template, "main.json").flatMap(({ path, template: t }) =>
      Object.entries(isObject(t.outputs) ? t.outputs : {}).map(([name, o]) => ({ path: `${path} outputs.${name}`, name, text: JSON.stringify(o), t })),
    );
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) {
      const secure = Object.entries(isObject(o.t.parameters) ? o.t.parameters : {})
        .filter(([, spec]) => isObject(spec) && /^secure/i.test(String(spec.type)))
        .map(([name]) => name);
      expect(o.text, o.path).not.toMatch(/\blist[A-Za-z]*\(/);
      expect(o.text, o.path).not.toMatch(/host\/default|functionKeys|masterKey|publishingcredentials/i);
      expect(o.name, o.path).not.toMatch(/key|secret|password|connectionstring|sas|token/i);
      expect(o.text, o.path).not.toMatch(/"type":\s*"secure/i);
      for (const name of secure) expect(o.text, o.path).not.toContain(`parameters('${name}')`);
    }
  });

  it("as deployed, hold names, IDs and the webhook URL without its key", () => {
    const { main } = simulateAlertcap();
    const values = Object.values(main.outputs).map((v) => JSON.stringify(toJson(v)));
    expect(values.join("\n")).not.toMatch(/code=|AccountKey=|SharedAccessSignature|sig=/i);
    expect(String(toJson(main.outputs.ALERTCAP_WEBHOOK_URL!))).toMatch(/^https:\/\/.+\/api\/alerts$/);
  });
});

describe("infra/main.bicep, the entry point azd compiles", () => {
  it("is generated from main.json (parameters, decorators, module, outputs)", async () => {
    const { renderBicepShim } = await import("./infraBicep.js");
    const rendered = renderBicepShim(mainTemplate());
    const path = join(INFRA_DIR, "main.bicep");
    if (process.env.ALERTCAP_WRITE_BICEP_SHIM === "1") (await import("node:fs")).writeFileSync(path, rendered);
    expect(readFileSync(path, "utf8"), "regenerate: ALERTCAP_WRITE_BICEP_SHIM=1 npx vitest run dist/test/infra.template").toBe(rendered);
  });

  it("azure.yaml deploys this folder as a Node Function App with infra/main", () => {
    const yaml = readFileSync(join(REPO_ROOT, "azure.yaml"), "utf8");
    expect(yaml).toMatch(/^name: alertcap$/m);
    expect(yaml).toMatch(/^\s+host: function$/m);
    expect(yaml).toMatch(/^\s+project: \.$/m);
    expect(yaml).toMatch(/^\s+language: (js|ts)$/m);
    expect(yaml).toMatch(/^\s+provider: bicep$/m);
    expect(yaml).toMatch(/^\s+path: infra$/m);
    expect(yaml).toMatch(/^\s+module: main$/m);
  });
});
