import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { BmsError } from "../../src/core/errors.js";
import { Rig, type Spec, tripOf } from "./rig.js";

const config = parseConfig({});
const { onMa, offMa } = config.protection.idealDiode;
const cap = config.pack.capacityAh * 1000;
const lv = (limit: number, reset: number) => ({ limit, reset, delayMs: 2000, recoveryDelayMs: 30_000 });

// Faults that block one path only; the current of the other direction may close its FET.
const HOT: Spec = { temps: [480, 480] }; // ot_charge
const COLD: Spec = { temps: [-50, -50] }; // ut_charge
const HIGH: Spec = { cellMv: 3700 }; // cell_ov
const LOW: Spec = { cellMv: 2450 }; // cell_uv

/** A rig whose given fault has tripped (3 s of its condition at zero current). */
function tripped(spec: Spec, code: Parameters<typeof tripOf>[1], cfg = config): Rig {
  const rig = new Rig(cfg);
  rig.run(spec, 3000);
  expect(tripOf(rig.view, code)).toBeDefined();
  return rig;
}

describe("ideal diode: defaults and config", () => {
  it("scales LibreSolar's 0.5 A / 0.1 A to the capacity (0.005C / 0.001C)", () => {
    expect(onMa).toBe(0.005 * cap);
    expect(offMa).toBe(0.001 * cap);
    // The off level stays above the current deadband, so idle noise cannot hold a FET closed.
    expect(offMa).toBeGreaterThan(config.monitor.currentDeadbandMa);
    const small = parseConfig({ pack: { capacityAh: 200 } }).protection.idealDiode;
    expect(small.onMa).toBe(1000);
  });

  it("rejects offMa ≥ onMa with the field's path", () => {
    try {
      parseConfig({ protection: { idealDiode: { enabled: true, onMa: 300, offMa: 300 } } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BmsError);
      expect((e as BmsError).message).toContain("protection.idealDiode.offMa");
    }
  });
});

describe("ideal diode: hysteresis on a path blocked by ot_charge", () => {
  // Each row: the current sequence after the trip and the charge FET after each tick.
  const rows: { name: string; currents: number[]; chg: boolean[] }[] = [
    { name: "discharge above on → closed", currents: [-(onMa + 100)], chg: [true] },
    {
      name: "discharge between off and on, from open → stays open",
      currents: [-(onMa + offMa) / 2],
      chg: [false],
    },
    {
      name: "closed, then between off and on → stays closed",
      currents: [-(onMa + 100), -(onMa + offMa) / 2, -offMa],
      chg: [true, true, true],
    },
    { name: "closed, then below off → open", currents: [-(onMa + 100), -(offMa - 10)], chg: [true, false] },
    { name: "closed, then zero → open", currents: [-30_000, 0], chg: [true, false] },
    {
      name: "closed, then charge current (blocked direction) → open",
      currents: [-30_000, 200],
      chg: [true, false],
    },
    { name: "charge current from open → open", currents: [5000, 40_000], chg: [false, false] },
    {
      name: "reopened, needs the on level again",
      currents: [-30_000, 0, -(onMa + offMa) / 2, -(onMa + 1)],
      chg: [true, false, false, true],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const rig = tripped(HOT, "ot_charge");
      expect(rig.view.fets).toEqual({ chg: false, dsg: true });
      row.currents.forEach((currentMa, i) => {
        const v = rig.tick({ ...HOT, currentMa });
        expect(v.fets.chg, `tick ${i} at ${currentMa} mA`).toBe(row.chg[i]);
        // Only the FET changes: what is allowed and the limit stay as the fault says.
        expect(v.fets.dsg).toBe(true);
        expect(v.chargeAllowed).toBe(false);
        expect(v.dischargeAllowed).toBe(true);
        expect(v.limits.cclMa).toBe(0);
        expect(v.limits.cclBinding).toBe("fault:ot_charge");
      });
    });
  }

  it("names every change of the FET decision in the view's fetReason", () => {
    const rig = tripped(HOT, "ot_charge");
    expect(rig.view.fetReason).toBeUndefined();
    const on = rig.tick({ ...HOT, currentMa: -39_000 });
    expect(on.fetReason).toMatch(/ideal diode: charge FET closed .*-39000 mA.*ot_charge/);
    const off = rig.tick({ ...HOT, currentMa: 20 });
    expect(off.fets.chg).toBe(false);
    expect(off.fetReason).toMatch(/ideal diode: charge FET opened \(current 20 mA/);
    expect(rig.tick({ ...HOT, currentMa: 20 }).fetReason).toBeUndefined();
  });

  it("opens on invalid data and closes again once valid data shows the current", () => {
    const rig = tripped(HOT, "ot_charge");
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(true);
    const stale = rig.tick({ ...HOT, currentMa: -30_000, valid: false });
    expect(stale.fets.chg).toBe(false);
    expect(stale.fetReason).toContain("no valid data");
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(true);
  });

  it("opens when the current channel is unusable", () => {
    const rig = tripped(HOT, "ot_charge");
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(true);
    const v = rig.tick({
      ...HOT,
      currentMa: -30_000,
      sensorFaults: [{ channel: "current", kind: "range", detail: "out of range" }],
    });
    expect(v.fets.chg).toBe(false);
  });

  it("does nothing when disabled", () => {
    const off = parseConfig({ protection: { idealDiode: { enabled: false } } });
    const rig = tripped(HOT, "ot_charge", off);
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(false);
  });

  it("never closes in init, whatever the current", () => {
    const rig = new Rig(config);
    for (let i = 0; i < 20; i++) {
      const v = rig.tick({ currentMa: -30_000, valid: false, fets: { chg: false, dsg: true } });
      expect(v.state).toBe("init");
      expect(v.fets.chg).toBe(false);
    }
  });

  it("the fault clearing keeps the closed FET closed (now allowed), with no diode reason", () => {
    const rig = tripped(HOT, "ot_charge");
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(true);
    const cool: Spec = { temps: [300, 300], currentMa: -30_000 };
    const ms = rig.until(cool, (v) => v.chargeAllowed, 60_000);
    expect(ms).toBeGreaterThan(0);
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    expect(rig.tick(cool).fetReason).toBeUndefined();
  });
});

describe("ideal diode: which faults allow it", () => {
  const otDsgOnly = parseConfig({
    protection: { otCharge: { trip: lv(700, 650) }, otDischarge: { trip: lv(550, 500) } },
  });
  const utDsgOnly = parseConfig({
    protection: { utCharge: { trip: lv(-300, -250) }, utDischarge: { trip: lv(-200, -150) } },
  });
  const spreadTrip = parseConfig({
    protection: {
      cellSpread: {
        warning: { limit: 150, reset: 100, delayMs: 1000, recoveryDelayMs: 1000 },
        trip: { limit: 300, reset: 200, delayMs: 1000, recoveryDelayMs: 30_000 },
      },
    },
  });
  // Plain level faults: the allowed direction's current closes the blocked FET.
  const eligible: {
    code: Parameters<typeof tripOf>[1];
    spec: Spec;
    cfg?: typeof config;
    path: "chg" | "dsg";
  }[] = [
    { code: "cell_ov", spec: HIGH, path: "chg" },
    { code: "cell_uv", spec: LOW, path: "dsg" },
    { code: "ot_charge", spec: HOT, path: "chg" },
    { code: "ot_discharge", spec: { temps: [600, 600] }, cfg: otDsgOnly, path: "dsg" },
    { code: "ut_charge", spec: COLD, path: "chg" },
    { code: "ut_discharge", spec: { temps: [-250, -250] }, cfg: utDsgOnly, path: "dsg" },
    { code: "cell_spread", spec: { cellMv: 3300, cells: { 3: 3650 } }, cfg: spreadTrip, path: "chg" },
  ];
  for (const c of eligible) {
    it(`${c.code}: closes for the allowed direction, opens for the blocked one`, () => {
      const rig = tripped(c.spec, c.code, c.cfg);
      const allowed = c.path === "chg" ? -20_000 : 20_000;
      const v = rig.tick({ ...c.spec, currentMa: allowed });
      expect(v.fets[c.path]).toBe(true);
      expect(c.path === "chg" ? v.chargeAllowed : v.dischargeAllowed).toBe(false);
      expect(rig.tick({ ...c.spec, currentMa: -allowed / 100 }).fets[c.path]).toBe(false);
    });
  }

  it("oc_charge: not during the retry back-off, only after it", () => {
    const cfg = parseConfig({ protection: { ocCharge: { trip: { ...lv(50_000, 40_000), delayMs: 1000 } } } });
    const rig = new Rig(cfg);
    rig.run({ currentMa: 60_000 }, 1500);
    expect(tripOf(rig.view, "oc_charge")).toBeDefined();
    const backoffMs = cfg.protection.overcurrentLatch.backoffMs[0]!;
    const dsg: Spec = { currentMa: -20_000 };
    for (let t = 0; t < backoffMs - 500; t += 250) expect(rig.tick(dsg).fets.chg).toBe(false);
    // Back-off over, recovery delay (30 s) still running: the fault holds, the diode may act.
    rig.run(dsg, 1000);
    expect(tripOf(rig.view, "oc_charge")).toBeDefined();
    expect(rig.view.chargeAllowed).toBe(false);
    expect(rig.view.fets.chg).toBe(true);
  });

  const excluded: { name: string; setup: () => Rig; spec: Spec; path: "chg" | "dsg" }[] = [
    {
      name: "short_circuit (both paths)",
      setup: () => {
        const r = new Rig(config);
        r.tick({ currentMa: -2.5 * cap });
        expect(tripOf(r.view, "short_circuit")).toBeDefined();
        return r;
      },
      spec: { currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "board_ot (both paths)",
      setup: () => tripped({ boardDeciC: 900 }, "board_ot"),
      spec: { boardDeciC: 900, currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "board_ot on top of ot_charge",
      setup: () => tripped({ ...HOT, boardDeciC: 900 }, "board_ot"),
      spec: { ...HOT, boardDeciC: 900, currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "latched oc_discharge (restored)",
      setup: () => {
        const r = new Rig(config, {
          version: 1,
          latched: [{ code: "oc_discharge", value: 120_000, limit: 100_000, sinceMs: 0, hw: false }],
        });
        r.tick({ currentMa: 0 });
        return r;
      },
      spec: { currentMa: 20_000 },
      path: "dsg",
    },
    {
      name: "oc_discharge in its retry back-off",
      setup: () => {
        const r = new Rig(config);
        r.run({ currentMa: -1.2 * cap }, 1000);
        expect(tripOf(r.view, "oc_discharge")).toBeDefined();
        return r;
      },
      spec: { currentMa: 20_000 },
      path: "dsg",
    },
    {
      name: "cell_ov held by the chip's flag",
      setup: () => tripped({ ...HIGH, hardwareFaults: [{ code: "cell_ov", source: "OV" }] }, "cell_ov"),
      spec: { ...HIGH, hardwareFaults: [{ code: "cell_ov", source: "OV" }], currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "sensor_fault (charge blocked at once)",
      setup: () => {
        const r = new Rig(config);
        r.run({ sensorFaults: [{ channel: "temp:0", kind: "stuck", detail: "flat" }] }, 2000);
        expect(tripOf(r.view, "sensor_fault")).toBeDefined();
        return r;
      },
      spec: { sensorFaults: [{ channel: "temp:0", kind: "stuck", detail: "flat" }], currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "afe_comms while recovering on valid data",
      setup: () => {
        const r = new Rig(config);
        r.tick({ cellMv: 3300 });
        r.run({ valid: false }, 3000);
        expect(tripOf(r.view, "afe_comms")).toBeDefined();
        return r;
      },
      spec: { currentMa: -20_000 },
      path: "chg",
    },
    {
      name: "deep_discharge (latched, shutdown)",
      setup: () => {
        const r = new Rig(config);
        r.run({ cellMv: 1900 }, 6000);
        expect(tripOf(r.view, "deep_discharge")?.latched).toBe(true);
        return r;
      },
      spec: { cellMv: 1900, currentMa: 5000 },
      path: "dsg",
    },
  ];
  for (const c of excluded) {
    it(`${c.name}: the blocked FET stays open`, () => {
      const rig = c.setup();
      for (let i = 0; i < 8; i++) {
        const v = rig.tick(c.spec);
        expect(c.path === "chg" ? v.chargeAllowed : v.dischargeAllowed).toBe(false);
        expect(v.fets[c.path], `tick ${i}`).toBe(false);
      }
    });
  }

  it("an excluded fault arriving on a closed diode opens it", () => {
    const rig = tripped(HOT, "ot_charge");
    expect(rig.tick({ ...HOT, currentMa: -30_000 }).fets.chg).toBe(true);
    const faulty: Spec = {
      ...HOT,
      currentMa: -30_000,
      sensorFaults: [{ channel: "temp:1", kind: "stuck", detail: "flat" }],
    };
    rig.run(faulty, 2000);
    expect(tripOf(rig.view, "sensor_fault")).toBeDefined();
    expect(rig.view.fets.chg).toBe(false);
    expect(rig.view.fets.dsg).toBe(true);
  });
});

describe("ideal diode: property", () => {
  const EXCLUDED = ["board_ot", "short_circuit", "sensor_fault", "afe_comms", "deep_discharge"];
  const tick = fc.record({
    cellMv: fc.constantFrom(2450, 3300, 3300, 3700),
    temp: fc.constantFrom(-50, 250, 250, 480, 600),
    board: fc.constantFrom(300, 300, 300, 900),
    currentMa: fc.oneof(
      fc.integer({ min: -60_000, max: 60_000 }),
      fc.integer({ min: -2 * onMa, max: 2 * onMa }),
    ),
    valid: fc.integer({ min: 0, max: 9 }).map((n) => n < 8),
    stuck: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    repeat: fc.integer({ min: 1, max: 40 }),
  });
  it("a blocked path's FET is closed only while the allowed current is at least offMa", () => {
    fc.assert(
      fc.property(fc.array(tick, { minLength: 1, maxLength: 60 }), (ticks) => {
        const rig = new Rig(config);
        for (const t of ticks) {
          const spec: Spec = {
            cellMv: t.cellMv,
            temps: [t.temp, t.temp],
            boardDeciC: t.board,
            currentMa: t.currentMa,
            valid: t.valid,
            sensorFaults: t.stuck ? [{ channel: "temp:0", kind: "stuck", detail: "flat" }] : [],
          };
          for (let r = 0; r < t.repeat; r++) {
            const v = rig.tick(spec);
            const i = t.currentMa;
            // The charge FET, charging blocked: never with charge current or near zero.
            if (v.fets.chg && !v.chargeAllowed) {
              expect(i).toBeLessThanOrEqual(-offMa);
              expect(t.valid).toBe(true);
              expect(v.dischargeAllowed).toBe(true);
            }
            if (v.fets.dsg && !v.dischargeAllowed) {
              expect(i).toBeGreaterThanOrEqual(offMa);
              expect(t.valid).toBe(true);
              expect(v.chargeAllowed).toBe(true);
            }
            // The stated property: blocked-direction current beyond off never sees its FET closed.
            if (i > offMa) expect(v.fets.chg && !v.chargeAllowed).toBe(false);
            if (i < -offMa) expect(v.fets.dsg && !v.dischargeAllowed).toBe(false);
            for (const f of v.faults) {
              if (f.level !== "trip" || !(f.latched || EXCLUDED.includes(f.code))) continue;
              if (f.blocksCharge) expect(v.fets.chg && !v.chargeAllowed).toBe(false);
              if (f.blocksDischarge) expect(v.fets.dsg && !v.dischargeAllowed).toBe(false);
            }
            if (v.state === "init" || v.state === "shutdown") {
              expect(v.fets.chg).toBe(v.chargeAllowed);
              expect(v.fets.dsg).toBe(v.dischargeAllowed);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
