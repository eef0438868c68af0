/**
 * The database side of the recorder: prepared statements, one transaction per commit,
 * retention and the size cap. Everything here may throw; the recorder contains it.
 */
import type { RecordConfig } from "../config/sections.js";
import type { MinuteRow, SampleRow } from "./encode.js";
import { migrate } from "./schema.js";
import { type Db, openSqlite } from "./sqlite.js";
import type { Statement } from "better-sqlite3";

export interface EventRow {
  readonly level: string;
  readonly type: string;
  readonly key: string;
  readonly summary: string;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly count: number;
  readonly data: string;
}

const MINUTE_STATS = ["pack_mv", "current_ma", "soc_dpct"] as const;
const MINUTE_COLUMNS = [
  "t_min",
  "n",
  ...MINUTE_STATS.flatMap((c) => [`${c}_min`, `${c}_mean`, `${c}_max`]),
  "cell_min_mv",
  "cell_mean_mv",
  "cell_max_mv",
  "delta_mv_max",
  "temp_min_dc",
  "temp_max_dc",
  "state",
  "fault_ticks",
];

const lower = (c: string) => `coalesce(min(${c}, excluded.${c}), ${c}, excluded.${c})`;
const upper = (c: string) => `coalesce(max(${c}, excluded.${c}), ${c}, excluded.${c})`;
const mean = (c: string) =>
  `coalesce(CAST(round((${c} * n + excluded.${c} * excluded.n) * 1.0 / (n + excluded.n)) AS INTEGER), ${c}, excluded.${c})`;

/** A minute written at a clean stop and continued after a restart is merged, not replaced. */
const MINUTE_UPSERT = `INSERT INTO minutes (${MINUTE_COLUMNS.join(", ")})
  VALUES (${MINUTE_COLUMNS.map((c) => `@${c}`).join(", ")})
  ON CONFLICT(t_min) DO UPDATE SET
    ${[
      ...MINUTE_STATS.flatMap((c) => [
        `${c}_min = ${lower(`${c}_min`)}`,
        `${c}_mean = ${mean(`${c}_mean`)}`,
        `${c}_max = ${upper(`${c}_max`)}`,
      ]),
      `cell_min_mv = ${lower("cell_min_mv")}`,
      `cell_mean_mv = ${mean("cell_mean_mv")}`,
      `cell_max_mv = ${upper("cell_max_mv")}`,
      `delta_mv_max = ${upper("delta_mv_max")}`,
      `temp_min_dc = ${lower("temp_min_dc")}`,
      `temp_max_dc = ${upper("temp_max_dc")}`,
      "state = excluded.state",
      "fault_ticks = fault_ticks + excluded.fault_ticks",
      "n = n + excluded.n",
    ].join(",\n    ")}`;

export interface CapReport {
  readonly usedBytes: number;
  readonly fileBytes: number;
  readonly prunedRows: number;
}

export class RecordStore {
  readonly db: Db;
  private readonly insertEvent: Statement;
  private readonly bumpEvent: Statement;
  private readonly insertSample: Statement;
  private readonly upsertMinute: Statement;
  private readonly insertTrip: Statement;
  private readonly updateTrip: Statement;
  private readonly upsertState: Statement;
  private readonly capBytes: number;
  private readonly walReserveBytes: number;

