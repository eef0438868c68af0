/**
 * Time as an injected service. Decision code never reads the wall clock or keeps timers:
 * the loop owns a Clock, and everything downstream gets timestamps and elapsed times.
 */
export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful. */
  nowMs(): number;
  /** Resolves once `nowMs() >= deadlineMs` (at once if already past). */
  sleepUntil(deadlineMs: number): Promise<void>;
}

/** Real time from the monotonic `performance.now()`, immune to wall-clock steps (NTP, RTC set). */
export class RealClock implements Clock {
  nowMs(): number {
    return performance.now();
  }

  sleepUntil(deadlineMs: number): Promise<void> {
    const waitMs = deadlineMs - this.nowMs();
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

interface Sleeper {
  deadlineMs: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. With `autoAdvance`, `sleepUntil` jumps the clock to the
 * deadline at once: the simulator runs the real loop as fast as the CPU allows.
 */
export class ManualClock implements Clock {
  private now: number;
  private readonly sleepers: Sleeper[] = [];
  readonly autoAdvance: boolean;

  constructor(startMs = 0, options: { autoAdvance?: boolean } = {}) {
    this.now = startMs;
    this.autoAdvance = options.autoAdvance ?? false;
  }

  nowMs(): number {
    return this.now;
  }

  sleepUntil(deadlineMs: number): Promise<void> {
    if (deadlineMs <= this.now) return Promise.resolve();
    if (this.autoAdvance) {
      this.now = deadlineMs;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.sleepers.push({ deadlineMs, resolve });
      this.sleepers.sort((a, b) => a.deadlineMs - b.deadlineMs);
    });
  }

  /** Number of callers waiting in `sleepUntil`. */
  get pendingSleepers(): number {
    return this.sleepers.length;
  }

  /** Moves time forward by `ms`, waking sleepers in deadline order with the clock set to each deadline. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance needs ms >= 0, got ${ms}`);
    this.advanceTo(this.now + ms);
  }

  advanceTo(targetMs: number): void {
    while (
      this.sleepers.length > 0 &&
      (this.sleepers[0]?.deadlineMs ?? Number.POSITIVE_INFINITY) <= targetMs
    ) {
      const s = this.sleepers.shift()!;
      this.now = Math.max(this.now, s.deadlineMs);
      s.resolve();
    }
    this.now = Math.max(this.now, targetMs);
  }
}

/** Lets pending promise callbacks run (for tests driving a ManualClock). */
export function flushMicrotasks(rounds = 5): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < rounds; i++) p = p.then(() => new Promise<void>((r) => setImmediate(r)));
  return p;
}
