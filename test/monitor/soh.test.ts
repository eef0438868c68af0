import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { TruthPack } from "./truth.js";

const quiet = { noiseMv: 1, noiseMa: 20, gain: 1, offsetMa: 0 };

describe("state of health", () => {
  it("learns capacity from full → empty swings and reports SoH", () => {
    const cfg = parseConfig({ pack: { chemistry: "lfp", cellsInSeries: 4 }, afe: { kind: "sim" } });
    // The real cells have faded to 85 Ah; the BMS believes 100 Ah.
    const truth = new TruthPack("lfp-100ah", 4, 85, 100, 5);
    const m = createMonitor(cfg);
    let t = 0;
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    const tick = (load: Parameters<TruthPack["step"]>[1]) => {
      t++;
      truth.step(1, load);
      if (load.kind === "charge" && truth.meanSoc() >= 99.95) truth.currentA = Math.min(truth.currentA, 0.5);
      out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
    };
    for (let cycle = 0; cycle < 3; cycle++) {
      while (!out.estimates.fullConfirmed) tick({ kind: "charge", cellMv: 3450, maxA: 20 });
      for (let k = 0; k < 300; k++) tick({ kind: "charge", cellMv: 3450, maxA: 20 });
      while (truth.minCellV() * 1000 > 2900) tick({ kind: "power", watts: 4 * 3.2 * 17 });
      for (let k = 0; k < 60; k++) tick({ kind: "rest" });
    }
    expect(out.estimates.capacityAh).toBeLessThan(95);
    expect(out.estimates.capacityAh).toBeGreaterThan(80);
    expect(out.estimates.sohPct).toBeCloseTo((100 * out.estimates.capacityAh) / 100, 9);
  }, 20_000);

  it("learns resistance growth from current steps", () => {
    const cfg = parseConfig({ pack: { chemistry: "nmc", cellsInSeries: 4 }, afe: { kind: "sim" } });
    const truth = new TruthPack("nmc-18650-3ah", 4, 3, 80, 9, 1.6);
    const m = createMonitor(cfg, { initialSocPct: 80 });
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    let t = 0;
    for (let k = 0; k < 120; k++) {
      // 30 s rest, 30 s at 1 C, alternating: 240 steps.
      for (let j = 0; j < 30; j++) {
        t++;
        truth.step(1, k % 2 === 0 ? { kind: "rest" } : { kind: "power", watts: 4 * 3.7 * 3 });
        out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
      }
    }
    expect(out.estimates.resistancePct!).toBeGreaterThan(140);
    expect(out.estimates.resistancePct!).toBeLessThan(180);
  });
});

describe("state of health under the EKF", () => {
  it("learns capacity from rested OCV readings far apart, without letting them move the SOC", () => {
    const cfg = parseConfig({ pack: { chemistry: "nmc", cellsInSeries: 4 }, afe: { kind: "sim" } });
    expect(cfg.monitor.estimator).toBe("ekf");
    // The cells have faded to 2.55 Ah; the BMS believes 3 Ah.
    const truth = new TruthPack("nmc-18650-3ah", 4, 2.55, 90, 4);
    const m = createMonitor(cfg, { initialSocPct: 90 });
    let t = 0;
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    const run = (seconds: number, load: Parameters<TruthPack["step"]>[1]) => {
      for (let k = 0; k < seconds; k++) {
        t++;
        truth.step(1, load);
        out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
      }
    };
    for (let cycle = 0; cycle < 3; cycle++) {
      run(3 * 3600, { kind: "rest" });
      while (truth.meanSoc() > 25) run(60, { kind: "power", watts: 4 * 3.6 * 1.5 });
      run(3 * 3600, { kind: "rest" });
      while (truth.meanSoc() < 90) run(60, { kind: "charge", cellMv: 4150, maxA: 1.5 });
    }
    expect(out.estimates.capacityAh).toBeLessThan(2.85);
    expect(out.estimates.capacityAh).toBeGreaterThan(2.4);
    expect(out.estimates.lastAnchor?.kind).not.toBe("ocv");
  }, 20_000);
});
