/**
 * Turns a cell preset (src/config/cells.ts) plus the scenario's overrides into the simulator's
 * cell model: SI units and uniform lookup tables over SOC as a fraction (0..1).
 */
import type { CellPreset, Chemistry } from "../../config/cells.js";
import { UniformLut } from "./lut.js";

export type CellOverrides = Partial<
  Pick<
    CellPreset,
    | "capacityAh"
    | "r0MilliOhm"
    | "r1MilliOhm"
    | "tau1S"
    | "r2MilliOhm"
    | "tau2S"
    | "hysteresisMv"
    | "hysteresisGamma"
    | "activationEnergyJPerMol"
    | "coulombicEfficiency"
    | "selfDischargePctPerMonth"
    | "thermalCapacityJPerK"
    | "thermalResistanceKPerW"
  >
>;

const GAS_CONSTANT = 8.314462618;
const MONTH_S = 30 * 86_400;
/** Grid of the SOC tables: 0.1 % keeps every breakpoint of the shipped presets exact. */
const SOC_STEP = 0.001;
/** Beyond the table the OCV keeps falling (rising) steeply: an over-discharged or overcharged cell. */
const BELOW_EMPTY_V_PER_UNIT = 10;
const ABOVE_FULL_V_PER_UNIT = 5;

/** The three SOC tables (ocv, dUdT, rSocFactor) share one uniform grid over 0..1. */
export interface CellModel {
  readonly id: string;
  readonly chemistry: Chemistry;
  readonly capacityAh: number;
  /** OCV at 25 °C, discharge branch, V, over SOC fraction. */
  readonly ocv: UniformLut;
  /** Cumulative ∫OCV dz from 0, V (per unit SOC), for the stored-energy state function. */
  readonly ocvIntegral: Float64Array;
  readonly dUdT: UniformLut;
  readonly rSocFactor: UniformLut;
  /** Usable-capacity factor over °C. */
  readonly capacityTempFactor: UniformLut;
  readonly r0Ohm: number;
  readonly r1Ohm: number;
  readonly r2Ohm: number;
  readonly tau1S: number;
  readonly tau2S: number;
  /** Ea/R_gas, K. */
  readonly activationK: number;
  readonly coulombicEfficiency: number;
  /** Half-gap of the hysteresis, V; the OCV table is the discharge branch (h = −M). */
  readonly hysteresisV: number;
  readonly hysteresisGamma: number;
  /** Self-discharge at 25 °C, fraction of capacity per second. */
  readonly selfDischargePerS: number;
  readonly thermalCapacityJPerK: number;
  readonly thermalResistanceKPerW: number;
  readonly maxVoltageV: number;
  readonly minVoltageV: number;
}

export function buildCellModel(preset: CellPreset, overrides: CellOverrides = {}): CellModel {
  const p = { ...preset, ...overrides };
  const zs = preset.ocv.socPct.map((s) => s / 100);
  const ocv = new UniformLut(
    zs,
    preset.ocv.valueMv.map((v) => v / 1000),
    0,
    1,
    SOC_STEP,
  );
  const ys = ocv.ys;
  const integral = new Float64Array(ys.length);
  for (let i = 1; i < ys.length; i++) integral[i] = integral[i - 1]! + ((ys[i - 1]! + ys[i]!) * SOC_STEP) / 2;
  return {
    id: preset.id,
    chemistry: preset.chemistry,
    capacityAh: p.capacityAh,
    ocv,
    ocvIntegral: integral,
    dUdT: new UniformLut(
      preset.dOcvdTuVperK.socPct.map((s) => s / 100),
      preset.dOcvdTuVperK.value.map((v) => v / 1e6),
      0,
      1,
      SOC_STEP,
    ),
    rSocFactor: new UniformLut(
      preset.r0SocFactor.socPct.map((s) => s / 100),
      preset.r0SocFactor.value,
      0,
      1,
      SOC_STEP,
    ),
    capacityTempFactor: new UniformLut(
      preset.capacityTempFactor.tempC,
      preset.capacityTempFactor.value,
      -60,
      100,
      0.5,
    ),
    r0Ohm: p.r0MilliOhm / 1000,
    r1Ohm: p.r1MilliOhm / 1000,
    r2Ohm: p.r2MilliOhm / 1000,
    tau1S: p.tau1S,
    tau2S: p.tau2S,
    activationK: p.activationEnergyJPerMol / GAS_CONSTANT,
    coulombicEfficiency: p.coulombicEfficiency,
    hysteresisV: p.hysteresisMv / 1000,
    hysteresisGamma: p.hysteresisGamma,
    selfDischargePerS: p.selfDischargePctPerMonth / 100 / MONTH_S,
    thermalCapacityJPerK: p.thermalCapacityJPerK,
    thermalResistanceKPerW: p.thermalResistanceKPerW,
    maxVoltageV: preset.maxVoltageMv / 1000,
    minVoltageV: preset.minVoltageMv / 1000,
  };
}

/** Discharge-branch OCV at 25 °C, V, extended beyond 0 and 1 so that abuse shows in the voltage. */
export function ocvAt(m: CellModel, z: number): number {
  if (z < 0) return m.ocv.ys[0]! + z * BELOW_EMPTY_V_PER_UNIT;
  if (z > 1) return m.ocv.ys[m.ocv.ys.length - 1]! + (z - 1) * ABOVE_FULL_V_PER_UNIT;
  return m.ocv.at(z);
}

/** ∫₀ᶻ OCV dz, V, exact for the piecewise-linear table and its extensions. */
export function ocvIntegralAt(m: CellModel, z: number): number {
  const ys = m.ocv.ys;
  const last = ys.length - 1;
  if (z <= 0) return ys[0]! * z + (BELOW_EMPTY_V_PER_UNIT * z * z) / 2;
  if (z >= 1) {
    const d = z - 1;
    return m.ocvIntegral[last]! + ys[last]! * d + (ABOVE_FULL_V_PER_UNIT * d * d) / 2;
  }
  const f = z / SOC_STEP;
  const i = Math.min(last - 1, Math.floor(f));
  const u = (f - i) * SOC_STEP;
  const y0 = ys[i]!;
  const slope = (ys[i + 1]! - y0) / SOC_STEP;
  return m.ocvIntegral[i]! + y0 * u + (slope * u * u) / 2;
}
