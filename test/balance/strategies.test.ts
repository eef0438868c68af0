/** SOC strategy, measurement pauses, time to balance, and the stage shell's bookkeeping. */
import { describe, expect, it } from "vitest";
import { createBalancer } from "../../src/balance/balancer.js";
import { timeToBalanceS } from "../../src/balance/estimate.js";
import { initialMemory, type PlannerMemory, planBalance } from "../../src/balance/planner.js";
import { CELL_PRESETS, ocvMv, socFromOcvPct } from "../../src/config/cells.js";
import { parseConfig } from "../../src/config/schema.js";
import { BQ769X0, FREE, LFP, PACK, balanceCfg, input, stageInput } from "./helpers.js";

const OCV = CELL_PRESETS["lfp-100ah"].ocv;
const HOUR = 3_600_000;

describe("SOC strategy (history-based)", () => {
  const cfg = balanceCfg({ strategy: "soc", mode: "rest", restTimeMs: 600_000 });

  it("at rest on the steep end of the curve, books each cell's charge above the lowest", () => {
    const v = [3330, 3361, 3330, 3350];
    const r = planBalance(input(v, { restMs: HOUR }), initialMemory(4), FREE, cfg, PACK);
    const expected = v.map((x) => (socFromOcvPct(OCV, x) - socFromOcvPct(OCV, 3330)) * 100 * 10);
    expect(r.view.cellExcessMah![1]).toBeCloseTo(expected[1]!, 6);
    expect(r.view.cellExcessMah![3]).toBeCloseTo(expected[3]!, 6);
    expect(r.view.cellExcessMah![0]).toBe(0);
    expect(r.view.cells).toEqual([1, 3]);
    expect(r.memory.restEvaluated).toBe(true);
  });

  it("refuses an estimate where the OCV curve is flat", () => {
    const v = [ocvMv(OCV, 50), ocvMv(OCV, 52), ocvMv(OCV, 50), ocvMv(OCV, 51)].map(Math.round);
    const r = planBalance(input(v, { restMs: HOUR }), initialMemory(4), FREE, cfg, PACK);
    expect(r.view.cells).toEqual([]);
    expect(r.view.reason).toMatch(/OCV curve too flat/);
    expect(r.memory.restEvaluated).toBe(false);
  });

  it("ignores an excess below the SOC delta", () => {
    const v = [3330, 3335, 3330, 3331]; // 5 mV at 15.6 mV/% is 0.3 %
    const r = planBalance(input(v, { restMs: HOUR }), initialMemory(4), FREE, cfg, PACK);
    expect(r.view.cells).toEqual([]);
    expect(r.view.chargeToRemoveMah).toBe(0);
  });

  it("bleeds the booked charge down to zero through the shell, then stops", () => {
    const config = parseConfig({
      pack: { chemistry: "lfp", cellsInSeries: 4 },
      balance: { strategy: "soc", mode: "always", restTimeMs: 600_000 },
    });
    const bal = createBalancer(config, FREE);
    const v = [3330, 3350, 3330, 3330];
    let now = 0;
    bal.plan(stageInput(now, 0, v));
    now += HOUR;
    const first = bal.plan(stageInput(now, HOUR, v));
    expect(first.cells).toEqual([1]);
    const booked = bal.memory.remainingMah[1]!;
    expect(booked).toBeGreaterThan(0);
    // The rest reading stays the same; only the bookkeeping brings the cell to zero.
    const perHourMah = 3350 / 33;
    const hoursNeeded = booked / perHourMah;
    let hours = 0;
    for (;;) {
      now += HOUR;
      if (bal.plan(stageInput(now, HOUR, v, { currentMa: 5000 })).cells.length === 0) break;
      hours++;
    }
    expect(hours).toBe(Math.floor(hoursNeeded));
    expect(bal.memory.remainingMah[1]).toBe(0);
  });
});

describe("measurement pauses (chips that need bleeders off to measure)", () => {
  it("bleeds for measureEveryMs, pauses for the chip's time, and re-evaluates only on a clean reading", () => {
    const caps = { ...FREE, measurementPauseMs: 400 };
    const cfg = balanceCfg({ mode: "always", measureEveryMs: 10_000 });
    const base = [3420, 3420, 3420, 3450];
    let mem: PlannerMemory = initialMemory(4);
    const at = (nowMs: number, v: number[], bled: boolean) => {
      const r = planBalance(input(v, { nowMs, bledDuringSample: bled }), mem, caps, cfg, PACK);
      mem = r.memory;
      return r.view;
    };
    expect(at(0, base, false).cells).toEqual([3]);
    // A reading taken while bleeding does not add cell 1, however high it reads.
    const distorted = [3420, 3460, 3420, 3450];
    expect(at(5000, distorted, true).cells).toEqual([3]);
    expect(at(9750, distorted, true).reason).toMatch(/between clean readings/);
    const pause = at(10_000, base, true);
    expect(pause).toMatchObject({ cells: [], state: "paused" });
    expect(at(10_250, distorted, false).state).toBe("paused"); // off only 250 ms < 400 ms
    expect(at(10_500, distorted, false).cells).toEqual([1, 3]);
  });

  it("counts the pauses in the effective bleed current of the time estimate", () => {
    const v = [3420, 3420, 3420, 3450];
    const cfg = balanceCfg({ mode: "always", measureEveryMs: 1000 });
    const plain = planBalance(input(v), initialMemory(4), FREE, cfg, PACK).view.timeToBalanceS!;
    const paused = planBalance(input(v), initialMemory(4), { ...FREE, measurementPauseMs: 750 }, cfg, PACK)
      .view.timeToBalanceS!;
    expect(paused / plain).toBeCloseTo((1000 + 750 + 250) / 1000, 9);
  });
});

