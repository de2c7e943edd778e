// `alertcap setup-alert`: creates (or brings up to date) the action group that calls the alertcap webhook and one
// metric alert rule per VM that fires it. Idempotent: a re-run reports each resource "unchanged" and writes nothing.
// Exit 0 when done; 2 with one line on stderr for bad arguments; 1 with one line for an Azure error.
//
// The webhook URL carries the function key (`?code=`): nothing is printed without it masked as `code=***`.
// ALERTCAP_ARM_ENDPOINT / ALERTCAP_ARM_CA_CERT point it at the local ARM emulator, as they do the app.

import { parseCaptureTarget, type CaptureTarget, isResourceGroupName } from "../domain/alerts/armId.js";
import { DEFAULT_ACTION_GROUP_NAME, type SecureWebhookSettings } from "../domain/alertRule/actionGroupBody.js";
import { parseResourceGroupId, type ResourceGroupRef } from "../domain/alertRule/resourceGroupId.js";
import {
  DYNAMIC_OPERATORS,
  DYNAMIC_WINDOW_SIZES,
  EVALUATION_FREQUENCIES,
  resolveRuleSettings,
  RuleSettingsError,
  type RuleSettings,
  type RuleSettingsInput,
  SENSITIVITIES,
  STATIC_OPERATORS,
  WINDOW_SIZES,
} from "../domain/alertRule/ruleSettings.js";
import { isActionGroupName, setupPlan, type SetupPlan } from "../domain/alertRule/setupPlan.js";
import { AGGREGATIONS, VM_METRICS, type VmMetric } from "../domain/alertRule/vmMetrics.js";
import { checkWebhookUrl, maskWebhookSecrets } from "../domain/alertRule/webhookUrl.js";

const COMMAND = "alertcap setup-alert";

const HELP = `usage: ${COMMAND} --webhook-url URL (--vm VM_ID | --resource-group RG_ID) [options]

Creates or updates the action group that calls the alertcap webhook, and a metric alert rule per VM that fires it.
Re-running is safe: what already matches is reported "unchanged" and left alone.

  --webhook-url URL          the alertcap webhook with its function key (https://<app>/api/alerts?code=<key>)
  --vm VM_ID                 one VM: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>
  --resource-group RG_ID     every VM of a resource group: /subscriptions/<id>/resourceGroups/<rg> (one rule each)
  --action-group-rg RG       resource group of the action group (default: the VMs' resource group)
  --action-group-name NAME   default ${DEFAULT_ACTION_GROUP_NAME}
  --metric NAME              default "Network Out Total"; one of (aggregation, default threshold: what it shows):
${VM_METRICS.filter((m) => !m.replacedBy)
  .map((m) => `                               "${m.name}" (${m.primaryAggregation}, ${thresholdText(m)}: ${m.meaning})`)
  .join("\n")}
  --skip-metric-validation   allow a metric not listed (guest/custom) and let Azure accept it before it is emitted
  --metric-namespace NS      default Microsoft.Compute/virtualMachines (guest metrics: Azure.VM.Linux.GuestMetrics, ...)
  --operator OP              default GreaterThan; static: ${STATIC_OPERATORS.join(", ")};
                             with --dynamic: ${DYNAMIC_OPERATORS.join(", ")}
  --threshold N              static threshold; default per metric (above: byte totals scale with --window, so
                             Network In/Out Total default to 1,000,000,000 bytes in PT5M)
  --dynamic                  a dynamic threshold learnt from the metric's history instead of --threshold
  --sensitivity S            with --dynamic: ${SENSITIVITIES.join(", ")} (default Medium)
  --aggregation A            ${AGGREGATIONS.join(", ")} (default: the metric's own)
  --window D                 ${WINDOW_SIZES.join(", ")} (default PT5M);
                             with --dynamic: ${DYNAMIC_WINDOW_SIZES.join(", ")}
  --frequency D              ${EVALUATION_FREQUENCIES.join(", ")} (default PT1M), not longer than --window
  --severity N               0 (critical) to 4 (verbose), default 2
  --aad-tenant-id T --aad-object-id O --aad-identifier-uri U
                             make it a Secure webhook (Microsoft Entra ID): all three together
  --dry-run                  print the PUT requests (method, URL, JSON body, key masked) and change nothing; reads
                             nothing from Azure but the VM list of --resource-group
  -h, --help                 this text

Rules are named alertcap-<vm>-<metric> and live in the VM's resource group; they auto-resolve, so alertcap stops the
capture when the alert resolves.`;

const VALUE_OPTIONS = [
  "--webhook-url",
  "--vm",
  "--resource-group",
  "--action-group-rg",
  "--action-group-name",
  "--metric",
  "--metric-namespace",
  "--operator",
  "--threshold",
  "--sensitivity",
  "--aggregation",
  "--window",
  "--frequency",
  "--severity",
  "--aad-tenant-id",
  "--aad-object-id",
  "--aad-identifier-uri",
] as const;
const FLAG_OPTIONS = ["--dynamic", "--dry-run", "--skip-metric-validation"] as const;

