/**
 * Property tests: every safety rule and every declared driver limit holds for random packs,
 * random capabilities, random configs and random tick sequences (memory carried over).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  initialMemory,
  type PlannerInput,
  type PlannerMemory,
  planBalance,
} from "../../src/balance/planner.js";
import type { BalanceConfig } from "../../src/config/sections.js";
import type { BalancingCapabilities } from "../../src/core/capabilities.js";
import type { ActiveFault, BmsState } from "../../src/protection/types.js";
import { PACK, balanceCfg, fault, input, violation } from "./helpers.js";

const capsArb: fc.Arbitrary<BalancingCapabilities> = fc.record({
  groupSize: fc.integer({ min: 1, max: 16 }),
  adjacentAllowed: fc.boolean(),
  maxSimultaneous: fc.integer({ min: 1, max: 16 }),
  maxPerGroup: fc.integer({ min: 1, max: 8 }),
  measurementPauseMs: fc.constantFrom(0, 0, 50, 400),
  bleedResistorOhm: fc.integer({ min: 10, max: 100 }),
});

const cfgArb: fc.Arbitrary<BalanceConfig> = fc
  .record({
    mode: fc.constantFrom("charge", "rest", "always", "off") as fc.Arbitrary<BalanceConfig["mode"]>,
    strategy: fc.constantFrom("voltage", "soc") as fc.Arbitrary<BalanceConfig["strategy"]>,
    startMv: fc.integer({ min: 3000, max: 3500 }),
    deltaMv: fc.integer({ min: 2, max: 60 }),
    hysFrac: fc.double({ min: 0, max: 0.95, noNaN: true }),
    minCellMv: fc.integer({ min: 2900, max: 3450 }),
    maxBoardTempDeciC: fc.integer({ min: 300, max: 800 }),
    maxCellTempDeciC: fc.integer({ min: 300, max: 600 }),
    maxSimultaneous: fc.integer({ min: 1, max: 16 }),
    restTimeMs: fc.constantFrom(0, 1000, 600_000),
    socDeltaPct: fc.constantFrom(0.5, 1, 3),
  })
  .map(({ hysFrac, ...c }) => balanceCfg({ ...c, hysteresisMv: Math.floor(c.deltaMv * hysFrac) }));

const faultsArb: fc.Arbitrary<ActiveFault[]> = fc.array(
  fc.constantFrom("warning", "alarm", "trip").map((l) => fault(l as ActiveFault["level"])),
  { maxLength: 2 },
);

/** One tick of a random pack with n cells; clustered voltages make ties and near-ties common. */
const tickArb = (n: number) =>
  fc.record({
    base: fc.integer({ min: 2900, max: 3600 }),
    offsets: fc.array(fc.integer({ min: 0, max: 120 }), { minLength: n, maxLength: n }),
    // A filtered view that lags the raw readings (or none): safety must hold on the raw ones.
    lag: fc.option(fc.array(fc.integer({ min: -15, max: 15 }), { minLength: n, maxLength: n }), {
      nil: null,
    }),
    temps: fc.array(fc.option(fc.integer({ min: -100, max: 700 }), { nil: null }), { maxLength: 4 }),
    board: fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }),
    currentMa: fc.integer({ min: -20_000, max: 20_000 }),
    restMs: fc.integer({ min: 0, max: 3_600_000 }),
    faults: faultsArb,
    valid: fc.integer({ min: 0, max: 9 }).map((k) => k > 0),
    dtMs: fc.integer({ min: 0, max: 20_000 }),
    socPct: fc.double({ min: 0, max: 100, noNaN: true }),
    protectionState: fc.constantFrom(
      "charging",
      "standby",
      "discharging",
      "fault",
      "shutdown",
    ) as fc.Arbitrary<BmsState>,
  });

const scenarioArb = fc.integer({ min: 2, max: 48 }).chain((n) =>
  fc.record({
    caps: fc.option(capsArb, { nil: null, freq: 8 }),
    cfg: cfgArb,
    ticks: fc.array(tickArb(n), { minLength: 1, maxLength: 8 }),
  }),
);

type Tick = ReturnType<typeof tickArb> extends fc.Arbitrary<infer T> ? T : never;

function toInput(t: Tick, nowMs: number): PlannerInput {
  return input(
    t.offsets.map((o) => t.base + o),
    {
      nowMs,
      valid: t.valid,
      temperaturesDeciC: t.temps,
      boardTempDeciC: t.board,
      packCurrentMa: t.currentMa,
      restMs: t.restMs,
      faults: t.faults,
      socPct: t.socPct,
      protectionState: t.protectionState,
      ...(t.lag === null ? {} : { decisionVoltagesMv: t.offsets.map((o, i) => t.base + o + t.lag![i]!) }),
    },
  );
}

