import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { TruthPack } from "./truth.js";

const quiet = { noiseMv: 0, noiseMa: 0, gain: 1, offsetMa: 0 };

function packConfig(chemistry: "lfp" | "nmc", monitor: Record<string, unknown> = {}) {
  return parseConfig({ pack: { chemistry, cellsInSeries: 4 }, afe: { kind: "sim" }, monitor });
}

describe("coulomb counting", () => {
  it("integrates current, applies the calibrated offset and the deadband", () => {
    // No rest corrections here: the truth pack's voltage does not follow the injected current.
    const cfg = packConfig("lfp", {
      currentOffsetMa: 200,
      currentDeadbandMa: 100,
      rest: { currentMa: 1000, minRestMs: 1e9, minSlopeMvPerPct: 1 },
    });
    const m = createMonitor(cfg, { initialSocPct: 50 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    // Raw 10.2 A reads as 10 A charge for 1 h: +10 %; then a raw 250 mA (50 mA after offset) is ignored.
    for (let t = 1; t <= 3600; t++) {
      const s = { ...truth.sample(t * 1000, quiet), packCurrentMa: 10_200 };
      out = m.update({ nowMs: t * 1000, sample: s, readError: null });
    }
    expect(out.estimates.socPct).toBeCloseTo(50 + 10 * 0.999, 3);
    expect(out.measurements.packCurrentMa).toBe(10_000);
    for (let t = 3601; t <= 7200; t++) {
      const s = { ...truth.sample(t * 1000, quiet), packCurrentMa: 250 };
      out = m.update({ nowMs: t * 1000, sample: s, readError: null });
    }
    expect(out.estimates.socPct).toBeCloseTo(50 + 10 * 0.999, 3);
  });

  it("learns the current-sensor offset while both FETs are open", () => {
    const cfg = packConfig("lfp");
    const m = createMonitor(cfg, { initialSocPct: 50 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    // No current can flow with both FETs open, yet the sensor reads 180 mA.
    for (let t = 1; t <= 1200; t++) {
      const s = { ...truth.sample(t * 1000, quiet), packCurrentMa: 180, fets: { chg: false, dsg: false } };
      out = m.update({ nowMs: t * 1000, sample: s, readError: null });
    }
    expect(out.estimates.currentOffsetMa).toBeCloseTo(180, 0);
    expect(Math.abs(out.measurements.packCurrentMa)).toBeLessThan(1);
    // With FETs closed the learnt offset stays and is subtracted.
    const s = { ...truth.sample(1_201_000, quiet), packCurrentMa: 10_180 };
    out = m.update({ nowMs: 1_201_000, sample: s, readError: null });
    expect(out.measurements.packCurrentMa).toBeCloseTo(10_000, -1);
    const off = createMonitor(packConfig("lfp", { autoZeroCurrent: false }), { initialSocPct: 50 });
    let o2 = off.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    for (let t = 1; t <= 100; t++)
      o2 = off.update({
        nowMs: t * 1000,
        sample: { ...truth.sample(t * 1000, quiet), packCurrentMa: 180, fets: { chg: false, dsg: false } },
        readError: null,
      });
    expect(o2.estimates.currentOffsetMa).toBe(0);
  });

  it("does not count twice when the driver hands back the same sample", () => {
    const m = createMonitor(packConfig("lfp"), { initialSocPct: 50 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    const s0 = { ...truth.sample(0, quiet), packCurrentMa: -50_000 };
    m.update({ nowMs: 0, sample: s0, readError: null });
    const s1 = { ...s0, timestampMs: 1000 };
    const a = m.update({ nowMs: 1000, sample: s1, readError: null });
    const b = m.update({ nowMs: 1250, sample: s1, readError: null });
    expect(b.estimates.socPct).toBe(a.estimates.socPct);
    expect(a.estimates.socPct).toBeLessThan(50);
  });

  it("caps the counted SOC below 100 % until full is confirmed, then reports 100 %", () => {
    const cfg = packConfig("lfp");
    const m = createMonitor(cfg, { initialSocPct: 90 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 90);
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    let capped = false;
    for (let t = 1; t <= 6 * 3600; t++) {
      truth.step(1, { kind: "charge", cellMv: cfg.protection.charge.chargeVoltageMv, maxA: 20 });
      if (truth.meanSoc() >= 99.95) truth.currentA = Math.min(truth.currentA, 1);
      out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
      if (!out.estimates.fullConfirmed && out.estimates.socPct > cfg.monitor.socCapBeforeFullPct)
        capped = true;
      if (out.estimates.fullConfirmed) break;
    }
    expect(capped).toBe(false);
    expect(out.estimates.fullConfirmed).toBe(true);
    expect(out.estimates.socPct).toBe(100);
    expect(out.estimates.lastAnchor?.kind).toBe("full");
  });

  it("keeps real and reported SOC apart with user scaling", () => {
    const cfg = packConfig("lfp", { reportedScale: { minPct: 20, maxPct: 80 } });
    const m = createMonitor(cfg, { initialSocPct: 50 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    const out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(out.estimates.socPct).toBe(50);
    expect(out.estimates.reportedSocPct).toBeCloseTo(50, 9);
    const m2 = createMonitor(cfg, { initialSocPct: 71 });
    expect(
      m2.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null }).estimates.reportedSocPct,
    ).toBeCloseTo(85, 9);
  });
});

describe("OCV correction after rest", () => {
  /**
   * Starts the counter `offsetPct` away from the truth, discharges 2 % (so the hysteresis
   * state is known on both sides), rests 2 h and returns the remaining error.
   */
  function restError(
    chemistry: "lfp" | "nmc",
    preset: "lfp-100ah" | "nmc-18650-3ah",
    socPct: number,
    offsetPct: number,
  ) {
    const cfg = packConfig(chemistry, { estimator: "coulomb" });
    const q = cfg.pack.capacityAh;
    const truth = new TruthPack(preset, 4, q, socPct + 2);
    const m = createMonitor(cfg, { initialSocPct: socPct + 2 + offsetPct });
    let out = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    const watts = 0.2 * q * 4 * 3.3;
    let t = 0;
    while (truth.meanSoc() > socPct) {
      t++;
      truth.step(1, { kind: "power", watts });
      out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
    }
    const truthAtRest = truth.meanSoc();
    const counted = out.estimates.socPct - truthAtRest;
    for (const end = t + 7200; t < end; ) {
      t++;
      truth.step(1, { kind: "rest" });
      out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
    }
    return { counted, err: out.estimates.socPct - truthAtRest, anchor: out.estimates.lastAnchor?.kind };
  }

  it("pulls the SOC to the OCV where the curve is steep (NMC mid, LFP knee)", () => {
    const nmc = restError("nmc", "nmc-18650-3ah", 50, 10);
    expect(nmc.anchor).toBe("ocv");
    expect(Math.abs(nmc.err)).toBeLessThan(1);
    const lfpKnee = restError("lfp", "lfp-100ah", 10, 8);
    expect(Math.abs(lfpKnee.err)).toBeLessThan(1.5);
  });

  it("barely moves on the LFP plateau, where a few mV mean tens of %", () => {
    const plateau = restError("lfp", "lfp-100ah", 50, 10);
    // 50 % is on the flat part: the slope gate skips the correction entirely.
    expect(plateau.counted).toBeGreaterThan(9);
    expect(plateau.err).toBeCloseTo(plateau.counted, 6);
    expect(plateau.anchor).toBeUndefined();
  });
});
