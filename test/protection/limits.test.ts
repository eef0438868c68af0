import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { type Curve, compileCurve, curveAt as curveAtCompiled } from "../../src/protection/curve.js";
import { Rig, TICK_MS } from "./rig.js";

const config = parseConfig({});
const c = config.protection.charge;
const n = config.pack.cellsInSeries;
const curveAt = (points: Curve, x: number): number => curveAtCompiled(compileCurve(points), x);

describe("derating curves", () => {
  it("interpolates between points and is flat beyond the ends", () => {
    const pts = [
      [0, 0],
      [10, 1],
      [20, 0.5],
    ] as const;
    expect(curveAt(pts, -5)).toBe(0);
    expect(curveAt(pts, 5)).toBeCloseTo(0.5);
    expect(curveAt(pts, 15)).toBeCloseTo(0.75);
    expect(curveAt(pts, 25)).toBe(0.5);
  });
});

describe("charge current limit", () => {
  it("is the minimum of the curves and names the binding constraint", () => {
    const rig = new Rig(config);
    rig.tick({});
    expect(rig.view.limits.cclMa).toBe(c.maxChargeCurrentMa);
    expect(rig.view.limits.cclBinding).toBe("config");

    const cold = new Rig(config);
    cold.tick({ temps: [20, 250] });
    expect(cold.view.limits.cclMa).toBe(Math.round(c.maxChargeCurrentMa * curveAt(c.cclByTempDeciC, 20)));
    expect(cold.view.limits.cclBinding).toBe("temperature");

    const full = new Rig(config);
    full.tick({ socPct: 100 });
    expect(full.view.limits.cclMa).toBe(Math.round(c.maxChargeCurrentMa * curveAt(c.cclBySocPct, 100)));
    expect(full.view.limits.cclBinding).toBe("soc");

    const high = new Rig(config);
    const mv = c.chargeVoltageMv - 40;
    high.tick({ cells: { 9: mv }, temps: [20, 250] });
    const expected = Math.min(curveAt(c.cclByCellMv, mv), curveAt(c.cclByTempDeciC, 20));
    expect(high.view.limits.cclMa).toBe(Math.round(c.maxChargeCurrentMa * expected));
    expect(high.view.limits.cclBinding).toBe("cell_voltage");
  });

  it("drops at once, holds, then ramps up at the configured rate", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    const high = { cells: { 0: c.chargeVoltageMv - 50 } };
    rig.tick(high);
    const reduced = Math.round(c.maxChargeCurrentMa * curveAt(c.cclByCellMv, c.chargeVoltageMv - 50));
    expect(rig.view.limits.cclMa).toBe(reduced);
    // Back to normal at once: the limit stays held for increaseHoldMs.
    rig.run({}, c.increaseHoldMs - TICK_MS);
    expect(rig.view.limits.cclMa).toBe(reduced);
    expect(rig.view.limits.cclBinding).toBe("cell_voltage");
    rig.run({}, 1000);
    const rose = rig.view.limits.cclMa - reduced;
    expect(rose).toBeGreaterThan(0);
    expect(rose).toBeLessThanOrEqual(c.rampMaPerS * 1.0 + 1);
    rig.run({}, ((c.maxChargeCurrentMa - reduced) / c.rampMaPerS) * 1000 + 1000);
    expect(rig.view.limits.cclMa).toBe(c.maxChargeCurrentMa);
    expect(rig.view.limits.cclBinding).toBe("config");
  });

  it("a new reduction during the hold restarts it", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    const high = { cells: { 0: c.chargeVoltageMv - 50 } };
    rig.tick(high);
    rig.run({}, c.increaseHoldMs / 2);
    rig.tick(high);
    rig.run({}, c.increaseHoldMs - 2 * TICK_MS);
    expect(rig.view.limits.cclMa).toBeLessThan(c.maxChargeCurrentMa / 2);
  });
});

describe("discharge current limit", () => {
  it("derates with the lowest cell and reaches zero at the discharge stop", () => {
    const rig = new Rig(config);
    rig.tick({ cells: { 3: c.dischargeStopMv + 100 } });
    expect(rig.view.limits.dclMa).toBe(
      Math.round(c.maxDischargeCurrentMa * curveAt(c.dclByCellMv, c.dischargeStopMv + 100)),
    );
    expect(rig.view.limits.dclBinding).toBe("cell_voltage");
    rig.tick({ cells: { 3: c.dischargeStopMv } });
    expect(rig.view.limits.dclMa).toBe(0);
  });
});

describe("charge voltage limit", () => {
  it("uses the charge voltage, the float voltage once full, and backs off for a high cell", () => {
    const rig = new Rig(config);
    rig.tick({ cellMv: 3300 });
    expect(rig.view.limits.cvlMv).toBe(c.chargeVoltageMv * n);
    expect(rig.view.limits.cvlBinding).toBe("charge_voltage");
    const fl = new Rig(config);
    fl.tick({ cellMv: 3300, full: true });
    expect(fl.view.limits.cvlMv).toBe(c.floatVoltageMv * n);
    const hi = new Rig(config);
    const spec = { cellMv: 3400, cells: { 2: c.chargeVoltageMv + 30 } };
    hi.tick(spec);
    const sum = 3400 * (n - 1) + c.chargeVoltageMv + 30;
    expect(hi.view.limits.cvlMv).toBe(sum - 30);
    expect(hi.view.limits.cvlBinding).toBe("cell_voltage");
    // Increases ramp at cvlRampMvPerS per cell after the hold.
    hi.run({ cellMv: 3300 }, c.increaseHoldMs);
    const before = hi.view.limits.cvlMv;
    hi.run({ cellMv: 3300 }, 1000);
    expect(hi.view.limits.cvlMv - before).toBeLessThanOrEqual(Math.ceil(c.cvlRampMvPerS * n) + 1);
  });
});

