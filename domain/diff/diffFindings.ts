// The sentences of a diff, most important first: failure rates that rose beyond chance (ranked by failures beyond
// what the baseline rate predicts), new talkers and services, volume shifts, what vanished, and last what got better.
import { size } from "../pcap/keyFindings.js";
import { grouped } from "../pcap/numberText.js";
import type { CaptureDiff, ListedService } from "./captureDiff.js";
import type { Proportion, RateChange } from "./rateChanges.js";

/** Per failure measure, at most this many per-server / per-host sentences. */
const MAX_SCOPES_PER_METRIC = 3;
/** At most this many talkers or services named one by one per kind. */
const MAX_NAMED = 3;
const MAX_FINDINGS = 15;

export function diffFindings(d: Omit<CaptureDiff, "findings">, incidentBytes: number): string[] {
  const findings = [
    ...rateSentences(d.rateChanges, "rose"),
    ...talkerSentences(d, incidentBytes),
    ...newServiceSentences(d.newServices, d.newServiceCount),
    ...d.volumeShifts.filter((v) => v.significant).slice(0, MAX_NAMED).map(volumeSentence),
    ...goneSentences(d),
    ...rateSentences(d.rateChanges, "fell"),
  ];
  if (findings.length === 0) {
    return [
      `No significant change: the same talkers and services, and no failure rate or service volume moved beyond chance (${grouped(d.baseline.packets)} packets in the baseline, ${grouped(d.incident.packets)} in the incident).`,
    ];
  }
  return findings.slice(0, MAX_FINDINGS);
}

/**
 * Significant changes in one direction. Per-scope changes (a server, a host, a service) are more useful than the
 * capture-wide rate, so the capture-wide one is said only when no scope of that measure changed significantly.
 */
function rateSentences(changes: RateChange[], direction: "rose" | "fell"): string[] {
  const chosen = changes.filter((c) => c.significant && c.change === direction);
  const said: RateChange[] = [];
  const measures = new Set(chosen.map((c) => `${c.layer} ${c.metric}`));
  for (const measure of measures) {
    const same = chosen.filter((c) => `${c.layer} ${c.metric}` === measure);
    const scoped = same.filter((c) => c.scope !== null);
    said.push(...(scoped.length > 0 ? scoped.slice(0, MAX_SCOPES_PER_METRIC) : same));
  }
  const weight = (c: RateChange): number => (direction === "rose" ? c.excessFailures : -c.excessFailures);
  return said.sort((a, b) => weight(b) - weight(a)).map((c) => rateSentence(c, changes));
}

function rateSentence(c: RateChange, all: RateChange[]): string {
  const test = c.test === "fisher-exact" ? "Fisher's exact test" : "two-proportion z-test";
  return `${c.layer} ${c.metric} ${c.change} from ${share(c.baseline)} to ${share(c.incident)}${scopeText(c)} (${test}, ${pText(c.pValue!)})${newScopeText(c, all)}.`;
}

/**
 * A capture-wide rise whose failures come from a server or host the baseline never saw has no per-scope test (nothing
 * to compare with); name the busiest such scope so the sentence still says where.
 */
function newScopeText(c: RateChange, all: RateChange[]): string {
  if (c.scope !== null || c.change !== "rose") return "";
  const fresh = all
    .filter((o) => o.layer === c.layer && o.metric === c.metric && o.scope !== null && o.baseline.of === 0 && o.incident.count > 0)
    .sort((a, b) => b.incident.count - a.incident.count);
  const first = fresh[0];
  if (!first) return "";
  if (fresh.length === 1) return `; ${grouped(first.incident.count)} of them${scopeText(first)}, which the baseline did not have`;
  const failures = fresh.reduce((total, o) => total + o.incident.count, 0);
  const kind = { DNS: "DNS servers", HTTP: "hosts", TLS: "server names", TCP: "services" }[c.layer];
  const most = first.incident.count > 1 ? ` (most${scopeText(first)}: ${grouped(first.incident.count)})` : "";
  return `; ${grouped(failures)} of them at ${grouped(fresh.length)} ${kind} the baseline did not have${most}`;
}

