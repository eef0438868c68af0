/**
 * bq76920/30/40 register map and fixed encodings (datasheet SLUSBK2I §8.5, Tables 8-9…8-13).
 * Multi-byte values are big-endian (HI byte at the lower address).
 */
export const REG = {
  SYS_STAT: 0x00,
  CELLBAL1: 0x01,
  CELLBAL2: 0x02,
  CELLBAL3: 0x03,
  SYS_CTRL1: 0x04,
  SYS_CTRL2: 0x05,
  PROTECT1: 0x06,
  PROTECT2: 0x07,
  PROTECT3: 0x08,
  OV_TRIP: 0x09,
  UV_TRIP: 0x0a,
  CC_CFG: 0x0b,
  VC1_HI: 0x0c,
  BAT_HI: 0x2a,
  TS1_HI: 0x2c,
  CC_HI: 0x32,
  ADCGAIN1: 0x50,
  ADCOFFSET: 0x51,
  ADCGAIN2: 0x59,
} as const;

/** SYS_STAT bits (all latched, write-1-to-clear). */
export const STAT = {
  OCD: 0x01,
  SCD: 0x02,
  OV: 0x04,
  UV: 0x08,
  OVRD_ALERT: 0x10,
  DEVICE_XREADY: 0x20,
  CC_READY: 0x80,
} as const;
export const STAT_FAULT_MASK = 0x3f;

export const CTRL1 = {
  SHUT_B: 0x01,
  SHUT_A: 0x02,
  TEMP_SEL: 0x08,
  ADC_EN: 0x10,
  LOAD_PRESENT: 0x80,
} as const;
export const CTRL2 = { CHG_ON: 0x01, DSG_ON: 0x02, CC_ONESHOT: 0x20, CC_EN: 0x40, DELAY_DIS: 0x80 } as const;
export const PROTECT1_RSNS = 0x80;

/** The datasheet requires CC_CFG = 0x19 after every boot. */
export const CC_CFG_VALUE = 0x19;
/** OV/UV trip codes: 14-bit `10 OV_TRIP 1000` and `01 UV_TRIP 0000`. */
export const OV_CODE_BASE = 0x2008;
export const UV_CODE_BASE = 0x1000;
/** Cells reading below this ADC code are ignored by UV (shorted, unused inputs). */
export const UV_MINQUAL_CODE = 0x0518;
/** Fixed ADC LSB of the TS inputs, µV (the gain trim does not apply to them). */
export const TS_LSB_UV = 382;
/** Coulomb-counter LSB, nV (8.44 µV). */
export const CC_LSB_NV = 8440;
/** Cell/BAT/CC conversion period, ms. */
export const SCAN_PERIOD_MS = 250;
/** Thermistor conversion period, ms. */
export const TEMP_PERIOD_MS = 2000;

/** Short-circuit thresholds by PROTECT1.RSNS (0, 1) and SCD_THRESH, mV across the shunt. */
export const SCD_THRESH_MV: readonly (readonly number[])[] = [
  [22, 33, 44, 56, 67, 78, 89, 100],
  [44, 67, 89, 111, 133, 155, 178, 200],
];
export const SCD_DELAY_US: readonly number[] = [70, 100, 200, 400];
/** Over-current-in-discharge thresholds by RSNS and OCD_THRESH, mV. */
export const OCD_THRESH_MV: readonly (readonly number[])[] = [
  [8, 11, 14, 17, 19, 22, 25, 28, 31, 33, 36, 39, 42, 44, 47, 50],
  [17, 22, 28, 33, 39, 44, 50, 56, 61, 67, 72, 78, 83, 89, 94, 100],
];
export const OCD_DELAY_MS: readonly number[] = [8, 20, 40, 80, 160, 320, 640, 1280];
export const OV_DELAY_MS: readonly number[] = [1000, 2000, 4000, 8000];
export const UV_DELAY_MS: readonly number[] = [1000, 4000, 8000, 16000];
/** With DELAY_DIS every protection delay collapses to about one scan. */
export const DELAY_DIS_MS = 250;

export type Bq769x0Variant = "bq76920" | "bq76930" | "bq76940";

export interface VariantInfo {
  readonly groups: number;
  readonly thermistors: number;
  readonly minCells: number;
  readonly maxCells: number;
  /** Time from entering NORMAL to the first valid cell data, ms. */
  readonly firstDataMs: number;
}

export const VARIANTS: Readonly<Record<Bq769x0Variant, VariantInfo>> = {
  bq76920: { groups: 1, thermistors: 1, minCells: 3, maxCells: 5, firstDataMs: 250 },
  bq76930: { groups: 2, thermistors: 2, minCells: 6, maxCells: 10, firstDataMs: 400 },
  bq76940: { groups: 3, thermistors: 3, minCells: 9, maxCells: 15, firstDataMs: 800 },
};

