/** Table-driven: which mode balances under which current and rest time, and why not. */
import { describe, expect, it } from "vitest";
import { initialMemory, planBalance } from "../../src/balance/planner.js";
import type { BalanceConfig } from "../../src/config/sections.js";
import { BQ769X0, FREE, PACK, balanceCfg, fault, input } from "./helpers.js";

// Top of charge: cell 5 is 30 mV above the rest, everything above the LFP start voltage (3350).
const TOP = [3420, 3421, 3420, 3422, 3420, 3450, 3420, 3421, 3420, 3420, 3421, 3420, 3420, 3422, 3420, 3420];
const HOUR = 3_600_000;

type Row = [mode: BalanceConfig["mode"], currentMa: number, restMs: number, state: string, reason: RegExp];
const rows: Row[] = [
  ["off", 5000, 0, "off", /^off/],
  ["off", 0, HOUR, "off", /^off/],
  ["charge", 5000, 0, "bleeding", /^bleeding 1 cell/],
  ["charge", 100, 0, "bleeding", /^bleeding/], // float: current tapered to almost nothing
  ["charge", 0, HOUR, "bleeding", /^bleeding/],
  ["charge", -5000, 0, "waiting", /discharging/],
  ["rest", 5000, 0, "waiting", /not at rest \(\|I\| 5000 mA/],
  ["rest", 100, 60_000, "waiting", /not at rest \(rest 60 s of 1800 s\)/],
  ["rest", 100, HOUR, "bleeding", /^bleeding/],
  ["rest", -100, HOUR, "bleeding", /^bleeding/],
  ["always", -5000, 0, "bleeding", /^bleeding/],
  ["always", 5000, 0, "bleeding", /^bleeding/],
];

describe("modes", () => {
  it.each(rows)("mode %s at %i mA after %i ms rest → %s", (mode, currentMa, restMs, state, reason) => {
    const r = planBalance(
      input(TOP, { packCurrentMa: currentMa, restMs }),
      initialMemory(16),
      BQ769X0,
      balanceCfg({ mode }),
      PACK,
    );
    expect(r.view.state).toBe(state);
    expect(r.view.reason).toMatch(reason);
    expect(r.view.cells).toEqual(state === "bleeding" ? [5] : []);
  });
});

type SafetyRow = [what: string, over: Parameters<typeof input>[1], state: string, reason: RegExp];
const safety: SafetyRow[] = [
  ["trip active", { faults: [fault("trip", "cell_ov")] }, "blocked", /trip active \(cell_ov\)/],
  ["warning only", { faults: [fault("warning", "cell_ov")] }, "bleeding", /^bleeding/],
  ["alarm only", { faults: [fault("alarm", "ot_charge")] }, "bleeding", /^bleeding/],
  ["protection in fault state", { protectionState: "fault" }, "blocked", /protection state fault/],
  ["protection charging", { protectionState: "charging" }, "bleeding", /^bleeding/],
  ["board too hot", { boardTempDeciC: 610 }, "blocked", /board 61 °C > 60 °C/],
  ["cell too hot", { temperaturesDeciC: [250, 460] }, "blocked", /cell 46 °C > 45 °C/],
  ["no temperature at all", { temperaturesDeciC: [null], boardTempDeciC: null }, "blocked", /no temperature/],
  ["board sensor missing, cells fine", { boardTempDeciC: null }, "bleeding", /^bleeding/],
  ["invalid sample", { valid: false }, "blocked", /no valid measurement/],
  ["cell sensor fault", { faultedCells: [3] }, "blocked", /cell 4 sensor fault/],
  ["NaN cell", { cellVoltagesMv: TOP.map((v, i) => (i === 2 ? Number.NaN : v)) }, "blocked", /cell 3 has no/],
  ["current faulted", { currentValid: false }, "blocked", /current reading faulted/],
];

describe("safety stops", () => {
  it.each(safety)("%s → %s", (_what, over, state, reason) => {
    const r = planBalance(
      input(TOP, { packCurrentMa: 2000, ...over }),
      initialMemory(16),
      FREE,
      balanceCfg(),
      PACK,
    );
    expect(r.view.state).toBe(state);
    expect(r.view.reason).toMatch(reason);
    if (state !== "bleeding") expect(r.view.cells).toEqual([]);
    const faulted = [...(over?.faultedCells ?? [])];
    over?.cellVoltagesMv?.forEach((v, i) => {
      if (Number.isNaN(v)) faulted.push(i);
    });
    for (let i = 0; i < 16; i++) expect(r.view.cellReasons![i] === "invalid").toBe(faulted.includes(i));
  });

  it("without balancing hardware it is always idle, with that reason", () => {
    const r = planBalance(input(TOP, { packCurrentMa: 2000 }), initialMemory(16), null, balanceCfg(), PACK);
    expect(r.view).toMatchObject({ cells: [], state: "unsupported", timeToBalanceS: null });
    expect(r.view.reason).toMatch(/cannot balance/);
  });

  it("resumes after over-temperature only below the limit minus the temperature hysteresis", () => {
    const cfg = balanceCfg();
    let mem = initialMemory(16);
    const at = (board: number) => {
      const r = planBalance(input(TOP, { packCurrentMa: 2000, boardTempDeciC: board }), mem, FREE, cfg, PACK);
      mem = r.memory;
      return r.view.state;
    };
    expect(at(590)).toBe("bleeding");
    expect(at(601)).toBe("blocked");
    expect(at(590)).toBe("blocked"); // 59 °C: above 60 − 5 °C
    expect(at(551)).toBe("blocked");
    expect(at(550)).toBe("bleeding");
  });
});

describe("voltage start conditions and hysteresis", () => {
  const cfg = balanceCfg({ startMv: 3400, deltaMv: 10, hysteresisMv: 5 });
  it("needs the highest cell above the start voltage", () => {
    const low = TOP.map((v) => v - 100);
    const r = planBalance(input(low, { packCurrentMa: 2000 }), initialMemory(16), FREE, cfg, PACK);
    expect(r.view.state).toBe("idle");
    expect(r.view.reason).toMatch(/highest cell 3350 mV below start 3400 mV/);
  });

  it("needs the spread above delta", () => {
    const flat = TOP.map((v, i) => (i === 5 ? 3430 : v));
    const r = planBalance(input(flat, { packCurrentMa: 2000 }), initialMemory(16), FREE, cfg, PACK);
    expect(r.view.reason).toMatch(/spread 10 mV within 10 mV/);
  });

  it("keeps a cell until it is within delta − hysteresis of the lowest, then stops", () => {
    let mem = initialMemory(16);
    const step = (hi: number) => {
      const v = TOP.map((_x, i) => (i === 5 ? hi : 3420));
      const r = planBalance(input(v, { packCurrentMa: 2000 }), mem, FREE, cfg, PACK);
      mem = r.memory;
      return r.view.cells;
    };
    expect(step(3431)).toEqual([5]); // 11 mV > 10 mV: start
    expect(step(3428)).toEqual([5]); // 8 mV: inside the band, keeps bleeding
    expect(step(3425)).toEqual([5]); // 5 mV = delta − hysteresis: still on
    expect(step(3424)).toEqual([]); // 4 mV: done
    expect(step(3429)).toEqual([]); // 9 mV: below delta, no restart
    expect(step(3431)).toEqual([5]);
  });

  it("stops bleeding at the floor, and starts only a hysteresis above it", () => {
    const c = balanceCfg({ startMv: 3000, minCellMv: 3200, hysteresisMv: 5, mode: "always" });
    let mem = initialMemory(4);
    const step = (v: number[]) => {
      const r = planBalance(input(v), mem, FREE, c, PACK);
      mem = r.memory;
      return r.view;
    };
    expect(step([3150, 3203, 3150, 3150]).cells).toEqual([]); // 3203 < 3200 + 5: no start
    expect(step([3150, 3203, 3150, 3150]).cellReasons![1]).toBe("below_min_voltage");
    expect(step([3150, 3206, 3150, 3150]).cells).toEqual([1]);
    expect(step([3150, 3201, 3150, 3150]).cells).toEqual([1]); // already bleeding: down to the floor
    expect(step([3150, 3199, 3150, 3150]).cells).toEqual([]);
  });
});
