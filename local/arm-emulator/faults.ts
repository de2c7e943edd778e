// Fault injection (`ALERTCAP_EMULATOR_FAULTS`): throttling, 5xx, dropped connections, slow answers, failed
// long-running operations and capture sessions that end in Error, chosen by rules with a seed so runs repeat.
//
// Each rule is evaluated per request of a matching operation. Whether it fires on the n-th matching request of an
// operation is decided by a random number derived from (seed, rule index, operation, n) alone, so the outcome for
// "the 3rd PacketCaptures_Create" is the same on every run, however other requests interleave with it.

import { readFileSync } from "node:fs";
import { z } from "zod";
import { decisionRandom } from "./prng.js";
import { ArmError, serverErrorWithStatus, subscriptionThrottled } from "./http/armErrors.js";

const operationPatternSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const ruleBase = {
  /** Operation IDs (swagger names such as `PacketCaptures_Create`), `*` wildcards allowed; default every operation. */
  operation: operationPatternSchema.default("*"),
  /** Chance that the rule fires on a matching request. */
  probability: z.number().min(0).max(1).default(1),
  /** Let this many matching requests through before the rule may fire. */
  skip: z.number().int().min(0).default(0),
  /** Fire at most this many times in all. */
  times: z.number().int().min(1).optional(),
};

const faultRuleSchema = z.discriminatedUnion("kind", [
  z.object({ ...ruleBase, kind: z.literal("throttle"), retryAfterSeconds: z.number().int().min(0).default(1) }),
  z.object({
    ...ruleBase,
    kind: z.literal("serverError"),
    status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).default(500),
    retryAfterSeconds: z.number().int().min(0).optional(),
  }),
  /** Destroys the connection without an answer (the client sees ECONNRESET). */
  // afterHandler: the request is carried out, then the connection dropped: the client cannot know the outcome.
  z.object({ ...ruleBase, kind: z.literal("reset"), afterHandler: z.boolean().default(false) }),
  z.object({ ...ruleBase, kind: z.literal("delay"), delayMs: z.number().min(0) }),
  /** The long-running operation is accepted, then its status resource reports Failed with this error. */
  z.object({
    ...ruleBase,
    operation: operationPatternSchema.default(["PacketCaptures_Create", "PacketCaptures_Stop", "PacketCaptures_Delete"]),
    kind: z.literal("lroFailure"),
    error: z
      .object({ code: z.string().min(1), message: z.string().min(1) })
      .default({ code: "InternalServerError", message: "An error occurred." }),
  }),
  /**
   * The capture is created fine, then its session ends with `packetCaptureStatus` Stopped (as recorded; or Error) and
   * `packetCaptureError`: by default the recorded free text "{target} does not exist or is in stopped state.";
   * spec enum values (`CaptureFailed`, …) when given.
   */
  z.object({
    ...ruleBase,
    operation: operationPatternSchema.default("PacketCaptures_Create"),
    kind: z.literal("captureError"),
    captureStatus: z.enum(["Error", "Stopped"]).default("Stopped"),
    errors: z.array(z.string().min(1)).optional(),
    /** Seconds of (emulated) session time before the failure; 0 = the session fails as it starts. */
    afterSeconds: z.number().min(0).default(0),
  }),
]);

export const faultPlanSchema = z.object({
  seed: z.number().int().default(0),
  rules: z.array(faultRuleSchema).default([]),
});

export type FaultPlanDocument = z.input<typeof faultPlanSchema>;
export type FaultPlan = z.output<typeof faultPlanSchema>;
type FaultRule = FaultPlan["rules"][number];

export interface RequestFaults {
  delayMs: number;
  /** Answer with this error instead of running the handler. */
  error?: ArmError;
  /** Drop the connection instead of answering. */
  reset?: boolean;
  /** Run the handler, then drop the connection instead of answering. */
  resetAfterHandler?: boolean;
}

export interface LroFailure {
  code: string;
  message: string;
}

export interface CaptureFailure {
  captureStatus: "Error" | "Stopped";
  /** Absent: the recorded free text for the capture's target. */
  errors?: string[];
  afterSeconds: number;
}

export interface FiredFault {
  ruleIndex: number;
  kind: FaultRule["kind"];
  operationId: string;
  occurrence: number;
}

export class FaultPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultPlanError";
  }
}

