/**
 * The database side of the recorder as one synchronous unit: it takes a batch, commits it in
 * one transaction, keeps the repeat-folding keys and trip row ids, and runs retention and the
 * size cap. It never throws: failures come back as a result. The recorder runs it inline
 * (tests, the crash writer) or inside a worker thread so commits and fsyncs never block the loop.
 */
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import type { RecordConfig } from "../config/sections.js";
import type { MinuteRow, SampleRow } from "./encode.js";
import { RecordStore } from "./store.js";
import type { Db } from "./sqlite.js";

export const STATE_KEY = "bms";
const EXPIRE_EVERY_MS = 60_000;

export interface BatchEvent {
  readonly localId: number;
  readonly key: string;
  readonly level: string;
  readonly type: string;
  readonly summary: string;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly count: number;
  readonly data: string;
  /** A trip event: its row id is kept for the capture written later. */
  readonly trip: boolean;
}

export interface BatchCapture {
  readonly localId: number;
  readonly eventLocalId: number;
  readonly tMs: number;
  readonly code: string;
  readonly detail: string;
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly complete: boolean;
  readonly samples: string;
}

export interface WriteBatch {
  readonly wallMs: number;
  readonly events: readonly BatchEvent[];
  readonly samples: readonly SampleRow[];
  readonly minutes: readonly MinuteRow[];
  readonly captures: readonly BatchCapture[];
  readonly state?: unknown;
  /** Set on the first commit after a failure: a note about the outage goes into the log. */
  readonly recovery?: { readonly failures: number; readonly droppedSamples: number };
}

export type WriteResult =
  | { readonly ok: true; readonly prunedRows: number; readonly fileBytes: number; readonly ms: number }
  | { readonly ok: false; readonly message: string; readonly sqliteCode: string };

export interface RestoreResult {
  readonly ok: boolean;
  readonly state: { value: unknown; savedMs: number } | null;
  readonly message?: string;
  readonly sqliteCode?: string;
}

/** SQLite codes after which the connection itself is still good (the next retry reuses it). */
const KEEP_CONNECTION = new Set(["SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED"]);
const CORRUPT = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

