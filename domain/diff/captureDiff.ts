// What changed between a baseline capture and an incident capture: who talks now that did not (and the reverse),
// which destination services are new, which failure rates moved beyond chance, and whose traffic shifted.
import type { CaptureProfile, DestinationService, Talker } from "../pcap/captureProfile.js";
import { diffFindings } from "./diffFindings.js";
import { rateChanges, serviceName, type RateChange } from "./rateChanges.js";
import { volumeShifts, type VolumeShift } from "./volumeShifts.js";

/** Longest list of talkers, services or shifts printed; the counts say how many there were in all. */
const MAX_LISTED = 100;
/** A scan gives every one of thousands of services its own (insignificant) rate; the significant ones sort first. */
const MAX_RATE_CHANGES = 500;

export interface CaptureSide {
  packets: number;
  bytes: number;
  durationSeconds: number;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  talkers: number;
  services: number;
}

export type ListedService = DestinationService & { service: string };

export interface CaptureDiff {
  baseline: CaptureSide;
  incident: CaptureSide;
  /** Plain sentences with their numbers, most important first. */
  findings: string[];
  /** Addresses in the incident and not the baseline (most bytes first), and the reverse. */
  newTalkers: Talker[];
  goneTalkers: Talker[];
  newTalkerCount: number;
  goneTalkerCount: number;
  /** Destination services (server address, protocol, port) in the incident and not the baseline, and the reverse. */
  newServices: ListedService[];
  goneServices: ListedService[];
  newServiceCount: number;
  goneServiceCount: number;
  /** Failure rates per layer and per server / host / service, significant ones first (at most MAX_RATE_CHANGES). */
  rateChanges: RateChange[];
  rateChangeCount: number;
  /** Traffic rate per service present in both, the largest significant shifts first. */
  volumeShifts: VolumeShift[];
  /** Caveats of either capture (caps hit, truncation), prefixed with which. */
  notes: string[];
}

export function diffCaptures(baseline: CaptureProfile, incident: CaptureProfile): CaptureDiff {
  const newTalkers = missingFrom(incident.talkers, baseline.talkers, (t) => t.address);
  const goneTalkers = missingFrom(baseline.talkers, incident.talkers, (t) => t.address);
  const newServices = missingFrom(incident.services, baseline.services, serviceName).map(listed);
  const goneServices = missingFrom(baseline.services, incident.services, serviceName).map(listed);
  const rates = rateChanges(baseline, incident);
  const shifts = volumeShifts(baseline, incident);
  const diff: CaptureDiff = {
    baseline: side(baseline),
    incident: side(incident),
    findings: [],
    newTalkers: newTalkers.slice(0, MAX_LISTED),
    goneTalkers: goneTalkers.slice(0, MAX_LISTED),
    newTalkerCount: newTalkers.length,
    goneTalkerCount: goneTalkers.length,
    newServices: newServices.slice(0, MAX_LISTED),
    goneServices: goneServices.slice(0, MAX_LISTED),
    newServiceCount: newServices.length,
    goneServiceCount: goneServices.length,
    rateChanges: rates.slice(0, MAX_RATE_CHANGES),
    rateChangeCount: rates.length,
    volumeShifts: shifts.slice(0, MAX_LISTED),
    notes: [...baseline.summary.notes.map((n) => `Baseline: ${n}`), ...incident.summary.notes.map((n) => `Incident: ${n}`)],
  };
  diff.findings = diffFindings({ ...diff, rateChanges: rates }, incident.summary.bytes);
  return diff;
}

/** Items of `list` whose key is not in `other`, in `list`'s order (most bytes first). */
function missingFrom<T>(list: T[], other: T[], key: (item: T) => string): T[] {
  const present = new Set(other.map(key));
  return list.filter((item) => !present.has(key(item)));
}

function listed(s: DestinationService): ListedService {
  return { service: serviceName(s), ...s };
}

function side(p: CaptureProfile): CaptureSide {
  const s = p.summary;
  return {
    packets: s.packets,
    bytes: s.bytes,
    durationSeconds: s.durationSeconds,
    firstTimestamp: s.firstTimestamp,
    lastTimestamp: s.lastTimestamp,
    talkers: p.talkers.length,
    services: p.services.length,
  };
}
