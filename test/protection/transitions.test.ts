import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import type { FaultCode } from "../../src/core/faults.js";
import { Rig, type Spec, TICK_MS, tripOf } from "./rig.js";

const config = parseConfig({});
const p = config.protection;

interface Row {
  code: FaultCode;
  level: { limit: number; reset: number; delayMs: number; recoveryDelayMs: number };
  beyond: Spec;
  between: Spec;
  safe: Spec;
  chg: boolean;
  dsg: boolean;
}

const rows: Row[] = [
  {
    code: "cell_ov",
    level: p.cellOv.trip!,
    beyond: { cells: { 3: 3700 } },
    between: { cells: { 3: 3550 } },
    safe: { cells: { 3: 3400 } },
    chg: true,
    dsg: false,
  },
  {
    code: "cell_uv",
    level: p.cellUv.trip!,
    beyond: { cells: { 5: 2400 } },
    between: { cells: { 5: 2600 } },
    safe: { cells: { 5: 3200 } },
    chg: false,
    dsg: true,
  },
  {
    code: "oc_charge",
    level: p.ocCharge.trip!,
    beyond: { currentMa: 60_000 },
    between: { currentMa: 45_000 },
    safe: { currentMa: 0 },
    chg: true,
    dsg: false,
  },
  {
    code: "oc_discharge",
    level: p.ocDischarge.trip!,
    beyond: { currentMa: -110_000 },
    between: { currentMa: -90_000 },
    safe: { currentMa: 0 },
    chg: false,
    dsg: true,
  },
  {
    code: "ot_charge",
    level: p.otCharge.trip!,
    beyond: { temps: [250, 470] },
    between: { temps: [250, 420] },
    safe: { temps: [250, 250] },
    chg: true,
    dsg: false,
  },
  {
    code: "ot_discharge",
    level: p.otDischarge.trip!,
    beyond: { temps: [250, 570] },
    between: { temps: [250, 520] },
    safe: { temps: [250, 250] },
    chg: false,
    dsg: true,
  },
  {
    code: "ut_charge",
    level: p.utCharge.trip!,
    beyond: { temps: [-10, 250] },
    between: { temps: [30, 250] },
    safe: { temps: [250, 250] },
    chg: true,
    dsg: false,
  },
  {
    code: "ut_discharge",
    level: p.utDischarge.trip!,
    beyond: { temps: [-220, 250] },
    between: { temps: [-170, 250] },
    safe: { temps: [250, 250] },
    chg: false,
    dsg: true,
  },
  {
    code: "board_ot",
    level: p.boardOt.trip!,
    beyond: { boardDeciC: 900 },
    between: { boardDeciC: 800 },
    safe: { boardDeciC: 300 },
    chg: true,
    dsg: true,
  },
];

describe.each(rows)("$code trip", (row) => {
  it("raises after its delay and not before, and blocks only its path", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    expect(tripOf(rig.view, row.code)).toBeUndefined();
    rig.tick(row.beyond);
    const t0 = rig.nowMs;
    const took = rig.until(row.beyond, (v) => tripOf(v, row.code) !== undefined, 60_000);
    expect(took).toBe(Math.ceil(row.level.delayMs / TICK_MS) * TICK_MS);
    expect(rig.nowMs - t0).toBeGreaterThanOrEqual(row.level.delayMs);
    const f = tripOf(rig.view, row.code)!;
    expect(f.blocksCharge).toBe(row.chg);
    expect(f.blocksDischarge).toBe(row.dsg);
    expect(f.limit).toBe(row.level.limit);
    expect(rig.view.state).toBe("fault");
    if (row.chg) expect(rig.view.fets.chg).toBe(false);
    if (row.dsg) expect(rig.view.fets.dsg).toBe(false);
    const raised = rig.faultEvents(row.code, "raised").filter((e) => e.level === "trip");
    expect(raised).toHaveLength(1);
    expect(raised[0]!.tMs).toBe(rig.nowMs);
    expect(rig.events.some((e) => e.type === "state" && e.to === "fault")).toBe(true);
  });

  it("stays raised between reset and limit, clears after its recovery delay past reset", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    rig.until(row.beyond, (v) => tripOf(v, row.code) !== undefined, 60_000);
    const hold = Math.max(5 * row.level.recoveryDelayMs, 60_000);
    rig.run(row.between, hold);
    expect(tripOf(rig.view, row.code)).toBeDefined();
    expect(rig.faultEvents(row.code, "cleared").filter((e) => e.level === "trip")).toHaveLength(0);
    rig.tick(row.safe);
    const took = rig.until(row.safe, (v) => tripOf(v, row.code) === undefined, 600_000);
    expect(took).toBe(Math.ceil(row.level.recoveryDelayMs / TICK_MS) * TICK_MS);
    const cleared = rig.faultEvents(row.code, "cleared").filter((e) => e.level === "trip");
    expect(cleared).toHaveLength(1);
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    expect(rig.view.state).toBe("standby");
  });

  it("a dip back inside the limit does not let it trip early", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    const half = Math.floor(row.level.delayMs / 2 / TICK_MS) * TICK_MS;
    if (half < TICK_MS) return;
    rig.tick(row.beyond);
    rig.run(row.beyond, half);
    rig.run(row.safe, row.level.delayMs);
    rig.tick(row.beyond);
    const took = rig.until(row.beyond, (v) => tripOf(v, row.code) !== undefined, 60_000);
    expect(took).toBe(Math.ceil(row.level.delayMs / TICK_MS) * TICK_MS);
  });
});

