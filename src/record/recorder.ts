/**
 * The recorder: listeners that only buffer (they run inside the tick), and a commit step
 * that writes the buffers in one SQLite transaction on its own schedule. Any database
 * failure is contained here: the loop keeps running, the recorder turns unhealthy, raises a
 * problem event and retries with back-off, dropping the oldest samples (never events).
 */
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { BmsConfig } from "../config/schema.js";
import { BmsError } from "../core/errors.js";
import { type BmsEvent, eventLevel } from "../core/events.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { MinuteAggregator, type MinuteRow, sampleRow, type TripPoint, tripPoint } from "./encode.js";
import { eventKey, eventSummary, isTrip } from "./event-key.js";
import { RecordStore } from "./store.js";
import type { RecordableBms, Recorder, RecorderDeps, RecorderStats, RestoredState } from "./types.js";

const MAX_BACKOFF_MS = 60_000;
const MAINTENANCE_EVERY_MS = 60_000;
const MAX_OPEN_CAPTURES = 16;
const MAX_BUFFERED_MINUTES = 7 * 1440;
const STATE_KEY = "bms";

interface PendingEvent {
  readonly key: string;
  readonly level: string;
  readonly type: string;
  summary: string;
  readonly firstMs: number;
  lastMs: number;
  count: number;
  data: string;
  rowId?: number;
}

interface Capture {
  readonly event: PendingEvent;
  readonly code: string;
  readonly detail: string;
  readonly tripClockMs: number;
  readonly wallMs: number;
  readonly points: TripPoint[];
  lastCollectedMs: number;
  complete: boolean;
  rowId?: number;
}

/** SQLite codes after which the connection itself is still good (the next retry reuses it). */
const KEEP_CONNECTION = new Set(["SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED"]);
const CORRUPT = new Set(["SQLITE_CORRUPT", "SQLITE_NOTADB"]);

