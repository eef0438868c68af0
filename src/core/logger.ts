/**
 * A small injected logger. Messages may be functions so that hot paths pay for
 * formatting only when the level is enabled.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogMessage = string | (() => string);

export interface Logger {
  readonly level: LogLevel;
  debug(msg: LogMessage): void;
  info(msg: LogMessage): void;
  warn(msg: LogMessage): void;
  error(msg: LogMessage): void;
  /** A logger for a sub-namespace, e.g. `bms:hal:bq769x0`. */
  child(ns: string): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogSink = (level: Exclude<LogLevel, "silent">, ns: string, text: string) => void;

/** Writes `LEVEL ns: text` lines to stderr, so stdout stays free for data (JSON Lines, CSV). */
export const stderrSink: LogSink = (level, ns, text) => {
  process.stderr.write(`${level.toUpperCase().padEnd(5)} ${ns}: ${text}\n`);
};

export function createLogger(ns = "bms", level: LogLevel = "info", sink: LogSink = stderrSink): Logger {
  const enabled = (l: LogLevel): boolean => RANK[l] >= RANK[level];
  const emit = (l: Exclude<LogLevel, "silent">, msg: LogMessage): void => {
    if (!enabled(l)) return;
    sink(l, ns, typeof msg === "function" ? msg() : msg);
  };
  return {
    level,
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    child: (sub) => createLogger(`${ns}:${sub}`, level, sink),
  };
}

export const silentLogger: Logger = createLogger("bms", "silent");

/** Keeps every line in memory: for tests that assert on what was logged. */
export function createMemoryLogger(ns = "bms", level: LogLevel = "debug") {
  const lines: { level: string; ns: string; text: string }[] = [];
  const logger = createLogger(ns, level, (l, n, text) => lines.push({ level: l, ns: n, text }));
  return { logger, lines };
}
