/**
 * Charge/discharge limits for the UPS: each the minimum of its derating curves, with the
 * constraint that binds it. Reductions apply at once; increases wait `increaseHoldMs` after
 * the last reduction and then ramp, so a limit cannot flap with noise.
 */
import type { BmsConfig } from "../config/schema.js";
import { curveAt } from "./curve.js";
import type { RampState } from "./state.js";

export interface Target {
  value: number;
  binding: string;
}

/** Lowers `t` to `fraction × max` when that is smaller, naming the constraint. */
export function limitTo(t: Target, max: number, fraction: number, binding: string): void {
  const v = max * fraction;
  if (v < t.value) {
    t.value = v;
    t.binding = binding;
  }
}

export function chargeCurveTargets(
  config: BmsConfig,
  t: Target,
  maxCellMv: number,
  minTempDeciC: number,
  maxTempDeciC: number,
  socPct: number,
): void {
  const c = config.protection.charge;
  const max = c.maxChargeCurrentMa;
  t.value = max;
  t.binding = "config";
  if (!Number.isNaN(maxCellMv)) limitTo(t, max, curveAt(c.cclByCellMv, maxCellMv), "cell_voltage");
  if (!Number.isNaN(minTempDeciC)) {
    limitTo(t, max, curveAt(c.cclByTempDeciC, minTempDeciC), "temperature");
    limitTo(t, max, curveAt(c.cclByTempDeciC, maxTempDeciC), "temperature");
  }
  if (Number.isFinite(socPct)) limitTo(t, max, curveAt(c.cclBySocPct, socPct), "soc");
}

export function dischargeCurveTargets(
  config: BmsConfig,
  t: Target,
  minCellMv: number,
  minTempDeciC: number,
  maxTempDeciC: number,
): void {
  const c = config.protection.charge;
  const max = c.maxDischargeCurrentMa;
  t.value = max;
  t.binding = "config";
  if (!Number.isNaN(minCellMv)) limitTo(t, max, curveAt(c.dclByCellMv, minCellMv), "cell_voltage");
  if (!Number.isNaN(minTempDeciC)) {
    limitTo(t, max, curveAt(c.dclByTempDeciC, minTempDeciC), "temperature");
    limitTo(t, max, curveAt(c.dclByTempDeciC, maxTempDeciC), "temperature");
  }
}

/**
 * Pack charge voltage: the charge (or, once full, float) set-point, lowered by the excess
 * of the highest cell over its per-cell target so an unbalanced pack stops pushing it.
 */
export function voltageTarget(
  config: BmsConfig,
  t: Target,
  full: boolean,
  maxCellMv: number,
  sumCellsMv: number,
): void {
  const c = config.protection.charge;
  const n = config.pack.cellsInSeries;
  const perCell = full ? c.floatVoltageMv : c.chargeVoltageMv;
  t.value = perCell * n;
  t.binding = full ? "float_voltage" : "charge_voltage";
  if (!Number.isNaN(maxCellMv) && maxCellMv > perCell) {
    const v = sumCellsMv - (maxCellMv - perCell);
    if (v < t.value) {
      t.value = Math.max(0, v);
      t.binding = "cell_voltage";
    }
  }
}

/** Applies hold-then-ramp to one limit. */
export function ramp(
  prev: RampState | null,
  target: number,
  binding: string,
  elapsedMs: number,
  holdMs: number,
  ratePerS: number,
): RampState {
  if (prev === null) return { value: target, holdMs: 0, binding };
  // At or below the applied value: take it, and the hold counts from here (the binding
  // follows the target; an equal value may come from a different constraint).
  if (target <= prev.value) {
    if (target === prev.value && prev.holdMs === 0 && binding === prev.binding) return prev;
    return { value: target, holdMs: 0, binding };
  }
  const held = prev.holdMs + elapsedMs;
  if (held < holdMs) return { value: prev.value, holdMs: held, binding: prev.binding };
  const up = prev.value + (ratePerS * elapsedMs) / 1000;
  return up >= target
    ? { value: target, holdMs: held, binding }
    : { value: up, holdMs: held, binding: prev.binding };
}
