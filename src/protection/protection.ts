/**
 * The protection stage: a thin stateful shell around the pure reducer. It keeps the
 * previous state between ticks and exports latched faults for the recorder to persist.
 */
import type { BmsConfig } from "../config/schema.js";
import type { ProtectionInput, ProtectionOutput, ProtectionStage } from "../core/stages.js";
import { reduceProtection } from "./reducer.js";
import { exportLatched, initialState, type ProtectionState, restoreState } from "./state.js";

export interface ProtectionOptions {
  /** What `exportState()` returned before a restart (latched faults survive it). */
  readonly restored?: unknown;
}

export interface ProtectionHandle extends ProtectionStage {
  /** The current reducer state (for inspection and tests). */
  readonly state: ProtectionState;
}

export function createProtection(config: BmsConfig, options: ProtectionOptions = {}): ProtectionHandle {
  let state = options.restored === undefined ? initialState() : restoreState(options.restored);
  return {
    step(input: ProtectionInput): ProtectionOutput {
      const r = reduceProtection(state, input, config);
      state = r.state;
      return { view: r.view, clearHardwareFaults: r.clearHardwareFaults, events: r.events };
    },
    exportState: () => exportLatched(state),
    get state() {
      return state;
    },
  };
}
