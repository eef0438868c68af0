import { deepMerge, parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSimulation, type Simulation } from "../../src/hal/sim/index.js";
import { ManualClock } from "../../src/time/clock.js";

export const NO_SPREAD = { capacityPct: 0, resistancePct: 0, socPct: 0, selfDischargeSigmaLn: 0 };

/** A small simulated pack on a manual clock; physics is advanced by the test. */
export function makeSim(
  over: Record<string, unknown> = {},
  cells = 4,
): { sim: Simulation; clock: ManualClock } {
  const config = parseConfig(
    deepMerge({ pack: { cellsInSeries: cells }, afe: { kind: "sim", realTime: false } }, over),
  );
  const clock = new ManualClock(0);
  return { sim: createSimulation(config, { clock, logger: silentLogger }), clock };
}

/** Advances both the clock and the physics to `ms`. */
export function goTo(sim: Simulation, clock: ManualClock, ms: number): void {
  clock.advanceTo(ms);
  sim.physics.advanceTo(ms);
}

export const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
};
