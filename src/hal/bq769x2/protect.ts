/**
 * bq76952 protection settings ⇄ hardware limits. Rounded towards the safe side (trip earlier)
 * within each setting's range; the applied values are decoded from what is read back.
 */
import type { HardwareLimits } from "../afe.js";
import {
  CELL_STEP_MV,
  CURRENT_STEP_MV,
  DELAY_UNIT_MS,
  SCD_DELAY_UNIT_US,
  SCD_THRESH_MV,
} from "./registers.js";

export interface Bq76952Settings {
  readonly covThreshold: number;
  readonly covDelay: number;
  readonly cuvThreshold: number;
  readonly cuvDelay: number;
  readonly occThreshold: number;
  readonly occDelay: number;
  readonly ocd1Threshold: number;
  readonly ocd1Delay: number;
  readonly scdThreshold: number;
  readonly scdDelay: number;
}

const clamp = (n: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, n));
/** Small epsilon so that asking for an applied value gives back the same setting. */
const EPS = 1e-6;
const delaySetting = (ms: number, max: number): number =>
  clamp(Math.floor(ms / DELAY_UNIT_MS + EPS) - 2, 1, max);
const round1 = (n: number): number => Math.round(n * 10) / 10;

export function encodeSettings(l: HardwareLimits, senseMilliOhm: number): Bq76952Settings {
  const mv = (ma: number): number => (ma * senseMilliOhm) / 1000;
  let scd = 0;
  SCD_THRESH_MV.forEach((v, i) => {
    if (v <= mv(l.shortCircuitMa) + EPS) scd = i;
  });
  return {
    covThreshold: clamp(Math.floor(l.cellOvMv / CELL_STEP_MV + EPS), 20, 110),
    covDelay: delaySetting(l.cellOvDelayMs, 2047),
    cuvThreshold: clamp(Math.ceil(l.cellUvMv / CELL_STEP_MV - EPS), 20, 90),
    cuvDelay: delaySetting(l.cellUvDelayMs, 2047),
    occThreshold: clamp(Math.floor(mv(l.ocChargeMa) / CURRENT_STEP_MV + EPS), 2, 62),
    occDelay: delaySetting(l.ocChargeDelayMs, 127),
    ocd1Threshold: clamp(Math.floor(mv(l.ocDischargeMa) / CURRENT_STEP_MV + EPS), 2, 100),
    ocd1Delay: delaySetting(l.ocDischargeDelayMs, 127),
    scdThreshold: scd,
    scdDelay: clamp(Math.floor(l.shortCircuitDelayUs / SCD_DELAY_UNIT_US + EPS) + 1, 1, 31),
  };
}

export function decodeSettings(s: Bq76952Settings, senseMilliOhm: number): HardwareLimits {
  const ma = (mv: number): number => Math.round((mv * 1000) / senseMilliOhm);
  return {
    cellOvMv: round1(s.covThreshold * CELL_STEP_MV),
    cellOvDelayMs: round1(DELAY_UNIT_MS * (2 + s.covDelay)),
    cellUvMv: round1(s.cuvThreshold * CELL_STEP_MV),
    cellUvDelayMs: round1(DELAY_UNIT_MS * (2 + s.cuvDelay)),
    ocChargeMa: ma(s.occThreshold * CURRENT_STEP_MV),
    ocChargeDelayMs: round1(DELAY_UNIT_MS * (2 + s.occDelay)),
    ocDischargeMa: ma(s.ocd1Threshold * CURRENT_STEP_MV),
    ocDischargeDelayMs: round1(DELAY_UNIT_MS * (2 + s.ocd1Delay)),
    shortCircuitMa: ma(SCD_THRESH_MV[s.scdThreshold & 0x0f] ?? Number.NaN),
    shortCircuitDelayUs: (Math.max(1, s.scdDelay) - 1) * SCD_DELAY_UNIT_US,
  };
}

const LABELS: Readonly<Record<keyof HardwareLimits, [string, string]>> = {
  cellOvMv: ["cell OV", "mV"],
  cellOvDelayMs: ["cell OV delay", "ms"],
  cellUvMv: ["cell UV", "mV"],
  cellUvDelayMs: ["cell UV delay", "ms"],
  ocChargeMa: ["OCC limit", "mA"],
  ocChargeDelayMs: ["OCC delay", "ms"],
  ocDischargeMa: ["OCD limit", "mA"],
  ocDischargeDelayMs: ["OCD delay", "ms"],
  shortCircuitMa: ["SCD limit", "mA"],
  shortCircuitDelayUs: ["SCD delay", "µs"],
};

export function settingsNotes(want: HardwareLimits, got: HardwareLimits): string[] {
  const notes: string[] = [];
  for (const key of Object.keys(LABELS) as (keyof HardwareLimits)[]) {
    const [label, unit] = LABELS[key];
    if (Math.abs(want[key] - got[key]) < 0.5) continue;
    const lessSafe = key === "cellUvMv" ? got[key] < want[key] : got[key] > want[key];
    notes.push(
      `${label} ${want[key]} ${unit} → ${got[key]} ${unit}${lessSafe ? " (outside the chip's range: the nearest step is less safe)" : ""}`,
    );
  }
  return notes;
}