/** Runs the ticks, checking `check` on each (input, output). */
function runScenario(
  s: { caps: BalancingCapabilities | null; cfg: BalanceConfig; ticks: Tick[] },
  check: (inp: PlannerInput, cells: readonly number[], view: ReturnType<typeof planBalance>["view"]) => void,
): void {
  let mem: PlannerMemory = initialMemory(s.ticks[0]!.offsets.length);
  let now = 0;
  for (const t of s.ticks) {
    now += t.dtMs;
    const inp = toInput(t, now);
    const r = planBalance(inp, mem, s.caps, s.cfg, PACK);
    mem = r.memory;
    check(inp, r.view.cells, r.view);
  }
}

const RUNS = { numRuns: 400 };

describe("planner properties over random packs, capabilities and configs", () => {
  it("obeys adjacency within groups, the simultaneous and the per-group maximum", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (_inp, cells) => {
          if (s.caps === null) expect(cells).toEqual([]);
          else expect(violation(cells, s.caps, s.cfg.maxSimultaneous)).toBeNull();
        }),
      ),
      RUNS,
    );
  });

  it("never bleeds the lowest cell, nor a cell at the minimum voltage", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (inp, cells) => {
          const min = Math.min(...inp.cellVoltagesMv);
          for (const c of cells) expect(inp.cellVoltagesMv[c]!).toBeGreaterThan(min);
        }),
      ),
      RUNS,
    );
  });

  it("never bleeds a cell below the minimum cell voltage", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (inp, cells) => {
          for (const c of cells) expect(inp.cellVoltagesMv[c]!).toBeGreaterThanOrEqual(s.cfg.minCellMv);
        }),
      ),
      RUNS,
    );
  });

  it("never bleeds during a trip or a fault state, on invalid data, in mode off or without balancing hardware", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (inp, cells, view) => {
          const blocked =
            inp.faults.some((f) => f.level === "trip") ||
            inp.protectionState === "fault" ||
            inp.protectionState === "shutdown" ||
            !inp.valid ||
            s.cfg.mode === "off" ||
            s.caps === null;
          if (blocked) expect(cells).toEqual([]);
          if (s.caps === null) expect(view.state).toBe("unsupported");
        }),
      ),
      RUNS,
    );
  });

  it("never bleeds above the board or cell temperature limit", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (inp, cells) => {
          const hot =
            (inp.boardTempDeciC !== null && inp.boardTempDeciC > s.cfg.maxBoardTempDeciC) ||
            inp.temperaturesDeciC.some((t) => t !== null && t > s.cfg.maxCellTempDeciC);
          if (hot) expect(cells).toEqual([]);
        }),
      ),
      RUNS,
    );
  });

  it("reports one reason per cell, `bleeding` exactly for the planned cells", () => {
    fc.assert(
      fc.property(scenarioArb, (s) =>
        runScenario(s, (inp, cells, view) => {
          const n = inp.cellVoltagesMv.length;
          expect(view.cellReasons).toHaveLength(n);
          expect([...cells].sort((a, b) => a - b)).toEqual(cells);
          for (let i = 0; i < n; i++) expect(view.cellReasons![i] === "bleeding").toBe(cells.includes(i));
          if (cells.length > 0) {
            expect(view.timeToBalanceS === null || view.timeToBalanceS >= 0).toBe(true);
            expect(view.bleedCurrentMa!).toBeGreaterThan(0);
          } else expect(view.timeToBalanceS).toBeNull();
        }),
      ),
      RUNS,
    );
  });

  it("does not chatter: under noise smaller than the hysteresis, each cell switches at most once", () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 2, max: 32 }),
        hyst: fc.integer({ min: 4, max: 20 }),
        extraDelta: fc.integer({ min: 1, max: 20 }),
        caps: capsArb.map((c) => ({ ...c, measurementPauseMs: 0 })),
        seed: fc.integer(),
      })
      .chain((p) =>
        fc.record({
          p: fc.constant(p),
          base: fc.array(fc.integer({ min: 3400, max: 3400 + 3 * (p.hyst + p.extraDelta) }), {
            minLength: p.n,
            maxLength: p.n,
          }),
          noise: fc.array(
            fc.array(fc.integer({ min: -Math.floor((p.hyst - 1) / 4), max: Math.floor((p.hyst - 1) / 4) }), {
              minLength: p.n,
              maxLength: p.n,
            }),
            { minLength: 5, maxLength: 30 },
          ),
        }),
      );
    fc.assert(
      fc.property(arb, ({ p, base, noise }) => {
        const cfg = balanceCfg({
          mode: "always",
          startMv: 3300,
          deltaMv: p.hyst + p.extraDelta,
          hysteresisMv: p.hyst,
        });
        let mem = initialMemory(p.n);
        const switches = new Array<number>(p.n).fill(0);
        let prev: Set<number> | null = null;
        noise.forEach((row, k) => {
          const v = base.map((b, i) => b + row[i]!);
          const r = planBalance(input(v, { nowMs: k * 250 }), mem, p.caps, cfg, PACK);
          mem = r.memory;
          const now = new Set(r.view.cells);
          if (prev !== null) for (let i = 0; i < p.n; i++) if (prev.has(i) !== now.has(i)) switches[i]!++;
          prev = now;
        });
        for (const s of switches) expect(s).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
