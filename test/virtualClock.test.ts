// The virtual clock that the long-running tests (30 days of a recorder, five hours of a capture) run on: time only
// moves forward, and callbacks run in time order even when one schedules another while the clock is moving.
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../local/host/durable/clock.js";

describe("VirtualClock", () => {
  it("runs a callback scheduled during advanceTo before later pending ones, and never goes back in time", () => {
    const clock = new VirtualClock(new Date(0));
    const seen: number[] = [];
    const note = () => seen.push(clock.now().getTime());
    clock.at(new Date(10), () => {
      note();
      clock.at(new Date(20), note);
    });
    clock.at(new Date(100), note);
    clock.advanceTo(new Date(1000));
    expect(seen).toEqual([10, 20, 100]);
    expect(clock.now().getTime()).toBe(1000);
  });

  it("leaves callbacks due after the target pending", () => {
    const clock = new VirtualClock(new Date(0));
    const seen: number[] = [];
    clock.at(new Date(50), () => seen.push(50));
    clock.at(new Date(500), () => seen.push(500));
    clock.advanceTo(new Date(100));
    expect(seen).toEqual([50]);
    expect(clock.nextDue()?.getTime()).toBe(500);
  });
});
