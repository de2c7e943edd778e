// Which instances of a scale set differ from their siblings: each instance's failure rates against the counts of all
// the other instances together, with the same tests as a baseline diff (counts, not bare percentages). The siblings
// are the baseline an instance needs no earlier capture for: the same code, the same time window, the same load
// balancer, so a rate that one instance has and the rest do not points at that instance.
import type { CaptureProfile } from "../pcap/captureProfile.js";
import { grouped } from "../pcap/numberText.js";
import { percent, pText } from "./diffFindings.js";
import { compare, type Counted, measures, type RateChange } from "./rateChanges.js";
import { SIGNIFICANCE_LEVEL } from "./statistics.js";

/** At most this many rate changes kept per instance (the largest excess first), and sentences in all. */
const MAX_PER_INSTANCE = 3;
const MAX_SENTENCES = 5;

export interface InstanceProfile {
  instance: string;
  profile: CaptureProfile;
}

/** One instance whose failure rate differs from that of its siblings taken together. */
export interface SiblingDifference {
  instance: string;
  /** How many other instances the rate is compared with. */
  siblings: number;
  /** `baseline` holds the siblings' counts together, `incident` the instance's own. */
  change: RateChange;
}

export interface SiblingComparison {
  /** Instances compared (those whose file could be read). */
  instances: number;
  /**
   * The p-value an instance's change must stay below: SIGNIFICANCE_LEVEL divided by the number of instances
   * (Bonferroni), since every instance is tested against its siblings and one of many would otherwise stand out by chance.
   */
  significanceLevel: number;
  /** Significant rises only (an instance healthier than its siblings is not what anyone is looking for), largest excess first. */
  differences: SiblingDifference[];
  /** Plain sentences naming the instances, most failures beyond the siblings' rate first. */
  findings: string[];
}

/** Compares every instance with the sum of the others. Fewer than two instances compare nothing. */
export function compareSiblings(instances: InstanceProfile[]): SiblingComparison {
  const level = SIGNIFICANCE_LEVEL / Math.max(1, instances.length);
  if (instances.length < 2) return { instances: instances.length, significanceLevel: level, differences: [], findings: [] };
  const differences: SiblingDifference[] = [];
  const byInstance = new Map<string, RateChange[]>();
  for (const m of measures(instances.map((i) => i.profile))) {
    const reads = instances.map((i) => m.read(i.profile));
    const total = reads.reduce<Counted>((sum, r) => ({ count: sum.count + (r?.count ?? 0), of: sum.of + (r?.of ?? 0) }), { count: 0, of: 0 });
    instances.forEach((one, i) => {
      const own = reads[i];
      if (!own || own.count === 0) return;
      const siblings = { count: total.count - own.count, of: total.of - own.of };
      const change = compare(m, siblings, own);
      if (!change.significant || change.change !== "rose" || change.pValue! >= level) return;
      byInstance.set(one.instance, [...(byInstance.get(one.instance) ?? []), change]);
    });
  }
  for (const [instance, changes] of byInstance) {
    for (const change of strongest(changes)) differences.push({ instance, siblings: instances.length - 1, change });
  }
  differences.sort((a, b) => b.change.excessFailures - a.change.excessFailures);
  return { instances: instances.length, significanceLevel: level, differences, findings: siblingFindings(differences) };
}

/**
 * The few changes worth a sentence for one instance: per measure, a scope (a server, host, service) says more than
 * the capture-wide rate, so the capture-wide one is kept only when no scope of that measure differs.
 */
function strongest(changes: RateChange[]): RateChange[] {
  const kept: RateChange[] = [];
  for (const measure of new Set(changes.map((c) => `${c.layer} ${c.metric}`))) {
    const same = changes.filter((c) => `${c.layer} ${c.metric}` === measure);
    const scoped = same.filter((c) => c.scope !== null);
    kept.push(...(scoped.length > 0 ? scoped : same));
  }
  return kept.sort((a, b) => b.excessFailures - a.excessFailures).slice(0, MAX_PER_INSTANCE);
}

function siblingFindings(differences: SiblingDifference[]): string[] {
  const lines = differences.slice(0, MAX_SENTENCES).map(siblingSentence);
  const named = new Set(differences.map((d) => d.instance));
  if (differences.length > MAX_SENTENCES) lines.push(`${differences.length - MAX_SENTENCES} more differences from siblings, on ${named.size} instance${named.size === 1 ? "" : "s"} in all.`);
  return lines;
}

/** "Instance 3: DNS SERVFAIL answers from DNS server 10.0.0.53: 82 % (41 of 50) vs 0.4 % (2 of 480) on its 4 siblings (Fisher's exact test, p < 0.001)." */
export function siblingSentence({ instance, siblings, change: c }: SiblingDifference): string {
  const test = c.test === "fisher-exact" ? "Fisher's exact test" : "two-proportion z-test";
  const where = c.scope === null ? "" : c.layer === "DNS" ? ` from ${c.scope}` : c.layer === "TCP" ? ` at ${c.scope}` : ` for ${c.scope}`;
  const share = (p: RateChange["incident"]): string => `${percent(p.rate ?? 0)} (${grouped(p.count)} of ${grouped(p.of)})`;
  const others = siblings === 1 ? "its 1 sibling" : `its ${grouped(siblings)} siblings`;
  return `Instance ${instance}: ${c.layer} ${c.metric}${where}: ${share(c.incident)} vs ${share(c.baseline)} on ${others} (${test}, ${pText(c.pValue!)}).`;
}
