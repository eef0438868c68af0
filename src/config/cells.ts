/**
 * Cell presets: open-circuit voltage tables and equivalent-circuit parameters.
 * Shared by the simulator (as physics) and the monitor (as its model of the cell).
 * Sources are in ../shared/reference/cell-model.md (§1, §2.2, §6); values marked there
 * as derived from About:Energy data are CC BY-SA 4.0, "About:Energy Limited, UK".
 */

export type Chemistry = "lfp" | "nmc";

/** Piecewise-linear table over SOC in %, ascending, strictly monotone in value. */
export interface SocTable {
  readonly socPct: readonly number[];
  readonly valueMv: readonly number[];
}

export interface CellPreset {
  readonly id: string;
  readonly description: string;
  readonly chemistry: Chemistry;
  readonly capacityAh: number;
  /** Rested OCV at 25 °C, discharge branch. */
  readonly ocv: SocTable;
  /** dOCV/dT by SOC, µV/K (entropic coefficient), at the SOC points below. */
  readonly dOcvdTuVperK: { readonly socPct: readonly number[]; readonly value: readonly number[] };
  /** Half-gap of the LFP voltage hysteresis, mV (0: none), and its rate constant (Plett γ). */
  readonly hysteresisMv: number;
  readonly hysteresisGamma: number;
  /** Series resistance at 25 °C and mid SOC, mΩ. */
  readonly r0MilliOhm: number;
  /** R0 multiplier by SOC (same interpolation as the OCV table). */
  readonly r0SocFactor: { readonly socPct: readonly number[]; readonly value: readonly number[] };
  readonly r1MilliOhm: number;
  readonly tau1S: number;
  readonly r2MilliOhm: number;
  readonly tau2S: number;
  /** Arrhenius activation energy for R0, R1, R2, J/mol. */
  readonly activationEnergyJPerMol: number;
  /** Usable-capacity factor by temperature (°C ascending). */
  readonly capacityTempFactor: { readonly tempC: readonly number[]; readonly value: readonly number[] };
  readonly coulombicEfficiency: number;
  /** Self-discharge at 25 °C, % of capacity per month (doubling per +10 K). */
  readonly selfDischargePctPerMonth: number;
  /** Lumped thermal capacity, J/K, and resistance to ambient, K/W (as mounted in a pack). */
  readonly thermalCapacityJPerK: number;
  readonly thermalResistanceKPerW: number;
  /** Hard voltage window of the cell, mV. */
  readonly maxVoltageMv: number;
  readonly minVoltageMv: number;
}

const SOC21 = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100] as const;

/** cell-model.md §6.1: AE C/20 + 6 mV, rested end points. Listed 0 → 100 %. */
const LFP_OCV_MV = [
  2900, 3139, 3182, 3205, 3234, 3251, 3264, 3270, 3274, 3276, 3277, 3280, 3289, 3307, 3313, 3315, 3317, 3319,
  3320, 3322, 3400,
];
const NMC_OCV_MV = [
  3000, 3371, 3479, 3504, 3542, 3574, 3599, 3620, 3638, 3656, 3677, 3703, 3736, 3781, 3837, 3896, 3952, 4008,
  4066, 4126, 4200,
];

/**
 * About:Energy cells: pseudo-OCV from the measured C/20 discharge (SOC by Ah-integration to the
 * cut-off), then fitted together with R0/R1/R2 and the low-SOC resistance rise by least squares
 * against the measured 25 °C drive cycle (issue #3 fidelity check). LFP top points nudged to keep
 * the table strictly monotone (the C/20 curve is flat within 1 mV at 90–97.5 %); LFP 100 % set to
 * the rested 3.400 V (the C/20 file starts right after CV). CC BY-SA 4.0, About:Energy Limited, UK.
 */