export function sqliteCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
    const d = (e as { details?: { sqliteCode?: unknown } }).details?.sqliteCode;
    if (typeof d === "string" && d.startsWith("SQLITE_")) return d;
    e = (e as { cause?: unknown }).cause;
  }
  return "";
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class HistoryWriter {
  private store: RecordStore | null = null;
  private readonly committedKeys = new Map<string, { id: number; lastMs: number }>();
  private readonly tripEventRows = new Map<number, number>();
  private readonly captureRows = new Map<number, number>();
  private lastExpireMs = Number.NEGATIVE_INFINITY;
  private noteSeq = 0;
  /** Set when a corrupt file was moved aside (the recorder logs it). */
  quarantined: string | null = null;

  constructor(
    private readonly path: string,
    private readonly config: RecordConfig,
    private readonly onOpen?: (db: Db) => void,
  ) {}

  get db(): Db | null {
    return this.store?.db ?? null;
  }

  private open(wallMs: number): RecordStore {
    if (this.store) return this.store;
    mkdirSync(dirname(this.path), { recursive: true });
    try {
      this.store = new RecordStore(this.path, this.config, wallMs, this.onOpen);
    } catch (err) {
      if (!CORRUPT.has(sqliteCode(err))) throw err;
      const stamp = new Date(wallMs).toISOString().replace(/[:.]/g, "-");
      for (const suffix of ["", "-wal", "-shm"])
        if (existsSync(this.path + suffix))
          renameSync(this.path + suffix, `${this.path}.corrupt-${stamp}${suffix}`);
      this.quarantined = `${this.path}.corrupt-${stamp}`;
      this.store = new RecordStore(this.path, this.config, wallMs, this.onOpen);
    }
    return this.store;
  }

  private failed(err: unknown): { ok: false; message: string; sqliteCode: string } {
    const code = sqliteCode(err);
    if (this.store && !KEEP_CONNECTION.has(code)) {
      try {
        this.store.db.close();
      } catch {
        // the connection is being dropped anyway
      }
      this.store = null;
    }
    return { ok: false, message: message(err), sqliteCode: code };
  }

  restore(wallMs: number): RestoreResult {
    try {
      return { ok: true, state: this.open(wallMs).loadState(STATE_KEY) };
    } catch (err) {
      const f = this.failed(err);
      return { ok: false, state: null, message: f.message, sqliteCode: f.sqliteCode };
    }
  }

  write(batch: WriteBatch): WriteResult {
    const t0 = performance.now();
    const window = this.config.repeatWindowS * 1000;
    const keys = new Map<string, { id: number; lastMs: number }>();
    const tripRows = new Map<number, number>();
    const captureRows = new Map<number, number>();
    let st: RecordStore;
    try {
      st = this.open(batch.wallMs);
      st.transaction(() => {
        for (const ev of batch.events) {
          const known = keys.get(ev.key) ?? this.committedKeys.get(ev.key);
          let id: number;
          if (known && window > 0 && ev.firstMs - known.lastMs <= window) {
            id = known.id;
            st.repeatEvent(id, ev);
          } else id = st.addEvent(ev);
          keys.set(ev.key, { id, lastMs: ev.lastMs });
          if (ev.trip) tripRows.set(ev.localId, id);
        }
        if (batch.recovery) {
          const r = batch.recovery;
          st.addEvent({
            level: "info",
            type: "record",
            key: `record|recovered|${this.noteSeq++}`,
            summary: `recording recovered after ${r.failures} failed commits; ${r.droppedSamples} samples dropped`,
            firstMs: batch.wallMs,
            lastMs: batch.wallMs,
            count: 1,
            data: JSON.stringify(r),
          });
        }
        for (const s of batch.samples) st.addSample(s);
        for (const m of batch.minutes) st.addMinute(m);
        for (const c of batch.captures) {
          const row = captureRows.get(c.localId) ?? this.captureRows.get(c.localId);
          if (row === undefined) {
            const eventId = tripRows.get(c.eventLocalId) ?? this.tripEventRows.get(c.eventLocalId) ?? 0;
            captureRows.set(c.localId, st.addTrip({ ...c, eventId }));
          } else st.setTrip(row, c.complete, c.samples);
        }
        if (batch.state !== undefined) st.saveState(STATE_KEY, batch.state, batch.wallMs);
      });
    } catch (err) {
      return this.failed(err);
    }
    // Committed: only now do the caches move on.
    for (const [k, v] of keys) this.committedKeys.set(k, v);
    if (this.committedKeys.size > 4096)
      for (const [k, v] of this.committedKeys)
        if (batch.wallMs - v.lastMs > window) this.committedKeys.delete(k);
    for (const [l, id] of tripRows) this.tripEventRows.set(l, id);
    for (const [l, id] of captureRows) this.captureRows.set(l, id);
    for (const c of batch.captures) {
      if (!c.complete) continue;
      this.captureRows.delete(c.localId);
      this.tripEventRows.delete(c.eventLocalId);
    }
    let prunedRows = 0;
    let fileBytes = 0;
    try {
      if (batch.wallMs - this.lastExpireMs >= EXPIRE_EVERY_MS) {
        this.lastExpireMs = batch.wallMs;
        prunedRows += st.expire(batch.wallMs);
      }
      // Cheap (three pragmas) unless over the threshold, so checked after every commit.
      const cap = st.enforceCap();
      prunedRows += cap.prunedRows;
      fileBytes = cap.fileBytes;
    } catch {
      // Maintenance is retried after the next commit; the data above is safe.
    }
    return { ok: true, prunedRows, fileBytes, ms: performance.now() - t0 };
  }

  close(): void {
    const st = this.store;
    this.store = null;
    st?.close();
  }
}
