import type { BmsError } from "../core/errors.js";
import type { BmsEvent } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import type { Counters } from "../monitor/types.js";
import type { Clock } from "../time/clock.js";
import type { Db } from "./sqlite.js";

/** What the recorder needs from the loop: the Bms satisfies it, and so do test doubles. */
export interface RecordableBms {
  onSnapshot(listener: (s: BmsSnapshot) => void): () => void;
  onEvent(listener: (e: BmsEvent) => void): () => void;
  /** Stage state to persist (Bms.exportState); without it only counters are kept. */
  exportState?(): { readonly monitor: unknown; readonly protection: unknown };
}

export interface RecorderDeps {
  readonly logger: Logger;
  /** The loop's clock: snapshot and event times are on it. */
  readonly clock: Clock;
  /** Wall time, ms since the epoch (default Date.now); the database stores wall times. */
  readonly wallNowMs?: () => number;
  /** Start a commit timer in attach() (default true). Tests call poll()/flush() themselves. */
  readonly autoFlush?: boolean;
  /**
   * Where commits run: "worker" (default) keeps SQLite and its fsyncs off the loop's thread;
   * "inline" commits synchronously inside flush() (tests, tools).
   */
  readonly writer?: "worker" | "inline";
  /** Inline writer only: called with each newly opened connection (tests simulate a full disk). */
  readonly onOpen?: (db: Db) => void;
}

/** State found in the database at start-up, to hand to the stages before the first tick. */
export interface RestoredState {
  readonly monitor?: unknown;
  readonly protection?: unknown;
  readonly counters?: Counters;
  /** Snapshot sequence number and wall time of the persisted state. */
  readonly seq?: number;
  readonly savedAtMs: number;
}

export interface RecorderStats {
  readonly flushes: number;
  readonly failedFlushes: number;
  readonly committedEvents: number;
  readonly committedSamples: number;
  readonly committedMinutes: number;
  readonly committedTrips: number;
  readonly bufferedEvents: number;
  readonly bufferedSamples: number;
  /** Per-second samples (and minute rows) dropped because the database could not take them. */
  readonly droppedSamples: number;
  readonly droppedMinutes: number;
  /** Trips not captured because too many captures were open at once. */
  readonly skippedTrips: number;
  readonly prunedRows: number;
  /** Wall time of the last commit that succeeded. */
  readonly lastCommitWallMs: number | null;
  /** Duration of the last flush, ms. */
  readonly lastFlushMs: number;
  readonly fileBytes: number;
}

export interface Recorder {
  /** False while the database cannot be written (show the `recording` fault). */
  readonly healthy: boolean;
  readonly lastError: BmsError | null;
  readonly stats: RecorderStats;
  /** Subscribes to the loop. Returns a detach function. */
  attach(bms: RecordableBms): () => void;
  /** Records an event that did not come through the loop (e.g. a config change by the CLI). */
  record(e: BmsEvent): void;
  /** Persisted stage state and counters, or null when there is none (or no database). */
  restore(): RestoredState | null;
  /**
   * Commits everything buffered now. Never throws. Inline: false when the commit failed.
   * Worker: false when a commit is still in flight (the data waits for the next one).
   */
  flush(): boolean;
  /** Resolves once no commit is in flight (worker mode; at once inline). */
  whenIdle(): Promise<void>;
  /** What the commit timer calls: flushes when due, respecting the retry back-off. */
  poll(): void;
  /** Called when recording fails (a BmsEvent of type "error", where "record"). */
  onProblem(listener: (e: BmsEvent) => void): () => void;
  /** Final commit, then closes the database (and the worker). Inline mode finishes synchronously. */
  close(): Promise<void>;
}
