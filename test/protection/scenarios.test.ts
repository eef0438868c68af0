/**
 * Scenario tests on the simulated pack: each fault in scenarios/ trips the right code within
 * its delay plus one tick, opens the right FET, keeps the cells within a stated margin of
 * their hard limits, and recovers or stays latched as specified.
 */
import { describe, expect, it } from "vitest";
import {
  firstTick,
  onsetOfRun,
  runScenarioTrace,
  type ScenarioRun,
  type TickTrace,
  timeBeyondBefore,
  tripEvents,
  trips,
} from "./scenario-harness.js";
import { parseScenario } from "../../src/hal/sim/scenario.js";

/** A cell may pass its hard limit by at most this much (the trip delay at the cell's dV/dt). */
const HARD_LIMIT_MARGIN_MV = 25;

function atOrAfter(_run: ScenarioRun, atS: number) {
  return atS * 1000;
}

/**
 * Slow drifts read through sensor noise cross a limit many times before they stay past it.
 * The guarantee checked: once the measured value has stayed past the limit, the trip follows
 * within delay + one tick; and the trip never comes before the value has spent delayMs past it.
 */
function expectDebouncedTrip(
  run: ScenarioRun,
  tripped: TickTrace,
  beyond: (t: TickTrace) => boolean,
  delayMs: number,
): void {
  const onset = onsetOfRun(run, tripped, beyond);
  expect(tripped.tMs - onset.tMs).toBeLessThanOrEqual(delayMs + run.periodMs);
  expect(timeBeyondBefore(run, tripped, beyond)).toBeGreaterThanOrEqual(delayMs);
}

/**
 * A temperature protection that blocks charging only: it trips debounced after the
 * measured temperature crossed its limit, opens the charge FET and keeps the discharge FET.
 */
function expectChargeOnlyTempTrip(
  run: Awaited<ReturnType<typeof runScenarioTrace>>,
  code: "ot_charge" | "ut_charge",
) {
  const lv = (code === "ot_charge" ? run.config.protection.otCharge : run.config.protection.utCharge).trip!;
  const tripped = firstTick(run, trips(code))!;
  expectDebouncedTrip(
    run,
    tripped,
    code === "ot_charge"
      ? (t) => t.maxTempDeciC !== null && t.maxTempDeciC >= lv.limit
      : (t) => t.minTempDeciC !== null && t.minTempDeciC <= lv.limit,
    lv.delayMs,
  );
  expect(tripped.chg).toBe(false);
  expect(tripped.dsg).toBe(true);
  return tripped;
}

