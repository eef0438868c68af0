/**
 * The monitor's model of one cell: the same equivalent circuit the simulator uses
 * (src/config/cells.ts, cell-model.md §2.1), evaluated cheaply for the estimators.
 * Current here is the cell current in A, positive when charging.
 */
import { type CellPreset, interpolate, ocvMv, ocvSlopeMvPerPct } from "../config/cells.js";

const R_GAS = 8.314;

export interface CellModel {
  readonly preset: CellPreset;
  /** Rested OCV (discharge-branch table corrected for temperature), mV. */
  ocvMv(socPct: number, tempC: number): number;
  /** dOCV/dSOC, mV per % (finite difference over ±0.5 %). */
  slopeMvPerPct(socPct: number): number;
  /** R0 at this SOC and temperature, Ω. */
  r0Ohm(socPct: number, tempC: number): number;
  /** Multiplier for R0, R1 and R2 at a SOC and temperature (1 at mid SOC and 25 °C), as the simulator applies it. */
  rFactor(socPct: number, tempC: number): number;
  /** Multiplier for all resistances at a temperature (Arrhenius, 1 at 25 °C). */
  arrhenius(tempC: number): number;
  /** Usable-capacity factor at a temperature (1 at 25 °C). */
  capacityFactor(tempC: number): number;
}

export function createCellModel(preset: CellPreset): CellModel {
  const ocv = preset.ocv;
  const dudt = preset.dOcvdTuVperK;
  const rf = preset.r0SocFactor;
  const arrhenius = (tempC: number): number =>
    Math.exp((preset.activationEnergyJPerMol / R_GAS) * (1 / (tempC + 273.15) - 1 / 298.15));
  return {
    preset,
    ocvMv: (socPct, tempC) =>
      ocvMv(ocv, socPct) + ((tempC - 25) * interpolate(dudt.socPct, dudt.value, socPct)) / 1000,
    slopeMvPerPct: (socPct) => ocvSlopeMvPerPct(ocv, socPct),
    r0Ohm: (socPct, tempC) =>
      (preset.r0MilliOhm / 1000) * interpolate(rf.socPct, rf.value, socPct) * arrhenius(tempC),
    rFactor: (socPct, tempC) => interpolate(rf.socPct, rf.value, socPct) * arrhenius(tempC),
    arrhenius,
    capacityFactor: (tempC) =>
      interpolate(preset.capacityTempFactor.tempC, preset.capacityTempFactor.value, tempC),
  };
}

/**
 * Polarisation and hysteresis state of a cell, advanced with the exact zero-order-hold RC
 * update so any step length is stable.
 */
export interface Polarisation {
  v1: number;
  v2: number;
  /** Hysteresis voltage, V, between −M and +M (Plett one-state). */
  h: number;
}

export function stepPolarisation(
  p: Polarisation,
  preset: CellPreset,
  currentA: number,
  dtS: number,
  /** Resistance multiplier for this step (learnt scale × SOC factor × Arrhenius). */
  rFactor: number,
  capacityAh: number,
): void {
  const a1 = Math.exp(-dtS / preset.tau1S);
  const a2 = Math.exp(-dtS / preset.tau2S);
  // Charging current raises the RC voltages (terminal = OCV + I·R0 + v1 + v2 + h).
  p.v1 = a1 * p.v1 + (preset.r1MilliOhm / 1000) * rFactor * (1 - a1) * currentA;
  p.v2 = a2 * p.v2 + (preset.r2MilliOhm / 1000) * rFactor * (1 - a2) * currentA;
  if (preset.hysteresisMv > 0 && currentA !== 0) {
    const m = preset.hysteresisMv / 1000;
    const k = Math.exp(-Math.abs((currentA * preset.hysteresisGamma * dtS) / (3600 * capacityAh)));
    const target = currentA > 0 ? m : -m;
    p.h = k * p.h + (1 - k) * target;
  }
}