function sqliteCode(err: unknown): string {
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

export function createRecorder(config: BmsConfig, deps: RecorderDeps): Recorder {
  const cfg = config.record;
  const log = deps.logger.child("record");
  const clock = deps.clock;
  const wallNow = deps.wallNowMs ?? (() => Date.now());
  const path = resolve(cfg.path);
  const windowMs = cfg.repeatWindowS * 1000;
  const captureMs = cfg.tripCaptureS * 1000;
  let wallOffsetMs = wallNow() - clock.nowMs();
  const toWall = (clockMs: number): number => wallOffsetMs + clockMs;

  let store: RecordStore | null = null;
  let healthy = true;
  let lastError: BmsError | null = null;
  let failures = 0;
  let nextAttemptMs = Number.NEGATIVE_INFINITY;
  let lastMaintenanceMs = Number.NEGATIVE_INFINITY;
  let closed = false;
  let timer: ReturnType<typeof setInterval> | null = null;
  let source: RecordableBms | null = null;
  const detachers: (() => void)[] = [];
  const problemListeners = new Set<(e: BmsEvent) => void>();

  // Buffers filled inside the tick.
  let pendingEvents: PendingEvent[] = [];
  const pendingByKey = new Map<string, PendingEvent>();
  let samples: { s: BmsSnapshot; wallMs: number }[] = [];
  let minutes: MinuteRow[] = [];
  const captures: Capture[] = [];
  const aggregator = new MinuteAggregator();
  let latest: BmsSnapshot | null = null;
  let lastSecond = Number.NaN;
  let uniq = 0;
  const committedKeys = new Map<string, { id: number; lastMs: number }>();

  // Raw snapshots for trip captures: enough for the pre-trip window plus a few commits.
  const ringSize =
    captureMs > 0
      ? Math.ceil((captureMs + 4 * cfg.commitIntervalMs + MAX_BACKOFF_MS) / config.loop.periodMs) + 8
      : 0;
  const ring: (BmsSnapshot | undefined)[] = new Array(ringSize);
  let ringPos = 0;

  const stats = {
    flushes: 0,
    failedFlushes: 0,
    committedEvents: 0,
    committedSamples: 0,
    committedMinutes: 0,
    committedTrips: 0,
    droppedSamples: 0,
    droppedMinutes: 0,
    skippedTrips: 0,
    prunedRows: 0,
    lastCommitWallMs: null as number | null,
    lastFlushMs: 0,
    fileBytes: 0,
  };
  let droppedAtFailure = 0;

  function record(e: BmsEvent): void {
    if (closed) return;
    const wallMs = toWall(e.tMs);
    const key = eventKey(e, uniq++);
    const data = JSON.stringify(e);
    const summary = eventSummary(e);
    const same = pendingByKey.get(key);
    let entry: PendingEvent;
    if (same && windowMs > 0 && wallMs - same.lastMs <= windowMs) {
      same.count++;
      same.lastMs = wallMs;
      same.data = data;
      same.summary = summary;
      entry = same;
    } else {
      entry = {
        key,
        level: eventLevel(e),
        type: e.type,
        summary,
        firstMs: wallMs,
        lastMs: wallMs,
        count: 1,
        data,
      };
      pendingEvents.push(entry);
      pendingByKey.set(key, entry);
    }
    if (captureMs > 0 && isTrip(e)) {
      if (captures.length >= MAX_OPEN_CAPTURES) stats.skippedTrips++;
      else
        captures.push({
          event: entry,
          code: e.code,
          detail: e.detail ?? "",
          tripClockMs: e.tMs,
          wallMs,
          points: [],
          lastCollectedMs: e.tMs - captureMs - 1,
          complete: false,
        });
    }
  }

  function onSnapshot(s: BmsSnapshot): void {
    latest = s;
    if (ringSize > 0) {
      ring[ringPos] = s;
      ringPos = (ringPos + 1) % ringSize;
    }
    const wallMs = toWall(s.timestampMs);
    const second = Math.floor(wallMs / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      samples.push({ s, wallMs });
      const excess = samples.length - cfg.maxBufferedSamples;
      // Trimmed in blocks so the tick pays O(1) amortised.
      if (excess >= 64) {
        samples.splice(0, excess);
        stats.droppedSamples += excess;
      }
    }
    const done = aggregator.add(s, wallMs);
    if (done) {
      minutes.push(done);
      if (minutes.length > MAX_BUFFERED_MINUTES) {
        minutes.shift();
        stats.droppedMinutes++;
      }
    }
  }

  /** Moves raw snapshots from the ring into the open captures (in memory only). */
  function collect(): void {
    if (captures.length === 0 || ringSize === 0) return;
    const newestMs = latest?.timestampMs ?? Number.NEGATIVE_INFINITY;
    for (const c of captures) {
      if (c.complete) continue;
      const endMs = c.tripClockMs + captureMs;
      for (let i = 0; i < ringSize; i++) {
        const s = ring[(ringPos + i) % ringSize];
        if (!s || s.timestampMs <= c.lastCollectedMs || s.timestampMs > endMs) continue;
        c.points.push(tripPoint(s, c.tripClockMs));
        c.lastCollectedMs = s.timestampMs;
      }
      if (newestMs >= endMs) c.complete = true;
    }
  }

  function emitProblem(e: BmsEvent): void {
    for (const l of problemListeners) {
      try {
        l(e);
      } catch (err) {
        log.error(`problem listener failed: ${(err as Error).message}`);
      }
    }
  }

  function fail(err: unknown): false {
    const code = sqliteCode(err);
    const e =
      err instanceof BmsError && err.code === "RECORD"
        ? err
        : new BmsError("RECORD", `recording failed: ${(err as Error)?.message ?? String(err)}`, {
            cause: err,
            path,
            details: { sqliteCode: code },
          });
    failures++;
    stats.failedFlushes++;
    lastError = e;
    const nowMs = clock.nowMs();
    const backoffMs = Math.min(MAX_BACKOFF_MS, cfg.commitIntervalMs * 2 ** Math.min(failures - 1, 16));
    nextAttemptMs = nowMs + backoffMs;
    if (store && !KEEP_CONNECTION.has(code)) {
      try {
        store.db.close();
      } catch {
        // the connection is being dropped anyway
      }
      store = null;
    }
    if (healthy) {
      healthy = false;
      droppedAtFailure = stats.droppedSamples;
      log.error(`${e.message} (${code || e.code}); the loop keeps running, retrying with back-off`);
      const problem: BmsEvent = {
        type: "error",
        tMs: nowMs,
        where: "record",
        code: e.code,
        message: e.message,
      };
      record(problem);
      emitProblem(problem);
    } else {
      log.debug(() => `recording still failing (${code || e.code}), next try in ${backoffMs} ms`);
    }
    return false;
  }

  function quarantine(): void {
    const stamp = new Date(wallNow()).toISOString().replace(/[:.]/g, "-");
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(path + suffix)) renameSync(path + suffix, `${path}.corrupt-${stamp}${suffix}`);
    }
    log.error(`database ${path} is corrupt; moved aside as ${path}.corrupt-${stamp}, starting a new one`);
  }

  function ensureOpen(): boolean {
    if (store) return true;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        mkdirSync(dirname(path), { recursive: true });
        store = new RecordStore(path, cfg, wallNow(), deps.onOpen);
        return true;
      } catch (err) {
        if (attempt === 0 && CORRUPT.has(sqliteCode(err))) {
          try {
            quarantine();
            continue;
          } catch (moveErr) {
            return fail(moveErr);
          }
        }
        return fail(err);
      }
    }
    return false;
  }

  function stageState(): unknown {
    if (!latest && !source?.exportState) return undefined;
    let stages: { monitor: unknown; protection: unknown } | undefined;
    try {
      stages = source?.exportState?.() as { monitor: unknown; protection: unknown } | undefined;
    } catch (err) {
      log.warn(`could not export stage state: ${(err as Error).message}`);
    }
    return {
      monitor: stages?.monitor,
      protection: stages?.protection,
      counters: latest?.estimates.counters,
      seq: latest?.seq,
    };
  }

  function maintain(): void {
    const nowMs = clock.nowMs();
    if (!store) return;
    try {
      if (nowMs - lastMaintenanceMs >= MAINTENANCE_EVERY_MS) {
        lastMaintenanceMs = nowMs;
        stats.prunedRows += store.expire(toWall(nowMs));
      }
      // Cheap (three pragmas) unless over the threshold, so checked after every commit.
      const cap = store.enforceCap();
      stats.prunedRows += cap.prunedRows;
      stats.fileBytes = cap.fileBytes;
      if (cap.prunedRows > 0)
        log.info(`size cap: removed ${cap.prunedRows} oldest history rows (${cfg.maxSizeMb} MB cap)`);
    } catch (err) {
      log.warn(`history maintenance failed: ${(err as Error).message}`);
    }
  }

  function flush(): boolean {
    if (closed) return false;
    collect();
    if (!ensureOpen()) return false;
    const t0 = performance.now();
    const st = store!;
    const eventIds = new Map<PendingEvent, number>();
    const captureIds = new Map<Capture, number>();
    const keys = new Map<string, { id: number; lastMs: number }>();
    const state = stageState();
    const wallMs = wallNow();
    const recovering = !healthy;
    try {
      st.transaction(() => {
        for (const ev of pendingEvents) {
          const known = keys.get(ev.key) ?? committedKeys.get(ev.key);
          let id: number;
          if (known && windowMs > 0 && ev.firstMs - known.lastMs <= windowMs) {
            id = known.id;
            st.repeatEvent(id, ev);
          } else id = st.addEvent(ev);
          eventIds.set(ev, id);
          keys.set(ev.key, { id, lastMs: ev.lastMs });
        }
        if (recovering) {
          const dropped = stats.droppedSamples - droppedAtFailure;
          st.addEvent({
            level: "info",
            type: "record",
            key: `record|recovered|${uniq++}`,
            summary: `recording recovered after ${failures} failed commits; ${dropped} samples dropped`,
            firstMs: wallMs,
            lastMs: wallMs,
            count: 1,
            data: JSON.stringify({ failures, droppedSamples: dropped }),
          });
        }
        for (const x of samples) st.addSample(sampleRow(x.s, x.wallMs));
        for (const m of minutes) st.addMinute(m);
        for (const c of captures) {
          const text = JSON.stringify(c.points);
          if (c.rowId === undefined) {
            const eventId = eventIds.get(c.event) ?? c.event.rowId ?? 0;
            captureIds.set(
              c,
              st.addTrip({
                eventId,
                tMs: Math.round(c.wallMs),
                code: c.code,
                detail: c.detail,
                beforeMs: captureMs,
                afterMs: captureMs,
                complete: c.complete,
                samples: text,
              }),
            );
          } else st.setTrip(c.rowId, c.complete, text);
        }
        if (state !== undefined) st.saveState(STATE_KEY, state, wallMs);
      });
    } catch (err) {
      return fail(err);
    }
    // Committed: only now do the buffers and caches move on.
    for (const [ev, id] of eventIds) ev.rowId = id;
    for (const [c, id] of captureIds) c.rowId = id;
    for (const [k, v] of keys) committedKeys.set(k, v);
    if (committedKeys.size > 4096) {
      for (const [k, v] of committedKeys) if (wallMs - v.lastMs > windowMs) committedKeys.delete(k);
    }
    stats.committedEvents += pendingEvents.length;
    stats.committedSamples += samples.length;
    stats.committedMinutes += minutes.length;
    for (let i = captures.length - 1; i >= 0; i--) {
      if (captures[i]!.complete) {
        captures.splice(i, 1);
        stats.committedTrips++;
      }
    }
    pendingEvents = [];
    pendingByKey.clear();
    samples = [];
    minutes = [];
    stats.flushes++;
    stats.lastCommitWallMs = wallMs;
    if (recovering) {
      log.info(`recording recovered after ${failures} failed commits`);
      healthy = true;
      lastError = null;
    }
    failures = 0;
    nextAttemptMs = Number.NEGATIVE_INFINITY;
    maintain();
    stats.lastFlushMs = performance.now() - t0;
    return true;
  }

  function poll(): void {
    if (closed) return;
    if (!deps.wallNowMs) {
      // A wall clock stepped by NTP (a Pi has no RTC) moves later records to the right time.
      const offset = wallNow() - clock.nowMs();
      if (Math.abs(offset - wallOffsetMs) > 2000) wallOffsetMs = offset;
    }
    collect();
    if (clock.nowMs() >= nextAttemptMs) flush();
  }

  function restore(): RestoredState | null {
    if (closed || !ensureOpen()) return null;
    try {
      const row = store!.loadState(STATE_KEY);
      if (!row) return null;
      const v = (row.value ?? {}) as Record<string, unknown>;
      return {
        ...(v.monitor !== undefined ? { monitor: v.monitor } : {}),
        ...(v.protection !== undefined ? { protection: v.protection } : {}),
        ...(v.counters !== undefined ? { counters: v.counters as RestoredState["counters"] } : {}),
        ...(typeof v.seq === "number" ? { seq: v.seq } : {}),
        savedAtMs: row.savedMs,
      };
    } catch (err) {
      fail(err);
      return null;
    }
  }

  function detach(): void {
    for (const d of detachers.splice(0)) d();
    if (timer) clearInterval(timer);
    timer = null;
    source = null;
  }

  const recorder: Recorder = {
    get healthy() {
      return healthy;
    },
    get lastError() {
      return lastError;
    },
    get stats(): RecorderStats {
      return {
        ...stats,
        bufferedEvents: pendingEvents.length,
        bufferedSamples: samples.length,
      };
    },
    attach(bms) {
      if (source) detach();
      source = bms;
      detachers.push(bms.onSnapshot(onSnapshot), bms.onEvent(record));
      if (deps.autoFlush ?? true) {
        timer = setInterval(poll, cfg.commitIntervalMs);
        timer.unref?.();
      }
      return detach;
    },
    record,
    restore,
    flush,
    poll,
    onProblem(listener) {
      problemListeners.add(listener);
      return () => problemListeners.delete(listener);
    },
    close() {
      if (closed) return;
      const exporter = source;
      detach();
      source = exporter;
      const partial = aggregator.partial();
      if (partial) minutes.push(partial);
      flush();
      source = null;
      closed = true;
      try {
        store?.close();
      } catch (err) {
        log.warn(`closing the database failed: ${(err as Error).message}`);
      }
      store = null;
    },
  };
  return recorder;
}

/** A recorder that records nothing (record.enabled = false). */
export function createNullRecorder(): Recorder {
  const stats: RecorderStats = {
    flushes: 0,
    failedFlushes: 0,
    committedEvents: 0,
    committedSamples: 0,
    committedMinutes: 0,
    committedTrips: 0,
    bufferedEvents: 0,
    bufferedSamples: 0,
    droppedSamples: 0,
    droppedMinutes: 0,
    skippedTrips: 0,
    prunedRows: 0,
    lastCommitWallMs: null,
    lastFlushMs: 0,
    fileBytes: 0,
  };
  return {
    healthy: true,
    lastError: null,
    stats,
    attach: () => () => {},
    record: () => {},
    restore: () => null,
    flush: () => true,
    poll: () => {},
    onProblem: () => () => {},
    close: () => {},
  };
}
