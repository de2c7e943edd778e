// The knobs of a metric alert rule, checked against the values the Monitor API documents, with alertcap's defaults:
// `Network Out Total`, Total over PT5M, evaluated every PT1M, GreaterThan a static threshold, severity 2.
//
// Allowed values: operators, aggregations and sensitivities are the enums of metricAlert.json (2026-01-01); severity is
// "{0, 1, 2, 3, 4}" (its description); window sizes and frequencies are the allowed values of Azure Monitor's
// "Resource Manager template samples for metric alert rules" (MicrosoftDocs azure-monitor
// alerts/resource-manager-alerts-metric.md, ms.date 10/31/2022), whose dynamic-threshold sample narrows the window to
// "between five minutes and one hour". (Its dynamic sample also narrows the frequency to PT5M or more, but the official
// REST example createOrUpdateDynamicMetricAlertSingleResource.json evaluates every PT1M, so PT1M stays allowed.)
// Values are matched case-insensitively and written in the API's spelling.

import { AGGREGATIONS, type Aggregation, DEFAULT_METRIC_NAME, findVmMetric, VM_METRIC_NAMESPACE, VM_METRICS } from "./vmMetrics.js";

export const STATIC_OPERATORS = ["Equals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"] as const;
export const DYNAMIC_OPERATORS = ["GreaterThan", "LessThan", "GreaterOrLessThan"] as const;
export const SENSITIVITIES = ["Low", "Medium", "High"] as const;
export const WINDOW_SIZES = ["PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT6H", "PT12H", "PT24H"] as const;
export const DYNAMIC_WINDOW_SIZES = ["PT5M", "PT15M", "PT30M", "PT1H"] as const;
export const EVALUATION_FREQUENCIES = ["PT1M", "PT5M", "PT15M", "PT30M", "PT1H"] as const;
export const SEVERITIES = [0, 1, 2, 3, 4] as const;

export type StaticOperator = (typeof STATIC_OPERATORS)[number];
export type DynamicOperator = (typeof DYNAMIC_OPERATORS)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];
export type WindowSize = (typeof WINDOW_SIZES)[number];
export type EvaluationFrequency = (typeof EVALUATION_FREQUENCIES)[number];
export type Severity = (typeof SEVERITIES)[number];

export const DEFAULT_WINDOW_SIZE: WindowSize = "PT5M";
export const DEFAULT_EVALUATION_FREQUENCY: EvaluationFrequency = "PT1M";
export const DEFAULT_SEVERITY: Severity = 2;
export const DEFAULT_SENSITIVITY: Sensitivity = "Medium";
/** Alert when 4 of the last 4 windows break the dynamic threshold: the portal's default and the official example's. */
export const DEFAULT_FAILING_PERIODS = { numberOfEvaluationPeriods: 4, minFailingPeriodsToAlert: 4 } as const;

/** What a user may choose; everything left out takes the default. */
export interface RuleSettingsInput {
  metric?: string;
  metricNamespace?: string;
  operator?: string;
  threshold?: number;
  dynamic?: boolean;
  sensitivity?: string;
  aggregation?: string;
  windowSize?: string;
  evaluationFrequency?: string;
  severity?: number;
  /** Accept a metric alertcap does not know, and tell Azure not to check that it is emitted yet. */
  skipMetricValidation?: boolean;
}

export type ThresholdSettings =
  | { readonly kind: "static"; readonly operator: StaticOperator; readonly threshold: number }
  | {
      readonly kind: "dynamic";
      readonly operator: DynamicOperator;
      readonly sensitivity: Sensitivity;
      readonly failingPeriods: { readonly numberOfEvaluationPeriods: number; readonly minFailingPeriodsToAlert: number };
    };

export interface RuleSettings {
  readonly metricName: string;
  readonly metricNamespace: string;
  readonly aggregation: Aggregation;
  readonly windowSize: WindowSize;
  readonly evaluationFrequency: EvaluationFrequency;
  readonly severity: Severity;
  readonly condition: ThresholdSettings;
  readonly skipMetricValidation: boolean;
}

/** A setting that cannot be used; the message is one sentence that names the option and the allowed values. */
export class RuleSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleSettingsError";
  }
}

