import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsEvent } from "../../src/core/events.js";
import type { MonitorOutput } from "../../src/core/stages.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { TruthPack } from "./truth.js";

type EstimateEvent = Extract<BmsEvent, { type: "estimate" }>;

const quiet = { noiseMv: 0, noiseMa: 0, gain: 1, offsetMa: 0 };

function packConfig(chemistry: "lfp" | "nmc", monitor: Record<string, unknown> = {}) {
  return parseConfig({ pack: { chemistry, cellsInSeries: 4 }, afe: { kind: "sim" }, monitor });
}

/** Collects every estimate event with the SOC reported on the tick before it. */
function recorder() {
  const seen: { e: EstimateEvent; prevSocPct: number; out: MonitorOutput }[] = [];
  let prevSocPct = Number.NaN;
  return {
    seen,
    take(out: MonitorOutput): MonitorOutput {
      for (const e of out.events) {
        expect(e.type).toBe("estimate");
        if (e.type === "estimate") seen.push({ e, prevSocPct, out });
      }
      prevSocPct = out.estimates.socPct;
      return out;
    },
    of(what: EstimateEvent["what"]) {
      return seen.filter((x) => x.e.what === what);
    },
  };
}

describe("estimate events", () => {
  it("a full anchor is one event: SOC 100 % and the jump it made", () => {
    const cfg = packConfig("lfp");
    // The counter starts 3 % low, so the anchor has something to correct.
    const m = createMonitor(cfg, { initialSocPct: 87 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 90);
    const r = recorder();
    let out = r.take(m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null }));
    let t = 0;
    for (; t < 6 * 3600 && !out.estimates.fullConfirmed; ) {
      t++;
      truth.step(1, { kind: "charge", cellMv: cfg.protection.charge.chargeVoltageMv, maxA: 20 });
      if (truth.meanSoc() >= 99.95) truth.currentA = Math.min(truth.currentA, 1);
      out = r.take(m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null }));
    }
    expect(out.estimates.fullConfirmed).toBe(true);
    // Held at full a while longer: still only the one event.
    for (const end = t + 600; t < end; ) {
      t++;
      truth.step(1, { kind: "charge", cellMv: cfg.protection.charge.chargeVoltageMv, maxA: 1 });
      r.take(m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null }));
    }
    const full = r.of("full-anchor");
    expect(full).toHaveLength(1);
    const { e, prevSocPct, out: at } = full[0]!;
    expect(e.socPct).toBe(100);
    expect(e.socPct).toBe(at.estimates.socPct);
    expect(e.tMs).toBe(at.estimates.lastAnchor?.tMs);
    // One tick of counting at ≤ 20 A is < 0.006 %: the rest of the step is the anchor's.
    expect(e.deltaPct).toBeGreaterThan(0.5);
    expect(Math.abs(e.socPct - prevSocPct - e.deltaPct)).toBeLessThan(0.01);
    expect(e.detail).toMatch(/full anchor/);
  });

  it("an empty anchor is one event with the (negative) correction", () => {
    const cfg = packConfig("lfp", { estimator: "coulomb" });
    const truth = new TruthPack("lfp-100ah", 4, 100, 12);
    // The counter believes 8 % more than there is.
    const m = createMonitor(cfg, { initialSocPct: 20 });
    const r = recorder();
    r.take(m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null }));
    const watts = 0.3 * 100 * 4 * 3.2;
    for (let t = 1; t <= 3 * 3600 && r.of("empty-anchor").length === 0; t++) {
      truth.step(1, { kind: "power", watts });
      r.take(m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null }));
    }
    const empty = r.of("empty-anchor");
    expect(empty).toHaveLength(1);
    const { e, prevSocPct, out: at } = empty[0]!;
    expect(e.socPct).toBe(at.estimates.socPct);
    expect(e.deltaPct).toBeLessThan(-2);
    expect(Math.abs(e.socPct - prevSocPct - e.deltaPct)).toBeLessThan(0.02);
    expect(at.estimates.lastAnchor?.kind).toBe("empty");
    // Nothing else changed the estimate on the way down (no rest, no full to clear).
    expect(r.seen).toHaveLength(1);
  });

  it("an OCV correction after rest is one event with how far it moved the SOC", () => {
    const cfg = packConfig("nmc", { estimator: "coulomb" });
    const q = cfg.pack.capacityAh;
    const truth = new TruthPack("nmc-18650-3ah", 4, q, 52);
    const m = createMonitor(cfg, { initialSocPct: 62 });
    const r = recorder();
    r.take(m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null }));
    let t = 0;
    while (truth.meanSoc() > 50) {
      t++;
      truth.step(1, { kind: "power", watts: 0.2 * q * 4 * 3.6 });
      r.take(m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null }));
    }
    expect(r.seen).toHaveLength(0);
    // 2 h of rest: one correction after 30 min, then the estimate is already right.
    for (const end = t + 7200; t < end; ) {
      t++;
      truth.step(1, { kind: "rest" });
      r.take(m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null }));
    }
    const ocv = r.of("ocv-correction");
    expect(ocv.length).toBeGreaterThanOrEqual(1);
    const { e, prevSocPct, out: at } = ocv[0]!;
    expect(e.socPct).toBe(at.estimates.socPct);
    expect(e.deltaPct).toBeLessThan(-5);
    expect(Math.abs(e.socPct - prevSocPct - e.deltaPct)).toBeLessThan(0.01);
    // Later corrections (every minRestMs of rest) have almost nothing left to fix.
    for (const later of ocv.slice(1)) expect(Math.abs(later.e.deltaPct)).toBeLessThan(1);
    expect(r.seen.every((x) => x.e.what === "ocv-correction")).toBe(true);
  });

  it("an ordinary tick emits nothing and allocates no event array", () => {
    const cfg = packConfig("lfp");
    const m = createMonitor(cfg, { initialSocPct: 50 });
    const truth = new TruthPack("lfp-100ah", 4, 100, 50);
    const first = m.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(first.events).toHaveLength(0);
    let prev = first.events;
    for (let t = 1; t <= 300; t++) {
      truth.step(1, { kind: "power", watts: 500 });
      const out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
      expect(out.events).toHaveLength(0);
      expect(out.events).toBe(prev);
      prev = out.events;
    }
  });

  it("reports a cold start from voltage, a restore, and a learnt current offset", () => {
    const cfg = packConfig("lfp");
    const truth = new TruthPack("lfp-100ah", 4, 100, 15);
    const cold = createMonitor(cfg);
    const c0 = cold.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(c0.events).toHaveLength(1);
    expect(c0.events[0]).toMatchObject({ type: "estimate", what: "cold-start", deltaPct: 0 });
    expect((c0.events[0] as EstimateEvent).socPct).toBe(c0.estimates.socPct);

    const warm = createMonitor(cfg, { restoredState: cold.exportState() });
    const w0 = warm.update({ nowMs: 5000, sample: truth.sample(5000, quiet), readError: null });
    expect(w0.events).toHaveLength(1);
    expect(w0.events[0]).toMatchObject({ type: "estimate", what: "restored", tMs: 5000 });
    expect(
      warm.update({ nowMs: 6000, sample: truth.sample(6000, quiet), readError: null }).events,
    ).toHaveLength(0);

    // The sensor reads 180 mA with both FETs open: the learnt offset is reported in steps, not every tick.
    const m = createMonitor(cfg, { initialSocPct: 50 });
    const r = recorder();
    for (let t = 0; t <= 1200; t++) {
      const s = { ...truth.sample(t * 1000, quiet), packCurrentMa: 180, fets: { chg: false, dsg: false } };
      r.take(m.update({ nowMs: t * 1000, sample: s, readError: null }));
    }
    const zeroed = r.of("offset-zeroed");
    expect(zeroed.length).toBeGreaterThan(3);
    expect(zeroed.length).toBeLessThan(30);
    expect(zeroed.at(-1)?.e.detail).toMatch(/-> 1[6-8]\d mA/);
  });
});
