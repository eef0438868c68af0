import { describe, expect, it } from "vitest";
import { runDuty } from "./duty.js";

// The full-size 16-cell, 1 s version runs in `npm run bench` (scripts/bench/monitor.mjs).
describe("7-day UPS duty with noise, 1 % gain error and a 50 mA offset (truth-pack model)", () => {
  for (const [chem, preset] of [
    ["lfp", "lfp-100ah"],
    ["nmc", "nmc-18650-3ah"],
  ] as const) {
    it(`${chem}: |SOC error| ≤ 3 % always, ≤ 1.5 % RMS, runtime within ±10 %`, () => {
      const r = runDuty(chem, preset, { cells: 2, dtS: 2 });
      expect(r.samples).toBeGreaterThan(300_000);
      expect(r.maxAbsErrPct).toBeLessThanOrEqual(3);
      expect(r.rmsErrPct).toBeLessThanOrEqual(1.5);
      expect(r.runtime.length).toBe(1);
      for (const x of r.runtime) expect(Math.abs(x.predictedS / x.actualS - 1)).toBeLessThanOrEqual(0.1);
    }, 30_000);
  }
});
