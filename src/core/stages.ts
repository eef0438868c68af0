/**
 * The stage contracts of one tick. The loop (src/bms.ts) depends on these, and each room
 * implements its own: monitor (validate + estimate), protection (a pure reducer behind a
 * small stateful shell), balance (a pure planner).
 */
import type { BmsError } from "./errors.js";
import type { BmsEvent } from "./events.js";
import type { FaultCode } from "./faults.js";
import type { BmsRequest } from "./requests.js";
import type { Sample } from "../hal/afe.js";
import type { Estimates, Measurements } from "../monitor/types.js";
import type { ProtectionView } from "../protection/types.js";
import type { BalanceView } from "../balance/types.js";

export interface MonitorInput {
  readonly nowMs: number;
  /** Null when the read failed (see readError) or was skipped. */
  readonly sample: Sample | null;
  readonly readError: BmsError | null;
}

export interface MonitorOutput {
  readonly measurements: Measurements;
  readonly estimates: Estimates;
  readonly events: readonly BmsEvent[];
}

export interface MonitorStage {
  update(input: MonitorInput): MonitorOutput;
  /** JSON-serialisable estimator state, for the recorder to persist. */
  exportState(): unknown;
}

export interface ProtectionInput {
  readonly nowMs: number;
  readonly elapsedMs: number;
  readonly measurements: Measurements;
  readonly estimates: Estimates;
  readonly requests: readonly BmsRequest[];
}

export interface ProtectionOutput {
  readonly view: ProtectionView;
  /** Latched hardware faults the chip should be told to clear (per policy). */
  readonly clearHardwareFaults: readonly FaultCode[];
  readonly events: readonly BmsEvent[];
}

export interface ProtectionStage {
  step(input: ProtectionInput): ProtectionOutput;
  /** JSON-serialisable state that must survive restarts (latched faults). */
  exportState(): unknown;
}

export interface BalanceInput {
  readonly nowMs: number;
  readonly elapsedMs: number;
  readonly measurements: Measurements;
  readonly estimates: Estimates;
  readonly protection: ProtectionView;
}

export interface BalanceStage {
  plan(input: BalanceInput): BalanceView;
}