describe("time to balance", () => {
  const lim = { groupSize: 4, adjacentAllowed: true, maxSimultaneous: 4, maxPerGroup: 4 };
  it("is the slowest cell when every cell may bleed at once", () => {
    expect(timeToBalanceS([0, 1000, 500, 0], [100, 100, 100, 100], lim)).toBeCloseTo(10 * 3600);
  });
  it("adds up neighbours that may not bleed together", () => {
    expect(
      timeToBalanceS([0, 1000, 1000, 0], [100, 100, 100, 100], { ...lim, adjacentAllowed: false }),
    ).toBeCloseTo(20 * 3600);
  });
  it("shares the pack-wide and per-group budgets", () => {
    expect(
      timeToBalanceS([1000, 0, 1000, 1000], [100, 100, 100, 100], { ...lim, maxSimultaneous: 1 }),
    ).toBeCloseTo(30 * 3600);
    expect(
      timeToBalanceS([1000, 1000, 1000, 1000], [100, 100, 100, 100], {
        ...lim,
        groupSize: 2,
        maxPerGroup: 1,
      }),
    ).toBeCloseTo(20 * 3600);
  });
  it("is 0 with nothing to remove and null when a cell cannot be bled", () => {
    expect(timeToBalanceS([0, 0], [100, 100], lim)).toBe(0);
    expect(timeToBalanceS([0, 10], [100, 0], lim)).toBeNull();
  });
  it("the published estimate is V/R based: doubling the resistor doubles it", () => {
    const v = [3420, 3420, 3420, 3450];
    const cfg = balanceCfg({ mode: "always" });
    const a = planBalance(input(v), initialMemory(4), { ...BQ769X0, bleedResistorOhm: 33 }, cfg, PACK).view;
    const b = planBalance(input(v), initialMemory(4), { ...BQ769X0, bleedResistorOhm: 66 }, cfg, PACK).view;
    expect(b.timeToBalanceS! / a.timeToBalanceS!).toBeCloseTo(2, 9);
    expect(a.bleedCurrentMa).toBeCloseTo(3450 / 33, 9);
    expect(a.bleedPowerMw).toBeCloseTo((3450 * 3450) / 33 / 1000, 9);
  });
});

describe("stage shell", () => {
  it("measures rest time from the tick's elapsed time and restarts it on current", () => {
    const bal = createBalancer(LFP, BQ769X0);
    const v = new Array(16).fill(3300);
    bal.plan(stageInput(0, 0, v));
    bal.plan(stageInput(1000, 1000, v, { currentMa: 100 }));
    expect(bal.restMs).toBe(1000);
    bal.plan(stageInput(2000, 1000, v, { currentMa: 900 }));
    expect(bal.restMs).toBe(0);
  });

  it("maps sensor faults: a faulted cell blocks, a faulted thermistor is ignored", () => {
    const bal = createBalancer(LFP, FREE);
    const v = [...new Array(15).fill(3420), 3450];
    const cell = bal.plan(
      stageInput(0, 0, v, {
        currentMa: 2000,
        sensorFaults: [{ channel: "cell:7", kind: "range", detail: "" }],
      }),
    );
    expect(cell.reason).toMatch(/cell 8 sensor fault/);
    const temp = bal.plan(
      stageInput(250, 250, v, {
        currentMa: 2000,
        sensorFaults: [{ channel: "temp:1", kind: "range", detail: "" }],
      }),
    );
    expect(temp.cells).toEqual([15]);
  });

  it("decides on filtered voltages: a reading jumping across the hysteresis band does not toggle", () => {
    const changes = (filterTimeMs: number) => {
      const config = parseConfig({
        pack: { chemistry: "lfp", cellsInSeries: 16 },
        balance: { filterTimeMs },
      });
      const bal = createBalancer(config, FREE);
      let prev = "";
      let n = 0;
      for (let k = 0; k < 100; k++) {
        const v = [...new Array(15).fill(3420), k % 2 === 0 ? 3431 : 3424]; // 11 mV, then 4 mV
        const cells = bal.plan(stageInput(k * 250, k === 0 ? 0 : 250, v, { currentMa: 2000 })).cells.join();
        if (k > 0 && cells !== prev) n++;
        prev = cells;
      }
      return n;
    };
    expect(changes(0)).toBeGreaterThanOrEqual(90);
    expect(changes(30_000)).toBe(0);
  });

  it("without balancing hardware reports unsupported", () => {
    const bal = createBalancer(LFP, null);
    const view = bal.plan(stageInput(0, 0, [...new Array(15).fill(3420), 3450], { currentMa: 2000 }));
    expect(view.state).toBe("unsupported");
    expect(view.cells).toEqual([]);
  });
});
