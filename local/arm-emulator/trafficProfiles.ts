// Which traffic each emulated machine generates (local/traffic/profile.ts): set per VM or scale set by the inventory
// (`traffic`), by the `trafficProfiles` option, or at run time (`setTrafficProfile`), so a demo can make one VM start
// failing at a chosen instant, before an alert fires.

import type { InventoryTraffic } from "./inventory.js";
import { idKey } from "./resourceIds.js";
import { steadyProfile, trafficProfileFor, type TrafficProfile, type TrafficProfileSpec } from "../traffic/profile.js";

export type TrafficChoice = TrafficProfileSpec | TrafficProfile;

export class TrafficProfiles {
  private readonly chosen = new Map<string, TrafficProfile>();

  /** Sets the profile of a VM, a scale set (all its instances) or one instance (`{vmss}/virtualMachines/{id}`). */
  set(resourceId: string, choice: TrafficChoice): void {
    this.chosen.set(idKey(resourceId), isProfile(choice) ? choice : trafficProfileFor(choice));
  }

  /**
   * The profile a recording of `emulatedVm` plays. It looks the choice up at every round, so a profile set while a
   * machine's traffic runs applies from its next round on.
   */
  profileFor(emulatedVm: string): TrafficProfile {
    const current = () => this.current(emulatedVm);
    return { roundIntervalMs: current().roundIntervalMs, round: (round, elapsedMs, atMs) => current().round(round, elapsedMs, atMs) };
  }

  private current(emulatedVm: string): TrafficProfile {
    const instance = /^(.*)\/virtualMachines\/[^/]+$/i.exec(emulatedVm);
    return this.chosen.get(idKey(emulatedVm)) ?? (instance?.[1] ? this.chosen.get(idKey(instance[1])) : undefined) ?? steadyProfile;
  }
}

/** An inventory `traffic` value as a profile choice; `failingAfterSeconds` counts from `startMs` (the emulator's start). */
export function inventoryTrafficChoice(traffic: InventoryTraffic, startMs: number): TrafficProfileSpec {
  if (typeof traffic === "string") return traffic;
  if ("failingFrom" in traffic) return { failingFrom: new Date(traffic.failingFrom) };
  return { failingFrom: new Date(startMs + traffic.failingAfterSeconds * 1000) };
}

function isProfile(choice: TrafficChoice): choice is TrafficProfile {
  return typeof choice === "object" && "round" in choice;
}
