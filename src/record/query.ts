/** Reading the recorded history back (the `log` CLI and tests). Opens the file read-only. */
import { BmsError } from "../core/errors.js";
import { decodeCells, decodeTemps, type TripPoint } from "./encode.js";
import { type Db, openSqlite } from "./sqlite.js";

export const EVENT_LEVELS = ["info", "warning", "alarm", "critical"] as const;
export type EventLevelName = (typeof EVENT_LEVELS)[number];

export interface StoredEvent {
  readonly id: number;
  readonly level: string;
  readonly type: string;
  readonly summary: string;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly count: number;
  readonly data: unknown;
}

export interface StoredSample {
  readonly tMs: number;
  readonly seq: number;
  readonly state: string;
  readonly socPct: number | null;
  readonly packMv: number | null;
  readonly currentMa: number | null;
  readonly cellMinMv: number | null;
  readonly cellMaxMv: number | null;
  readonly tempMinDeciC: number | null;
  readonly tempMaxDeciC: number | null;
  readonly chg: boolean;
  readonly dsg: boolean;
  readonly faults: number;
  readonly valid: boolean;
  readonly cellsMv: number[];
  readonly tempsDeciC: (number | null)[];
  readonly balancing: string;
}

export interface StoredMinute {
  readonly tMs: number;
  readonly n: number;
  readonly [column: string]: number | string | null;
}

export interface StoredTrip {
  readonly id: number;
  readonly eventId: number;
  readonly tMs: number;
  readonly code: string;
  readonly detail: string;
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly complete: boolean;
  readonly summary: string | null;
  readonly samples: TripPoint[];
}

export class HistoryReader {
  readonly db: Db;

  constructor(path: string) {
    this.db = openSqlite(path, { readonly: true, fileMustExist: true });
    const has = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (!has) {
      this.db.close();
      throw new BmsError("RECORD", `${path} is not a ups-bms history database`, { path });
    }
  }

  events(opts: { sinceMs?: number; minLevel?: EventLevelName; limit?: number } = {}): StoredEvent[] {
    const minRank = EVENT_LEVELS.indexOf(opts.minLevel ?? "info");
    const levels = EVENT_LEVELS.slice(minRank);
    const rows = this.db
      .prepare(
        `SELECT id, level, type, summary, first_ms, last_ms, count, data FROM events
         WHERE last_ms >= ? AND level IN (${levels.map(() => "?").join(",")})
         ORDER BY first_ms, id LIMIT ?`,
      )
      .all(opts.sinceMs ?? Number.MIN_SAFE_INTEGER, ...levels, opts.limit ?? -1) as {
      id: number;
      level: string;
      type: string;
      summary: string;
      first_ms: number;
      last_ms: number;
      count: number;
      data: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      level: r.level,
      type: r.type,
      summary: r.summary,
      firstMs: r.first_ms,
      lastMs: r.last_ms,
      count: r.count,
      data: JSON.parse(r.data),
    }));
  }

  *samples(fromMs: number, toMs: number): IterableIterator<StoredSample> {
    const stmt = this.db.prepare("SELECT * FROM samples WHERE t_ms >= ? AND t_ms <= ? ORDER BY t_ms");
    for (const raw of stmt.iterate(fromMs, toMs)) {
      const r = raw as Record<string, unknown>;
      yield {
        tMs: r.t_ms as number,
        seq: r.seq as number,
        state: r.state as string,
        socPct: r.soc_dpct === null ? null : (r.soc_dpct as number) / 10,
        packMv: r.pack_mv as number | null,
        currentMa: r.current_ma as number | null,
        cellMinMv: r.cell_min_mv as number | null,
        cellMaxMv: r.cell_max_mv as number | null,
        tempMinDeciC: r.temp_min_dc as number | null,
        tempMaxDeciC: r.temp_max_dc as number | null,
        chg: ((r.fets as number) & 1) !== 0,
        dsg: ((r.fets as number) & 2) !== 0,
        faults: r.faults as number,
        valid: r.valid === 1,
        cellsMv: decodeCells(r.cells as Uint8Array | null),
        tempsDeciC: decodeTemps(r.temps as Uint8Array | null),
        balancing: r.balancing as string,
      };
    }
  }

  *minutes(fromMs: number, toMs: number): IterableIterator<StoredMinute> {
    const stmt = this.db.prepare("SELECT * FROM minutes WHERE t_min >= ? AND t_min <= ? ORDER BY t_min");
    for (const raw of stmt.iterate(Math.floor(fromMs / 60_000), Math.floor(toMs / 60_000))) {
      const { t_min, ...rest } = raw as Record<string, number | string | null> & { t_min: number };
      yield { tMs: t_min * 60_000, ...rest } as StoredMinute;
    }
  }

  countSamples(fromMs: number, toMs: number): number {
    return (
      this.db
        .prepare("SELECT count(*) AS n FROM samples WHERE t_ms >= ? AND t_ms <= ?")
        .get(fromMs, toMs) as {
        n: number;
      }
    ).n;
  }

  trips(opts: { sinceMs?: number } = {}): StoredTrip[] {
    const rows = this.db
      .prepare(
        `SELECT t.*, e.summary FROM trips t LEFT JOIN events e ON e.id = t.event_id
         WHERE t.t_ms >= ? ORDER BY t.t_ms, t.id`,
      )
      .all(opts.sinceMs ?? Number.MIN_SAFE_INTEGER) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      eventId: r.event_id as number,
      tMs: r.t_ms as number,
      code: r.code as string,
      detail: r.detail as string,
      beforeMs: r.before_ms as number,
      afterMs: r.after_ms as number,
      complete: r.complete === 1,
      summary: (r.summary as string | null) ?? null,
      samples: JSON.parse(r.samples as string) as TripPoint[],
    }));
  }

  state(key = "bms"): { value: unknown; savedMs: number } | null {
    const row = this.db.prepare("SELECT value, saved_ms FROM state WHERE key = ?").get(key) as
      | { value: string; saved_ms: number }
      | undefined;
    return row ? { value: JSON.parse(row.value), savedMs: row.saved_ms } : null;
  }

  close(): void {
    this.db.close();
  }
}
