export interface BalanceView {
  /** Cells to bleed this tick (0-based). */
  readonly cells: readonly number[];
  /** Why the planner chose this (or why it is idle), e.g. `idle: not at rest`. */
  readonly reason: string;
  /** Estimated seconds to balance at the planned bleed current; null when not balancing. */
  readonly timeToBalanceS: number | null;
}