describe("scenarios", () => {
  it("charger-runaway: cell_ov opens only the charge path within delay + one tick", async () => {
    const run = await runScenarioTrace("charger-runaway", 3000);
    const ov = run.config.protection.cellOv.trip!;
    // Reference: the true cell crossing the limit (the AFE watches the pins; software the samples).
    const crossed = firstTick(run, (t) => t.trueMaxCellMv >= ov.limit)!;
    const tripped = firstTick(run, trips("cell_ov"))!;
    expect(tripped.tMs - crossed.tMs).toBeLessThanOrEqual(ov.delayMs + run.periodMs);
    expect(tripped.tMs - crossed.tMs).toBeGreaterThanOrEqual(ov.delayMs - run.periodMs);
    expect(tripped.chg).toBe(false);
    expect(tripped.dsg).toBe(true);
    expect(run.trueCellMv.max).toBeLessThanOrEqual(ov.limit + HARD_LIMIT_MARGIN_MV);
    // The runaway charger is still connected: the charge path stays open, never chatters.
    const after = run.trace.filter((t) => t.tMs >= tripped.tMs);
    expect(after.every((t) => !t.chg && t.dsg)).toBe(true);
    expect(tripEvents(run, "cell_ov")).toHaveLength(1);
  }, 60_000);

  it("overcurrent: oc_discharge opens the discharge path, retries with back-off, latches, then resets", async () => {
    const run = await runScenarioTrace("overcurrent", 1000);
    const oc = run.config.protection.ocDischarge.trip!;
    const latch = run.config.protection.overcurrentLatch;
    // The overload steps in at 300 s: the AFE (or software) must act within delay + one tick.
    const tripped = firstTick(run, trips("oc_discharge"))!;
    expect(tripped.tMs - 300_000).toBeLessThanOrEqual(oc.delayMs + run.periodMs);
    expect(tripped.dsg).toBe(false);
    expect(tripped.chg).toBe(true);
    expect(tripEvents(run, "oc_discharge")).toHaveLength(latch.retries + 1);
    const latched = firstTick(run, (t) => t.latched.includes("oc_discharge"))!;
    expect(latched).toBeDefined();
    // Latched: the path stays open after the overload has gone, until the reset at 900 s.
    const overloadEnds = atOrAfter(run, 600);
    const held = run.trace.filter((t) => t.tMs > overloadEnds + 1000 && t.tMs < 900_000);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((t) => !t.dsg && t.latched.includes("oc_discharge"))).toBe(true);
    const back = firstTick(run, (t) => t.dsg, 900_000)!;
    expect(back.tMs).toBeLessThanOrEqual(900_000 + 2 * run.periodMs);
    expect(
      run.events.some((e) => e.type === "fault" && e.action === "reset" && e.code === "oc_discharge"),
    ).toBe(true);
  }, 60_000);

  it("short-circuit: the AFE's trip enters at once, both paths open, auto-retry after the back-off", async () => {
    const run = await runScenarioTrace("short-circuit", 200);
    const tripped = firstTick(run, trips("short_circuit"))!;
    expect(tripped.tMs - 60_000).toBeLessThanOrEqual(run.periodMs);
    expect(tripped.chg).toBe(false);
    expect(tripped.dsg).toBe(false);
    const ev = tripEvents(run, "short_circuit");
    expect(ev).toHaveLength(1);
    expect(ev[0]!.type === "fault" && ev[0]!.detail).toContain("hardware");
    const back = firstTick(run, (t) => t.dsg, tripped.tMs)!;
    const backoff = run.config.protection.overcurrentLatch.backoffMs[0]!;
    expect(back.tMs - tripped.tMs).toBeGreaterThanOrEqual(backoff);
    expect(back.tMs - tripped.tMs).toBeLessThanOrEqual(backoff + 2 * run.periodMs);
    // The sag during the short never reads as an under-voltage or deep discharge.
    expect(
      run.events.some((e) => e.type === "fault" && (e.code === "cell_uv" || e.code === "deep_discharge")),
    ).toBe(false);
  }, 60_000);

  it("comms-loss: afe_comms after its delay; charge opens, the UPS load stays on", async () => {
    const run = await runScenarioTrace("comms-loss", 200);
    const delay = run.config.protection.afeCommsDelayMs;
    // While the AFE is silent the loop publishes no snapshot: judge by the event.
    const ev = tripEvents(run, "afe_comms");
    expect(ev).toHaveLength(1);
    const dt = ev[0]!.tMs - 60_000;
    expect(dt).toBeGreaterThanOrEqual(delay);
    expect(dt).toBeLessThanOrEqual(delay + run.periodMs);
    // First verdict after the AFE answers again: still afe_comms (recovery delay), charge open,
    // discharge kept (the last data was in the safe band), then recovery.
    const first = firstTick(run, () => true, 90_000)!;
    expect(first.trips).toContain("afe_comms");
    expect(first.chg).toBe(false);
    expect(first.dsg).toBe(true);
    const recovered = firstTick(run, (t) => !t.trips.includes("afe_comms"), 90_000)!;
    expect(recovered.tMs - first.tMs).toBeLessThanOrEqual(
      run.config.protection.sensorFault.recoveryDelayMs + 2 * run.periodMs,
    );
    expect(recovered.chg).toBe(true);
    expect(recovered.dsg).toBe(true);
  }, 60_000);

  it("open-wire: sensor_fault, never a false UV/OV or deep-discharge; discharge kept within the hold", async () => {
    const run = await runScenarioTrace("open-wire", 2000);
    const sf = run.config.protection.sensorFault;
    const seen = firstTick(run, (t) => t.sensorFaults > 0)!;
    const tripped = firstTick(run, trips("sensor_fault"))!;
    expect(tripped.tMs - seen.tMs).toBeLessThanOrEqual(sf.delayMs + run.periodMs);
    expect(tripped.chg).toBe(false);
    expect(tripped.dsg).toBe(true);
    const codes = new Set(run.events.flatMap((e) => (e.type === "fault" ? [e.code] : [])));
    for (const c of ["cell_uv", "cell_ov", "deep_discharge", "cell_spread"] as const)
      expect(codes.has(c)).toBe(false);
    // The wire is fixed at 1800 s, before the 30-minute hold ran out.
    expect(run.trace.every((t) => t.dsg)).toBe(true);
    const recovered = firstTick(run, (t) => !t.trips.includes("sensor_fault"), 1_800_000)!;
    expect(recovered.tMs - 1_800_000).toBeLessThanOrEqual(sf.recoveryDelayMs + 2 * run.periodMs + 1000);
    expect(recovered.chg).toBe(true);
  }, 60_000);

  it("thermistor-offset: one sensor's over-temperature opens the charge path only", async () => {
    const run = await runScenarioTrace("thermistor-offset", 2200);
    const tripped = expectChargeOnlyTempTrip(run, "ot_charge");
    const cleared = firstTick(run, (t) => !t.trips.includes("ot_charge"), tripped.tMs)!;
    expect(cleared.tMs).toBeGreaterThan(1_920_000);
    expect(cleared.chg).toBe(true);
  }, 60_000);

  it("thermistor-short: a rail reading is a sensor fault, not an over-temperature", async () => {
    const run = await runScenarioTrace("thermistor-short", 1000);
    const tripped = firstTick(run, trips("sensor_fault"))!;
    expect(tripped.tMs - 120_000).toBeLessThanOrEqual(
      run.config.protection.sensorFault.delayMs + 2 * run.periodMs,
    );
    expect(tripped.chg).toBe(false);
    expect(tripped.dsg).toBe(true);
    const codes = new Set(run.events.flatMap((e) => (e.type === "fault" ? [e.code] : [])));
    expect(codes.has("ot_charge")).toBe(false);
    expect(codes.has("ot_discharge")).toBe(false);
  }, 60_000);

  it("cold-ambient: ut_charge blocks charging in the cold, discharge stays available", async () => {
    const run = await runScenarioTrace("cold-ambient", 7000);
    expectChargeOnlyTempTrip(run, "ut_charge");
  }, 60_000);

  it("weak-cell: cell_uv opens the discharge path in the outage, charging recovers it", async () => {
    const run = await runScenarioTrace("weak-cell", 15_000);
    const uv = run.config.protection.cellUv.trip!;
    const crossed = firstTick(run, (t) => t.trueMinCellMv <= uv.limit)!;
    const tripped = firstTick(run, trips("cell_uv"))!;
    expect(tripped.tMs - crossed.tMs).toBeLessThanOrEqual(uv.delayMs + run.periodMs);
    expect(tripped.dsg).toBe(false);
    expect(tripped.chg).toBe(true);
    expect(run.trueCellMv.min).toBeGreaterThanOrEqual(uv.limit - HARD_LIMIT_MARGIN_MV);
    const cleared = firstTick(run, (t) => !t.trips.includes("cell_uv"), tripped.tMs)!;
    expect(cleared.dsg).toBe(true);
    expect(cleared.tMs).toBeGreaterThan(14_400_000);
  }, 60_000);
  it("hot-ambient: ot_charge blocks charging while floating hot, discharge stays available", async () => {
    const run = await runScenarioTrace("hot-ambient", 7000);
    const tripped = expectChargeOnlyTempTrip(run, "ot_charge");
    expect(run.trace.filter((t) => t.tMs >= tripped.tMs).every((t) => !t.chg && t.dsg)).toBe(true);
  }, 60_000);

  it("thermistor-open: a flagged rail reading is a sensor fault; an unflagged one is cold", async () => {
    const run = await runScenarioTrace("thermistor-open", 400);
    const flagged = run.trace.some((t) => t.sensorFaults > 0);
    if (flagged) {
      // The monitor calls −40.0 °C an open thermistor: the channel is left out of the checks.
      const tripped = firstTick(run, trips("sensor_fault"))!;
      expect(tripped.tMs - 120_000).toBeLessThanOrEqual(
        run.config.protection.sensorFault.delayMs + 2 * run.periodMs,
      );
      expect(tripped.dsg).toBe(true);
      expect(tripEvents(run, "ut_discharge")).toHaveLength(0);
    } else {
      // A monitor that accepts the rail value as plausible: protection must believe it.
      const tripped = firstTick(run, trips("ut_charge"))!;
      const ut = run.config.protection.utCharge.trip!;
      expect(tripped.tMs - 120_000).toBeLessThanOrEqual(ut.delayMs + 2 * run.periodMs);
      expect(tripped.chg).toBe(false);
    }
  }, 60_000);
  it("float: six hours on mains with the simulator's sensor noise raise no fault at any level", async () => {
    const run = await runScenarioTrace(
      parseScenario({
        name: "float",
        seed: 33,
        durationS: 6 * 3600,
        pack: { cellPreset: "lfp-100ah", cellsInSeries: 16 },
        initial: { socPct: 99, mains: true },
        config: { loop: { periodMs: 1000 } },
        timeline: [],
      }),
    );
    expect(run.events.filter((e) => e.type === "fault")).toEqual([]);
    expect(run.trace.every((t) => t.chg && t.dsg)).toBe(true);
    expect(run.trace.at(-1)!.state).toBe("standby");
  }, 60_000);
});