function scopeText(c: RateChange): string {
  if (c.scope === null) return "";
  if (c.layer === "DNS") return ` from ${c.scope}`;
  if (c.layer === "TCP") return ` at ${c.scope}`;
  return ` for ${c.scope}`;
}

/** "21 % (190 of 903)". */
export function share(p: Proportion): string {
  return `${percent(p.rate ?? 0)} (${grouped(p.count)} of ${grouped(p.of)})`;
}

export function percent(rate: number): string {
  const v = rate * 100;
  if (v === 0) return "0 %";
  if (v < 1) return `${Number(v.toPrecision(1))} %`;
  if (v < 10) return `${Number(v.toFixed(1))} %`;
  return `${Math.round(v)} %`;
}

export function pText(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${Number(p.toPrecision(2))}`;
}

function talkerSentences(d: Omit<CaptureDiff, "findings">, incidentBytes: number): string[] {
  const lines = d.newTalkers.slice(0, MAX_NAMED).map(
    (t) =>
      `New talker ${t.address}: ${packets(t.packets)}, ${size(t.bytes)} (${percent(incidentBytes > 0 ? t.bytes / incidentBytes : 0)} of the incident's bytes), not seen in the baseline.`,
  );
  if (d.newTalkerCount > MAX_NAMED) lines.push(`${grouped(d.newTalkerCount - MAX_NAMED)} more new talkers (${grouped(d.newTalkerCount)} in all).`);
  return lines;
}

function newServiceSentences(services: ListedService[], count: number): string[] {
  const failed = (s: ListedService): number => s.tcpRefused + s.tcpUnanswered;
  const ranked = [...services].sort((a, b) => failed(b) - failed(a) || b.bytes - a.bytes);
  const lines = ranked.slice(0, MAX_NAMED).map((s) => {
    const failures: string[] = [];
    if (s.tcpRefused > 0) failures.push(`${grouped(s.tcpRefused)} of ${grouped(s.tcpAttempts)} connection attempts refused (RST)`);
    if (s.tcpUnanswered > 0) failures.push(`${grouped(s.tcpUnanswered)} of ${grouped(s.tcpAttempts)} connection attempts unanswered`);
    const flows = `${grouped(s.flows)} ${s.flows === 1 ? "flow" : "flows"}`;
    return `New service ${s.service}: ${flows}, ${packets(s.packets)}, ${size(s.bytes)}${failures.length > 0 ? `; ${failures.join(", ")}` : ""}.`;
  });
  if (count > MAX_NAMED) lines.push(`${grouped(count - MAX_NAMED)} more new services (${grouped(count)} in all).`);
  return lines;
}

function volumeSentence(v: CaptureDiff["volumeShifts"][number]): string {
  const direction = v.ratio >= 1 ? `rose ${times(v.ratio)}` : `fell to ${times(v.ratio)} of its baseline rate`;
  const pps = (x: number): string => grouped(Number(x.toPrecision(3)));
  return `Traffic of ${v.service} ${direction}: ${pps(v.baseline.packetsPerSecond)} → ${pps(v.incident.packetsPerSecond)} packets/s, ${size(Math.round(v.baseline.bytesPerSecond))}/s → ${size(Math.round(v.incident.bytesPerSecond))}/s.`;
}

const packets = (count: number): string => `${grouped(count)} ${count === 1 ? "packet" : "packets"}`;

const times = (ratio: number): string => `${Number(ratio.toPrecision(2))}×`;

function goneSentences(d: Omit<CaptureDiff, "findings">): string[] {
  const lines = d.goneTalkers.slice(0, MAX_NAMED).map(
    (t) => `${t.address} talked in the baseline (${packets(t.packets)}, ${size(t.bytes)}) and not at all in the incident.`,
  );
  if (d.goneTalkerCount > MAX_NAMED) lines.push(`${grouped(d.goneTalkerCount - MAX_NAMED)} more baseline talkers are silent in the incident.`);
  // Services of a vanished talker are already said; name only those whose server still talks.
  const gone = new Set(d.goneTalkers.map((t) => t.address));
  const services = d.goneServices.filter((s) => !gone.has(s.address));
  lines.push(...services.slice(0, MAX_NAMED).map((s) => `Service ${s.service} (${packets(s.packets)} in the baseline) was not used in the incident.`));
  return lines;
}
