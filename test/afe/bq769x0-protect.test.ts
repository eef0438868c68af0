import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Bq769x0Limits,
  decodeProtection,
  encodeProtection,
  quantisationNotes,
} from "../../src/hal/bq769x0/protect.js";
import {
  OCD_DELAY_MS,
  OCD_THRESH_MV,
  OV_DELAY_MS,
  SCD_DELAY_US,
  SCD_THRESH_MV,
  UV_DELAY_MS,
  ovTripCodeToMv,
  uvTripCodeToMv,
} from "../../src/hal/bq769x0/registers.js";

const trims = [
  { gainUv: 380, offsetMv: 30 },
  { gainUv: 365, offsetMv: -128 },
  { gainUv: 396, offsetMv: 127 },
  { gainUv: 377, offsetMv: -7 },
];

const base: Bq769x0Limits = {
  cellOvMv: 3650,
  cellOvDelayMs: 2000,
  cellUvMv: 2500,
  cellUvDelayMs: 4000,
  ocDischargeMa: 50_000,
  ocDischargeDelayMs: 320,
  shortCircuitMa: 100_000,
  shortCircuitDelayUs: 200,
};

describe("bq769x0 protection encodings", () => {
  it("round-trips every OV_TRIP and UV_TRIP code for several trims", () => {
    for (const trim of trims)
      for (let code = 0; code < 256; code++) {
        const regs = { protect1: 0, protect2: 0, protect3: 0, ovTrip: code, uvTrip: code };
        const applied = decodeProtection(regs, trim, 1);
        const again = encodeProtection(
          { ...base, cellOvMv: applied.cellOvMv, cellUvMv: applied.cellUvMv },
          trim,
          1,
        );
        expect(again.ovTrip).toBe(code);
        expect(again.uvTrip).toBe(code);
      }
  });

  it("round-trips every delay code", () => {
    const trim = trims[0]!;
    OV_DELAY_MS.forEach((ms, i) => {
      expect((encodeProtection({ ...base, cellOvDelayMs: ms }, trim, 1).protect3 >> 4) & 3).toBe(i);
    });
    UV_DELAY_MS.forEach((ms, i) => {
      expect((encodeProtection({ ...base, cellUvDelayMs: ms }, trim, 1).protect3 >> 6) & 3).toBe(i);
    });
    OCD_DELAY_MS.forEach((ms, i) => {
      expect((encodeProtection({ ...base, ocDischargeDelayMs: ms }, trim, 1).protect2 >> 4) & 7).toBe(i);
    });
    SCD_DELAY_US.forEach((us, i) => {
      expect((encodeProtection({ ...base, shortCircuitDelayUs: us }, trim, 1).protect1 >> 3) & 3).toBe(i);
    });
  });

  it("round-trips every OCD and SCD threshold pair that shares one RSNS", () => {
    const trim = trims[0]!;
    for (const rsns of [0, 1])
      for (let o = 0; o < 16; o++)
        for (let s = 0; s < 8; s++) {
          const regs = { protect1: (rsns << 7) | s, protect2: o, protect3: 0, ovTrip: 0x80, uvTrip: 0x80 };
          for (const senseMilliOhm of [0.5, 1, 2.5]) {
            const applied = decodeProtection(regs, trim, senseMilliOhm);
            const again = decodeProtection(
              encodeProtection(applied, trim, senseMilliOhm),
              trim,
              senseMilliOhm,
            );
            // Tables overlap across RSNS, so the registers may differ, never the currents.
            expect(again.ocDischargeMa).toBe(applied.ocDischargeMa);
            expect(again.shortCircuitMa).toBe(applied.shortCircuitMa);
          }
        }
  });

  it("never rounds a limit towards the unsafe side inside the chip's range", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...trims),
        fc.integer({ min: 2900, max: 4800 }),
        fc.integer({ min: 1500, max: 3200 }),
        fc.integer({ min: 20, max: 100 }),
        fc.integer({ min: 50, max: 200 }),
        fc.constantFrom(0.5, 1, 2),
        (trim, ovMv, uvMv, ocdMv, scdMv, rs) => {
          fc.pre(ovMv >= ovTripCodeToMv(0, trim.gainUv, trim.offsetMv));
          fc.pre(ovMv <= ovTripCodeToMv(255, trim.gainUv, trim.offsetMv));
          fc.pre(uvMv >= uvTripCodeToMv(0, trim.gainUv, trim.offsetMv));
          fc.pre(uvMv <= uvTripCodeToMv(255, trim.gainUv, trim.offsetMv));
          const want: Bq769x0Limits = {
            ...base,
            cellOvMv: ovMv,
            cellUvMv: uvMv,
            ocDischargeMa: (ocdMv * 1000) / rs,
            shortCircuitMa: (scdMv * 1000) / rs,
          };
          const got = decodeProtection(encodeProtection(want, trim, rs), trim, rs);
          expect(got.cellOvMv).toBeLessThanOrEqual(ovMv + 0.05);
          expect(ovMv - got.cellOvMv).toBeLessThan((16 * trim.gainUv) / 1000 + 0.1);
          expect(got.cellUvMv).toBeGreaterThanOrEqual(uvMv - 0.05);
          expect(got.cellUvMv - uvMv).toBeLessThan((16 * trim.gainUv) / 1000 + 0.1);
          expect(got.ocDischargeMa).toBeLessThanOrEqual(want.ocDischargeMa + 1);
          expect(got.shortCircuitMa).toBeLessThanOrEqual(want.shortCircuitMa + 1);
        },
      ),
    );
  });

  it("picks the RSNS that fits both current limits best", () => {
    // 30 mV OCD and 180 mV SCD: SCD only fits with RSNS = 1 (178 mV), OCD then 28 mV.
    const regs = encodeProtection({ ...base, ocDischargeMa: 30_000, shortCircuitMa: 180_000 }, trims[0]!, 1);
    const got = decodeProtection(regs, trims[0]!, 1);
    expect(regs.protect1 & 0x80).toBe(0x80);
    expect(got.shortCircuitMa).toBe(178_000);
    expect(got.ocDischargeMa).toBe(28_000);
    // 10 mV OCD, 40 mV SCD: only RSNS = 0 has steps that low.
    const low = encodeProtection({ ...base, ocDischargeMa: 10_000, shortCircuitMa: 40_000 }, trims[0]!, 1);
    expect(low.protect1 & 0x80).toBe(0);
    expect(OCD_THRESH_MV[0]![low.protect2 & 0x0f]).toBe(8);
    expect(SCD_THRESH_MV[0]![low.protect1 & 7]).toBe(33);
  });

  it("notes every quantised limit with both values", () => {
    const trim = trims[0]!;
    const got = decodeProtection(encodeProtection(base, trim, 1), trim, 1);
    const notes = quantisationNotes(base, got);
    expect(notes.some((n) => n.startsWith("cell OV 3650 mV →"))).toBe(true);
    expect(notes.some((n) => n.includes("OCD limit 50000 mA → 50000 mA"))).toBe(false);
    expect(notes.some((n) => n.startsWith("cell UV delay 4000"))).toBe(false);
  });

  it("flags a limit below the chip's range as less safe", () => {
    const trim = trims[0]!;
    const want = { ...base, shortCircuitDelayUs: 20, ocDischargeMa: 1000 };
    const notes = quantisationNotes(want, decodeProtection(encodeProtection(want, trim, 1), trim, 1));
    expect(notes.find((n) => n.startsWith("SCD delay"))).toMatch(/less safe/);
    expect(notes.find((n) => n.startsWith("OCD limit"))).toMatch(/less safe/);
  });
});