describe("charge/discharge separation", () => {
  it("under-voltage never blocks charging, over-voltage never blocks discharging", () => {
    const rig = new Rig(config);
    rig.run({ cells: { 0: 2400 } }, 5000);
    expect(tripOf(rig.view, "cell_uv")).toBeDefined();
    expect(rig.view.fets).toEqual({ chg: true, dsg: false });
    expect(rig.view.limits.cclMa).toBeGreaterThan(0);
    expect(rig.view.limits.dclMa).toBe(0);
    expect(rig.view.limits.dclBinding).toBe("fault:cell_uv");

    const rig2 = new Rig(config);
    rig2.run({ cells: { 0: 3700 } }, 5000);
    expect(tripOf(rig2.view, "cell_ov")).toBeDefined();
    expect(rig2.view.fets).toEqual({ chg: false, dsg: true });
    expect(rig2.view.limits.cclMa).toBe(0);
    expect(rig2.view.limits.dclMa).toBeGreaterThan(0);
  });
});

describe("warning and alarm levels", () => {
  it("a warning informs without blocking; an alarm derates the limit of its path", () => {
    const rig = new Rig(config);
    rig.run({ temps: [250, 410] }, 10_000);
    const w = rig.fault("ot_charge")!;
    expect(w.level).toBe("warning");
    expect(w.blocksCharge).toBe(false);
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    expect(rig.view.state).toBe("standby");

    const spread = new Rig(config);
    spread.run({ cells: { 2: 3000 } }, 15_000);
    const a = spread.fault("cell_spread")!;
    expect(a.level).toBe("alarm");
    expect(a.blocksCharge).toBe(false);
    expect(spread.view.fets).toEqual({ chg: true, dsg: true });
    expect(spread.view.limits.cclMa).toBe(p.charge.maxChargeCurrentMa * p.charge.alarmDerateFraction);
    expect(spread.view.limits.cclBinding).toBe("alarm:cell_spread");
    const ev = spread.faultEvents("cell_spread", "raised").map((e) => e.level);
    expect(ev).toEqual(["warning", "alarm"]);
  });
});

