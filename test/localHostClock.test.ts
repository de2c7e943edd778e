// The local host's task hub in this process on a virtual clock, on the sample app: where Azure is less kind than a
// naive host (events that arrive with the timer before continueAsNew, timers left open or cancelled, the retry's
// compatibility timer) and whenIdle(), which the virtual-clock tests rely on.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../local/host/durable/clock.js";
import { EventType } from "../local/host/durable/history.js";
import { type RunningHost, startHost } from "../local/host/host.js";

const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));
let host: RunningHost;

const sampleInput = (overrides: Record<string, unknown> = {}) => ({
  value: 3,
  traceDir: mkdtempSync(join(tmpdir(), "alertcap-trace-")),
  flakyFailures: 0,
  slowMs: 10,
  ...overrides,
});

const record = (id: string) => host.hub.get(id)!;
const eventTypes = (id: string): number[] => record(id).history.map((e) => e.EventType);

/** Fires the instance's next durable timer (and any earlier one) and waits until everything it causes has run. */
async function fireNextTimer(id: string): Promise<void> {
  const due = record(id).timers.map((t) => new Date(t.fireAt).getTime());
  expect(due.length, `${id} to have a timer to fire`).toBeGreaterThan(0);
  clock.advanceTo(new Date(Math.min(...due)));
  await host.hub.whenIdle();
}

beforeAll(async () => {
  host = await startHost({
    scriptRoot: process.cwd(),
    main: "dist/test/fixtures/sample-app/*.js",
    dataDir: mkdtempSync(join(tmpdir(), "alertcap-clock-")),
    port: 0,
    clock,
    functionKey: "k",
    logger: { log: () => {} },
  });
});

afterAll(async () => {
  await host?.close();
});

describe("local host task hub on a virtual clock", () => {
  it("whenIdle() resolves only once a fired timer's episode has run", async () => {
    const id = "idle-1";
    await host.hub.startNew("SampleWorkflow", id, sampleInput());
    for (let step = 0; step < 50; step++) {
      await host.hub.whenIdle();
      // Idle means nothing is left to process: no delivered message waits for an episode.
      expect(record(id).inbox, `step ${step}`).toEqual([]);
      if (record(id).status === "Completed") break;
      clock.advanceTo(clock.nextDue()!);
    }
    expect(record(id).status).toBe("Completed");
    expect((record(id).output as { approvedBy: string }).approvedBy).toBe("nobody (timed out)");
  });

  it("carries an event raised in the same batch as the last timer before continueAsNew over to the next generation", async () => {
    const id = "carry-1";
    await host.hub.startNew("SampleWorkflow", id, sampleInput());
    await host.hub.whenIdle();
    expect(record(id).generation).toBe(0);
    // The round-0 timer fires and "approve" arrives before the episode that reads the timer runs: one batch.
    clock.advanceTo(new Date(record(id).timers[0]!.fireAt));
    const raised = host.hub.raiseEvent(id, "approve", "alice");
    await raised;
    await host.hub.whenIdle();
    expect(record(id).generation).toBe(1);
    while (record(id).status === "Running") await fireNextTimer(id);
    expect(record(id).status).toBe("Completed");
    expect((record(id).output as { approvedBy: string }).approvedBy).toBe("alice");
  });

  it("keeps an orchestration that returned with a timer still open Running until that timer fires", async () => {
    const id = "open-timer-1";
    await host.hub.startNew("ForgetsTimer", id, null);
    await host.hub.whenIdle();
    await host.hub.raiseEvent(id, "approve", "bob");
    await host.hub.whenIdle();
    expect(record(id).status).toBe("Running");
    expect(record(id).output).toBeNull();
    await fireNextTimer(id);
    expect(record(id).status).toBe("Completed");
    expect(record(id).output).toBe("approved by bob");
    const types = eventTypes(id);
    expect(types.lastIndexOf(EventType.TimerFired)).toBeLessThan(types.lastIndexOf(EventType.ExecutionCompleted));
  });

  it("keeps an orchestration that returned with an activity still running Running until the activity answers", async () => {
    const id = "open-activity-1";
    const input = sampleInput();
    await host.hub.startNew("LeavesActivity", id, input);
    await host.hub.raiseEvent(id, "approve", "erin");
    // The activity waits for a gate the test has not opened; wait for the episode that read the event.
    for (let polls = 0; !eventTypes(id).includes(EventType.EventRaised); polls++) {
      expect(polls, "the event's episode").toBeLessThan(5000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(record(id).status).toBe("Running");
    writeFileSync(join(input.traceDir, "gate"), "");
    await host.hub.whenIdle();
    expect(record(id).status).toBe("Completed");
    expect(record(id).output).toBe("approved by erin");
  });

  it("delivers a cancelled timer's message later, as one more episode of a running orchestration", async () => {
    const id = "cancelled-timer-1";
    await host.hub.startNew("CancelsTimer", id, null);
    await host.hub.whenIdle();
    await host.hub.raiseEvent(id, "approve", "carol");
    await host.hub.whenIdle();
    const episodes = record(id).episodes;
    expect(eventTypes(id)).not.toContain(EventType.TimerFired);
    await fireNextTimer(id);
    expect(record(id).episodes).toBe(episodes + 1);
    expect(eventTypes(id)).toContain(EventType.TimerFired);
    expect(record(id).status).toBe("Running");
    await host.hub.raiseEvent(id, "finish", "dave");
    await host.hub.whenIdle();
    expect(record(id).status).toBe("Completed");
    expect(record(id).output).toBe("finished by dave");
  });

  it("follows a retry's last failed attempt with a timer that fires at once (DTFx compatibility timer)", async () => {
    const id = "give-up-1";
    const startedAt = clock.now().getTime();
    await host.hub.startNew("GivesUpAtOnce", id, sampleInput({ flakyFailures: 10 }));
    await host.hub.whenIdle();
    expect(record(id).status).toBe("Completed");
    expect(record(id).output).toBe("gave up");
    const timers = record(id).history.filter((e) => e.EventType === EventType.TimerCreated);
    expect(timers).toHaveLength(1);
    expect(new Date(timers[0]!.FireAt as string).getTime()).toBe(startedAt);
    expect(eventTypes(id)).toContain(EventType.TimerFired);
  });
});

describe("an instance started again over a finished one", () => {
  it("does not let the old execution's timer fire into the new one", async () => {
    const id = "restarted-1";
    await host.hub.startNew("ForgetsTimer", id, null);
    await host.hub.whenIdle();
    const oldTimer = new Date(record(id).timers[0]!.fireAt).getTime();
    await host.hub.terminate(id, "operator");
    clock.advanceTo(new Date(clock.now().getTime() + 30_000));
    await host.hub.startNew("ForgetsTimer", id, null);
    await host.hub.whenIdle();
    // The old execution's timer comes due; the new execution's own timer is 30 s later.
    clock.advanceTo(new Date(oldTimer));
    await host.hub.whenIdle();
    expect(record(id).status).toBe("Running");
    expect(eventTypes(id)).not.toContain(EventType.TimerFired);
    await fireNextTimer(id);
    expect(record(id).output).toBe("timed out");
  });
});
