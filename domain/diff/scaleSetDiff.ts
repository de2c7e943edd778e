// A diff where either capture is a scale set's (one file per instance): the merged captures compared as one, each
// instance compared with its own baseline when both captures have it, and each incident instance compared with its
// siblings, so an instance that alone went wrong is named even when the merged rate hides it.
import type { CaptureProfile } from "../pcap/captureProfile.js";
import { type CaptureDiff, diffCaptures } from "./captureDiff.js";
import type { RateChange } from "./rateChanges.js";
import { compareSiblings, type InstanceProfile, type SiblingComparison } from "./siblingChanges.js";

/** Significant rate changes listed per instance in the JSON, and instances named in the findings. */
const MAX_INSTANCE_CHANGES = 10;
const MAX_INSTANCE_FINDINGS = 3;

/** One side of the diff: its files as one capture, and per instance (empty for a single VM's file). */
export interface SideProfiles {
  merged: CaptureProfile;
  instances: InstanceProfile[];
}

/** One instance against its own baseline, or the side it is missing from. */
export type InstanceDiff =
  | { instance: string; findings: string[]; rateChanges: RateChange[]; rateChangeCount: number }
  | { instance: string; missingFrom: "baseline" | "incident" };

export interface ScaleSetDiff extends CaptureDiff {
  /** Per instance present on either side (empty when neither side is a scale set's). */
  instances: InstanceDiff[];
  /** The incident's instances against each other; null when the incident is not a scale set's. */
  siblings: SiblingComparison | null;
}

export function scaleSetDiff(baseline: SideProfiles, incident: SideProfiles): ScaleSetDiff {
  const merged = diffCaptures(baseline.merged, incident.merged);
  const before = new Map(baseline.instances.map((i) => [i.instance, i.profile]));
  const after = new Map(incident.instances.map((i) => [i.instance, i.profile]));
  const instances: InstanceDiff[] = [];
  // Instances are compared one to one only when both sides are per instance; a single baseline file is the merged one.
  if (before.size > 0 && after.size > 0) {
    for (const name of [...new Set([...before.keys(), ...after.keys()])]) {
      const b = before.get(name);
      const i = after.get(name);
      if (!b || !i) {
        instances.push({ instance: name, missingFrom: b ? "incident" : "baseline" });
        continue;
      }
      const d = diffCaptures(b, i);
      const significant = d.rateChanges.filter((c) => c.significant);
      instances.push({ instance: name, findings: d.findings, rateChanges: significant.slice(0, MAX_INSTANCE_CHANGES), rateChangeCount: significant.length });
    }
  }
  const siblings = incident.instances.length > 1 ? compareSiblings(incident.instances) : null;
  return { ...merged, findings: [...merged.findings, ...(siblings?.findings ?? []), ...instanceFindings(instances)], instances, siblings };
}

/** The first finding of each instance whose own rates moved, prefixed with the instance; then missing instances. */
function instanceFindings(instances: InstanceDiff[]): string[] {
  const changed = instances.flatMap((d) => ("findings" in d && d.rateChangeCount > 0 ? [`Instance ${d.instance} against its own baseline: ${d.findings[0]}`] : []));
  const missing = instances.flatMap((d) =>
    "missingFrom" in d ? [`Instance ${d.instance} has ${d.missingFrom === "baseline" ? "no file in the baseline" : "no file in the incident"}.`] : [],
  );
  return [...changed.slice(0, MAX_INSTANCE_FINDINGS), ...missing.slice(0, MAX_INSTANCE_FINDINGS)];
}
