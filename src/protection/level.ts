/**
 * One debounced level of one quantity. Immutable: a step returns the same object when
 * nothing changed, so steady-state ticks allocate nothing.
 *
 * Raising uses a leaky timer (foxBMS style): time past the limit adds, time inside takes
 * away, so brief dips cannot postpone a trip forever. Clearing needs the value past the
 * reset threshold continuously for the recovery delay: recovery is the cautious direction.
 * The first observation of a run counts zero time, so "raise after delayMs" is measured
 * from the first sample that showed the condition.
 */
import type { Level } from "../config/levels.js";

export interface LevelState {
  readonly active: boolean;
  /** The previous observation was past the limit (inactive) / past the reset (active). */
  readonly run: boolean;
  /** Pending time while inactive, recovery time while active, ms. */
  readonly timerMs: number;
  readonly sinceMs: number;
  /** The value that raised it. */
  readonly value: number;
  readonly limit: number;
}

export const IDLE: LevelState = Object.freeze({
  active: false,
  run: false,
  timerMs: 0,
  sinceMs: 0,
  value: 0,
  limit: 0,
});

export const NONE = 0;
export const RAISED = 1;
export const CLEARED = 2;
/** Recovered, but something (latch, back-off, chip flag) holds it active. */
export const HELD = 3;

export interface LevelStep {
  state: LevelState;
  status: number;
}

/**
 * Steps one level. `forced` raises at once (a latched hardware flag); `hold` keeps an
 * active level from clearing (it reports HELD once it would have cleared). Writes into `out` to avoid allocating a result tuple.
 */
export function stepLevel(
  s: LevelState,
  rule: Level,
  dir: 1 | -1,
  value: number,
  forced: boolean,
  hold: boolean,
  elapsedMs: number,
  nowMs: number,
  out: LevelStep,
): void {
  out.status = NONE;
  if (!s.active) {
    const beyond = forced || (dir > 0 ? value >= rule.limit : value <= rule.limit);
    if (beyond) {
      const timerMs = s.run ? s.timerMs + elapsedMs : s.timerMs;
      if (forced || timerMs >= rule.delayMs) {
        out.state = { active: true, run: false, timerMs: 0, sinceMs: nowMs, value, limit: rule.limit };
        out.status = RAISED;
        return;
      }
      out.state = timerMs === s.timerMs && s.run ? s : { ...s, run: true, timerMs };
      return;
    }
    if (!s.run && s.timerMs === 0) {
      out.state = s;
      return;
    }
    const timerMs = Math.max(0, s.timerMs - elapsedMs);
    out.state = timerMs === 0 ? IDLE : { ...s, run: false, timerMs };
    return;
  }
  // A chip flag (forced) only raises; whether it may clear is the caller's `hold`.
  const safe = dir > 0 ? value <= rule.reset : value >= rule.reset;
  if (safe) {
    const timerMs = s.run ? s.timerMs + elapsedMs : 0;
    if (timerMs >= rule.recoveryDelayMs) {
      if (!hold) {
        out.state = IDLE;
        out.status = CLEARED;
        return;
      }
      out.status = HELD;
    }
    out.state = s.run && timerMs === s.timerMs ? s : { ...s, run: true, timerMs };
    return;
  }
  out.state = s.run ? { ...s, run: false, timerMs: 0 } : s;
}