/** VC inputs (0-based within a 5-input group) holding real cells, by cells in the group (§9.1.8). */
const GROUP_INPUTS: Readonly<Record<number, readonly number[]>> = {
  3: [0, 1, 4],
  4: [0, 1, 2, 4],
  5: [0, 1, 2, 3, 4],
};

/** Cells per 5-input group; a remainder goes to the upper groups (TI Table 9-4 pattern). */
export function cellsPerGroup(variant: Bq769x0Variant, cells: number): number[] {
  const { groups, minCells, maxCells } = VARIANTS[variant];
  if (!Number.isInteger(cells) || cells < minCells || cells > maxCells)
    throw new RangeError(`${variant} takes ${minCells}–${maxCells} cells, not ${cells}`);
  const base = Math.floor(cells / groups);
  const extra = cells % groups;
  return Array.from({ length: groups }, (_, g) => base + (g >= groups - extra ? 1 : 0));
}

/** For each wired cell (bottom first), the 0-based VC input (0..14) that measures it. */
export function vcInputs(variant: Bq769x0Variant, cells: number): number[] {
  const out: number[] = [];
  cellsPerGroup(variant, cells).forEach((n, g) => {
    for (const i of GROUP_INPUTS[n] ?? []) out.push(g * 5 + i);
  });
  return out;
}

/** ADC gain in µV/LSB from ADCGAIN1 (b3..2 = GAIN<4:3>) and ADCGAIN2 (b7..5 = GAIN<2:0>). */
export function adcGainUv(adcGain1: number, adcGain2: number): number {
  return 365 + (((adcGain1 & 0x0c) << 1) | ((adcGain2 & 0xe0) >> 5));
}

/** The register bytes holding a 5-bit gain code (the inverse of adcGainUv). */
export function gainRegisters(gainCode: number): { adcGain1: number; adcGain2: number } {
  return { adcGain1: ((gainCode >> 3) & 0x03) << 2, adcGain2: (gainCode & 0x07) << 5 };
}

/** ADCOFFSET is a two's-complement byte (0xFF = −1 mV); reading it unsigned is a known bug. */
export function adcOffsetMv(raw: number): number {
  const b = raw & 0xff;
  return b >= 0x80 ? b - 0x100 : b;
}

/** Cell voltage from a 14-bit code: GAIN·code/1000 + OFFSET (µV·LSB → mV). */
export function cellCodeToMv(code: number, gainUv: number, offsetMv: number): number {
  return (gainUv * (code & 0x3fff)) / 1000 + offsetMv;
}

export function mvToCellCode(mv: number, gainUv: number, offsetMv: number): number {
  return Math.min(0x3fff, Math.max(0, Math.round(((mv - offsetMv) * 1000) / gainUv)));
}

export function ovTripCodeToMv(ovTrip: number, gainUv: number, offsetMv: number): number {
  return cellCodeToMv(OV_CODE_BASE | ((ovTrip & 0xff) << 4), gainUv, offsetMv);
}

export function uvTripCodeToMv(uvTrip: number, gainUv: number, offsetMv: number): number {
  return cellCodeToMv(UV_CODE_BASE | ((uvTrip & 0xff) << 4), gainUv, offsetMv);
}

/** Shunt current in mA from a signed CC count (positive = charging). */
export function ccToMa(cc: number, senseMilliOhm: number): number {
  return (cc * CC_LSB_NV) / 1000 / senseMilliOhm;
}

const T25_K = 298.15;

/** External 10 kΩ NTC against the chip's internal 10 kΩ pull-up to 3.3 V. */
export function tsCodeToDeciC(code: number, beta: number): number | null {
  const v = ((code & 0x3fff) * TS_LSB_UV) / 1e6;
  if (v <= 0 || v >= 3.3) return null;
  const r = (10_000 * v) / (3.3 - v);
  const tK = 1 / (1 / T25_K + Math.log(r / 10_000) / beta);
  return Math.round((tK - 273.15) * 10);
}

export function deciCToTsCode(deciC: number, beta: number): number {
  const tK = deciC / 10 + 273.15;
  const r = 10_000 * Math.exp(beta * (1 / tK - 1 / T25_K));
  const v = (3.3 * r) / (10_000 + r);
  return Math.min(0x3fff, Math.max(0, Math.round((v * 1e6) / TS_LSB_UV)));
}

/** Die temperature (TEMP_SEL = 0): V = code·382 µV, T = 25 − (V − 1.2 V)/4.2 mV. */
export function dieCodeToDeciC(code: number): number {
  const v = ((code & 0x3fff) * TS_LSB_UV) / 1e6;
  return Math.round((25 - (v - 1.2) / 0.0042) * 10);
}

export function deciCToDieCode(deciC: number): number {
  const v = 1.2 - 0.0042 * (deciC / 10 - 25);
  return Math.min(0x3fff, Math.max(0, Math.round((v * 1e6) / TS_LSB_UV)));
}
