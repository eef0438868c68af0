import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { TruthPack } from "./truth.js";

// A modest check on a shared 2-core machine. Under vitest every imported function call goes
// through the transform's module objects, which costs several times the compiled figure;
// scripts/bench/monitor.mjs measures the real cost on dist (about 2 µs per tick).
describe("per-tick cost", () => {
  for (const estimator of ["coulomb", "ekf"] as const) {
    it(`${estimator}, 16 cells, discharging (runtime refresh included): a loose bound (the 20 µs budget is checked on dist in the bench)`, () => {
      const cfg = parseConfig({
        pack: { chemistry: "lfp", cellsInSeries: 16 },
        afe: { kind: "sim" },
        monitor: { estimator },
      });
      const truth = new TruthPack("lfp-100ah", 16, 100, 90, 2);
      const samples = [];
      for (let k = 0; k < 10_000; k++) {
        truth.step(0.25, { kind: "power", watts: 16 * 3.2 * 50 });
        samples.push(truth.sample(k * 250, { noiseMv: 1, noiseMa: 20, gain: 1, offsetMa: 0 }));
      }
      const m = createMonitor(cfg, { initialSocPct: 90 });
      for (let k = 0; k < 10_000; k++) m.update({ nowMs: k * 250, sample: samples[k]!, readError: null });
      // CPU time, best of 3: other processes share the machine.
      let usPerTick = Number.POSITIVE_INFINITY;
      for (let rep = 0; rep < 3; rep++) {
        const m2 = createMonitor(cfg, { initialSocPct: 90 });
        const c0 = process.cpuUsage();
        for (let k = 0; k < 10_000; k++) m2.update({ nowMs: k * 250, sample: samples[k]!, readError: null });
        const c = process.cpuUsage(c0);
        usPerTick = Math.min(usPerTick, (c.user + c.system) / 10_000);
      }
      expect(usPerTick).toBeLessThan(50);
    });
  }
});
