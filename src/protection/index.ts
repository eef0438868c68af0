export { createProtection, type ProtectionHandle, type ProtectionOptions } from "./protection.js";
export { type ProtectionResult, reduceProtection } from "./reducer.js";
export { compileRules, PROTECTED_CODES, type ProtectedCode } from "./rules.js";
export {
  exportLatched,
  initialState,
  type PersistedProtection,
  type ProtectionState,
  restoreState,
} from "./state.js";
export type { ActiveFault, BmsState, ChargeLimits, ProtectionView } from "./types.js";
