import type { FaultCode, HardwareFault, SensorFault } from "../core/faults.js";
import type { FetState } from "../core/fets.js";

export interface CellStats {
  readonly minMv: number;
  readonly minIndex: number;
  readonly maxMv: number;
  readonly maxIndex: number;
  readonly meanMv: number;
  readonly deltaMv: number;
}

/**
 * One tick's validated measurements. Values are the hardware's (never substituted);
 * what is wrong with them is listed in `sensorFaults`.
 */
export interface Measurements {
  readonly timestampMs: number;
  /** False until the first fully valid sample, and whenever the sample is missing or stale. */
  readonly valid: boolean;
  /** Age of the newest sample, ms (Infinity when none yet). */
  readonly sampleAgeMs: number;
  readonly cellVoltagesMv: readonly number[];
  readonly cells: CellStats;
  readonly packVoltageMv: number;
  /** Positive when charging. */
  readonly packCurrentMa: number;
  readonly packPowerW: number;
  readonly temperaturesDeciC: readonly (number | null)[];
  readonly minTempDeciC: number | null;
  readonly minTempIndex: number;
  readonly maxTempDeciC: number | null;
  readonly maxTempIndex: number;
  readonly boardTempDeciC: number | null;
  readonly sensorFaults: readonly SensorFault[];
  readonly hardwareFaults: readonly HardwareFault[];
  readonly fets: FetState;
  readonly balancingCells: readonly number[];
}

export interface Counters {
  readonly chargeInAh: number;
  readonly chargeOutAh: number;
  readonly energyInWh: number;
  readonly energyOutWh: number;
  /** Equivalent full cycles: discharged Ah / capacity. */
  readonly equivalentCycles: number;
}

export interface Estimates {
  /** Best estimate of the real state of charge, %. */
  readonly socPct: number;
  /** What is shown to users and the UPS (user scaling applied), %. */
  readonly reportedSocPct: number;
  readonly sohPct: number;
  readonly capacityAh: number;
  readonly remainingAh: number;
  readonly remainingWh: number;
  /** Time to cut-off at the present (constant-power) load, s; null when not discharging. */
  readonly runtimeS: number | null;
  /** Time to full when charging, s; null otherwise. */
  readonly timeToFullS: number | null;
  readonly fullConfirmed: boolean;
  readonly estimator: "coulomb" | "ekf";
  readonly counters: Counters;
  /** False until the first valid sample has initialised (or a restored state confirmed) the estimate. */
  readonly ready?: boolean;
  /** 1σ uncertainty of socPct, %. */
  readonly socUncertaintyPct?: number;
  /** Learnt resistance relative to the new cell's, % (100 = new; end of life ≈ 200). */
  readonly resistancePct?: number;
  /** Last anchor that corrected the SOC, and its sample time, ms. */
  readonly lastAnchor?: { readonly kind: "full" | "empty" | "ocv"; readonly tMs: number } | null;
  /** The model's mean cell voltage for the present state and current, mV (for replay and tuning). */
  readonly modelCellVoltageMv?: number;
  /** Current-sensor offset in use (configured + learnt), mA. */
  readonly currentOffsetMa?: number;
}

export type { FaultCode };
