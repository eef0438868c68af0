/**
 * Fault codes used everywhere: events, logs, the recorder and Modbus alarm bits.
 * The list is append-only; Modbus bit positions are derived from it in src/comms.
 */
export const FAULT_CODES = [
  "cell_ov",
  "cell_uv",
  "oc_charge",
  "oc_discharge",
  "short_circuit",
  "ot_charge",
  "ot_discharge",
  "ut_charge",
  "ut_discharge",
  "board_ot",
  "cell_spread",
  "sensor_fault",
  "afe_comms",
  "deep_discharge",
  "recording",
] as const;

export type FaultCode = (typeof FAULT_CODES)[number];

/**
 * Codes raised from outside the pack by the loop (`Bms.setExternalFault`), never by the
 * protection reducer: they are warnings that say nothing about the cells.
 */
export const EXTERNAL_FAULT_CODES = ["recording"] as const;
export type ExternalFaultCode = (typeof EXTERNAL_FAULT_CODES)[number];

/** The codes the protection reducer owns, in FAULT_CODES order (one slot each). */
export type ProtectedCode = Exclude<FaultCode, ExternalFaultCode>;
export const PROTECTED_CODES: readonly ProtectedCode[] = FAULT_CODES.filter(
  (c): c is ProtectedCode => !(EXTERNAL_FAULT_CODES as readonly string[]).includes(c),
);

/** Warning: inform. Alarm: derate limits. Trip: act (open a FET). */
export const FAULT_LEVELS = ["warning", "alarm", "trip"] as const;
export type FaultLevel = (typeof FAULT_LEVELS)[number];

export function isFaultCode(s: string): s is FaultCode {
  return (FAULT_CODES as readonly string[]).includes(s);
}

/**
 * A measurement channel, named so that a sensor fault can say which input is bad:
 * `cell:3` (0-based), `temp:1`, `current`, `pack_voltage`, `board_temp`, `afe`.
 */
export type ChannelId =
  | `cell:${number}`
  | `temp:${number}`
  | "current"
  | "pack_voltage"
  | "board_temp"
  | "afe";

export const SENSOR_FAULT_KINDS = [
  "missing",
  "stale",
  "range",
  "stuck",
  "open_wire",
  "pack_mismatch",
  "temp_spread",
  "driver",
] as const;
export type SensorFaultKind = (typeof SENSOR_FAULT_KINDS)[number];

export interface SensorFault {
  readonly channel: ChannelId;
  readonly kind: SensorFaultKind;
  readonly detail: string;
}

/** A fault the AFE latched in hardware (read from its status register). */
export interface HardwareFault {
  readonly code: FaultCode;
  /** The chip's own name for it, e.g. `SCD` or `SS_A.OCD1`. */
  readonly source: string;
}
