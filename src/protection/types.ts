import type { FaultCode, FaultLevel } from "../core/faults.js";
import type { FetState } from "../core/fets.js";
import type { ChargeLimits } from "../core/limits.js";

export const BMS_STATES = ["init", "standby", "charging", "discharging", "fault", "shutdown"] as const;
export type BmsState = (typeof BMS_STATES)[number];

export interface ActiveFault {
  readonly code: FaultCode;
  readonly level: FaultLevel;
  /** Needs an acknowledged reset once the condition is gone. */
  readonly latched: boolean;
  readonly sinceMs: number;
  /** The value that raised it and the limit it crossed (units as in the config: mV, mA, 0.1 °C). */
  readonly value: number;
  readonly limit: number;
  readonly blocksCharge: boolean;
  readonly blocksDischarge: boolean;
  /** Channel or detail, e.g. `cell:4`. */
  readonly detail?: string;
}

export type { ChargeLimits } from "../core/limits.js";

/** The protection verdict of one tick, as published. */
export interface ProtectionView {
  readonly state: BmsState;
  readonly fets: FetState;
  readonly faults: readonly ActiveFault[];
  readonly limits: ChargeLimits;
  /** Whether each direction may flow (a FET may be closed by the ideal diode while its path is not allowed). */
  readonly chargeAllowed: boolean;
  readonly dischargeAllowed: boolean;
  /** Set while the ideal-diode logic holds a blocked path's FET closed, and on the tick it opens it. */
  readonly fetReason?: string;
}