describe("remote set-points", () => {
  const timeout = config.modbus.heartbeatTimeoutMs;

  it("lower CCL/DCL while heartbeats arrive and expire when they stop", () => {
    const rig = new Rig(config);
    rig.tick({});
    rig.tick({}, [{ kind: "set_limits", source: "modbus", cclMa: 3000, dclMa: 40_000 }]);
    expect(rig.view.limits.cclMa).toBe(3000);
    expect(rig.view.limits.cclBinding).toBe("remote");
    expect(rig.view.limits.dclMa).toBe(40_000);
    for (let t = 0; t < 3 * timeout; t += 10_000) {
      rig.tick({}, [{ kind: "heartbeat", source: "modbus", value: t }]);
      rig.run({}, 10_000 - TICK_MS);
    }
    expect(rig.view.limits.cclMa).toBe(3000);
    rig.run({}, timeout + TICK_MS);
    const expired = rig.events.filter((e) => e.type === "command" && e.command === "set_limits");
    expect(expired).toHaveLength(1);
    rig.run({}, c.increaseHoldMs + 10_000);
    expect(rig.view.limits.cclMa).toBe(c.maxChargeCurrentMa);
    expect(rig.view.limits.dclMa).toBe(c.maxDischargeCurrentMa);
  });

  it("never raise a limit above the local value", () => {
    const rig = new Rig(config);
    rig.tick({ temps: [20, 250] });
    const local = rig.view.limits.cclMa;
    rig.tick({ temps: [20, 250] }, [{ kind: "set_limits", source: "modbus", cclMa: 10 * local }]);
    expect(rig.view.limits.cclMa).toBe(local);
  });

  it("a SOC reserve stops discharge at or below it, and expires with the heartbeat", () => {
    const rig = new Rig(config);
    rig.tick({ socPct: 40 });
    rig.tick({ socPct: 40 }, [{ kind: "set_limits", source: "modbus", socReservePct: 30 }]);
    expect(rig.view.limits.dclMa).toBe(c.maxDischargeCurrentMa);
    rig.tick({ socPct: 30 });
    expect(rig.view.limits.dclMa).toBe(0);
    expect(rig.view.limits.dclBinding).toBe("soc_reserve");
    expect(rig.view.fets.dsg).toBe(true); // a limit for the UPS, not a trip: the path stays closed
    rig.run({ socPct: 30 }, timeout + TICK_MS);
    rig.run({ socPct: 30 }, c.increaseHoldMs + 60_000);
    expect(rig.view.limits.dclMa).toBe(c.maxDischargeCurrentMa);
  });

  it("are published in view.remote: writes, heartbeats and expiry on protection's one clock", () => {
    const rig = new Rig(config);
    rig.tick({});
    expect(rig.view.remote).toMatchObject({ cclMa: null, dclMa: null, socReservePct: null, heard: false });
    rig.tick({}, [{ kind: "set_limits", source: "modbus", cclMa: 3000 }]);
    expect(rig.view.remote).toMatchObject({ cclMa: 3000, dclMa: null, heartbeatAgeMs: 0, heard: true });
    // A later write of another register keeps the first (each register is its own FC06).
    rig.tick({}, [{ kind: "set_limits", source: "modbus", dclMa: 40_000, socReservePct: 25 }]);
    expect(rig.view.remote).toMatchObject({ cclMa: 3000, dclMa: 40_000, socReservePct: 25, expired: false });
    expect(rig.view.limits.cclMa).toBe(rig.view.remote!.cclMa);
    rig.run({}, timeout);
    // At the timeout exactly the set-points still hold; expiry is strictly past it.
    expect(rig.view.remote!.heartbeatAgeMs).toBe(timeout);
    expect(rig.view.remote!.expired).toBe(false);
    rig.tick({}, [{ kind: "heartbeat", source: "modbus", value: 1 }]);
    expect(rig.view.remote!.heartbeatAgeMs).toBe(0);
    rig.run({}, timeout);
    expect(rig.view.remote).toMatchObject({ cclMa: 3000, expired: false });
    rig.tick({});
    expect(rig.view.remote).toMatchObject({
      cclMa: null,
      dclMa: null,
      socReservePct: null,
      heartbeatAgeMs: timeout + TICK_MS,
      heard: true,
      expired: true,
    });
    // A heartbeat revives the link but not the dropped set-points.
    rig.tick({}, [{ kind: "heartbeat", source: "modbus", value: 2 }]);
    expect(rig.view.remote).toMatchObject({ cclMa: null, expired: false, heartbeatAgeMs: 0 });
  });

  it("reuse the published remote object while nothing in it changes", () => {
    const rig = new Rig(config);
    rig.tick({}, [{ kind: "set_limits", source: "modbus", cclMa: 3000 }]);
    const a = rig.tick({}, [], 0).remote;
    const b = rig.tick({}, [], 0).remote;
    expect(b).toBe(a);
    const c2 = rig.tick({}).remote;
    expect(c2).not.toBe(b);
    expect(c2!.heartbeatAgeMs).toBe(TICK_MS);
  });

  it("are ignored when remote mode is off", () => {
    const local = parseConfig({ modbus: { remoteMode: false } });
    const rig = new Rig(local);
    rig.tick({});
    rig.tick({}, [{ kind: "set_limits", source: "modbus", cclMa: 1000 }]);
    expect(rig.view.limits.cclMa).toBe(local.protection.charge.maxChargeCurrentMa);
    // Ignored writes are not shown as applied, nor do they count as a heartbeat.
    expect(rig.view.remote).toMatchObject({ cclMa: null, heard: false });
  });
});
