/**
 * Ideal-diode drive of a blocked path's FET (as LibreSolar's bms-firmware does in software and
 * the bq769x2 in hardware). With back-to-back FETs, an open FET still passes the allowed
 * direction's current through its body diode, losing ~0.7 V: at a 39 A UPS load that is
 * ~27 W of board heat. While that current is clearly flowing, the blocked path's FET is
 * closed too, and it opens again before the current can reverse into the blocked direction.
 *
 * Pure: the hysteresis is the only state, and the current comes from the sample.
 */
import type { FetState } from "../core/fets.js";
import type { SlotRule } from "./rules.js";
import type { SlotState } from "./state.js";

/**
 * Faults whose blocked direction is the only one they concern, so a FET carrying the other
 * direction does not work against them. Everything else (short circuit, board over-temperature,
 * sensor/comms faults, deep discharge) keeps its FET open: there the FET itself, the board or
 * the data is in doubt, and the body diode is the safer conductor.
 */
const DIODE_CODES: ReadonlySet<string> = new Set([
  "cell_ov",
  "cell_uv",
  "ot_charge",
  "ot_discharge",
  "ut_charge",
  "ut_discharge",
  "cell_spread",
  "oc_charge",
  "oc_discharge",
]);

/**
 * May a path blocked by this slot have its FET driven as a diode? Never when the fault is
 * latched or held by the chip (the chip has opened the FET itself), and for over-current not
 * during the retry back-off: the back-off keeps its path quiet.
 */
export function diodeEligible(rule: SlotRule, s: SlotState): boolean {
  if (!DIODE_CODES.has(rule.code) || s.latched || s.hw) return false;
  return rule.kind !== "retry" || s.retryWaitMs === 0;
}

export interface DiodeTick {
  readonly enabled: boolean;
  readonly onMa: number;
  readonly offMa: number;
  /** Valid data, past init, not shut down. */
  readonly active: boolean;
  readonly chgBlocked: boolean;
  readonly dsgBlocked: boolean;
  /** A fault that is not diode-eligible blocks this path. */
  readonly chgHard: boolean;
  readonly dsgHard: boolean;
  /** Measured pack current, mA, positive charging (NaN when the channel is unusable). */
  readonly currentMa: number;
  /** The fault named in the reason. */
  readonly chgCause: string;
  readonly dsgCause: string;
}

export interface DiodeResult {
  /** FETs closed by the diode logic (true = closed although the path is blocked). */
  readonly diode: FetState;
  /** Why the diode logic holds a FET closed, or why it just opened one (undefined: idle). */
  readonly reason: string | undefined;
}

const NONE: FetState = Object.freeze({ chg: false, dsg: false });
export const DIODE_IDLE: DiodeResult = Object.freeze({ diode: NONE, reason: undefined });

/**
 * One path: `flowMa` is the current in the allowed (other) direction, positive when it flows
 * that way. Closes above `onMa`, stays closed down to `offMa`.
 */
function holds(wasClosed: boolean, eligible: boolean, flowMa: number, t: DiodeTick): boolean {
  if (!eligible || !Number.isFinite(flowMa)) return false;
  return wasClosed ? flowMa >= t.offMa : flowMa > t.onMa;
}

export function stepDiode(prev: FetState, t: DiodeTick): DiodeResult {
  const base = t.enabled && t.active;
  // Only one path blocked: with both blocked there is no allowed direction to carry.
  const chgOk = base && t.chgBlocked && !t.chgHard && !t.dsgBlocked;
  const dsgOk = base && t.dsgBlocked && !t.dsgHard && !t.chgBlocked;
  const i = t.currentMa;
  const chg = holds(prev.chg, chgOk, -i, t);
  const dsg = holds(prev.dsg, dsgOk, i, t);
  if (!chg && !dsg && !prev.chg && !prev.dsg) return DIODE_IDLE;
  const cur = Number.isFinite(i) ? `${Math.round(i)} mA` : "unknown";
  let reason: string;
  if (chg)
    reason = `ideal diode: charge FET closed for discharge current ${cur} (${t.chgCause} blocks charging)`;
  else if (dsg)
    reason = `ideal diode: discharge FET closed for charge current ${cur} (${t.dsgCause} blocks discharging)`;
  else {
    const path = prev.chg ? "charge" : "discharge";
    const [blocked, hard, otherBlocked, ok] = prev.chg
      ? [t.chgBlocked, t.chgHard, t.dsgBlocked, chgOk]
      : [t.dsgBlocked, t.dsgHard, t.chgBlocked, dsgOk];
    const why = !t.enabled
      ? "disabled"
      : !t.active
        ? "no valid data"
        : !blocked
          ? "path no longer blocked"
          : otherBlocked
            ? "both paths blocked"
            : hard
              ? "a fault that excludes it"
              : ok
                ? `current ${cur}, off below ${t.offMa} mA`
                : "no usable current";
    reason = `ideal diode: ${path} FET opened (${why})`;
  }
  return { diode: chg === prev.chg && dsg === prev.dsg ? prev : { chg, dsg }, reason };
}
