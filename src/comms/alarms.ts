/**
 * Our fault codes as SunSpec model 802 `Evt1` bits, and as vendor bitfields whose bit
 * positions follow the append-only FAULT_CODES list (so they never move).
 */
import { FAULT_CODES, type FaultCode, type FaultLevel } from "../core/faults.js";
import type { ActiveFault } from "../protection/types.js";

/** SunSpec 802 Evt1 bit numbers (model_802.json). */
export const EVT1 = {
  COMMUNICATION_ERROR: 0,
  OVER_TEMP_ALARM: 1,
  OVER_TEMP_WARNING: 2,
  UNDER_TEMP_ALARM: 3,
  UNDER_TEMP_WARNING: 4,
  OVER_CHARGE_CURRENT_ALARM: 5,
  OVER_CHARGE_CURRENT_WARNING: 6,
  OVER_DISCHARGE_CURRENT_ALARM: 7,
  OVER_DISCHARGE_CURRENT_WARNING: 8,
  OVER_VOLT_ALARM: 9,
  OVER_VOLT_WARNING: 10,
  UNDER_VOLT_ALARM: 11,
  UNDER_VOLT_WARNING: 12,
  UNDER_SOC_MIN_ALARM: 13,
  UNDER_SOC_MIN_WARNING: 14,
  OVER_SOC_MAX_ALARM: 15,
  OVER_SOC_MAX_WARNING: 16,
  VOLTAGE_IMBALANCE_WARNING: 17,
  TEMPERATURE_IMBALANCE_ALARM: 18,
  TEMPERATURE_IMBALANCE_WARNING: 19,
  CONTACTOR_ERROR: 20,
  FAN_ERROR: 21,
  GROUND_FAULT: 22,
  OPEN_DOOR_ERROR: 23,
  CURRENT_IMBALANCE_WARNING: 24,
  OTHER_ALARM: 25,
  OTHER_WARNING: 26,
  CONFIGURATION_ALARM: 28,
  CONFIGURATION_WARNING: 29,
} as const;
export type Evt1Name = keyof typeof EVT1;

/**
 * [bit for a warning, bit for an alarm or trip] per fault code. Partial on purpose: a code
 * appended to FAULT_CODES later still maps (to OTHER_WARNING / OTHER_ALARM) and still compiles.
 */
export const FAULT_TO_EVT1: Readonly<Partial<Record<FaultCode, readonly [Evt1Name, Evt1Name]>>> = {
  cell_ov: ["OVER_VOLT_WARNING", "OVER_VOLT_ALARM"],
  cell_uv: ["UNDER_VOLT_WARNING", "UNDER_VOLT_ALARM"],
  oc_charge: ["OVER_CHARGE_CURRENT_WARNING", "OVER_CHARGE_CURRENT_ALARM"],
  oc_discharge: ["OVER_DISCHARGE_CURRENT_WARNING", "OVER_DISCHARGE_CURRENT_ALARM"],
  short_circuit: ["OVER_DISCHARGE_CURRENT_ALARM", "OVER_DISCHARGE_CURRENT_ALARM"],
  ot_charge: ["OVER_TEMP_WARNING", "OVER_TEMP_ALARM"],
  ot_discharge: ["OVER_TEMP_WARNING", "OVER_TEMP_ALARM"],
  ut_charge: ["UNDER_TEMP_WARNING", "UNDER_TEMP_ALARM"],
  ut_discharge: ["UNDER_TEMP_WARNING", "UNDER_TEMP_ALARM"],
  board_ot: ["OVER_TEMP_WARNING", "OVER_TEMP_ALARM"],
  cell_spread: ["VOLTAGE_IMBALANCE_WARNING", "VOLTAGE_IMBALANCE_WARNING"],
  sensor_fault: ["OTHER_WARNING", "OTHER_ALARM"],
  afe_comms: ["COMMUNICATION_ERROR", "COMMUNICATION_ERROR"],
  deep_discharge: ["UNDER_SOC_MIN_ALARM", "UNDER_VOLT_ALARM"],
  recording: ["OTHER_WARNING", "OTHER_WARNING"],
};

/** The Evt1 bit names a fault code raises as a warning and as an alarm/trip. */
export function evt1Names(code: string): readonly [Evt1Name, Evt1Name] {
  const pair = (FAULT_TO_EVT1 as Record<string, readonly [Evt1Name, Evt1Name] | undefined>)[code];
  return pair ?? ["OTHER_WARNING", "OTHER_ALARM"];
}

function evt1Bit(code: string, level: FaultLevel): number {
  return EVT1[evt1Names(code)[level === "warning" ? 0 : 1]];
}

export interface AlarmWords {
  readonly evt1: number;
  /** Bit n set: FAULT_CODES[n] is active (any level). */
  readonly activeCodes: number;
  /** Bit n set: FAULT_CODES[n] is latched (needs an alarm reset). */
  readonly latchedCodes: number;
}

export function alarmWords(faults: readonly ActiveFault[], heartbeatLost: boolean): AlarmWords {
  let evt1 = heartbeatLost ? 1 << EVT1.COMMUNICATION_ERROR : 0;
  let activeCodes = 0;
  let latchedCodes = 0;
  for (const f of faults) {
    evt1 |= 1 << evt1Bit(f.code, f.level);
    const idx = (FAULT_CODES as readonly string[]).indexOf(f.code);
    if (idx >= 0 && idx < 32) {
      activeCodes |= 1 << idx;
      if (f.latched) latchedCodes |= 1 << idx;
    }
  }
  return { evt1: evt1 >>> 0, activeCodes: activeCodes >>> 0, latchedCodes: latchedCodes >>> 0 };
}
