import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";

describe("bq769x0 / bq76952 config", () => {
  it("defaults a 45-cell string to three bq76940 on the emulator", () => {
    const c = parseConfig({ pack: { cellsInSeries: 45 }, afe: { kind: "bq769x0" } });
    expect(c.afe).toMatchObject({ kind: "bq769x0", variant: "bq76940", chips: 3, cellsConnected: 15 });
  });

  it("splits other strings evenly over the fewest chips", () => {
    const at = (n: number) => parseConfig({ pack: { cellsInSeries: n }, afe: { kind: "bq769x0" } }).afe;
    expect(at(16)).toMatchObject({ variant: "bq76930", chips: 2, cellsConnected: 8 });
    expect(at(48)).toMatchObject({ variant: "bq76940", chips: 4, cellsConnected: 12 });
    expect(at(4)).toMatchObject({ variant: "bq76920", chips: 1, cellsConnected: 4 });
    // 17 has no even split: the user is told to choose.
    expect(() => at(17)).toThrow(/measures .* cells but pack.cellsInSeries is 17/);
  });

  it("rejects a cell count the variant cannot measure, naming the field", () => {
    expect(() =>
      parseConfig({
        pack: { cellsInSeries: 8 },
        afe: { kind: "bq769x0", variant: "bq76940", cellsConnected: 8, chips: 1 },
      }),
    ).toThrow(/afe\.cellsConnected: a bq76940 takes 9–15 cells per chip, not 8/);
  });

  it("accepts emulator trim and fault injection, and rejects unknown fields there", () => {
    const c = parseConfig({
      pack: { cellsInSeries: 15 },
      afe: { kind: "bq769x0", emulator: { adcOffsetMv: -20, crcErrorRate: 0.01 } },
    });
    expect(c.afe.kind === "bq769x0" && c.afe.emulator?.adcOffsetMv).toBe(-20);
    expect(() =>
      parseConfig({ pack: { cellsInSeries: 15 }, afe: { kind: "bq769x0", emulator: { offset: 1 } } }),
    ).toThrow(/emulator/);
  });

  it("takes bq76952 options", () => {
    const c = parseConfig({
      pack: { cellsInSeries: 16 },
      afe: { kind: "bq76952", crc: true, maxBalancingCells: 3 },
    });
    expect(c.afe).toMatchObject({ kind: "bq76952", crc: true, maxBalancingCells: 3, cellsConnected: 16 });
  });
});

describe("examples", () => {
  for (const name of ["bq76940-sim.json", "bq76940-pi.json", "bq76952-pi.json"])
    it(`${name} is a valid config`, () => {
      const text = readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8");
      const c = parseConfig(JSON.parse(text));
      expect(["bq769x0", "bq76952"]).toContain(c.afe.kind);
      if (name.endsWith("-pi.json"))
        expect(c.afe.kind !== "sim" && c.afe.kind !== "serial" && c.afe.bus).toBe(1);
    });
});
