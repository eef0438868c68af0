/**
 * The protection config compiled once into flat rules the reducer walks every tick, so the
 * hot path does no key lookups or string building.
 */
import type { BmsConfig } from "../config/schema.js";
import type { Level, Quantity } from "../config/levels.js";
import { BmsError } from "../core/errors.js";
import { type FaultLevel, PROTECTED_CODES, type ProtectedCode } from "../core/faults.js";
import { type CompiledCurve, compileCurve } from "./curve.js";

export { PROTECTED_CODES, type ProtectedCode };

export const LEVEL_NAMES: readonly FaultLevel[] = ["warning", "alarm", "trip"];
export const TRIP = 2;
export const ALARM = 1;

/** Indices into the per-tick value vector. */
export const V_MAX_CELL = 0;
export const V_MIN_CELL = 1;
export const V_CHG_CURRENT = 2;
export const V_DSG_CURRENT = 3;
export const V_MAX_TEMP = 4;
export const V_MIN_TEMP = 5;
export const V_BOARD_TEMP = 6;
export const V_SPREAD = 7;
export const V_SENSOR = 8;
export const V_COMMS = 9;
export const VALUE_COUNT = 10;

export type SlotKind = "plain" | "retry" | "latch" | "policy";

export interface SlotRule {
  readonly code: ProtectedCode;
  /** +1: raised when the value is at or above the limit; −1: at or below. */
  readonly dir: 1 | -1;
  readonly input: number;
  /** warning, alarm, trip (null where not configured). */
  readonly levels: readonly (Level | null)[];
  readonly kind: SlotKind;
  /** Trip level blocks these paths (policy slots decide at run time). */
  readonly blocksCharge: boolean;
  readonly blocksDischarge: boolean;
  /** Alarm level derates this limit. */
  readonly deratesCharge: boolean;
  readonly deratesDischarge: boolean;
  readonly alarmBinding: string;
  readonly faultBinding: string;
}

/** The derating curves of `protection.charge`, split for evaluation. */
export interface CompiledCurves {
  readonly cclByCellMv: CompiledCurve;
  readonly dclByCellMv: CompiledCurve;
  readonly cclByTempDeciC: CompiledCurve;
  readonly dclByTempDeciC: CompiledCurve;
  readonly cclBySocPct: CompiledCurve;
}

export interface Rules {
  readonly slots: readonly SlotRule[];
  readonly curves: CompiledCurves;
  readonly cells: number;
  readonly retries: number;
  readonly backoffMs: readonly number[];
  readonly windowMs: number;
  readonly blockChargeImmediately: boolean;
  readonly dischargeHoldMs: number;
  readonly safeBandMinMv: number;
  readonly safeBandMaxMv: number;
  readonly deepResetMv: number;
  readonly deepChargeFraction: number;
  readonly restCurrentMa: number;
  readonly heartbeatTimeoutMs: number;
  readonly remoteMode: boolean;
  readonly hwClearRetryMs: number;
  /** The values array reused by every tick of this config (never escapes the reducer). */
  readonly scratch: Float64Array;
  readonly config: BmsConfig;
}

/**
 * Levels of a quantity. Without a configured trip, a chip flag still needs a trip level to
 * enter: it gets one that software never raises (`limit` ±∞) and that clears at the
 * highest configured reset, or at `fallbackReset`.
 */
/** A quantity without a trip level never trips (the config requires one where the AFE needs it). */
function levels(q: Quantity, dir: 1 | -1, fallbackReset: number): (Level | null)[] {
  const trip = q.trip ?? {
    limit: dir > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
    reset: q.alarm?.reset ?? q.warning?.reset ?? fallbackReset,
    delayMs: 0,
    recoveryDelayMs: 5000,
  };
  return [q.warning ?? null, q.alarm ?? null, trip];
}
const tripOnly = (l: Level): (Level | null)[] => [null, null, l];

function slot(
  code: ProtectedCode,
  dir: 1 | -1,
  input: number,
  lv: (Level | null)[],
  kind: SlotKind,
  chg: boolean,
  dsg: boolean,
): SlotRule {
  return {
    code,
    dir,
    input,
    levels: lv,
    kind,
    blocksCharge: chg,
    blocksDischarge: dsg,
    deratesCharge: chg,
    deratesDischarge: dsg,
    alarmBinding: `alarm:${code}`,
    faultBinding: `fault:${code}`,
  };
}

