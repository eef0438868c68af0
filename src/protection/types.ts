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

/**
 * Remote (Modbus) set-points as protection applies them this tick. Protection's heartbeat
 * clock is the only one: Modbus reads these back instead of keeping its own.
 */
export interface RemoteSetpoints {
  /** Remote charge-current cap in force; null = none written or expired. */
  readonly cclMa: number | null;
  /** Remote discharge-current cap in force; null = none written or expired. */
  readonly dclMa: number | null;
  /** Remote minimum SOC reserve in force; null = none (or 0) written, or expired. */
  readonly socReservePct: number | null;
  /** Time since the last heartbeat or accepted set-point write (since start before any). */
  readonly heartbeatAgeMs: number;
  /** A controller has sent a heartbeat or an accepted set-point since start. */
  readonly heard: boolean;
  /** `heartbeatAgeMs` is past `modbus.heartbeatTimeoutMs`: no remote set-point is applied. */
  readonly expired: boolean;
}

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
  /**
   * The remote set-points applied this tick. Always set by the protection stage; absent only
   * in snapshots built elsewhere (synthetic or older recordings), which read as "none".
   */
  readonly remote?: RemoteSetpoints;
}
