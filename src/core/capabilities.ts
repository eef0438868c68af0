/**
 * Type-only re-export of the driver capability contracts, for rooms that must not import
 * src/hal (protection, balance): they decide from what the driver declares, not from hal code.
 */
export type { AfeCapabilities, BalancingCapabilities } from "../hal/afe.js";