export function compileRules(config: BmsConfig): Rules {
  const p = config.protection;
  const ocdReset = p.ocDischarge.trip?.reset ?? p.shortCircuit.limitMa / 2;
  const uvTrip = p.cellUv.trip!;
  const sf = p.sensorFault;
  const slots: SlotRule[] = [
    // Over-voltage never blocks discharging; under-voltage never blocks charging.
    slot("cell_ov", 1, V_MAX_CELL, levels(p.cellOv, 1, p.cellOv.trip?.reset ?? 0), "plain", true, false),
    slot("cell_uv", -1, V_MIN_CELL, levels(p.cellUv, -1, 0), "plain", false, true),
    slot("oc_charge", 1, V_CHG_CURRENT, levels(p.ocCharge, 1, 0), "retry", true, false),
    slot("oc_discharge", 1, V_DSG_CURRENT, levels(p.ocDischarge, 1, 0), "retry", false, true),
    // A short circuit opens both paths: nothing conducts until it is understood.
    slot(
      "short_circuit",
      1,
      V_DSG_CURRENT,
      tripOnly({ limit: p.shortCircuit.limitMa, reset: ocdReset, delayMs: 0, recoveryDelayMs: 0 }),
      "retry",
      true,
      true,
    ),
    slot("ot_charge", 1, V_MAX_TEMP, levels(p.otCharge, 1, 400), "plain", true, false),
    slot("ot_discharge", 1, V_MAX_TEMP, levels(p.otDischarge, 1, 500), "plain", false, true),
    slot("ut_charge", -1, V_MIN_TEMP, levels(p.utCharge, -1, 50), "plain", true, false),
    slot("ut_discharge", -1, V_MIN_TEMP, levels(p.utDischarge, -1, -150), "plain", false, true),
    slot("board_ot", 1, V_BOARD_TEMP, levels(p.boardOt, 1, 650), "plain", true, true),
    // A wide spread endangers the highest cell on charge; discharging stays allowed.
    slot("cell_spread", 1, V_SPREAD, levels(p.cellSpread, 1, 100), "plain", true, false),
    slot(
      "sensor_fault",
      1,
      V_SENSOR,
      tripOnly({ limit: 1, reset: 0, delayMs: sf.delayMs, recoveryDelayMs: sf.recoveryDelayMs }),
      "policy",
      true,
      true,
    ),
    slot(
      "afe_comms",
      1,
      V_COMMS,
      tripOnly({ limit: 1, reset: 0, delayMs: p.afeCommsDelayMs, recoveryDelayMs: sf.recoveryDelayMs }),
      "policy",
      true,
      true,
    ),
    // A damaged cell must not be discharged further; a small recovery charge stays possible.
    slot(
      "deep_discharge",
      -1,
      V_MIN_CELL,
      tripOnly({
        limit: p.deepDischarge.limitMv,
        reset: uvTrip.limit,
        delayMs: p.deepDischarge.delayMs,
        recoveryDelayMs: 0,
      }),
      "latch",
      false,
      true,
    ),
  ];
  // The reducer's state is indexed by PROTECTED_CODES: a fault code appended without a slot
  // here (or a slot out of order) must fail loudly, not shift every index.
  if (slots.length !== PROTECTED_CODES.length || slots.some((r, i) => r.code !== PROTECTED_CODES[i]))
    throw new BmsError(
      "INTERNAL",
      `protection slots [${slots.map((r) => r.code).join(", ")}] do not match the protected fault codes [${PROTECTED_CODES.join(", ")}]`,
    );
  const ch = p.charge;
  return {
    slots,
    curves: {
      cclByCellMv: compileCurve(ch.cclByCellMv),
      dclByCellMv: compileCurve(ch.dclByCellMv),
      cclByTempDeciC: compileCurve(ch.cclByTempDeciC),
      dclByTempDeciC: compileCurve(ch.dclByTempDeciC),
      cclBySocPct: compileCurve(ch.cclBySocPct),
    },
    cells: config.pack.cellsInSeries,
    retries: p.overcurrentLatch.retries,
    backoffMs: p.overcurrentLatch.backoffMs,
    windowMs: p.overcurrentLatch.windowMs,
    blockChargeImmediately: sf.blockChargeImmediately,
    dischargeHoldMs: sf.dischargeHoldMs,
    safeBandMinMv: sf.safeBandMinMv,
    safeBandMaxMv: sf.safeBandMaxMv,
    deepResetMv: uvTrip.limit,
    deepChargeFraction: p.deepDischarge.recoveryChargeFraction,
    restCurrentMa: config.monitor.rest.currentMa,
    heartbeatTimeoutMs: config.modbus.heartbeatTimeoutMs,
    remoteMode: config.modbus.remoteMode,
    hwClearRetryMs: 1000,
    scratch: new Float64Array(VALUE_COUNT),
    config,
  };
}

const cache = new WeakMap<BmsConfig, Rules>();

/** Rules for a config, compiled on first use (configs are immutable once parsed). */
export function rulesFor(config: BmsConfig): Rules {
  let r = cache.get(config);
  if (!r) {
    r = compileRules(config);
    cache.set(config, r);
  }
  return r;
}
