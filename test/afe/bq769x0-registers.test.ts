import { describe, expect, it } from "vitest";
import { crc8 } from "../../src/hal/bq769x0/crc.js";
import {
  adcGainUv,
  adcOffsetMv,
  cellCodeToMv,
  cellsPerGroup,
  deciCToDieCode,
  deciCToTsCode,
  dieCodeToDeciC,
  gainRegisters,
  mvToCellCode,
  ovTripCodeToMv,
  tsCodeToDeciC,
  uvTripCodeToMv,
  vcInputs,
} from "../../src/hal/bq769x0/registers.js";

describe("CRC-8 (poly 0x07, init 0)", () => {
  it("matches the datasheet vectors", () => {
    // Write SYS_CTRL2 = 0x40 to a chip at 0x08, then read the 0x40 back.
    expect(crc8([0x10, 0x05, 0x40])).toBe(0x24);
    expect(crc8([0x11, 0x40])).toBe(0x85);
    expect(crc8([0x10, 0x0b, 0x19])).toBe(0x7a);
  });
  it("has the CRC-8/SMBUS check value", () => {
    expect(crc8(Buffer.from("123456789"))).toBe(0xf4);
  });
  it("matches the bq76952 vectors (same polynomial)", () => {
    expect(crc8([0x10, 0x3e, 0x22])).toBe(0x63);
    expect(crc8([0x10, 0x14, 0x11, 0x68])).toBe(0x33);
  });
});

describe("ADC trim", () => {
  it("assembles the 5-bit gain code from two registers, extremes included", () => {
    expect(adcGainUv(0x00, 0x00)).toBe(365);
    expect(adcGainUv(0x0c, 0xe0)).toBe(396);
    expect(adcGainUv(0x08, 0x00)).toBe(365 + 16);
    expect(adcGainUv(0x00, 0x20)).toBe(366);
    // Bits outside the fields are ignored.
    expect(adcGainUv(0xf3, 0x1f)).toBe(365);
    for (let code = 0; code < 32; code++) {
      const r = gainRegisters(code);
      expect(adcGainUv(r.adcGain1, r.adcGain2)).toBe(365 + code);
    }
  });
  it("reads ADCOFFSET as a signed byte", () => {
    expect(adcOffsetMv(0x00)).toBe(0);
    expect(adcOffsetMv(0x7f)).toBe(127);
    expect(adcOffsetMv(0x80)).toBe(-128);
    expect(adcOffsetMv(0xff)).toBe(-1);
    expect(adcOffsetMv(0xe2)).toBe(-30);
  });
  it("converts cell codes as in TI's example (gain 380, offset 30)", () => {
    expect(cellCodeToMv(0x1800, 380, 30)).toBeCloseTo(2364.7, 1);
    expect(cellCodeToMv(0x1f10, 380, 30)).toBeCloseTo(3051.8, 1);
    expect(mvToCellCode(2364.7, 380, 30)).toBe(0x1800);
  });
  it("decodes the reset OV/UV trips", () => {
    expect(ovTripCodeToMv(0xac, 380, 30)).toBeCloseTo(4190, -1);
    expect(uvTripCodeToMv(0x97, 380, 30)).toBeCloseTo(2500, -1);
  });
});

describe("VC input mapping", () => {
  it("follows the 3/4/5-cell group tables", () => {
    expect(vcInputs("bq76920", 3)).toEqual([0, 1, 4]);
    expect(vcInputs("bq76920", 4)).toEqual([0, 1, 2, 4]);
    expect(vcInputs("bq76920", 5)).toEqual([0, 1, 2, 3, 4]);
    expect(vcInputs("bq76930", 6)).toEqual([0, 1, 4, 5, 6, 9]);
    expect(vcInputs("bq76930", 8)).toEqual([0, 1, 2, 4, 5, 6, 7, 9]);
    expect(vcInputs("bq76940", 9)).toEqual([0, 1, 4, 5, 6, 9, 10, 11, 14]);
    expect(vcInputs("bq76940", 15)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });
  it("puts the remainder of uneven splits in the upper groups", () => {
    expect(cellsPerGroup("bq76940", 10)).toEqual([3, 3, 4]);
    expect(cellsPerGroup("bq76940", 14)).toEqual([4, 5, 5]);
    expect(cellsPerGroup("bq76930", 7)).toEqual([3, 4]);
  });
  it("rejects cell counts the variant cannot take", () => {
    expect(() => vcInputs("bq76920", 6)).toThrow(RangeError);
    expect(() => vcInputs("bq76940", 8)).toThrow(RangeError);
  });
});

describe("temperature conversions", () => {
  it("puts 25 °C at the divider midpoint", () => {
    expect(deciCToTsCode(250, 3435)).toBe(Math.round(1.65e6 / 382));
  });
  it("round-trips thermistor and die temperatures within a step", () => {
    for (let t = -300; t <= 800; t += 55) {
      expect(Math.abs((tsCodeToDeciC(deciCToTsCode(t, 3435), 3435) ?? 1e9) - t)).toBeLessThanOrEqual(2);
      expect(Math.abs(dieCodeToDeciC(deciCToDieCode(t)) - t)).toBeLessThanOrEqual(1);
    }
  });
  it("reports an open or shorted thermistor as missing", () => {
    expect(tsCodeToDeciC(0, 3435)).toBeNull();
    expect(tsCodeToDeciC(Math.ceil(3.3e6 / 382), 3435)).toBeNull();
  });
});
