/**
 * SunSpec scale factors, fixed from the config at start-up (clients cache them, so they never
 * change at run time), and the module partition of the pack for model 805.
 */
import { CELL_PRESETS, ocvMv } from "../config/cells.js";
import type { BmsConfig } from "../config/schema.js";

/** Smallest exponent ≥ `minSf` for which `maxAbs / 10^sf` fits within `limit`. */
export function fitSf(maxAbs: number, limit: number, minSf: number): number {
  let sf = minSf;
  while (Math.abs(maxAbs) / 10 ** sf > limit && sf < 10) sf++;
  return sf;
}

export interface Scales {
  readonly AHRtg_SF: number;
  readonly WHRtg_SF: number;
  readonly WChaDisChaMax_SF: number;
  readonly SoC_SF: number;
  readonly DoD_SF: number;
  readonly SoH_SF: number;
  readonly V_SF: number;
  readonly CellV_SF: number;
  readonly A_SF: number;
  readonly AMax_SF: number;
  readonly W_SF: number;
  /** Model 805: module voltage and temperature. */
  readonly ModV_SF: number;
  readonly Tmp_SF: number;
  /** Nameplate values the ratings are computed from. */
  readonly nominalPackV: number;
  readonly ratedWh: number;
  readonly maxChargeW: number;
  readonly maxDischargeW: number;
}

export function scalesFor(config: BmsConfig): Scales {
  const cells = config.pack.cellsInSeries;
  const preset = CELL_PRESETS[config.pack.cellPreset];
  const nominalPackV = (ocvMv(preset.ocv, 50) * cells) / 1000;
  const ratedWh = config.pack.capacityAh * nominalPackV;
  const ch = config.protection.charge;
  const maxChargeW = (ch.maxChargeCurrentMa / 1000) * ((ch.chargeVoltageMv * cells) / 1000);
  const maxDischargeW = (ch.maxDischargeCurrentMa / 1000) * nominalPackV;
  const maxPackV = (config.monitor.plausibility.cellMaxMv * cells) / 1000;
  const maxA = config.monitor.plausibility.currentMaxMa / 1000;
  const aSf = fitSf(maxA, 32767, -2);
  const cellsPerModule = config.modbus.cellsPerModule;
  return {
    AHRtg_SF: fitSf(config.pack.capacityAh, 65534, -2),
    WHRtg_SF: fitSf(ratedWh, 65534, -1),
    WChaDisChaMax_SF: fitSf(Math.max(maxChargeW, maxDischargeW), 65534, -1),
    SoC_SF: -1,
    DoD_SF: -1,
    SoH_SF: -1,
    V_SF: fitSf(maxPackV, 65534, -2),
    CellV_SF: -3,
    A_SF: aSf,
    AMax_SF: aSf,
    W_SF: fitSf(maxA * maxPackV, 32767, 0),
    ModV_SF: fitSf((config.monitor.plausibility.cellMaxMv * cellsPerModule) / 1000, 65534, -2),
    Tmp_SF: -1,
    nominalPackV,
    ratedWh,
    maxChargeW,
    maxDischargeW,
  };
}

/** Value in register units for a SunSpec point with scale factor `sf`. */
export const scaled = (v: number, sf: number): number => v / 10 ** sf;

export interface ModuleSpan {
  /** 1-based module index. */
  readonly index: number;
  readonly firstCell: number;
  readonly cellCount: number;
}

export function modulesFor(config: BmsConfig): ModuleSpan[] {
  const n = config.pack.cellsInSeries;
  const per = config.modbus.cellsPerModule;
  const out: ModuleSpan[] = [];
  for (let first = 0, m = 1; first < n; first += per, m++)
    out.push({ index: m, firstCell: first, cellCount: Math.min(per, n - first) });
  return out;
}
