import type { CaptureProfile, DestinationService } from "../pcap/captureProfile.js";
import { serviceName } from "./rateChanges.js";
import { poissonRateTest, SIGNIFICANCE_LEVEL } from "./statistics.js";

/** A volume change counts only when the packet rate at least doubled or halved (and the test says it is no accident). */
export const MIN_VOLUME_RATIO = 2;

export interface VolumeShift {
  service: string;
  address: string;
  protocol: string;
  port: number | null;
  baseline: { packets: number; bytes: number; packetsPerSecond: number; bytesPerSecond: number };
  incident: { packets: number; bytes: number; packetsPerSecond: number; bytesPerSecond: number };
  /** Incident packet rate / baseline packet rate. */
  ratio: number;
  /** Poisson rate test on the packet counts over each capture's duration (statistics.ts). */
  pValue: number;
  significant: boolean;
}

/**
 * Traffic per service present in both captures, as rates (each capture over its own duration, so a 60 s baseline and
 * a 300 s incident compare fairly); the most changed first. Packets are burstier than a Poisson process, so the test
 * is optimistic: that is why a shift must also double or halve the rate.
 */
export function volumeShifts(baseline: CaptureProfile, incident: CaptureProfile): VolumeShift[] {
  const t1 = duration(baseline);
  const t2 = duration(incident);
  const before = new Map(baseline.services.map((s) => [serviceName(s), s]));
  const shifts: VolumeShift[] = [];
  for (const after of incident.services) {
    const name = serviceName(after);
    const was = before.get(name);
    if (!was) continue;
    const ratio = (after.packets / t2) / (was.packets / t1);
    const pValue = poissonRateTest(was.packets, t1, after.packets, t2);
    shifts.push({
      service: name,
      address: after.address,
      protocol: after.protocol,
      port: after.port,
      baseline: rates(was, t1),
      incident: rates(after, t2),
      ratio: Number(ratio.toPrecision(3)),
      pValue: Number(pValue.toPrecision(4)),
      significant: pValue < SIGNIFICANCE_LEVEL && (ratio >= MIN_VOLUME_RATIO || ratio <= 1 / MIN_VOLUME_RATIO),
    });
  }
  const size = (s: VolumeShift): number => Math.abs(Math.log(s.ratio));
  return shifts.sort((a, b) => Number(b.significant) - Number(a.significant) || size(b) - size(a));
}

/** Seconds the capture covers; a capture of one instant (or without timestamps) counts as one second. */
function duration(p: CaptureProfile): number {
  return p.summary.durationSeconds > 0 ? p.summary.durationSeconds : 1;
}

function rates(s: DestinationService, seconds: number): VolumeShift["baseline"] {
  const r = (x: number): number => Number((x / seconds).toPrecision(4));
  return { packets: s.packets, bytes: s.bytes, packetsPerSecond: r(s.packets), bytesPerSecond: r(s.bytes) };
}
