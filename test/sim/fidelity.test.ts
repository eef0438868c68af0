import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { capacityFromC20Ah, replayFidelity } from "../../src/hal/sim/fidelity.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/about-energy/${name}`, import.meta.url), "utf8");

describe("cell model against measured About:Energy drive cycles (25 °C, SOC > 10 %)", () => {
  it("LFP 2 Ah 18650: terminal-voltage RMSE ≤ 25 mV", () => {
    const q = capacityFromC20Ah(fixture("LFP_25degC_Co20.csv"));
    expect(q).toBeCloseTo(2.074, 2);
    const r = replayFidelity("ae-lfp-2ah", fixture("LFP_25degC_DriveCycle.csv"), q);
    // The cycle runs the cell nearly empty: most of it must have been compared.
    expect(r.points).toBeGreaterThan(7000);
    expect(r.finalSocPct).toBeLessThan(10);
    expect(r.rmseMv).toBeLessThanOrEqual(25);
  });

  it("NMC 12.5 Ah pouch: terminal-voltage RMSE ≤ 10 mV", () => {
    const q = capacityFromC20Ah(fixture("NMC_25degC_Co20.csv"));
    expect(q).toBeCloseTo(13.1, 1);
    const r = replayFidelity("ae-nmc-12.5ah", fixture("NMC_25degC_DriveCycle.csv"), q);
    expect(r.points).toBeGreaterThan(7000);
    expect(r.finalSocPct).toBeLessThan(10);
    expect(r.rmseMv).toBeLessThanOrEqual(10);
  });

  it("the same replay with the generic NMC parameters is measurably worse (the check can fail)", () => {
    const q = capacityFromC20Ah(fixture("NMC_25degC_Co20.csv"));
    const r = replayFidelity("nmc-18650-3ah", fixture("NMC_25degC_DriveCycle.csv"), q);
    expect(r.rmseMv).toBeGreaterThan(10);
  });
});
