/**
 * Runtime to cut-off at constant power (UPS loads are constant power): forward-simulates
 * the cell model from the present state until the lowest cell under load reaches the
 * cut-off voltage (cell-model.md §3.5). Costs a few hundred model steps, so the monitor
 * runs it every few seconds and counts down in between.
 */
import { ocvMv } from "../config/cells.js";
import { type CellModel, type Polarisation, stepPolarisation } from "./model.js";

export interface RuntimeInput {
  readonly socPct: number;
  readonly v1: number;
  readonly v2: number;
  /** Hysteresis offset relative to the table, mV (frozen: discharge drives it to the table). */
  readonly hystMv: number;
  /** Discharge power, W (positive). */
  readonly powerW: number;
  readonly cellCount: number;
  /** Lowest cell minus mean cell at the present load, mV (≤ 0). */
  readonly minCellOffsetMv: number;
  readonly tempC: number;
  /** Capacity available at this temperature, Ah. */
  readonly capacityAh: number;
  readonly rScale: number;
  readonly cutoffMv: number;
  /** Stop looking beyond this, s. */
  readonly maxS: number;
}

export function simulateRuntimeS(model: CellModel, x: RuntimeInput): number {
  const p = model.preset;
  if (!(x.powerW > 0) || x.cellCount <= 0) return Number.NaN;
  // Rough first guess of the runtime decides the step: about 300 steps, 1–30 s each.
  const vNom = ocvMv(p.ocv, 50) / 1000;
  const guessS = ((x.socPct / 100) * x.capacityAh * vNom * x.cellCount * 3600) / x.powerW;
  const dt = Math.min(30, Math.max(1, guessS / 300));
  let soc = x.socPct;
  // The shared model keeps hysteresis in V around the branch midpoint; the input is relative
  // to the discharge branch, so shift it once. Discharge then decays it towards the table.
  const pol: Polarisation = { v1: x.v1, v2: x.v2, h: (x.hystMv - p.hysteresisMv) / 1000 };
  let t = 0;
  let iA = -x.powerW / (x.cellCount * vNom);
  let prevMargin = Number.NaN;
  while (t < x.maxS) {
    const rf = model.rFactor(Math.max(0, soc), x.tempC);
    const r0 = model.r0Ohm(soc, x.tempC) * x.rScale;
    const ocv = model.ocvMv(soc, x.tempC) + p.hysteresisMv + pol.h * 1000;
    // Constant power: solve I·V(I) = −P per cell with one fixed-point refinement.
    for (let k = 0; k < 2; k++) {
      const vCell = (ocv + 1000 * (iA * r0 + pol.v1 + pol.v2)) / 1000;
      iA = -x.powerW / (x.cellCount * Math.max(vCell, 0.5));
    }
    const vMinCell = ocv + 1000 * (iA * r0 + pol.v1 + pol.v2) + x.minCellOffsetMv;
    const margin = vMinCell - x.cutoffMv;
    if (margin <= 0 || soc <= 0) {
      if (t === 0) return 0;
      // Interpolate within the last step.
      const frac = Number.isFinite(prevMargin) && prevMargin > 0 ? prevMargin / (prevMargin - margin) : 1;
      return t - dt + dt * Math.min(1, Math.max(0, frac));
    }
    prevMargin = margin;
    soc += (iA * dt * 100) / (3600 * x.capacityAh);
    stepPolarisation(pol, p, iA, dt, x.rScale * rf, x.capacityAh);
    t += dt;
  }
  return x.maxS;
}