  constructor(
    path: string,
    private readonly config: RecordConfig,
    nowWallMs: number,
    onOpen?: (db: Db) => void,
  ) {
    const db = openSqlite(path);
    this.db = db;
    try {
      // Only takes effect on a new file, and only before WAL and the first table: lets a
      // lowered size cap hand pages back to the file system.
      db.pragma("auto_vacuum = INCREMENTAL");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${config.synchronous === "full" ? "FULL" : "NORMAL"}`);
      db.pragma("busy_timeout = 2000");
      this.capBytes = config.maxSizeMb * 1024 * 1024;
      // The WAL counts against the cap: checkpoint early and truncate it back afterwards.
      this.walReserveBytes = Math.min(16 * 1024 * 1024, Math.max(64 * 1024, this.capBytes * 0.1));
      const pageSize = db.pragma("page_size", { simple: true }) as number;
      // Checkpoint at half the reserve: one commit past the threshold still fits.
      db.pragma(
        `wal_autocheckpoint = ${Math.max(8, Math.min(1000, Math.floor(this.walReserveBytes / 2 / pageSize)))}`,
      );
      db.pragma(`journal_size_limit = ${Math.floor(this.walReserveBytes)}`);
      migrate(db, nowWallMs);
      onOpen?.(db);
      this.insertEvent = db.prepare(
        "INSERT INTO events (level, type, key, summary, first_ms, last_ms, count, data) VALUES (@level, @type, @key, @summary, @firstMs, @lastMs, @count, @data)",
      );
      this.bumpEvent = db.prepare(
        "UPDATE events SET last_ms = @lastMs, count = count + @count, data = @data, summary = @summary WHERE id = @id",
      );
      this.insertSample = db.prepare(
        `INSERT OR REPLACE INTO samples (t_ms, seq, state, soc_dpct, pack_mv, current_ma, cell_min_mv, cell_max_mv, temp_min_dc, temp_max_dc, fets, faults, valid, cells, temps, balancing)
         VALUES (@t_ms, @seq, @state, @soc_dpct, @pack_mv, @current_ma, @cell_min_mv, @cell_max_mv, @temp_min_dc, @temp_max_dc, @fets, @faults, @valid, @cells, @temps, @balancing)`,
      );
      this.upsertMinute = db.prepare(MINUTE_UPSERT);
      this.insertTrip = db.prepare(
        "INSERT INTO trips (event_id, t_ms, code, detail, before_ms, after_ms, complete, samples) VALUES (@eventId, @tMs, @code, @detail, @beforeMs, @afterMs, @complete, @samples)",
      );
      this.updateTrip = db.prepare(
        "UPDATE trips SET complete = @complete, samples = @samples WHERE id = @id",
      );
      this.upsertState = db.prepare(
        "INSERT INTO state (key, value, saved_ms) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, saved_ms = excluded.saved_ms",
      );
    } catch (err) {
      db.close();
      throw err;
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  addEvent(e: EventRow): number {
    return Number(this.insertEvent.run(e).lastInsertRowid);
  }

  repeatEvent(id: number, e: EventRow): void {
    this.bumpEvent.run({ id, lastMs: e.lastMs, count: e.count, data: e.data, summary: e.summary });
  }

  addSample(r: SampleRow): void {
    this.insertSample.run(r);
  }

  addMinute(r: MinuteRow): void {
    this.upsertMinute.run(r);
  }

  addTrip(t: {
    eventId: number;
    tMs: number;
    code: string;
    detail: string;
    beforeMs: number;
    afterMs: number;
    complete: boolean;
    samples: string;
  }): number {
    return Number(this.insertTrip.run({ ...t, complete: t.complete ? 1 : 0 }).lastInsertRowid);
  }

  setTrip(id: number, complete: boolean, samples: string): void {
    this.updateTrip.run({ id, complete: complete ? 1 : 0, samples });
  }

  saveState(key: string, value: unknown, savedMs: number): void {
    this.upsertState.run(key, JSON.stringify(value), savedMs);
  }

  loadState(key: string): { value: unknown; savedMs: number } | null {
    const row = this.db.prepare("SELECT value, saved_ms FROM state WHERE key = ?").get(key) as
      | { value: string; saved_ms: number }
      | undefined;
    return row ? { value: JSON.parse(row.value), savedMs: row.saved_ms } : null;
  }

  /** Drops rows past their retention time. */
  expire(nowWallMs: number): number {
    const c = this.config;
    let n = 0;
    n += this.db
      .prepare("DELETE FROM samples WHERE t_ms < ?")
      .run(nowWallMs - c.sampleWindowS * 1000).changes;
    const keepFrom = nowWallMs - c.aggregateRetentionDays * 86_400_000;
    n += this.db.prepare("DELETE FROM minutes WHERE t_min < ?").run(Math.floor(keepFrom / 60_000)).changes;
    n += this.db.prepare("DELETE FROM trips WHERE t_ms < ?").run(keepFrom).changes;
    return n;
  }

  sizes(): { usedBytes: number; fileBytes: number } {
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return { usedBytes: (pages - free) * pageSize, fileBytes: pages * pageSize };
  }

  /**
   * Keeps the file under the cap: above 90 % of the budget, the least valuable history goes
   * first (old per-second samples, then old trip captures, old minute aggregates, old info
   * events) until 75 % is reached. Freed pages are reused, so the file stops growing.
   */
  enforceCap(): CapReport {
    const budget = this.capBytes - this.walReserveBytes;
    let { usedBytes, fileBytes } = this.sizes();
    let pruned = 0;
    if (usedBytes > budget * 0.9) {
      const target = budget * 0.75;
      const steps: (() => number)[] = [
        () => this.deleteOldest("samples", "t_ms", "t_ms < (SELECT max(t_ms) - 3600000 FROM samples)"),
        () =>
          this.deleteOldest("trips", "t_ms", "id NOT IN (SELECT id FROM trips ORDER BY t_ms DESC LIMIT 5)"),
        () => this.deleteOldest("minutes", "t_min", "1"),
        () => this.deleteOldest("events", "last_ms", "level = 'info'"),
        () => this.deleteOldest("samples", "t_ms", "1"),
        () => this.deleteOldest("trips", "t_ms", "1"),
        () =>
          this.deleteOldest(
            "events",
            "last_ms",
            "id NOT IN (SELECT id FROM events ORDER BY last_ms DESC LIMIT 100)",
          ),
      ];
      for (let guard = 0; guard < 500 && usedBytes > target; guard++) {
        let deleted = 0;
        for (const step of steps) {
          deleted = step();
          if (deleted > 0) break;
        }
        if (deleted === 0) break;
        pruned += deleted;
        ({ usedBytes, fileBytes } = this.sizes());
      }
    }
    if (fileBytes > budget) {
      // Only after the cap was lowered (or a burst): give free pages back to the file system.
      this.db.pragma("incremental_vacuum");
      ({ usedBytes, fileBytes } = this.sizes());
    }
    return { usedBytes, fileBytes, prunedRows: pruned };
  }

  private deleteOldest(table: string, orderBy: string, where: string): number {
    const total = (
      this.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get() as { n: number }
    ).n;
    if (total === 0) return 0;
    const chunk = Math.max(50, Math.ceil(total / 10));
    return this.db
      .prepare(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${where} ORDER BY ${orderBy} LIMIT ?)`,
      )
      .run(chunk).changes;
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      this.db.close();
    }
  }
}