type ValueOption = (typeof VALUE_OPTIONS)[number];
type FlagOption = (typeof FLAG_OPTIONS)[number];

interface SetupArguments {
  webhookUrl: string;
  target: { kind: "vm"; vm: CaptureTarget } | { kind: "resourceGroup"; ref: ResourceGroupRef };
  actionGroupResourceGroup: string | undefined;
  actionGroupName: string;
  secureWebhook: SecureWebhookSettings | undefined;
  settings: RuleSettings;
  dryRun: boolean;
}

class UsageError extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const setupAlert = {
  run: async (args: string[]): Promise<number> => {
    if (args.includes("--help") || args.includes("-h")) {
      console.log(HELP);
      return 0;
    }
    let parsed: SetupArguments;
    try {
      parsed = parseArguments(args);
    } catch (error) {
      if (error instanceof UsageError || error instanceof RuleSettingsError) {
        // Bad arguments may include the webhook URL itself: mask before echoing anything.
        process.stderr.write(`${COMMAND}: ${oneLine(maskWebhookSecrets(error.message))} (see --help)\n`);
        return 2;
      }
      throw error;
    }
    const mask = (text: string) => maskWebhookSecrets(text, parsed.webhookUrl);
    try {
      return await setUp(parsed, (line) => process.stdout.write(`${mask(line)}\n`));
    } catch (error) {
      process.stderr.write(`${COMMAND}: ${oneLine(mask(error instanceof Error ? error.message : String(error)))}\n`);
      return 1;
    }
  },
};

async function setUp(args: SetupArguments, print: (line: string) => void): Promise<number> {
  // Loaded only now: bad arguments are answered without paying for the Azure SDKs.
  const azure = await import("../azure/monitorRules.js");
  const vms = await targetVms(args, azure);
  const [first] = vms;
  if (!first) {
    throw new Error(
      args.target.kind === "resourceGroup" ? `resource group ${args.target.ref.resourceGroup} has no virtual machines` : "no VM to set up",
    );
  }
  const plan: SetupPlan = setupPlan({
    webhookUrl: args.webhookUrl,
    ...(args.secureWebhook !== undefined && { secureWebhook: args.secureWebhook }),
    actionGroup: { resourceGroup: args.actionGroupResourceGroup ?? first.resourceGroup, name: args.actionGroupName },
    settings: args.settings,
    vms,
  });

  if (args.dryRun) {
    for (const resource of [plan.actionGroup, ...plan.metricAlerts]) {
      const request = azure.putRequestFor(resource);
      print(`${request.method} ${request.url}`);
      print(JSON.stringify(request.body, null, 2));
      print("");
    }
    print(`dry run: ${1 + plan.metricAlerts.length} requests shown, nothing was created or changed`);
    return 0;
  }

  print(describe(await azure.applyActionGroup(plan.actionGroup)));
  for (const rule of plan.metricAlerts) print(describe(await azure.applyMetricAlert(rule)));
  return 0;
}

/** The VMs to watch: the one named (checked to exist before anything is created), or those the resource group holds. */
async function targetVms(args: SetupArguments, azure: typeof import("../azure/monitorRules.js")): Promise<CaptureTarget[]> {
  if (args.target.kind === "vm") {
    if (!args.dryRun) await azure.assertVirtualMachineExists(args.target.vm);
    return [args.target.vm];
  }
  const ids = await azure.listVirtualMachineIds(args.target.ref);
  return ids.map((id) => {
    const parsed = parseCaptureTarget(id);
    if (!parsed.ok) throw new Error(`Azure listed a VM whose ID alertcap cannot use: ${parsed.error}`);
    return parsed.target;
  });
}

function thresholdText(metric: VmMetric): string {
  const { value, perWindowMinute } = metric.defaultThreshold;
  return `${value.toLocaleString("en-US")}${perWindowMinute ? " per minute of window" : ""}`;
}

function describe(applied: { kind: "actionGroup" | "metricAlert"; id: string; outcome: string; changed: readonly string[] }): string {
  const what = applied.kind === "actionGroup" ? "action group" : "metric alert";
  const changed = applied.changed.length > 0 ? ` (changed: ${applied.changed.join(", ")})` : "";
  return `${applied.outcome.padEnd(9)} ${what.padEnd(12)} ${applied.id}${changed}`;
}