describe("over-current auto-retry and latch", () => {
  const { retries, backoffMs } = p.overcurrentLatch;

  it(`retries ${retries} times with back-off, then latches until an acknowledged reset`, () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    const waits: number[] = [];
    for (let i = 0; i < retries; i++) {
      rig.until({ currentMa: -110_000 }, (v) => tripOf(v, "oc_discharge") !== undefined, 10_000);
      const raisedAt = rig.nowMs;
      rig.until({ currentMa: 0 }, (v) => tripOf(v, "oc_discharge") === undefined, 600_000);
      waits.push(rig.nowMs - raisedAt);
      expect(rig.view.fets.dsg).toBe(true);
    }
    // Each retry waits its back-off (or the recovery delay, whichever is longer).
    waits.forEach((w, i) => {
      const b = backoffMs[Math.min(i, backoffMs.length - 1)]!;
      expect(w).toBeGreaterThanOrEqual(Math.max(b, p.ocDischarge.trip!.recoveryDelayMs));
      expect(w).toBeLessThanOrEqual(Math.max(b, p.ocDischarge.trip!.recoveryDelayMs) + TICK_MS);
    });
    rig.until({ currentMa: -110_000 }, (v) => tripOf(v, "oc_discharge") !== undefined, 10_000);
    expect(rig.fault("oc_discharge")!.latched).toBe(true);
    expect(rig.faultEvents("oc_discharge", "latched")).toHaveLength(1);
    rig.run({ currentMa: 0 }, 3_600_000);
    expect(rig.fault("oc_discharge")).toBeDefined();
    expect(rig.view.fets.dsg).toBe(false);
    expect(rig.view.fets.chg).toBe(true);
    rig.tick({ currentMa: 0 }, [{ kind: "alarm_reset", source: "test" }]);
    expect(rig.fault("oc_discharge")).toBeUndefined();
    expect(rig.faultEvents("oc_discharge", "reset")).toHaveLength(1);
    expect(rig.view.fets.dsg).toBe(true);
  });

  it("trips further apart than the window do not accumulate", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    for (let i = 0; i < retries + 2; i++) {
      rig.until({ currentMa: 60_000 }, (v) => tripOf(v, "oc_charge") !== undefined, 10_000);
      rig.run({ currentMa: 0 }, p.overcurrentLatch.windowMs + 1000);
      expect(rig.fault("oc_charge")).toBeUndefined();
    }
    expect(rig.faultEvents("oc_charge", "latched")).toHaveLength(0);
  });
});

describe("short circuit from the AFE", () => {
  const sc = { hardwareFaults: [{ code: "short_circuit" as const, source: "SCD" }], currentMa: 0 };

  it("enters the machine at once, opens both paths, and asks the chip to clear after the back-off", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    rig.tick(sc);
    const f = tripOf(rig.view, "short_circuit")!;
    expect(f).toBeDefined();
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
    expect(rig.faultEvents("short_circuit", "raised")[0]!.detail).toContain("hardware");
    const raisedAt = rig.nowMs;
    const took = rig.until(sc, () => (rig.clears.at(-1) ?? []).includes("short_circuit"), 60_000);
    expect(took).toBeGreaterThan(0);
    expect(rig.nowMs - raisedAt).toBeGreaterThanOrEqual(p.overcurrentLatch.backoffMs[0]!);
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
    // The chip let go of its flag: the fault clears and both paths close again.
    rig.tick({});
    expect(rig.fault("short_circuit")).toBeUndefined();
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
  });

  it("latches after the retries; a reset clears it only once the current is gone", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    for (let i = 0; i <= p.overcurrentLatch.retries; i++) {
      rig.tick(sc);
      rig.until(sc, () => (rig.clears.at(-1) ?? []).includes("short_circuit"), 600_000);
      if (i < p.overcurrentLatch.retries) rig.tick({});
    }
    expect(rig.fault("short_circuit")?.latched).toBe(true);
    rig.run(sc, 600_000);
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
    expect(rig.clears.slice(-2000).flat()).not.toContain("short_circuit");
    // Reset while current still flows through (condition present): refused.
    rig.tick({ ...sc, currentMa: -250_000 }, [{ kind: "alarm_reset", source: "test" }]);
    expect(rig.fault("short_circuit")?.latched).toBe(true);
    rig.tick(sc, [{ kind: "alarm_reset", source: "modbus" }]);
    expect(rig.clears.at(-1)).toContain("short_circuit");
    expect(rig.fault("short_circuit")).toBeUndefined();
    rig.tick({});
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
  });
});

