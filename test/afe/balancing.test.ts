import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSettings, encodeSettings } from "../../src/hal/bq769x2/protect.js";
import { LIMITS, bq769x0Rig } from "./helpers.js";

describe("bq769x0 balancing masks", () => {
  it("switches the right bleeders and refuses neighbours within a group", async () => {
    const { driver, pack, emu } = await bq769x0Rig();
    await driver.setBalancing([0, 2, 4, 5, 7, 14]);
    expect(pack.bleeders).toEqual([0, 2, 4, 5, 7, 14]);
    expect((await driver.read()).balancingCells).toEqual([0, 2, 4, 5, 7, 14]);
    await expect(driver.setBalancing([3, 4])).rejects.toMatchObject({ code: "INTERNAL" });
    await expect(driver.setBalancing([15])).rejects.toMatchObject({ code: "INTERNAL" });
    expect(pack.bleeders).toEqual([0, 2, 4, 5, 7, 14]);
    expect(emu.injected.adjacentBalancing).toBe(0);
  });

  it("never lets two neighbouring inputs of one group bleed, for any accepted request", async () => {
    for (const [variant, cells] of [
      ["bq76940", 15],
      ["bq76940", 10],
      ["bq76930", 8],
      ["bq76920", 3],
    ] as const) {
      const { driver, emu, pack } = await bq769x0Rig({ variant, cells });
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 0, max: cells - 1 }), { maxLength: cells }),
          async (req) => {
            const ok = await driver.setBalancing(req).then(
              () => true,
              () => false,
            );
            if (ok) expect([...pack.bleeders].sort((a, b) => a - b)).toEqual([...req].sort((a, b) => a - b));
          },
        ),
        { numRuns: 150 },
      );
      expect(emu.injected.adjacentBalancing).toBe(0);
    }
  });

  it("declares groups that match the wiring", async () => {
    expect((await bq769x0Rig()).driver.capabilities.balancing).toMatchObject({
      groupSize: 5,
      maxPerGroup: 3,
    });
    expect((await bq769x0Rig({ cells: 12 })).driver.capabilities.balancing).toMatchObject({ groupSize: 4 });
    // Uneven groups (3 + 3 + 4): the whole chip counts as one group, stricter but never looser.
    expect((await bq769x0Rig({ cells: 10 })).driver.capabilities.balancing).toMatchObject({ groupSize: 10 });
  });
});

describe("bq76952 protection encodings", () => {
  it("round-trips: asking for an applied value gives the same settings", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1100, max: 5500 }),
        fc.integer({ min: 1100, max: 4500 }),
        fc.integer({ min: 10, max: 6000 }),
        fc.integer({ min: 1000, max: 400_000 }),
        fc.integer({ min: 0, max: 600 }),
        fc.constantFrom(0.25, 0.5, 1),
        (ov, uv, delayMs, scdMa, scdUs, rs) => {
          const want = {
            ...LIMITS,
            cellOvMv: ov,
            cellUvMv: uv,
            cellOvDelayMs: delayMs,
            ocDischargeDelayMs: Math.min(delayMs, 400),
            shortCircuitMa: scdMa,
            shortCircuitDelayUs: scdUs,
          };
          const s = encodeSettings(want, rs);
          const applied = decodeSettings(s, rs);
          expect(encodeSettings(applied, rs)).toEqual(s);
        },
      ),
    );
  });
});
