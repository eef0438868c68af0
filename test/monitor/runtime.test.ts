import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { TruthPack } from "./truth.js";

const quiet = { noiseMv: 1, noiseMa: 10, gain: 1, offsetMa: 0 };

/** Discharges the truth pack at constant power; returns the first prediction and the real time to cut-off. */
function outage(chemistry: "lfp" | "nmc", startSoc: number, cRate: number) {
  const cfg = parseConfig({ pack: { chemistry, cellsInSeries: 8 }, afe: { kind: "sim" } });
  const q = cfg.pack.capacityAh;
  const truth = new TruthPack(cfg.pack.cellPreset, 8, q, startSoc, 3);
  const m = createMonitor(cfg, { initialSocPct: startSoc });
  const watts = cRate * q * 8 * (chemistry === "lfp" ? 3.2 : 3.6);
  let first: number | null = null;
  const seen: { t: number; r: number | null }[] = [];
  let t = 0;
  m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
  while (truth.minCellV() * 1000 > cfg.monitor.runtimeCutoffMv && t < 86_400) {
    t++;
    truth.step(1, { kind: "power", watts });
    const out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
    if (t <= 30) seen.push({ t, r: out.estimates.runtimeS });
    if (first === null && out.estimates.runtimeS !== null) first = out.estimates.runtimeS + t;
  }
  return { predicted: first ?? Number.NaN, actual: t, seen, cfg };
}

describe("runtime at constant power", () => {
  for (const [chem, soc, c] of [
    ["lfp", 100, 0.5],
    ["lfp", 60, 1],
    ["nmc", 95, 0.3],
    ["nmc", 70, 1.5],
  ] as const) {
    it(`${chem} from ${soc} % at ${c} C: within ±10 % from the first estimate`, () => {
      const r = outage(chem, soc, c);
      expect(r.predicted / r.actual).toBeGreaterThan(0.9);
      expect(r.predicted / r.actual).toBeLessThan(1.1);
    });
  }

  it("recomputes every runtimeEveryMs and counts down in between", () => {
    const { seen, cfg } = outage("lfp", 80, 0.5);
    expect(cfg.monitor.runtimeEveryMs).toBe(5000);
    // Between recomputes the value drops by exactly the elapsed time.
    const a = seen.find((x) => x.t === 2)!.r!;
    const b = seen.find((x) => x.t === 5)!.r!;
    expect(a - b).toBeCloseTo(3, 9);
  });

  it("is null when not discharging, and time to full is given when charging", () => {
    const cfg = parseConfig({ pack: { chemistry: "lfp", cellsInSeries: 4 }, afe: { kind: "sim" } });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    const m = createMonitor(cfg, { initialSocPct: 50 });
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(out.estimates.runtimeS).toBeNull();
    expect(out.estimates.timeToFullS).toBeNull();
    for (let t = 1; t <= 10; t++) {
      truth.step(1, { kind: "charge", cellMv: 3450, maxA: 20 });
      out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
    }
    expect(out.estimates.runtimeS).toBeNull();
    // ≈50 % of 100 Ah at 20 A: about 2.5 h.
    expect(out.estimates.timeToFullS! / 3600).toBeGreaterThan(2.2);
    expect(out.estimates.timeToFullS! / 3600).toBeLessThan(2.7);
  });
});
