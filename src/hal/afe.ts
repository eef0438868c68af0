import type { FaultCode, HardwareFault } from "../core/faults.js";
import type { FetState } from "../core/fets.js";

export type { FetState };

/**
 * One raw reading from a driver, in integer milli-units, as the hardware reported it.
 * Validation (staleness, plausibility) is the monitor's job, not the driver's.
 */
export interface Sample {
  /** Clock time of the measurement, ms. */
  readonly timestampMs: number;
  /** Per cell, bottom of the stack first. NaN where the driver could not read the channel. */
  readonly cellVoltagesMv: readonly number[];
  /** Stack/pack voltage measured by the chip, if it has one. */
  readonly packVoltageMv: number | null;
  /** Positive when charging. Null when the driver has no current measurement. */
  readonly packCurrentMa: number | null;
  /** Cell or module thermistors, 0.1 °C. Null where a sensor is not available. */
  readonly temperaturesDeciC: readonly (number | null)[];
  /** AFE die or FET temperature, 0.1 °C. */
  readonly boardTempDeciC: number | null;
  /** Faults latched by the chip's hardware protection (SCD, OCD, OV, UV, …). */
  readonly hardwareFaults: readonly HardwareFault[];
  /** FET state as the chip reports it (a hardware trip may have opened one). */
  readonly fets: FetState;
  /** Cells whose bleeders were on during this reading. */
  readonly balancingCells: readonly number[];
  /** Channels the driver knows are bad (e.g. a silent board's cells), with a reason. */
  readonly channelErrors?: readonly { readonly channel: string; readonly reason: string }[];
}

export interface ReadFlags {
  readonly cells?: boolean;
  readonly current?: boolean;
  readonly temperatures?: boolean;
  readonly faults?: boolean;
}

export const READ_ALL: ReadFlags = { cells: true, current: true, temperatures: true, faults: true };

export interface BalancingCapabilities {
  /** Cells per balancing group; the adjacency rule applies within a group. */
  readonly groupSize: number;
  /** False: two neighbouring cells of one group may not bleed at the same time (bq769x0). */
  readonly adjacentAllowed: boolean;
  /** Most bleeders on at once across the driver. */
  readonly maxSimultaneous: number;
  /** Most bleeders on at once within one group. */
  readonly maxPerGroup: number;
  /** Bleeders must be off this long before a cell reading is trusted (0: the chip handles it). */
  readonly measurementPauseMs: number;
  /** Bleed resistor, ohms (for current and heat estimates). */
  readonly bleedResistorOhm: number;
}

/** What the driver and its chip can do. A missing capability is declared, never faked. */
export interface AfeCapabilities {
  readonly model: string;
  readonly cellCount: number;
  readonly temperatureSensorCount: number;
  readonly measuresCurrent: boolean;
  readonly measuresPackVoltage: boolean;
  readonly measuresBoardTemp: boolean;
  /** Null when the hardware cannot balance. */
  readonly balancing: BalancingCapabilities | null;
  /** Protections the chip enforces by itself, in hardware, without the host. */
  readonly hardwareProtections: readonly FaultCode[];
  /** Whether the driver can switch FETs itself. */
  readonly controlsFets: boolean;
}

/** Thresholds the host asks the chip to enforce in hardware. */
export interface HardwareLimits {
  readonly cellOvMv: number;
  readonly cellOvDelayMs: number;
  readonly cellUvMv: number;
  readonly cellUvDelayMs: number;
  readonly ocDischargeMa: number;
  readonly ocDischargeDelayMs: number;
  readonly shortCircuitMa: number;
  readonly shortCircuitDelayUs: number;
  readonly ocChargeMa: number;
  readonly ocChargeDelayMs: number;
}

/** What the chip really enforces after quantisation; fields it cannot enforce are absent. */
export interface AppliedHardwareLimits {
  readonly applied: Partial<HardwareLimits>;
  /** Human-readable notes, e.g. "OCD limit rounded 100 A → 97 A (8 mV step at 0.5 mΩ)". */
  readonly notes: readonly string[];
}

/**
 * The contract every measurement front end implements: real chips over I2C, serial
 * monitor boards, and the simulated pack. All methods may throw BmsError
 * (BUS_*, AFE_COMMS, NOT_SUPPORTED).
 */
export interface AfeDriver {
  readonly capabilities: AfeCapabilities;
  /** Writes hardware protection thresholds; returns the values the chip really applies. */
  configure(limits: HardwareLimits): Promise<AppliedHardwareLimits>;
  read(flags?: ReadFlags): Promise<Sample>;
  setFets(fets: FetState): Promise<void>;
  /** Bleeders to switch on (0-based cell indices); all others off. */
  setBalancing(cells: readonly number[]): Promise<void>;
  /** Acknowledges latched hardware faults so the chip may close its FETs again. */
  clearFaults(codes: readonly FaultCode[]): Promise<void>;
  close(): Promise<void>;
}
