/**
 * Database layout and its migrations. Each migration runs once, in a transaction, and bumps
 * the version in `schema_version`; a database from a newer build is refused rather than
 * written with the wrong layout.
 */
import { BmsError } from "../core/errors.js";
import type { Db } from "./sqlite.js";

const MIGRATIONS: readonly string[] = [
  // 1: events, per-second samples, per-minute aggregates, trip captures, persisted state
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    summary TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    data TEXT NOT NULL
  );
  CREATE INDEX events_last ON events(last_ms);
  CREATE TABLE samples (
    t_ms INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    soc_dpct INTEGER,
    pack_mv INTEGER,
    current_ma INTEGER,
    cell_min_mv INTEGER,
    cell_max_mv INTEGER,
    temp_min_dc INTEGER,
    temp_max_dc INTEGER,
    fets INTEGER NOT NULL,
    faults INTEGER NOT NULL,
    valid INTEGER NOT NULL,
    cells BLOB,
    temps BLOB,
    balancing TEXT NOT NULL
  );
  CREATE TABLE minutes (
    t_min INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    pack_mv_min INTEGER, pack_mv_mean INTEGER, pack_mv_max INTEGER,
    current_ma_min INTEGER, current_ma_mean INTEGER, current_ma_max INTEGER,
    cell_min_mv INTEGER, cell_mean_mv INTEGER, cell_max_mv INTEGER,
    delta_mv_max INTEGER,
    temp_min_dc INTEGER, temp_max_dc INTEGER,
    soc_dpct_min INTEGER, soc_dpct_mean INTEGER, soc_dpct_max INTEGER,
    state TEXT NOT NULL,
    fault_ticks INTEGER NOT NULL
  );
  CREATE TABLE trips (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL,
    t_ms INTEGER NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL,
    before_ms INTEGER NOT NULL,
    after_ms INTEGER NOT NULL,
    complete INTEGER NOT NULL,
    samples TEXT NOT NULL
  );
  CREATE INDEX trips_t ON trips(t_ms);
  CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    saved_ms INTEGER NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Db): number {
  const has = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (!has) return 0;
  const row = db.prepare("SELECT max(version) AS v FROM schema_version").get() as { v: number | null };
  return row.v ?? 0;
}

/** Brings the database to SCHEMA_VERSION. */
export function migrate(db: Db, nowMs: number): void {
  const fresh = schemaVersion(db) === 0;
  if (fresh) {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_ms INTEGER NOT NULL)",
    );
  }
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION)
    throw new BmsError(
      "RECORD",
      `database schema version ${current} is newer than this build (${SCHEMA_VERSION}); refusing to write`,
    );
  for (let v = current + 1; v <= SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v - 1]!);
      db.prepare("INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)").run(v, nowMs);
    })();
  }
}