const AE_SOC = [
  0, 1, 2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20, 22.5, 25, 27.5, 30, 32.5, 35, 37.5, 40, 42.5, 45, 47.5, 50, 52.5,
  55, 57.5, 60, 62.5, 65, 67.5, 70, 72.5, 75, 77.5, 80, 82.5, 85, 87.5, 90, 92.5, 95, 97.5, 99, 100,
];
const AE_LFP_OCV_MV = [
  1999.4, 2807.3, 2985.8, 3133.0, 3170.3, 3176.0, 3180.2, 3198.6, 3213.2, 3227.5, 3235.9, 3244.7, 3252.4,
  3257.5, 3261.4, 3263.9, 3265.9, 3267.3, 3268.5, 3269.4, 3270.4, 3271.1, 3272.3, 3273.5, 3275.9, 3282.3,
  3293.0, 3300.3, 3304.1, 3306.4, 3307.8, 3308.9, 3309.9, 3310.7, 3311.6, 3312.3, 3313.0, 3313.5, 3313.9,
  3314.2, 3314.5, 3319.1, 3400.0,
];
const AE_NMC_OCV_MV = [
  2703.8, 3021.1, 3206.4, 3368.7, 3453.1, 3477.1, 3490.4, 3502.5, 3519.6, 3539.8, 3557.5, 3572.4, 3585.5,
  3597.4, 3608.1, 3617.9, 3627.1, 3635.9, 3644.9, 3654.3, 3664.3, 3675.0, 3687.1, 3700.7, 3716.3, 3734.4,
  3755.6, 3779.6, 3806.4, 3835.2, 3864.8, 3894.0, 3922.2, 3950.2, 3978.3, 4006.5, 4035.0, 4063.8, 4093.2,
  4123.8, 4155.8, 4176.4, 4197.8,
];
/** Fitted resistance rise towards empty (the simulator applies it to R0, R1 and R2). */
const AE_LFP_R_SOC = {
  socPct: [0, 5, 10, 15, 20, 25, 30, 100],
  value: [8.25, 1.71, 3.34, 2.47, 1.46, 1.5, 1.13, 1.0],
};
const AE_NMC_R_SOC = {
  socPct: [0, 5, 10, 15, 20, 25, 30, 100],
  value: [1.5, 1.5, 1.39, 1.09, 1.17, 1.23, 1.12, 1.0],
};

const SOC11 = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
/** cell-model.md §1.4, converted mV/K → µV/K. */
const LFP_DUDT = [-220, -490, -200, -90, -60, -40, -10, 10, 40, 70, 100];
const NMC_DUDT = [-230, -480, -230, -110, -100, -90, -80, -70, -60, -50, -50];

const R0_SOC_FACTOR = { socPct: [0, 5, 10, 20, 30, 90, 100], value: [1.5, 1.5, 1.2, 1.2, 1.0, 1.0, 1.1] };

const LFP_QT = { tempC: [-20, -10, 0, 10, 25, 60], value: [0.5, 0.65, 0.8, 0.95, 1.0, 1.0] };
const NMC_QT = { tempC: [-20, -10, 0, 25, 60], value: [0.6, 0.75, 0.9, 1.0, 1.0] };