function parseArguments(args: string[]): SetupArguments {
  const values = new Map<ValueOption, string>();
  const flags = new Set<FlagOption>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const equals = arg.indexOf("=");
    const name = arg.startsWith("--") && equals > 0 ? arg.slice(0, equals) : arg;
    const inlineValue = arg.startsWith("--") && equals > 0 ? arg.slice(equals + 1) : undefined;
    if (isOneOf(name, FLAG_OPTIONS)) {
      if (inlineValue !== undefined) throw new UsageError(`${name} takes no value`);
      flags.add(name);
    } else if (isOneOf(name, VALUE_OPTIONS)) {
      const value = inlineValue ?? args[++i];
      if (value === undefined || (inlineValue === undefined && value.startsWith("--"))) throw new UsageError(`${name} needs a value`);
      if (values.has(name)) throw new UsageError(`${name} is given twice`);
      values.set(name, value);
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${name}`);
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }

  const webhook = values.get("--webhook-url");
  if (webhook === undefined) throw new UsageError("--webhook-url is required");
  const checkedWebhook = checkWebhookUrl(webhook);
  if (!checkedWebhook.ok) throw new UsageError(checkedWebhook.error);

  const settingsInput: RuleSettingsInput = { dynamic: flags.has("--dynamic"), skipMetricValidation: flags.has("--skip-metric-validation") };
  const text = (option: ValueOption, key: "metric" | "metricNamespace" | "operator" | "sensitivity" | "aggregation" | "windowSize" | "evaluationFrequency") => {
    const value = values.get(option);
    if (value !== undefined) settingsInput[key] = value;
  };
  text("--metric", "metric");
  text("--metric-namespace", "metricNamespace");
  text("--operator", "operator");
  text("--sensitivity", "sensitivity");
  text("--aggregation", "aggregation");
  text("--window", "windowSize");
  text("--frequency", "evaluationFrequency");
  const threshold = values.get("--threshold");
  if (threshold !== undefined) settingsInput.threshold = numberOption("--threshold", threshold);
  const severity = values.get("--severity");
  if (severity !== undefined) {
    if (!/^\d+$/.test(severity.trim())) throw new UsageError("--severity must be one of 0, 1, 2, 3, 4");
    settingsInput.severity = Number(severity);
  }
  const settings = resolveRuleSettings(settingsInput);

  const actionGroupName = values.get("--action-group-name") ?? DEFAULT_ACTION_GROUP_NAME;
  if (!isActionGroupName(actionGroupName)) {
    throw new UsageError(`--action-group-name '${actionGroupName}' breaks Azure's naming rules (1-260 characters, none of <>*%&:\\?/#|)`);
  }
  const actionGroupResourceGroup = values.get("--action-group-rg");
  if (actionGroupResourceGroup !== undefined && !isResourceGroupName(actionGroupResourceGroup)) {
    throw new UsageError(`--action-group-rg takes a resource group name in the VMs' subscription, not '${actionGroupResourceGroup}'`);
  }

  return {
    webhookUrl: checkedWebhook.url,
    target: targetOf(values.get("--vm"), values.get("--resource-group")),
    actionGroupResourceGroup,
    actionGroupName,
    secureWebhook: secureWebhookOf(values),
    settings,
    dryRun: flags.has("--dry-run"),
  };
}

function targetOf(vm: string | undefined, resourceGroup: string | undefined): SetupArguments["target"] {
  if (vm !== undefined && resourceGroup !== undefined) throw new UsageError("give either --vm or --resource-group, not both");
  if (vm !== undefined) {
    const parsed = parseCaptureTarget(vm);
    if (!parsed.ok) throw new UsageError(`--vm: ${parsed.error.replace(/\.$/, "")}`);
    if (parsed.target.kind !== "virtualMachine") throw new UsageError("--vm must name a virtual machine, not a scale set or one of its instances");
    return { kind: "vm", vm: parsed.target };
  }
  if (resourceGroup !== undefined) {
    const parsed = parseResourceGroupId(resourceGroup);
    if (!parsed.ok) throw new UsageError(`--resource-group: ${parsed.error}`);
    return { kind: "resourceGroup", ref: parsed.ref };
  }
  throw new UsageError("--vm or --resource-group is required");
}

function secureWebhookOf(values: Map<ValueOption, string>): SecureWebhookSettings | undefined {
  const tenantId = values.get("--aad-tenant-id");
  const objectId = values.get("--aad-object-id");
  const identifierUri = values.get("--aad-identifier-uri");
  if (tenantId === undefined && objectId === undefined && identifierUri === undefined) return undefined;
  if (tenantId === undefined || objectId === undefined || identifierUri === undefined) {
    throw new UsageError("--aad-tenant-id, --aad-object-id and --aad-identifier-uri go together (a Secure webhook needs all three)");
  }
  if (!GUID.test(tenantId)) throw new UsageError("--aad-tenant-id must be a GUID");
  if (!GUID.test(objectId)) throw new UsageError("--aad-object-id must be a GUID (the app registration's object ID)");
  if (!URL.canParse(identifierUri)) throw new UsageError("--aad-identifier-uri must be the app's Application ID URI (api://...)");
  return { tenantId, objectId, identifierUri };
}

function numberOption(option: string, value: string): number {
  const number = value.trim() === "" ? Number.NaN : Number(value.replace(/_/g, ""));
  if (!Number.isFinite(number)) throw new UsageError(`${option} must be a number, not '${value}'`);
  return number;
}

function isOneOf<T extends string>(value: string, options: readonly T[]): value is T {
  return (options as readonly string[]).includes(value);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