describe("hardware over-voltage flag", () => {
  it("raises at once, asks the chip to clear only once the cells are past reset, then clears", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    const hw = [{ code: "cell_ov" as const, source: "OV" }];
    rig.tick({ cells: { 1: 3660 }, hardwareFaults: hw });
    expect(tripOf(rig.view, "cell_ov")).toBeDefined();
    rig.run({ cells: { 1: 3550 }, hardwareFaults: hw }, 120_000);
    expect(rig.clears.flat()).not.toContain("cell_ov");
    rig.tick({ cells: { 1: 3400 }, hardwareFaults: hw });
    const t0 = rig.nowMs;
    rig.until(
      { cells: { 1: 3400 }, hardwareFaults: hw },
      () => rig.clears.at(-1)!.includes("cell_ov"),
      60_000,
    );
    expect(rig.nowMs - t0).toBe(p.cellOv.trip!.recoveryDelayMs);
    expect(tripOf(rig.view, "cell_ov")).toBeDefined();
    rig.tick({ cells: { 1: 3400 } });
    expect(tripOf(rig.view, "cell_ov")).toBeUndefined();
  });
});

describe("deep discharge", () => {
  it("latches, blocks only discharge, caps CCL, survives a restart and needs a reset", () => {
    const rig = new Rig(config);
    rig.run({}, 1000);
    rig.run({ cells: { 7: 1900 } }, p.deepDischarge.delayMs + 500);
    const f = tripOf(rig.view, "deep_discharge")!;
    expect(f.latched).toBe(true);
    expect(f.detail).toBe("cell:7");
    expect(rig.view.state).toBe("shutdown");
    expect(rig.view.fets.dsg).toBe(false);
    // A cell this low is also under-voltage; charging stays possible at the recovery current.
    rig.run({ cells: { 7: 2600 }, currentMa: 2000 }, 120_000);
    expect(rig.view.fets.chg).toBe(true);
    expect(rig.view.limits.cclMa).toBeLessThanOrEqual(
      p.charge.maxChargeCurrentMa * p.deepDischarge.recoveryChargeFraction,
    );
    expect(rig.view.limits.cclBinding).toBe("deep_discharge");

    const saved = JSON.parse(JSON.stringify(rig.state && exportOf(rig)));
    const after = new Rig(config, saved);
    after.tick({ valid: false, fets: { chg: false, dsg: true } });
    expect(after.view.fets.dsg).toBe(false);
    expect(after.faultEvents("deep_discharge", "latched")[0]!.detail).toBe("restored after restart");
    after.run({ cells: { 7: 2450 } }, 10_000);
    expect(after.view.state).toBe("shutdown");
    // Not yet above the under-voltage trip: the reset is refused.
    after.tick({ cells: { 7: 2450 } }, [{ kind: "alarm_reset", source: "cli" }]);
    expect(tripOf(after.view, "deep_discharge")).toBeDefined();
    after.tick({ cells: { 7: 2800 } }, [{ kind: "alarm_reset", source: "cli" }]);
    expect(tripOf(after.view, "deep_discharge")).toBeUndefined();
    expect(after.faultEvents("deep_discharge", "reset")).toHaveLength(1);
  });
});

import { exportLatched } from "../../src/protection/state.js";
function exportOf(rig: Rig) {
  return exportLatched(rig.state);
}

