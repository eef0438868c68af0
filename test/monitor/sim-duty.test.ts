/**
 * The full loop (createBms) on the simulated pack in simulated time: float, a partial outage,
 * recharge, an outage to cut-off. A compact version of the 7-day duty in the bench.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";

async function simDuty(chemistry: "lfp" | "nmc") {
  const cells = 4;
  const config = parseConfig({
    pack: { chemistry, cellsInSeries: cells },
    loop: { periodMs: 1000 },
    afe: {
      kind: "sim",
      seed: 5,
      initialSocPct: 100,
      mains: true,
      realTime: false,
      sensors: { currentGainPct: 1, currentOffsetMa: 50 },
    },
  });
  const packWh = config.pack.capacityAh * cells * (chemistry === "lfp" ? 3.2 : 3.6);
  const clock = new ManualClock(0, { autoAdvance: true });
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
  const outages = [
    { atS: 12 * 3600, c: 0.5, minutes: 45 as number | null },
    { atS: 30 * 3600, c: 0.8, minutes: null },
  ];
  let current: { startMs: number; minutes: number | null; predictedS: number | null } | null = null;
  for (const o of outages)
    sim.physics.schedule(o.atS * 1000, () => {
      sim.setLoadW(o.c * packWh);
      sim.setMains(false);
      current = { startMs: o.atS * 1000, minutes: o.minutes, predictedS: null };
    });
  const z = sim.physics.bank.z;
  let max = 0;
  let sq = 0;
  let n = 0;
  const runtime: { predictedS: number; actualS: number }[] = [];
  bms.onSnapshot((snap) => {
    sim.setBmsLimits(snap.protection.limits);
    let mean = 0;
    for (let i = 0; i < z.length; i++) mean += z[i]!;
    const err = snap.estimates.socPct - (100 * mean) / z.length;
    max = Math.max(max, Math.abs(err));
    sq += err * err;
    n++;
    const c = current as { startMs: number; minutes: number | null; predictedS: number | null } | null;
    if (!c) return;
    const dt = snap.timestampMs - c.startMs;
    if (c.predictedS === null && dt >= 10_000 && snap.estimates.runtimeS !== null)
      c.predictedS = snap.estimates.runtimeS + dt / 1000;
    const cut = snap.measurements.cells.minMv <= config.monitor.runtimeCutoffMv;
    if (cut || (c.minutes !== null && dt >= c.minutes * 60_000) || !snap.protection.fets.dsg) {
      if (c.minutes === null && c.predictedS !== null)
        runtime.push({ predictedS: c.predictedS, actualS: dt / 1000 });
      sim.setMains(true);
      current = null;
    }
  });
  await bms.start();
  await bms.run({ maxTicks: 48 * 3600 });
  return { max, rms: Math.sqrt(sq / n), runtime };
}

describe("estimator on the simulated pack, full loop (gain +1 %, offset 50 mA)", () => {
  for (const chem of ["lfp", "nmc"] as const) {
    it(`${chem}: SOC within 3 % (RMS ≤ 1.5 %), runtime at outage start within ±10 %`, async () => {
      const r = await simDuty(chem);
      expect(r.max).toBeLessThanOrEqual(3);
      expect(r.rms).toBeLessThanOrEqual(1.5);
      expect(r.runtime.length).toBe(1);
      const x = r.runtime[0]!;
      expect(Math.abs(x.predictedS / x.actualS - 1)).toBeLessThanOrEqual(0.1);
    }, 30_000);
  }
});
