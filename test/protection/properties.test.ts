import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsRequest } from "../../src/core/requests.js";
import { Rig, type Spec, tripOf } from "./rig.js";

const config = parseConfig({});
const p = config.protection;
const n = config.pack.cellsInSeries;

/** One tick of arbitrary, partly hostile input. */
const anyTick = fc.record({
  cellMv: fc.integer({ min: 1500, max: 4000 }),
  hot: fc.option(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: 4500 })), {
    nil: undefined,
  }),
  currentMa: fc.integer({ min: -300_000, max: 100_000 }),
  temp: fc.integer({ min: -300, max: 700 }),
  sc: fc.boolean(),
  valid: fc.boolean(),
  reset: fc.boolean(),
  elapsedMs: fc.integer({ min: 0, max: 60_000 }),
});

describe("safety properties", () => {
  it("no FET is closed while a short circuit is active or latched", () => {
    fc.assert(
      fc.property(fc.array(anyTick, { minLength: 1, maxLength: 120 }), (ticks) => {
        const rig = new Rig(config);
        for (const t of ticks) {
          const spec: Spec = {
            cellMv: t.cellMv,
            cells: t.hot ? { [t.hot[0]]: t.hot[1] } : undefined,
            currentMa: t.currentMa,
            temps: [t.temp, 250],
            valid: t.valid,
            hardwareFaults: t.sc ? [{ code: "short_circuit", source: "SCD" }] : [],
          };
          const req: BmsRequest[] = t.reset ? [{ kind: "alarm_reset", source: "prop" }] : [];
          rig.tick(spec, req, t.elapsedMs);
          const sc = rig.fault("short_circuit");
          if (sc) expect(rig.view.fets).toEqual({ chg: false, dsg: false });
          if (rig.state.slots[4]!.latched) expect(sc?.latched).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a tripped fault never recovers while its value stays short of the reset threshold", () => {
    const cases = [
      { code: "cell_ov" as const, lv: p.cellOv.trip!, spec: (v: number): Spec => ({ cells: { 1: v } }) },
      { code: "cell_uv" as const, lv: p.cellUv.trip!, spec: (v: number): Spec => ({ cells: { 1: v } }) },
      { code: "ot_charge" as const, lv: p.otCharge.trip!, spec: (v: number): Spec => ({ temps: [250, v] }) },
      {
        code: "ut_discharge" as const,
        lv: p.utDischarge.trip!,
        spec: (v: number): Spec => ({ temps: [v, 250] }),
      },
    ];
    for (const cs of cases) {
      const dir = cs.lv.limit > cs.lv.reset ? 1 : -1;
      // Values strictly on the unsafe side of the reset, up to 100 units past the limit.
      const lo = dir > 0 ? cs.lv.reset + 1 : cs.lv.limit - 100;
      const hi = dir > 0 ? cs.lv.limit + 100 : cs.lv.reset - 1;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: 1, max: 120_000 })), {
            minLength: 1,
            maxLength: 80,
          }),
          (steps) => {
            const rig = new Rig(config);
            rig.tick({});
            rig.run(cs.spec(cs.lv.limit + dir * 50), cs.lv.delayMs + 500);
            expect(tripOf(rig.view, cs.code)).toBeDefined();
            for (const [v, dt] of steps) {
              rig.tick(cs.spec(v), [], dt);
              expect(tripOf(rig.view, cs.code)).toBeDefined();
            }
          },
        ),
        { numRuns: 60 },
      );
    }
  });

  it("nothing trips and both paths stay closed while every input stays inside its warning limits", () => {
    const ov = p.cellOv.warning!.limit;
    const uv = p.cellUv.warning!.limit;
    const spreadMax = p.cellSpread.warning!.limit - 1;
    const tLo = Math.max(p.utCharge.warning!.limit, p.utDischarge.warning!.limit) + 1;
    const tHi = Math.min(p.otCharge.warning!.limit, p.otDischarge.warning!.limit) - 1;
    const iChg = p.ocCharge.warning!.limit - 1;
    const iDsg = p.ocDischarge.warning!.limit - 1;
    const tick = fc.record({
      base: fc.integer({ min: uv + 1, max: ov - 1 - spreadMax }),
      offsets: fc.array(fc.integer({ min: 0, max: spreadMax }), { minLength: n, maxLength: n }),
      currentMa: fc.integer({ min: -iDsg, max: iChg }),
      temps: fc.tuple(fc.integer({ min: tLo, max: tHi }), fc.integer({ min: tLo, max: tHi })),
      board: fc.integer({ min: -100, max: p.boardOt.warning!.limit - 1 }),
      elapsedMs: fc.integer({ min: 0, max: 30_000 }),
    });
    fc.assert(
      fc.property(fc.array(tick, { minLength: 1, maxLength: 200 }), (ticks) => {
        const rig = new Rig(config);
        for (const t of ticks) {
          const cells: Record<number, number> = {};
          t.offsets.forEach((o, i) => {
            cells[i] = t.base + o;
          });
          rig.tick(
            { cells, currentMa: t.currentMa, temps: [...t.temps], boardDeciC: t.board },
            [],
            t.elapsedMs,
          );
          expect(rig.view.faults).toEqual([]);
          expect(rig.view.fets).toEqual({ chg: true, dsg: true });
        }
        expect(rig.events.filter((e) => e.type === "fault")).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("±N mV of noise around a limit never makes a fault chatter", () => {
    const ov = p.cellOv;
    const levels = [ov.warning!, ov.alarm!, ov.trip!];
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 50, maxLength: 400 }),
        fc.integer({ min: 50, max: 1000 }),
        (li, noiseMv, noise, dt) => {
          const lv = levels[li]!;
          // Noise smaller than the hysteresis band (the config's job) must never chatter.
          const amp = Math.min(noiseMv, Math.floor((lv.limit - lv.reset) / 2) - 1);
          const rig = new Rig(config);
          rig.tick({});
          for (const x of noise) rig.tick({ cells: { 0: Math.round(lv.limit + x * amp) } }, [], dt);
          for (const level of ["warning", "alarm", "trip"] as const) {
            const ev = rig.faultEvents("cell_ov").filter((e) => e.level === level);
            expect(ev.filter((e) => e.action === "raised").length).toBeLessThanOrEqual(1);
            expect(ev.filter((e) => e.action === "cleared")).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a limit never rises within the hold after a reduction, nor faster than its ramp", () => {
    const c = p.charge;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ mv: fc.integer({ min: 3300, max: 3500 }), temp: fc.integer({ min: -50, max: 480 }) }),
          { minLength: 10, maxLength: 300 },
        ),
        fc.integer({ min: 100, max: 2000 }),
        (ticks, dt) => {
          const rig = new Rig(config);
          rig.tick({});
          let prev = rig.view.limits.cclMa;
          let sinceDrop = Number.POSITIVE_INFINITY;
          for (const t of ticks) {
            rig.tick({ cells: { 0: t.mv }, temps: [t.temp, 250] }, [], dt);
            const now = rig.view.limits.cclMa;
            if (now < prev) sinceDrop = 0;
            else sinceDrop += dt;
            if (now > prev) {
              expect(sinceDrop).toBeGreaterThanOrEqual(c.increaseHoldMs);
              expect(now - prev).toBeLessThanOrEqual((c.rampMaPerS * dt) / 1000 + 1);
            }
            prev = now;
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