describe("data validity", () => {
  it("decides nothing before the first valid sample and keeps the discharge path as the hardware has it", () => {
    const rig = new Rig(config);
    rig.tick({ valid: false, cellMv: 0, fets: { chg: false, dsg: true } });
    expect(rig.view.state).toBe("init");
    expect(rig.view.faults).toEqual([]);
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    rig.run({ valid: false, cellMv: 0, fets: { chg: false, dsg: true } }, p.afeCommsDelayMs - TICK_MS);
    expect(rig.view.faults).toEqual([]);
    rig.tick({});
    expect(rig.view.state).toBe("standby");
    expect(rig.events.find((e) => e.type === "state")).toMatchObject({ reason: "first valid sample" });
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
  });

  it("no valid data for afeCommsDelayMs raises afe_comms; blind with no last good data opens both paths", () => {
    const rig = new Rig(config);
    const took = rig.until({ valid: false }, (v) => tripOf(v, "afe_comms") !== undefined, 60_000);
    expect(took).toBe(p.afeCommsDelayMs);
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
  });

  it("comms loss after good data: charge opens at once, discharge is held while last data was in the safe band", () => {
    const rig = new Rig(config);
    rig.run({ cellMv: 3300 }, 5000);
    const lost = {
      valid: false,
      sensorFaults: [{ channel: "afe" as const, kind: "driver" as const, detail: "NACK" }],
    };
    rig.run(lost, p.afeCommsDelayMs);
    expect(tripOf(rig.view, "afe_comms")).toBeUndefined();
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    rig.tick(lost);
    const f = tripOf(rig.view, "afe_comms")!;
    expect(f.detail).toContain("NACK");
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    rig.run(lost, p.sensorFault.dischargeHoldMs - 2 * TICK_MS);
    expect(rig.view.fets.dsg).toBe(true);
    rig.run(lost, 2 * TICK_MS);
    expect(rig.view.fets.dsg).toBe(false);
    // Data returns: cleared after the recovery delay.
    rig.until({}, (v) => tripOf(v, "afe_comms") === undefined, 60_000);
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
  });

  it("comms loss with last data outside the safe band opens discharge at once", () => {
    const rig = new Rig(config);
    rig.run({ cellMv: 2950 }, 5000);
    rig.until({ valid: false }, (v) => tripOf(v, "afe_comms") !== undefined, 60_000);
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
  });

  it("an open-wire cell reading 0 V raises sensor_fault, never a UV trip or a deep-discharge latch", () => {
    const rig = new Rig(config);
    rig.run({}, 2000);
    const bad = {
      cells: { 4: 0 },
      sensorFaults: [{ channel: "cell:4" as const, kind: "open_wire" as const, detail: "0 mV" }],
    };
    rig.tick(bad);
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    const took = rig.until(bad, (v) => tripOf(v, "sensor_fault") !== undefined, 60_000);
    expect(took).toBe(p.sensorFault.delayMs);
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    rig.run(bad, 60_000);
    expect(rig.fault("cell_uv")).toBeUndefined();
    expect(rig.fault("deep_discharge")).toBeUndefined();
    expect(rig.fault("cell_spread")).toBeUndefined();
    rig.run(bad, p.sensorFault.dischargeHoldMs);
    expect(rig.view.fets.dsg).toBe(false);
    rig.tick({});
    const back = rig.until({}, (v) => tripOf(v, "sensor_fault") === undefined, 60_000);
    expect(back).toBe(p.sensorFault.recoveryDelayMs);
  });
});

describe("states", () => {
  it("moves through standby, charging and discharging with current hysteresis", () => {
    const rig = new Rig(config);
    const rest = config.monitor.rest.currentMa;
    rig.tick({});
    expect(rig.view.state).toBe("standby");
    rig.tick({ currentMa: rest + 1 });
    expect(rig.view.state).toBe("charging");
    rig.tick({ currentMa: rest * 0.6 });
    expect(rig.view.state).toBe("charging");
    rig.tick({ currentMa: rest * 0.4 });
    expect(rig.view.state).toBe("standby");
    rig.tick({ currentMa: -rest - 1 });
    expect(rig.view.state).toBe("discharging");
    const reasons = rig.events.filter((e) => e.type === "state").map((e) => (e as { reason: string }).reason);
    expect(reasons.every((r) => r.length > 0)).toBe(true);
  });

  it("keeps the discharge path closed in standby/float (UPS readiness)", () => {
    const rig = new Rig(config);
    rig.run({ cellMv: 3375, currentMa: 50, full: true }, 3_600_000);
    expect(rig.view.state).toBe("standby");
    expect(rig.view.fets).toEqual({ chg: true, dsg: true });
    expect(rig.view.faults).toEqual([]);
    expect(rig.view.limits.cvlBinding).toBe("float_voltage");
    expect(rig.view.limits.cvlMv).toBe(p.charge.floatVoltageMv * config.pack.cellsInSeries);
  });
});