export function resolveRuleSettings(input: RuleSettingsInput): RuleSettings {
  const skipMetricValidation = input.skipMetricValidation ?? false;
  const metricName = (input.metric ?? DEFAULT_METRIC_NAME).trim();
  if (metricName === "") throw new RuleSettingsError("--metric must not be empty");
  const known = findVmMetric(metricName);
  if (!skipMetricValidation) {
    if (!known) {
      throw new RuleSettingsError(
        `unknown VM metric '${metricName}'; use one of ${VM_METRICS.filter((m) => !m.replacedBy).map((m) => `'${m.name}'`).join(", ")} ` +
          "(or --skip-metric-validation for a guest or custom metric)",
      );
    }
    if (known.replacedBy) {
      throw new RuleSettingsError(`metric '${known.name}' is deprecated by Azure; use '${known.replacedBy}'`);
    }
  }

  const aggregation = input.aggregation === undefined ? (known?.primaryAggregation ?? "Average") : oneOf("--aggregation", input.aggregation, AGGREGATIONS);
  const windowSize =
    input.windowSize === undefined
      ? DEFAULT_WINDOW_SIZE
      : input.dynamic
        ? oneOf("--window", input.windowSize, DYNAMIC_WINDOW_SIZES, "with --dynamic")
        : oneOf("--window", input.windowSize, WINDOW_SIZES);
  const evaluationFrequency =
    input.evaluationFrequency === undefined ? DEFAULT_EVALUATION_FREQUENCY : oneOf("--frequency", input.evaluationFrequency, EVALUATION_FREQUENCIES);
  if (minutesOf(evaluationFrequency) > minutesOf(windowSize)) {
    throw new RuleSettingsError(`--frequency ${evaluationFrequency} is longer than --window ${windowSize}; a rule is evaluated at least once per window`);
  }
  const severity = input.severity === undefined ? DEFAULT_SEVERITY : severityOf(input.severity);

  const condition = input.dynamic ? dynamicCondition(input) : staticCondition(input, known, aggregation, windowSize, metricName);
  return {
    metricName: known?.name ?? metricName,
    metricNamespace: input.metricNamespace?.trim() || VM_METRIC_NAMESPACE,
    aggregation,
    windowSize,
    evaluationFrequency,
    severity,
    condition,
    skipMetricValidation,
  };
}

function staticCondition(
  input: RuleSettingsInput,
  known: ReturnType<typeof findVmMetric>,
  aggregation: Aggregation,
  windowSize: WindowSize,
  metricName: string,
): ThresholdSettings {
  if (input.sensitivity !== undefined) throw new RuleSettingsError("--sensitivity applies to --dynamic thresholds only");
  const operator = input.operator === undefined ? "GreaterThan" : oneOf("--operator", input.operator, STATIC_OPERATORS);
  if (input.threshold !== undefined) {
    if (!Number.isFinite(input.threshold)) throw new RuleSettingsError("--threshold must be a finite number");
    return { kind: "static", operator, threshold: input.threshold };
  }
  // A default only makes sense for the metric's own aggregation: a Count or Maximum of bytes means something else.
  if (!known || aggregation !== known.primaryAggregation) {
    throw new RuleSettingsError(
      `--threshold is required for '${metricName}' with ${aggregation} (alertcap has no default for it), or use --dynamic`,
    );
  }
  const { value, perWindowMinute } = known.defaultThreshold;
  return { kind: "static", operator, threshold: perWindowMinute ? value * minutesOf(windowSize) : value };
}

function dynamicCondition(input: RuleSettingsInput): ThresholdSettings {
  if (input.threshold !== undefined) throw new RuleSettingsError("--threshold and --dynamic exclude each other");
  return {
    kind: "dynamic",
    operator: input.operator === undefined ? "GreaterThan" : oneOf("--operator", input.operator, DYNAMIC_OPERATORS, "with --dynamic"),
    sensitivity: input.sensitivity === undefined ? DEFAULT_SENSITIVITY : oneOf("--sensitivity", input.sensitivity, SENSITIVITIES),
    failingPeriods: { ...DEFAULT_FAILING_PERIODS },
  };
}

function severityOf(value: number): Severity {
  const severity = SEVERITIES.find((allowed) => allowed === value);
  if (severity === undefined) throw new RuleSettingsError(`--severity must be one of ${SEVERITIES.join(", ")} (0 is critical, 4 verbose)`);
  return severity;
}

/** The allowed value matching `value` case-insensitively, in the API's spelling. */
function oneOf<T extends string>(option: string, value: string, allowed: readonly T[], context = ""): T {
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.trim().toLowerCase());
  if (match === undefined) {
    const where = context === "" ? "" : ` ${context}`;
    throw new RuleSettingsError(`${option} '${value}' is not allowed${where}; use one of ${allowed.join(", ")}`);
  }
  return match;
}

/** Minutes in one of the allowed ISO 8601 durations (PT{n}M, PT{n}H). */
export function minutesOf(duration: WindowSize | EvaluationFrequency): number {
  const match = /^PT(\d+)([MH])$/.exec(duration);
  if (!match?.[1]) throw new Error(`unexpected duration ${duration}`);
  return Number(match[1]) * (match[2] === "H" ? 60 : 1);
}
