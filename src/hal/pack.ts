import type { FetState } from "../core/fets.js";

/**
 * The physical truth at a chip's pins, as the simulated pack provides it. Register-level chip
 * emulators and the simulated serial board read this and add their own ADC behaviour
 * (quantisation, gain/offset, noise), so the driver above them sees what real hardware shows.
 */
export interface PackPort {
  readonly cellCount: number;
  readonly temperatureSensorCount: number;
  /** Integrates the physics up to clock time `nowMs` (no-op if already there). */
  advanceTo(nowMs: number): void;
  /** Voltage at each cell's sense pins, mV (an open sense wire shows here, not in the cell). */
  senseVoltagesMv(): readonly number[];
  /** Current through the shunt, mA, positive when charging. */
  currentMa(): number;
  /** Temperature at each thermistor, 0.1 °C (an open/shorted thermistor shows as its rail value). */
  thermistorDeciC(index: number): number;
  /** AFE die / FET temperature, 0.1 °C. */
  dieTempDeciC(): number;
  /** Whether the chip can talk right now (false during an injected comms loss). */
  commsAvailable(): boolean;
  setFets(fets: FetState): void;
  fets(): FetState;
  /** Bleeders on (0-based cell indices); all others off. */
  setBleeders(cells: readonly number[]): void;
}