describe("cell_spread with a configured trip", () => {
  it("blocks charging only, and clears at its reset", () => {
    const cfg = parseConfig({
      protection: {
        cellSpread: { trip: { limit: 400, reset: 250, delayMs: 10_000, recoveryDelayMs: 10_000 } },
      },
    });
    const rig = new Rig(cfg);
    rig.tick({});
    rig.tick({ cells: { 6: 2850 } });
    const took = rig.until({ cells: { 6: 2850 } }, (v) => tripOf(v, "cell_spread") !== undefined, 60_000);
    expect(took).toBe(10_000);
    const f = tripOf(rig.view, "cell_spread")!;
    expect(f.detail).toBe("cell:0-cell:6");
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    rig.run({ cells: { 6: 3000 } }, 60_000);
    expect(tripOf(rig.view, "cell_spread")).toBeDefined();
    rig.tick({ cells: { 6: 3100 } });
    expect(rig.until({ cells: { 6: 3100 } }, (v) => tripOf(v, "cell_spread") === undefined, 60_000)).toBe(
      10_000,
    );
  });
});

describe("suspicious versus meaningless channels", () => {
  it("a hot thermistor flagged only as disagreeing (temp_spread) still trips over-temperature", () => {
    const rig = new Rig(config);
    rig.tick({});
    const hot = {
      temps: [250, 600],
      sensorFaults: [{ channel: "temp:1" as const, kind: "temp_spread" as const, detail: "spread 350" }],
    };
    rig.run(hot, 5000);
    expect(tripOf(rig.view, "ot_discharge")?.detail).toBe("temp:1");
    expect(tripOf(rig.view, "sensor_fault")).toBeDefined();
    expect(rig.view.fets).toEqual({ chg: false, dsg: false });
  });

  it("an out-of-range thermistor is left out of the temperature checks", () => {
    const rig = new Rig(config);
    rig.tick({});
    const rail = {
      temps: [250, 1500],
      sensorFaults: [{ channel: "temp:1" as const, kind: "range" as const, detail: "1500 > 1200" }],
    };
    rig.run(rail, 5000);
    expect(rig.fault("ot_charge")).toBeUndefined();
    expect(rig.fault("ot_discharge")).toBeUndefined();
    expect(tripOf(rig.view, "sensor_fault")).toBeDefined();
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
  });
});

describe("a lone cold thermistor", () => {
  it("flagged as disagreeing (an open thermistor at its cold rail) raises sensor_fault, not under-temperature", () => {
    const rig = new Rig(config);
    rig.tick({});
    const open = {
      temps: [250, -400],
      sensorFaults: [{ channel: "temp:1" as const, kind: "temp_spread" as const, detail: "spread 650" }],
    };
    rig.run(open, 10_000);
    expect(rig.fault("ut_charge")).toBeUndefined();
    expect(rig.fault("ut_discharge")).toBeUndefined();
    expect(tripOf(rig.view, "sensor_fault")).toBeDefined();
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    expect(rig.view.limits.dclBinding).not.toBe("temperature");
  });
});

describe("other packs", () => {
  it.each([
    { chemistry: "nmc" as const, cellsInSeries: 4 },
    { chemistry: "lfp" as const, cellsInSeries: 48 },
  ])("$chemistry $cellsInSeries s: the preset's OV/UV trips and the separation hold", (pack) => {
    const cfg = parseConfig({ pack });
    const ov = cfg.protection.cellOv.trip!;
    const uv = cfg.protection.cellUv.trip!;
    const mid = Math.round(
      (cfg.protection.charge.dischargeStopMv + cfg.protection.charge.floatVoltageMv) / 2,
    );
    const rig = new Rig(cfg);
    rig.tick({ cellMv: mid });
    rig.tick({ cellMv: mid, cells: { [pack.cellsInSeries - 1]: ov.limit + 10 } });
    rig.run({ cellMv: mid, cells: { [pack.cellsInSeries - 1]: ov.limit + 10 } }, ov.delayMs);
    expect(tripOf(rig.view, "cell_ov")?.detail).toBe(`cell:${pack.cellsInSeries - 1}`);
    expect(rig.view.fets).toEqual({ chg: false, dsg: true });
    const low = new Rig(cfg);
    low.tick({ cellMv: mid });
    low.run({ cellMv: mid, cells: { 0: uv.limit - 10 } }, uv.delayMs + 250);
    expect(tripOf(low.view, "cell_uv")).toBeDefined();
    expect(low.view.fets).toEqual({ chg: true, dsg: false });
    expect(low.view.limits.cvlMv).toBe(cfg.protection.charge.chargeVoltageMv * pack.cellsInSeries);
  });
});
