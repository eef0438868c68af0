/**
 * Hardware protection thresholds ⇄ PROTECT1..3, OV_TRIP, UV_TRIP. The chip only has discrete
 * steps, so every limit is rounded towards the safe side (trip earlier, never later) and the
 * value really applied is decoded back from the register bytes.
 */
import type { HardwareLimits } from "../afe.js";
import {
  OCD_DELAY_MS,
  OCD_THRESH_MV,
  OV_CODE_BASE,
  OV_DELAY_MS,
  PROTECT1_RSNS,
  SCD_DELAY_US,
  SCD_THRESH_MV,
  UV_CODE_BASE,
  UV_DELAY_MS,
  ovTripCodeToMv,
  uvTripCodeToMv,
} from "./registers.js";

export interface AdcTrim {
  readonly gainUv: number;
  readonly offsetMv: number;
}

export interface ProtectRegisters {
  readonly protect1: number;
  readonly protect2: number;
  readonly protect3: number;
  readonly ovTrip: number;
  readonly uvTrip: number;
}

/** The hardware limits one chip enforces (OCC is not among them). */
export type Bq769x0Limits = Pick<
  HardwareLimits,
  | "cellOvMv"
  | "cellOvDelayMs"
  | "cellUvMv"
  | "cellUvDelayMs"
  | "ocDischargeMa"
  | "ocDischargeDelayMs"
  | "shortCircuitMa"
  | "shortCircuitDelayUs"
>;

/** Applied voltages are reported to 0.1 mV; asking for a reported value must give the same code. */
const REPORT_TOLERANCE_MV = 0.05;

const clampByte = (n: number): number => Math.min(255, Math.max(0, n));
const round1 = (n: number): number => Math.round(n * 10) / 10;

/** Index of the largest table entry ≤ target (the first entry when none is). */
function floorIndex(table: readonly number[], target: number): number {
  let best = 0;
  table.forEach((v, i) => {
    if (v <= target) best = i;
  });
  return best;
}

function ovTripFor(targetMv: number, t: AdcTrim): number {
  const code = ((targetMv - t.offsetMv) * 1000) / t.gainUv;
  let trip = clampByte(Math.floor((code - OV_CODE_BASE) / 16));
  const fits = (n: number): boolean =>
    ovTripCodeToMv(n, t.gainUv, t.offsetMv) <= targetMv + REPORT_TOLERANCE_MV;
  while (trip > 0 && !fits(trip)) trip--;
  while (trip < 255 && fits(trip + 1)) trip++;
  return trip;
}

function uvTripFor(targetMv: number, t: AdcTrim): number {
  const code = ((targetMv - t.offsetMv) * 1000) / t.gainUv;
  let trip = clampByte(Math.ceil((code - UV_CODE_BASE) / 16));
  const fits = (n: number): boolean =>
    uvTripCodeToMv(n, t.gainUv, t.offsetMv) >= targetMv - REPORT_TOLERANCE_MV;
  while (trip < 255 && !fits(trip)) trip++;
  while (trip > 0 && fits(trip - 1)) trip--;
  return trip;
}

/** Relative overshoot is far worse than undershoot: a late trip is a safety gap. */
function fitError(appliedMv: number, targetMv: number): number {
  const rel = (appliedMv - targetMv) / targetMv;
  return rel > 0 ? 100 + rel : -rel;
}

