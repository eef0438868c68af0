/**
 * Why a cell is or is not bled this tick. One code per cell, so the UI and the recorder can
 * answer "why is cell 7 not balancing?" without parsing text.
 */
export const BALANCE_CELL_REASONS = [
  "bleeding",
  /** The lowest cell is the reference; it is never bled. */
  "lowest",
  /** Within delta (voltage) or no charge left to remove (SOC). */
  "balanced",
  "below_min_voltage",
  /** A neighbour in the same balancing group bleeds and the chip forbids adjacent bleeders. */
  "adjacent",
  /** The group already has its maximum of bleeders. */
  "group_full",
  /** The pack-wide maximum of simultaneous bleeders is reached. */
  "limit_reached",
  /** The cell's reading is missing or faulted. */
  "invalid",
  /** The whole pack is not balancing (see `reason`/`state`). */
  "idle",
] as const;
export type BalanceCellReason = (typeof BALANCE_CELL_REASONS)[number];

/**
 * off: mode off. unsupported: the hardware cannot balance. blocked: a safety condition
 * (trip, temperature, invalid data). waiting: the mode's condition is not met (not at rest,
 * discharging). idle: allowed but nothing to balance. paused: bleeders off for a clean
 * measurement. bleeding: at least one bleeder on.
 */
export const BALANCE_STATES = [
  "off",
  "unsupported",
  "blocked",
  "waiting",
  "idle",
  "paused",
  "bleeding",
] as const;
export type BalanceState = (typeof BALANCE_STATES)[number];

export interface BalanceView {
  /** Cells to bleed this tick (0-based). */
  readonly cells: readonly number[];
  /** Why the planner chose this (or why it is idle), e.g. `idle: not at rest`. */
  readonly reason: string;
  /** Estimated seconds to balance at the planned bleed current; null when not balancing. */
  readonly timeToBalanceS: number | null;
  /** Machine-readable summary of `reason` (always set by the planner). */
  readonly state?: BalanceState;
  /** One code per cell (always set by the planner). */
  readonly cellReasons?: readonly BalanceCellReason[];
  /** Estimated charge each cell still has to lose, mAh; 0 where nothing to remove. */
  readonly cellExcessMah?: readonly number[];
  /** Sum of `cellExcessMah`, mAh; null when unknown (not evaluated). */
  readonly chargeToRemoveMah?: number | null;
  /** Total bleed current of the planned cells, mA (V/R at the present voltages). */
  readonly bleedCurrentMa?: number;
  /** Heat the planned bleeders dissipate, mW (V²/R). */
  readonly bleedPowerMw?: number;
}
