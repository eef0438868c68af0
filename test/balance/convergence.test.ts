/**
 * Convergence on the simulator (shortened: 10 s ticks): a 16-cell 100 Ah LFP pack with about
 * 80 mV of spread at the top of charge, on a daily UPS cycle, balanced through bq769x0-like
 * limits (groups of 5, no adjacent bleeders). The full-rate soak is in scripts/bench/balance.mjs.
 */
import { describe, expect, it } from "vitest";
import { balanceSoak } from "./soak.js";

const BQ = {
  groupSize: 5,
  adjacentAllowed: false,
  maxSimultaneous: 15,
  maxPerGroup: 5,
  measurementPauseMs: 0,
};
const base = {
  periodMs: 10_000,
  maxStepMs: 10_000,
  seed: 1,
  socSpreadPct: 5,
  initialSocPct: 97,
  outageW: 2000,
  outageH: 1,
  capabilities: BQ,
};

describe("top-of-charge convergence (16s LFP, simulated days)", () => {
  it("reaches ≤ 10 mV within the days the bleed current predicts, with bleeder heat under the limits", async () => {
    const r = await balanceSoak({ ...base, days: 6, daysAfterConvergence: 1 });
    const story = `initial ${r.initialSpreadMv} mV (true ${r.initialTrueSpreadMv}), excess ${r.excessAh.toFixed(1)} Ah at ${r.bleedMaPerCell.toFixed(0)} mA → ${r.predictedBleedH.toFixed(0)} h of bleeding at ${r.bleedHoursPerDay.toFixed(1)} h/day = ${r.predictedDays} days predicted; daily true spread ${r.dailyTrueSpreadMv.join(", ")} mV`;
    expect(r.initialSpreadMv, story).toBeGreaterThanOrEqual(70);
    expect(r.initialSpreadMv, story).toBeLessThanOrEqual(95);
    expect(r.convergedDay, story).not.toBeNull();
    expect(r.convergedDay!, story).toBeLessThanOrEqual(r.predictedDays);
    // Once there, it stays: the BMS's single reading within the start delta plus its noise.
    for (const s of r.dailySpreadMv.slice(r.convergedDay! - 1)) expect(s, story).toBeLessThanOrEqual(10 + 3);
    expect(r.maxBoardC).toBeLessThan(r.boardLimitC);
    expect(r.maxCellC).toBeLessThan(r.cellLimitC);
    expect(r.bleedTicks).toBeGreaterThan(0);
    // No chatter on sensor noise: a few dozen mask changes a day, not thousands of ticks' worth.
    expect(r.maskChangesPerDay, story).toBeLessThan(100);
  }, 60_000);

  it("without balancing the same pack stays apart (the control run)", async () => {
    const r = await balanceSoak({ ...base, days: 2, balance: { mode: "off" } });
    expect(r.bleedTicks).toBe(0);
    for (const s of r.dailyTrueSpreadMv) expect(s).toBeGreaterThan(50);
  }, 60_000);
});
