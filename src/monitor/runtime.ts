/**
 * Runtime to cut-off at constant power (UPS loads are constant power): forward-simulates
 * the cell model from the present state until the lowest cell under load reaches the
 * cut-off voltage (cell-model.md §3.5). Costs a few hundred model steps, so the monitor
 * runs it every few seconds and counts down in between.
 */
import { ocvMv } from "../config/cells.js";
import type { CellModel } from "./model.js";

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
  const r1n = (p.r1MilliOhm / 1000) * x.rScale;
  const r2n = (p.r2MilliOhm / 1000) * x.rScale;
  // Rough first guess of the runtime decides the step: about 300 steps, 1–30 s each.
  const vNom = ocvMv(p.ocv, 50) / 1000;
  const guessS = ((x.socPct / 100) * x.capacityAh * vNom * x.cellCount * 3600) / x.powerW;
  const dt = Math.min(30, Math.max(1, guessS / 300));
  const a1 = Math.exp(-dt / p.tau1S);
  const a2 = Math.exp(-dt / p.tau2S);
  let soc = x.socPct;
  let v1 = x.v1;
  let v2 = x.v2;
  let h = x.hystMv;
  // Hysteresis decays towards the discharge branch at Plett's rate.
  const hGamma = p.hysteresisGamma;
  let t = 0;
  let iA = -x.powerW / (x.cellCount * vNom);
  let prevMargin = Number.NaN;
  while (t < x.maxS) {
    const rf = model.rFactor(Math.max(0, soc), x.tempC);
    const r0 = model.r0Ohm(soc, x.tempC) * x.rScale;
    const r1 = r1n * rf;
    const r2 = r2n * rf;
    const ocv = model.ocvMv(soc, x.tempC) + h;
    // Constant power: solve I·V(I) = −P per cell with one fixed-point refinement.
    for (let k = 0; k < 2; k++) {
      const vCell = (ocv + 1000 * (iA * r0 + v1 + v2)) / 1000;
      iA = -x.powerW / (x.cellCount * Math.max(vCell, 0.5));
    }
    const vMinCell = ocv + 1000 * (iA * r0 + v1 + v2) + x.minCellOffsetMv;
    const margin = vMinCell - x.cutoffMv;
    if (margin <= 0 || soc <= 0) {
      if (t === 0) return 0;
      // Interpolate within the last step.
      const frac = Number.isFinite(prevMargin) && prevMargin > 0 ? prevMargin / (prevMargin - margin) : 1;
      return t - dt + dt * Math.min(1, Math.max(0, frac));
    }
    prevMargin = margin;
    soc += (iA * dt * 100) / (3600 * x.capacityAh);
    v1 = a1 * v1 + r1 * (1 - a1) * iA;
    v2 = a2 * v2 + r2 * (1 - a2) * iA;
    if (hGamma > 0) h *= Math.exp(-Math.abs((iA * hGamma * dt) / (3600 * x.capacityAh)));
    t += dt;
  }
  return x.maxS;
}