export const CELL_PRESETS = {
  "lfp-100ah": {
    id: "lfp-100ah",
    description: "Generic LFP 100 Ah prismatic (UPS default)",
    chemistry: "lfp",
    capacityAh: 100,
    ocv: { socPct: SOC21, valueMv: LFP_OCV_MV },
    dOcvdTuVperK: { socPct: SOC11, value: LFP_DUDT },
    hysteresisMv: 12,
    hysteresisGamma: 80,
    r0MilliOhm: 0.6,
    r0SocFactor: R0_SOC_FACTOR,
    r1MilliOhm: 0.35,
    tau1S: 17,
    r2MilliOhm: 0.35,
    tau2S: 600,
    activationEnergyJPerMol: 25_000,
    capacityTempFactor: LFP_QT,
    coulombicEfficiency: 0.999,
    selfDischargePctPerMonth: 1.5,
    thermalCapacityJPerK: 2000,
    thermalResistanceKPerW: 3,
    maxVoltageMv: 3650,
    minVoltageMv: 2500,
  },
  "nmc-18650-3ah": {
    id: "nmc-18650-3ah",
    description: "Generic NMC 18650, 3.0 Ah",
    chemistry: "nmc",
    capacityAh: 3,
    ocv: { socPct: SOC21, valueMv: NMC_OCV_MV },
    dOcvdTuVperK: { socPct: SOC11, value: NMC_DUDT },
    hysteresisMv: 0,
    hysteresisGamma: 0,
    r0MilliOhm: 23,
    r0SocFactor: R0_SOC_FACTOR,
    r1MilliOhm: 12,
    tau1S: 30,
    r2MilliOhm: 10,
    tau2S: 400,
    activationEnergyJPerMol: 22_000,
    capacityTempFactor: NMC_QT,
    coulombicEfficiency: 0.998,
    selfDischargePctPerMonth: 2,
    thermalCapacityJPerK: 45,
    thermalResistanceKPerW: 10,
    maxVoltageMv: 4200,
    minVoltageMv: 2500,
  },
  "ae-lfp-2ah": {
    id: "ae-lfp-2ah",
    description: "About:Energy LFP/graphite 18650, 2 Ah (measured; CC BY-SA 4.0 data)",
    chemistry: "lfp",
    capacityAh: 2,
    ocv: { socPct: AE_SOC, valueMv: AE_LFP_OCV_MV },
    dOcvdTuVperK: { socPct: SOC11, value: LFP_DUDT },
    hysteresisMv: 12,
    hysteresisGamma: 80,
    r0MilliOhm: 25.6,
    r0SocFactor: AE_LFP_R_SOC,
    r1MilliOhm: 24.5,
    tau1S: 21.1,
    r2MilliOhm: 0,
    tau2S: 30,
    activationEnergyJPerMol: 25_000,
    capacityTempFactor: LFP_QT,
    coulombicEfficiency: 0.999,
    selfDischargePctPerMonth: 1.5,
    thermalCapacityJPerK: 33,
    thermalResistanceKPerW: 23,
    maxVoltageMv: 3650,
    minVoltageMv: 2000,
  },
  "ae-nmc-12.5ah": {
    id: "ae-nmc-12.5ah",
    description: "About:Energy NMC111/graphite pouch, 12.5 Ah (measured; CC BY-SA 4.0 data)",
    chemistry: "nmc",
    capacityAh: 12.5,
    ocv: { socPct: AE_SOC, valueMv: AE_NMC_OCV_MV },
    dOcvdTuVperK: { socPct: SOC11, value: NMC_DUDT },
    hysteresisMv: 0,
    hysteresisGamma: 0,
    r0MilliOhm: 5.48,
    r0SocFactor: AE_NMC_R_SOC,
    r1MilliOhm: 2.71,
    tau1S: 44.3,
    r2MilliOhm: 0.83,
    tau2S: 474,
    activationEnergyJPerMol: 22_000,
    capacityTempFactor: NMC_QT,
    coulombicEfficiency: 0.998,
    selfDischargePctPerMonth: 2,
    thermalCapacityJPerK: 216,
    thermalResistanceKPerW: 8,
    maxVoltageMv: 4200,
    minVoltageMv: 2700,
  },
} as const satisfies Record<string, CellPreset>;

export type CellPresetId = keyof typeof CELL_PRESETS;
export const CELL_PRESET_IDS = Object.keys(CELL_PRESETS) as CellPresetId[];

export function cellPreset(id: CellPresetId): CellPreset {
  return CELL_PRESETS[id];
}

/** Linear interpolation over ascending `xs`, clamped at the ends. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[n - 1]!) return ys[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const x0 = xs[lo]!;
  const x1 = xs[hi]!;
  const y0 = ys[lo]!;
  const y1 = ys[hi]!;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** OCV at 25 °C for a SOC in %. */
export function ocvMv(table: SocTable, socPct: number): number {
  return interpolate(table.socPct, table.valueMv, socPct);
}

/** Inverse of the OCV table: SOC in % for a rested voltage (the table is strictly monotone). */
export function socFromOcvPct(table: SocTable, voltageMv: number): number {
  return interpolate(table.valueMv, table.socPct, voltageMv);
}

/** dOCV/dSOC in mV per % (finite difference over ±0.5 %). */
export function ocvSlopeMvPerPct(table: SocTable, socPct: number): number {
  const lo = Math.max(0, socPct - 0.5);
  const hi = Math.min(100, socPct + 0.5);
  return (ocvMv(table, hi) - ocvMv(table, lo)) / (hi - lo);
}
