/**
 * Charge/discharge limits for the UPS: each the minimum of its derating curves, with the
 * constraint that binds it. Reductions apply at once; increases wait `increaseHoldMs` after
 * the last reduction and then ramp, so a limit cannot flap with noise.
 */
import type { BmsConfig } from "../config/schema.js";
import { curveAt } from "./curve.js";
import type { Rules } from "./rules.js";
import type { RampState } from "./state.js";
import type { ChargeLimits } from "./types.js";

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
  rules: Rules,
  t: Target,
  maxCellMv: number,
  minTempDeciC: number,
  maxTempDeciC: number,
  socPct: number,
): void {
  const c = config.protection.charge;
  const k = rules.curves;
  const max = c.maxChargeCurrentMa;
  t.value = max;
  t.binding = "config";
  if (!Number.isNaN(maxCellMv)) limitTo(t, max, curveAt(k.cclByCellMv, maxCellMv), "cell_voltage");
  if (!Number.isNaN(minTempDeciC)) limitTo(t, max, curveAt(k.cclByTempDeciC, minTempDeciC), "temperature");
  if (!Number.isNaN(maxTempDeciC)) limitTo(t, max, curveAt(k.cclByTempDeciC, maxTempDeciC), "temperature");
  if (Number.isFinite(socPct)) limitTo(t, max, curveAt(k.cclBySocPct, socPct), "soc");
}

export function dischargeCurveTargets(
  config: BmsConfig,
  rules: Rules,
  t: Target,
  minCellMv: number,
  minTempDeciC: number,
  maxTempDeciC: number,
): void {
  const c = config.protection.charge;
  const k = rules.curves;
  const max = c.maxDischargeCurrentMa;
  t.value = max;
  t.binding = "config";
  if (!Number.isNaN(minCellMv)) limitTo(t, max, curveAt(k.dclByCellMv, minCellMv), "cell_voltage");
  if (!Number.isNaN(minTempDeciC)) limitTo(t, max, curveAt(k.dclByTempDeciC, minTempDeciC), "temperature");
  if (!Number.isNaN(maxTempDeciC)) limitTo(t, max, curveAt(k.dclByTempDeciC, maxTempDeciC), "temperature");
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

export interface LimitInputs {
  readonly seenValid: boolean;
  readonly valid: boolean;
  /** NaN where the channel is unavailable. */
  readonly maxCellMv: number;
  readonly minCellMv: number;
  readonly minTempDeciC: number;
  readonly maxTempDeciC: number;
  readonly sumCellsMv: number;
  readonly full: boolean;
  readonly socPct: number;
  /** Bindings of the first active alarm / blocking fault on each path, or null. */
  readonly chargeAlarm: string | null;
  readonly dischargeAlarm: string | null;
  readonly chargeFault: string | null;
  readonly dischargeFault: string | null;
  readonly remoteCclMa: number | null;
  readonly remoteDclMa: number | null;
  readonly socReservePct: number | null;
  readonly deepLatched: boolean;
  readonly elapsedMs: number;
}

export interface NextLimits {
  readonly cvl: RampState | null;
  readonly ccl: RampState | null;
  readonly dcl: RampState | null;
  readonly limits: ChargeLimits;
}

const target: Target = { value: 0, binding: "" };

function cap(t: Target, value: number | null, binding: string): void {
  if (value !== null && value < t.value) {
    t.value = value;
    t.binding = binding;
  }
}

/** A blocked path reads zero and names its fault, even where a curve is already at zero. */
function block(t: Target, binding: string | null): void {
  if (binding === null) return;
  t.value = 0;
  t.binding = binding;
}

export function nextLimits(
  config: BmsConfig,
  rules: Rules,
  prev: { readonly cvl: RampState | null; readonly ccl: RampState | null; readonly dcl: RampState | null },
  x: LimitInputs,
): NextLimits {
  const cc = config.protection.charge;
  const n = rules.cells;
  if (!x.seenValid) {
    return {
      cvl: null,
      ccl: null,
      dcl: null,
      limits: {
        cvlMv: cc.chargeVoltageMv * n,
        cclMa: 0,
        dclMa: 0,
        cvlBinding: "init",
        cclBinding: "init",
        dclBinding: "init",
      },
    };
  }
  let { cvl, ccl, dcl } = prev;
  if (x.valid) {
    voltageTarget(config, target, x.full, x.maxCellMv, x.sumCellsMv);
    cvl = ramp(cvl, target.value, target.binding, x.elapsedMs, cc.increaseHoldMs, cc.cvlRampMvPerS * n);

    chargeCurveTargets(config, rules, target, x.maxCellMv, x.minTempDeciC, x.maxTempDeciC, x.socPct);
    if (x.chargeAlarm !== null) limitTo(target, cc.maxChargeCurrentMa, cc.alarmDerateFraction, x.chargeAlarm);
    cap(target, x.remoteCclMa, "remote");
    if (x.deepLatched) limitTo(target, cc.maxChargeCurrentMa, rules.deepChargeFraction, "deep_discharge");
    block(target, x.chargeFault);
    ccl = ramp(ccl, target.value, target.binding, x.elapsedMs, cc.increaseHoldMs, cc.rampMaPerS);

    dischargeCurveTargets(config, rules, target, x.minCellMv, x.minTempDeciC, x.maxTempDeciC);
    if (x.dischargeAlarm !== null)
      limitTo(target, cc.maxDischargeCurrentMa, cc.alarmDerateFraction, x.dischargeAlarm);
    cap(target, x.remoteDclMa, "remote");
    if (x.socReservePct !== null && x.socPct <= x.socReservePct) cap(target, 0, "soc_reserve");
    block(target, x.dischargeFault);
    dcl = ramp(dcl, target.value, target.binding, x.elapsedMs, cc.increaseHoldMs, cc.rampMaPerS);
  } else {
    // Blind: hold the last limits, but a blocked path still reports zero at once.
    if (ccl && x.chargeFault !== null && ccl.value > 0) ccl = { value: 0, holdMs: 0, binding: x.chargeFault };
    if (dcl && x.dischargeFault !== null && dcl.value > 0)
      dcl = { value: 0, holdMs: 0, binding: x.dischargeFault };
  }
  return {
    cvl,
    ccl,
    dcl,
    limits: {
      cvlMv: Math.round(cvl?.value ?? cc.chargeVoltageMv * n),
      cclMa: Math.round(ccl?.value ?? 0),
      dclMa: Math.round(dcl?.value ?? 0),
      cvlBinding: cvl?.binding ?? "init",
      cclBinding: ccl?.binding ?? "init",
      dclBinding: dcl?.binding ?? "init",
    },
  };
}