/** Accepts the env var's value: inline JSON (starts with `{`) or the path of a JSON file. */
export function loadFaultPlan(value: string): FaultPlan {
  const trimmed = value.trim();
  let text = trimmed;
  let source = "ALERTCAP_EMULATOR_FAULTS";
  if (!trimmed.startsWith("{")) {
    source = trimmed;
    try {
      text = readFileSync(trimmed, "utf8");
    } catch (error) {
      throw new FaultPlanError(`cannot read fault file ${trimmed}: ${(error as Error).message}`);
    }
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new FaultPlanError(`${source} is not JSON: ${(error as Error).message}`);
  }
  return parseFaultPlan(document, source);
}

export function parseFaultPlan(document: unknown, source = "fault plan"): FaultPlan {
  const result = faultPlanSchema.safeParse(document);
  if (!result.success) throw new FaultPlanError(`${source} is not a valid fault plan:\n${z.prettifyError(result.error)}`);
  return result.data;
}

export class FaultInjector {
  private readonly matchers: RegExp[][];
  /** Matching requests seen per rule (for `skip`) and per rule+operation (for the decision key). */
  private readonly seenPerRule: number[];
  private readonly seenPerRuleOperation = new Map<string, number>();
  private readonly firedPerRule: number[];
  private readonly firedLog: FiredFault[] = [];

  constructor(private readonly plan: FaultPlan) {
    this.matchers = plan.rules.map((rule) => toPatterns(rule.operation));
    this.seenPerRule = plan.rules.map(() => 0);
    this.firedPerRule = plan.rules.map(() => 0);
  }

  get seed(): number {
    return this.plan.seed;
  }

  /** Faults that apply before a request reaches its handler. */
  onRequest(operationId: string, requestKind: "read" | "write", subscriptionId: string): RequestFaults {
    const faults: RequestFaults = { delayMs: 0 };
    this.plan.rules.forEach((rule, index) => {
      if (faults.error || faults.reset) return;
      if (rule.kind === "delay") {
        if (this.fires(index, operationId)) faults.delayMs += rule.delayMs;
      } else if (rule.kind === "throttle") {
        if (this.fires(index, operationId)) {
          faults.error = subscriptionThrottled(requestKind, subscriptionId, rule.retryAfterSeconds);
        }
      } else if (rule.kind === "serverError") {
        if (this.fires(index, operationId)) faults.error = serverErrorWithStatus(rule.status, rule.retryAfterSeconds);
      } else if (rule.kind === "reset") {
        if (this.fires(index, operationId)) {
          if (rule.afterHandler) faults.resetAfterHandler = true;
          else faults.reset = true;
        }
      }
    });
    return faults;
  }

  /** Whether a long-running operation that is starting now should end in Failed. */
  lroFailure(operationId: string): LroFailure | undefined {
    for (const [index, rule] of this.plan.rules.entries()) {
      if (rule.kind === "lroFailure" && this.fires(index, operationId)) return { ...rule.error };
    }
    return undefined;
  }

  /** Whether a capture being created now should have its session fail. */
  captureFailure(operationId: string): CaptureFailure | undefined {
    for (const [index, rule] of this.plan.rules.entries()) {
      if (rule.kind === "captureError" && this.fires(index, operationId)) {
        return { captureStatus: rule.captureStatus, ...(rule.errors && { errors: [...rule.errors] }), afterSeconds: rule.afterSeconds };
      }
    }
    return undefined;
  }

  fired(): FiredFault[] {
    return [...this.firedLog];
  }

  private fires(ruleIndex: number, operationId: string): boolean {
    const rule = this.plan.rules[ruleIndex];
    const patterns = this.matchers[ruleIndex];
    if (!rule || !patterns || !patterns.some((pattern) => pattern.test(operationId))) return false;
    const seen = (this.seenPerRule[ruleIndex] ?? 0) + 1;
    this.seenPerRule[ruleIndex] = seen;
    const operationKey = `${ruleIndex}|${operationId.toLowerCase()}`;
    const occurrence = (this.seenPerRuleOperation.get(operationKey) ?? 0) + 1;
    this.seenPerRuleOperation.set(operationKey, occurrence);
    if (seen <= rule.skip) return false;
    if (rule.times !== undefined && (this.firedPerRule[ruleIndex] ?? 0) >= rule.times) return false;
    if (rule.probability < 1 && decisionRandom(this.plan.seed, `${operationKey}|${occurrence}`) >= rule.probability) {
      return false;
    }
    this.firedPerRule[ruleIndex] = (this.firedPerRule[ruleIndex] ?? 0) + 1;
    this.firedLog.push({ ruleIndex, kind: rule.kind, operationId, occurrence });
    return true;
  }
}

function toPatterns(operation: string | string[]): RegExp[] {
  const list = Array.isArray(operation) ? operation : [operation];
  return list.map(
    (pattern) =>
      new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i"),
  );
}