export function encodeProtection(
  limits: Bq769x0Limits,
  trim: AdcTrim,
  senseMilliOhm: number,
): ProtectRegisters {
  const ocdTargetMv = (limits.ocDischargeMa * senseMilliOhm) / 1000;
  const scdTargetMv = (limits.shortCircuitMa * senseMilliOhm) / 1000;
  // RSNS scales both the OCD and SCD tables, so it is chosen for the best joint fit.
  let best = { rsns: 0, ocd: 0, scd: 0, err: Number.POSITIVE_INFINITY };
  for (const rsns of [0, 1]) {
    const ocdTable = OCD_THRESH_MV[rsns] ?? [];
    const scdTable = SCD_THRESH_MV[rsns] ?? [];
    const ocd = floorIndex(ocdTable, ocdTargetMv);
    const scd = floorIndex(scdTable, scdTargetMv);
    const err = fitError(ocdTable[ocd] ?? 0, ocdTargetMv) + fitError(scdTable[scd] ?? 0, scdTargetMv);
    if (err < best.err) best = { rsns, ocd, scd, err };
  }
  const scdDelay = floorIndex(SCD_DELAY_US, limits.shortCircuitDelayUs);
  const ocdDelay = floorIndex(OCD_DELAY_MS, limits.ocDischargeDelayMs);
  const ovDelay = floorIndex(OV_DELAY_MS, limits.cellOvDelayMs);
  const uvDelay = floorIndex(UV_DELAY_MS, limits.cellUvDelayMs);
  return {
    protect1: (best.rsns ? PROTECT1_RSNS : 0) | (scdDelay << 3) | best.scd,
    protect2: (ocdDelay << 4) | best.ocd,
    protect3: (uvDelay << 6) | (ovDelay << 4),
    ovTrip: ovTripFor(limits.cellOvMv, trim),
    uvTrip: uvTripFor(limits.cellUvMv, trim),
  };
}

export function decodeProtection(r: ProtectRegisters, trim: AdcTrim, senseMilliOhm: number): Bq769x0Limits {
  const rsns = r.protect1 & PROTECT1_RSNS ? 1 : 0;
  const scdMv = SCD_THRESH_MV[rsns]?.[r.protect1 & 0x07] ?? Number.NaN;
  const ocdMv = OCD_THRESH_MV[rsns]?.[r.protect2 & 0x0f] ?? Number.NaN;
  return {
    cellOvMv: round1(ovTripCodeToMv(r.ovTrip, trim.gainUv, trim.offsetMv)),
    cellOvDelayMs: OV_DELAY_MS[(r.protect3 >> 4) & 0x03] ?? Number.NaN,
    cellUvMv: round1(uvTripCodeToMv(r.uvTrip, trim.gainUv, trim.offsetMv)),
    cellUvDelayMs: UV_DELAY_MS[(r.protect3 >> 6) & 0x03] ?? Number.NaN,
    ocDischargeMa: Math.round((ocdMv * 1000) / senseMilliOhm),
    ocDischargeDelayMs: OCD_DELAY_MS[(r.protect2 >> 4) & 0x07] ?? Number.NaN,
    shortCircuitMa: Math.round((scdMv * 1000) / senseMilliOhm),
    shortCircuitDelayUs: SCD_DELAY_US[(r.protect1 >> 3) & 0x03] ?? Number.NaN,
  };
}

const LABELS: Readonly<Record<keyof Bq769x0Limits, string>> = {
  cellOvMv: "cell OV",
  cellOvDelayMs: "cell OV delay",
  cellUvMv: "cell UV",
  cellUvDelayMs: "cell UV delay",
  ocDischargeMa: "OCD limit",
  ocDischargeDelayMs: "OCD delay",
  shortCircuitMa: "SCD limit",
  shortCircuitDelayUs: "SCD delay",
};

const UNITS: Readonly<Record<keyof Bq769x0Limits, string>> = {
  cellOvMv: "mV",
  cellOvDelayMs: "ms",
  cellUvMv: "mV",
  cellUvDelayMs: "ms",
  ocDischargeMa: "mA",
  ocDischargeDelayMs: "ms",
  shortCircuitMa: "mA",
  shortCircuitDelayUs: "µs",
};

/** One note per limit the chip could not apply exactly, naming the requested and the applied value. */
export function quantisationNotes(requested: Bq769x0Limits, applied: Bq769x0Limits, prefix = ""): string[] {
  const notes: string[] = [];
  for (const key of Object.keys(LABELS) as (keyof Bq769x0Limits)[]) {
    const want = requested[key];
    const got = applied[key];
    if (Math.abs(want - got) < 0.5) continue;
    const unsafe =
      (key === "cellUvMv" ? got < want : got > want) &&
      !key.endsWith("DelayMs") &&
      key !== "shortCircuitDelayUs";
    const late = (key.endsWith("DelayMs") || key === "shortCircuitDelayUs") && got > want;
    const tag = unsafe || late ? " (outside the chip's range: the nearest step is less safe)" : "";
    notes.push(`${prefix}${LABELS[key]} ${want} ${UNITS[key]} → ${got} ${UNITS[key]}${tag}`);
  }
  return notes;
}
