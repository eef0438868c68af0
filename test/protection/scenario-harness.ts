/**
 * Runs a scenario file from scenarios/ through the full loop (simulated pack, monitor,
 * protection, balancer) on a ManualClock and keeps a compact per-tick trace for assertions.
 */
import { readFileSync } from "node:fs";
import { type BmsConfig, deepMerge, parseConfig } from "../../src/config/schema.js";
import type { BmsEvent } from "../../src/core/events.js";
import type { FaultCode } from "../../src/core/faults.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { parseScenario, type Scenario, scenarioConfigOverrides } from "../../src/hal/sim/scenario.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";

export interface TickTrace {
  readonly tMs: number;
  readonly valid: boolean;
  readonly maxCellMv: number;
  readonly minCellMv: number;
  /** The simulated cells' true extremes at this tick. */
  readonly trueMaxCellMv: number;
  readonly trueMinCellMv: number;
  readonly currentMa: number;
  readonly maxTempDeciC: number | null;
  readonly minTempDeciC: number | null;
  readonly boardTempDeciC: number | null;
  readonly sensorFaults: number;
  readonly chg: boolean;
  readonly dsg: boolean;
  readonly trips: readonly FaultCode[];
  readonly latched: readonly FaultCode[];
  readonly state: string;
}

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly config: BmsConfig;
  readonly trace: readonly TickTrace[];
  readonly events: readonly BmsEvent[];
  /** True (physical) extremes over the run. */
  readonly trueCellMv: { readonly min: number; readonly max: number };
  readonly periodMs: number;
}

export function loadScenario(name: string): Scenario {
  const url = new URL(`../../scenarios/${name}.json`, import.meta.url);
  return parseScenario(JSON.parse(readFileSync(url, "utf8")), name);
}

export async function runScenarioTrace(name: string | Scenario, untilS?: number): Promise<ScenarioRun> {
  const scenario = typeof name === "string" ? loadScenario(name) : name;
  const config = parseConfig(deepMerge(scenario.config ?? {}, scenarioConfigOverrides(scenario)));
  const clock = new ManualClock(0, { autoAdvance: true });
  let bms: ReturnType<typeof createBms> | null = null;
  const sim = createSimulation(config, {
    clock,
    logger: silentLogger,
    scenario: {
      timeline: scenario.timeline,
      onRequest: (e) => bms?.request({ kind: e.request, source: "scenario" }),
    },
  });
  bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
  const trace: TickTrace[] = [];
  const events: BmsEvent[] = [];
  bms.onEvent((e) => {
    events.push(e);
    // The simulated AFE advances its physics only when it answers, so during an injected comms
    // loss the scheduled end of the loss would never arrive; time passes for the pack anyway.
    if (e.type === "error") sim.physics.advanceTo(e.tMs);
  });
  bms.onSnapshot((s) => {
    sim.setBmsLimits(s.protection.limits);
    const m = s.measurements;
    const p = s.protection;
    const truth = sim.truth().cellVoltagesMv;
    trace.push({
      trueMaxCellMv: Math.max(...truth),
      trueMinCellMv: Math.min(...truth),
      tMs: s.timestampMs,
      valid: m.valid,
      maxCellMv: m.cells.maxMv,
      minCellMv: m.cells.minMv,
      currentMa: m.packCurrentMa,
      maxTempDeciC: m.maxTempDeciC,
      minTempDeciC: m.minTempDeciC,
      boardTempDeciC: m.boardTempDeciC,
      sensorFaults: m.sensorFaults.length,
      chg: p.fets.chg,
      dsg: p.fets.dsg,
      trips: p.faults.filter((f) => f.level === "trip").map((f) => f.code),
      latched: p.faults.filter((f) => f.latched).map((f) => f.code),
      state: p.state,
    });
  });
  const durationS = Math.min(scenario.durationS, untilS ?? scenario.durationS);
  await bms.start();
  await bms.run({ maxTicks: Math.floor((durationS * 1000) / config.loop.periodMs) + 1 });
  sim.physics.advanceTo(clock.nowMs());
  const ex = sim.physics.extremes;
  await bms.shutdown("scenario test finished");
  return {
    scenario,
    config,
    trace,
    events,
    trueCellMv: { min: ex.minCellV * 1000, max: ex.maxCellV * 1000 },
    periodMs: config.loop.periodMs,
  };
}

/** First tick at or after `fromMs` satisfying `pred`, or undefined. */
export function firstTick(
  run: ScenarioRun,
  pred: (t: TickTrace) => boolean,
  fromMs = 0,
): TickTrace | undefined {
  return run.trace.find((t) => t.tMs >= fromMs && pred(t));
}

export const trips = (code: FaultCode) => (t: TickTrace) => t.trips.includes(code);

/** Trip events (raised at trip level) by code. */
export function tripEvents(run: ScenarioRun, code: FaultCode) {
  return run.events.filter(
    (e) => e.type === "fault" && e.code === code && e.level === "trip" && e.action === "raised",
  );
}

/**
 * Start of the run of consecutive ticks, ending at `end`, whose measured value is past the
 * limit: the moment the condition was established in the data the protection sees.
 */
export function onsetOfRun(run: ScenarioRun, end: TickTrace, beyond: (t: TickTrace) => boolean): TickTrace {
  const i = run.trace.indexOf(end);
  let j = i;
  while (j > 0 && beyond(run.trace[j - 1]!)) j--;
  return run.trace[j]!;
}

/** Time the measured value spent past the limit before `end`, ms (the "not before" check). */
export function timeBeyondBefore(
  run: ScenarioRun,
  end: TickTrace,
  beyond: (t: TickTrace) => boolean,
): number {
  let ms = 0;
  const last = run.trace.indexOf(end);
  for (let i = 1; i <= last; i++) {
    if (beyond(run.trace[i]!) && beyond(run.trace[i - 1]!)) ms += run.trace[i]!.tMs - run.trace[i - 1]!.tMs;
  }
  return ms;
}
