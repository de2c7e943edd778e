// The VM platform metrics a network-anomaly alert can watch (shared/docs/alert-metrics.md: exact REST names, units and
// primary aggregations from Azure Monitor's supported-metrics reference for Microsoft.Compute/virtualMachines). Host
// metrics need no agent; every one has a 1-minute time grain and no dimensions.

export const VM_METRIC_NAMESPACE = "Microsoft.Compute/virtualMachines";

export const AGGREGATIONS = ["Average", "Count", "Minimum", "Maximum", "Total"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface VmMetric {
  /** The REST name that goes in `criteria.allOf[].metricName`. */
  readonly name: string;
  readonly unit: "Bytes" | "Count" | "CountPerSecond" | "Percent";
  /** The aggregation the metric is meant to be read with (and the default). */
  readonly primaryAggregation: Aggregation;
  /**
   * A starting threshold for the primary aggregation. Byte counters summed (`Total`) over the window grow with it, so
   * theirs is given per minute of window; the others are rates or levels, the same whatever the window.
   */
  readonly defaultThreshold: { readonly value: number; readonly perWindowMinute: boolean };
  readonly meaning: string;
  /** Set for the billable counters Azure deprecated: the metric to use instead. */
  readonly replacedBy?: string;
}

// Defaults are deliberately high: a rule that fires starts a packet capture, so it should fire on the unusual.
// 200 MB per minute ≈ 27 Mbit/s sustained over the whole window (1 GB in the default 5 minutes).
const BYTES_PER_WINDOW_MINUTE = 200_000_000;

export const VM_METRICS: readonly VmMetric[] = [
  {
    name: "Network In Total",
    unit: "Bytes",
    primaryAggregation: "Total",
    defaultThreshold: { value: BYTES_PER_WINDOW_MINUTE, perWindowMinute: true },
    meaning: "bytes received on all NICs",
  },
  {
    name: "Network Out Total",
    unit: "Bytes",
    primaryAggregation: "Total",
    defaultThreshold: { value: BYTES_PER_WINDOW_MINUTE, perWindowMinute: true },
    meaning: "bytes sent on all NICs, exfiltration",
  },
  {
    name: "Inbound Flows",
    unit: "Count",
    primaryAggregation: "Average",
    defaultThreshold: { value: 10_000, perWindowMinute: false },
    meaning: "current inbound flows",
  },
  {
    name: "Outbound Flows",
    unit: "Count",
    primaryAggregation: "Average",
    defaultThreshold: { value: 10_000, perWindowMinute: false },
    meaning: "current outbound flows, fan-out",
  },
  {
    name: "Inbound Flows Maximum Creation Rate",
    unit: "CountPerSecond",
    primaryAggregation: "Average",
    defaultThreshold: { value: 500, perWindowMinute: false },
    meaning: "inbound flow creation rate, scans and SYN floods",
  },
  {
    name: "Outbound Flows Maximum Creation Rate",
    unit: "CountPerSecond",
    primaryAggregation: "Average",
    defaultThreshold: { value: 500, perWindowMinute: false },
    meaning: "outbound flow creation rate, beaconing and worms",
  },
  {
    name: "Percentage CPU",
    unit: "Percent",
    primaryAggregation: "Average",
    defaultThreshold: { value: 90, perWindowMinute: false },
    meaning: "CPU use, a companion signal",
  },
  {
    name: "Network In",
    unit: "Bytes",
    primaryAggregation: "Total",
    defaultThreshold: { value: BYTES_PER_WINDOW_MINUTE, perWindowMinute: true },
    meaning: "billable inbound bytes, deprecated",
    replacedBy: "Network In Total",
  },
  {
    name: "Network Out",
    unit: "Bytes",
    primaryAggregation: "Total",
    defaultThreshold: { value: BYTES_PER_WINDOW_MINUTE, perWindowMinute: true },
    meaning: "billable outbound bytes, deprecated",
    replacedBy: "Network Out Total",
  },
];

export const DEFAULT_METRIC_NAME = "Network Out Total";

/** The catalogue entry for a metric name typed in any case; the rule then carries the catalogue's exact spelling. */
export function findVmMetric(name: string): VmMetric | undefined {
  const wanted = name.trim().toLowerCase();
  return VM_METRICS.find((metric) => metric.name.toLowerCase() === wanted);
}
