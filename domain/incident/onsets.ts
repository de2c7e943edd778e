// When each kind of failure began, relative to the alert: "DNS SERVFAIL began 4 min 10 s before the alert". From the
// per-bucket counts of failureSeries.ts: a bucket is failing when it holds enough failures for its traffic (see
// FAILURE_KINDS), failing buckets less than GAP_SECONDS apart make one episode, and the episode that matters is the
// one under way when the alert fired (else the first after it, else the last one before it, which had ended).
import { durationText } from "../notify/summary.js";
import { grouped } from "../pcap/numberText.js";
import { isoOfSeconds } from "../pcap/timeBase.js";
import { FAILURE_KINDS, type FailureKind, type FailureKindInfo, type FailureSeries } from "./failureSeries.js";

/** Failing buckets closer than this belong to one episode: a failing service is not hit every second. */
const GAP_SECONDS = 30;
/** An episode starting this close to the first packet was already under way when the recording began. */
const AT_START_SECONDS = 5;

export interface Onset {
  kind: FailureKind;
  label: string;
  /** When the episode's first failing bucket starts (ISO 8601), and its offset from the alert (negative: before). */
  began: string;
  offsetSeconds: number;
  /** The episode was under way at the first packet: it began earlier than the recording shows. */
  presentAtStart: boolean;
  /** When its last failing bucket ends, or null when it was still failing at the end of the capture. */
  ended: string | null;
  /** Failures in the episode, those before the alert, and what they are counted against (null: not a share). */
  count: number;
  countBeforeAlert: number;
  outOf: number | null;
  /** The finding, one sentence with its numbers. */
  text: string;
  /** Ordering: the kind's weight, raised for a failure that began shortly before the alert. */
  weight: number;
}

export interface OnsetContext {
  alertAt: string;
  lookbackSeconds: number;
  /** The first packet of all the files. */
  dataStart: string;
  /** Recorder files were read (the recording began before the alert), rather than the forward capture alone. */
  hasLookback: boolean;
}

interface Episode {
  first: number;
  last: number;
}

export function findOnsets(series: FailureSeries, context: OnsetContext): Onset[] {
  const onsets: Onset[] = [];
  for (const info of FAILURE_KINDS) {
    const onset = onsetOf(info, series, context);
    if (onset) onsets.push(onset);
  }
  return onsets.sort((a, b) => b.weight - a.weight || b.count - a.count);
}

function onsetOf(info: FailureKindInfo, series: FailureSeries, context: OnsetContext): Onset | null {
  const counts = series.counts[info.kind];
  const totals = info.of === "none" ? null : series.counts[info.of];
  const width = series.bucketSeconds;
  const failing = (i: number): boolean => {
    const c = counts[i]!;
    if (c < info.minCount) return false;
    const d = totals?.[i] ?? 0;
    return totals === null || d === 0 || c / d >= info.minShare;
  };
  const gap = Math.max(1, Math.ceil(GAP_SECONDS / width));
  const episodes: Episode[] = [];
  for (let i = 0; i < counts.length; i++) {
    if (!failing(i)) continue;
    const current = episodes.at(-1);
    if (current && i - current.last <= gap) current.last = i;
    else episodes.push({ first: i, last: i });
  }
  if (episodes.length === 0) return null;

  const start = series.startEpochSeconds;
  const alert = Date.parse(context.alertAt) / 1000;
  const timeOf = (bucket: number): number => start + bucket * width;
  const episode =
    episodes.find((e) => timeOf(e.first) <= alert && alert < timeOf(e.last + 1 + gap)) ??
    episodes.find((e) => timeOf(e.first) > alert) ??
    episodes.at(-1)!;

  let count = 0;
  let countBeforeAlert = 0;
  let outOf = 0;
  for (let i = episode.first; i <= episode.last; i++) {
    count += counts[i]!;
    if (timeOf(i + 1) <= alert) countBeforeAlert += counts[i]!;
    outOf += totals?.[i] ?? 0;
  }
  const beganSeconds = Math.max(timeOf(episode.first), Date.parse(context.dataStart) / 1000);
  const began = isoOfSeconds(beganSeconds) ?? context.dataStart;
  const presentAtStart = beganSeconds - Date.parse(context.dataStart) / 1000 <= Math.max(AT_START_SECONDS, width);
  const stillFailing = episode.last + gap >= counts.length - 1;
  const ended = stillFailing ? null : isoOfSeconds(timeOf(episode.last + 1));
  const offsetSeconds = Math.round(beganSeconds - alert);
  const onset = { kind: info.kind, label: info.label, began, offsetSeconds, presentAtStart, ended, count, countBeforeAlert, outOf: totals === null ? null : outOf };
  return { ...onset, text: sentence(info, onset, context), weight: weightOf(info, onset, alert) };
}

/** "4 min 10 s before the alert", "30 s after the alert", "at the alert". */
export function relativeToAlert(at: string, alertAt: string): string {
  const offset = Math.round((Date.parse(at) - Date.parse(alertAt)) / 1000);
  if (offset === 0) return "at the alert";
  const span = offset < 0 ? durationText(at, alertAt) : durationText(alertAt, at);
  return `${span} ${offset < 0 ? "before" : "after"} the alert`;
}

function lookbackName(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}-minute` : `${grouped(seconds)}-second`;
}

type OnsetFacts = Omit<Onset, "text" | "weight">;

function sentence(info: FailureKindInfo, o: OnsetFacts, context: OnsetContext): string {
  const clock = `${o.began.slice(11, 19)} UTC`;
  const when = relativeToAlert(o.began, context.alertAt);
  let opening: string;
  if (o.presentAtStart && o.offsetSeconds < 0) {
    const lookbackStart = Date.parse(context.alertAt) / 1000 - context.lookbackSeconds;
    const coversLookback = context.hasLookback && Date.parse(o.began) / 1000 <= lookbackStart + 60;
    opening = coversLookback
      ? `${info.label} was already present at the start of the ${lookbackName(context.lookbackSeconds)} lookback (${clock}, ${when})`
      : `${info.label} was already present when the recording starts (${clock}, ${when}): it began earlier`;
  } else if (o.presentAtStart && !context.hasLookback) {
    opening = `${info.label} was already present when the capture started (${clock}, ${when})`;
  } else {
    opening = `${info.label} began ${when} (${clock})`;
  }
  const [one, many] = info.unit;
  const unit = (n: number): string => (n === 1 ? one : many);
  let numbers = o.outOf !== null && o.outOf >= o.count
    ? `${grouped(o.count)} of ${grouped(o.outOf)} ${unit(o.outOf)} (${Math.round((100 * o.count) / Math.max(1, o.outOf))} %)`
    : `${grouped(o.count)} ${unit(o.count)}`;
  if (o.offsetSeconds < 0 && o.count > o.countBeforeAlert) numbers += `, ${grouped(o.countBeforeAlert)} of them before the alert`;
  const end = o.ended === null ? "" : `; it stopped ${relativeToAlert(o.ended, context.alertAt)}`;
  return `${opening}: ${numbers}${end}.`;
}

function weightOf(info: FailureKindInfo, o: OnsetFacts, alertSeconds: number): number {
  // What the alert is about is most likely what began shortly before it and was still going: that leads. Something
  // present all along is background; something that had already stopped, or came after, is less likely the cause.
  let bonus = 0;
  if (o.ended !== null && Date.parse(o.ended) / 1000 <= alertSeconds) bonus -= 30;
  else if (o.offsetSeconds <= 0 && !o.presentAtStart) bonus += 20;
  else if (o.offsetSeconds > 0) bonus += 5;
  return info.weight + bonus;
}
