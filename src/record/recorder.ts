/**
 * The recorder: listeners that only buffer (they run inside the tick), and a commit step
 * that hands the buffers to the HistoryWriter on its own schedule, by default in a worker
 * thread. Any database failure is contained here: the loop keeps running, the recorder turns
 * unhealthy, raises a problem event and retries with back-off, dropping the oldest samples
 * (never events).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { BmsConfig } from "../config/schema.js";
import { BmsError } from "../core/errors.js";
import { type BmsEvent, eventLevel } from "../core/events.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { MinuteAggregator, type MinuteRow, sampleRow, type TripPoint, tripPoint } from "./encode.js";
import { eventKey, eventSummary, isTrip } from "./event-key.js";
import type { RecordableBms, Recorder, RecorderDeps, RecorderStats, RestoredState } from "./types.js";
import { type BatchEvent, HistoryWriter, type WriteBatch, type WriteResult } from "./writer.js";

const MAX_BACKOFF_MS = 60_000;
const MAX_OPEN_CAPTURES = 16;
const MAX_BUFFERED_MINUTES = 7 * 1440;

interface PendingEvent {
  readonly localId: number;
  readonly key: string;
  readonly level: string;
  readonly type: string;
  summary: string;
  readonly firstMs: number;
  lastMs: number;
  count: number;
  data: string;
  readonly trip: boolean;
}

interface Capture {
  readonly localId: number;
  readonly event: PendingEvent;
  readonly code: string;
  readonly detail: string;
  readonly tripClockMs: number;
  readonly wallMs: number;
  readonly points: TripPoint[];
  lastCollectedMs: number;
  complete: boolean;
}

interface InFlight {
  readonly events: PendingEvent[];
  readonly samples: { s: BmsSnapshot; wallMs: number }[];
  readonly minutes: MinuteRow[];
  readonly completes: Capture[];
  readonly recovering: boolean;
}

export function createRecorder(config: BmsConfig, deps: RecorderDeps): Recorder {
  const cfg = config.record;
  const log = deps.logger.child("record");
  const clock = deps.clock;
  const wallNow = deps.wallNowMs ?? (() => Date.now());
  const path = resolve(cfg.path);
  const windowMs = cfg.repeatWindowS * 1000;
  const captureMs = cfg.tripCaptureS * 1000;
  const workerUrl = new URL("./writer-worker.js", import.meta.url);
  // Running from sources (a TypeScript test runner) there is no compiled worker file: commit inline.
  const mode = deps.writer ?? (existsSync(fileURLToPath(workerUrl)) ? "worker" : "inline");
  let wallOffsetMs = wallNow() - clock.nowMs();
  const toWall = (clockMs: number): number => wallOffsetMs + clockMs;

  let inline: HistoryWriter | null = null;
  let worker: Worker | null = null;
  let requestSeq = 0;
  const waiting = new Map<number, (msg: { result?: WriteResult; quarantined?: string | null }) => void>();
  let inFlight: InFlight | null = null;
  let idleWaiters: (() => void)[] = [];

  let healthy = true;
  let lastError: BmsError | null = null;
  let failures = 0;
  let nextAttemptMs = Number.NEGATIVE_INFINITY;
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
  let localSeq = 0;

  // Raw snapshots for trip captures: the pre-trip window plus the longest gap between commits.
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
    const id = localSeq++;
    const key = eventKey(e, id);
    const data = JSON.stringify(e);
    const summary = eventSummary(e);
    const trip = captureMs > 0 && isTrip(e);
    const same = trip ? undefined : pendingByKey.get(key);
    let entry: PendingEvent;
    if (same && windowMs > 0 && wallMs - same.lastMs <= windowMs) {
      same.count++;
      same.lastMs = wallMs;
      same.data = data;
      same.summary = summary;
      entry = same;
    } else {
      entry = {
        localId: id,
        key,
        level: eventLevel(e),
        type: e.type,
        summary,
        firstMs: wallMs,
        lastMs: wallMs,
        count: 1,
        data,
        trip,
      };
      pendingEvents.push(entry);
      if (!trip) pendingByKey.set(key, entry);
    }
    if (trip && e.type === "fault") {
      if (captures.length >= MAX_OPEN_CAPTURES) stats.skippedTrips++;
      else
        captures.push({
          localId: localSeq++,
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

  function fail(text: string, sqliteCode: string, cause?: unknown): false {
    const e = new BmsError("RECORD", `recording failed: ${text}`, { cause, path, details: { sqliteCode } });
    failures++;
    stats.failedFlushes++;
    lastError = e;
    const nowMs = clock.nowMs();
    const backoffMs = Math.min(MAX_BACKOFF_MS, cfg.commitIntervalMs * 2 ** Math.min(failures - 1, 16));
    nextAttemptMs = nowMs + backoffMs;
    if (healthy) {
      healthy = false;
      droppedAtFailure = stats.droppedSamples;
      log.error(`${e.message} (${sqliteCode || e.code}); the loop keeps running, retrying with back-off`);
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
      log.debug(() => `recording still failing (${sqliteCode || e.code}), next try in ${backoffMs} ms`);
    }
    return false;
  }

  function stageState(): unknown {
    if (!latest && !source?.exportState) return undefined;
    let stages: { monitor: unknown; protection: unknown } | undefined;
    try {
      stages = source?.exportState?.();
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

  const toBatchEvent = (e: PendingEvent): BatchEvent => ({
    localId: e.localId,
    key: e.key,
    level: e.level,
    type: e.type,
    summary: e.summary,
    firstMs: e.firstMs,
    lastMs: e.lastMs,
    count: e.count,
    data: e.data,
    trip: e.trip,
  });

  /** Takes the buffers; they come back (in front of newer data) if the commit fails. */
  function takeBatch(): { batch: WriteBatch; flight: InFlight } {
    const flight: InFlight = {
      events: pendingEvents,
      samples,
      minutes,
      completes: captures.filter((c) => c.complete),
      recovering: !healthy,
    };
    pendingEvents = [];
    pendingByKey.clear();
    samples = [];
    minutes = [];
    const state = stageState();
    const batch: WriteBatch = {
      wallMs: wallNow(),
      events: flight.events.map(toBatchEvent),
      samples: flight.samples.map((x) => sampleRow(x.s, x.wallMs)),
      minutes: flight.minutes,
      captures: captures.map((c) => ({
        localId: c.localId,
        eventLocalId: c.event.localId,
        tMs: Math.round(c.wallMs),
        code: c.code,
        detail: c.detail,
        beforeMs: captureMs,
        afterMs: captureMs,
        complete: c.complete,
        samples: JSON.stringify(c.points),
      })),
      ...(state !== undefined ? { state } : {}),
      ...(flight.recovering
        ? { recovery: { failures, droppedSamples: stats.droppedSamples - droppedAtFailure } }
        : {}),
    };
    return { batch, flight };
  }

  function settle(flight: InFlight, result: WriteResult, quarantined?: string | null): boolean {
    inFlight = null;
    if (quarantined) log.error(`database was corrupt; moved aside as ${quarantined}, started a new one`);
    let ok: boolean;
    if (result.ok) {
      stats.committedEvents += flight.events.length;
      stats.committedSamples += flight.samples.length;
      stats.committedMinutes += flight.minutes.length;
      for (const c of flight.completes) {
        const i = captures.indexOf(c);
        if (i >= 0) captures.splice(i, 1);
        stats.committedTrips++;
      }
      stats.flushes++;
      stats.lastCommitWallMs = wallNow();
      stats.lastFlushMs = result.ms;
      stats.prunedRows += result.prunedRows;
      if (result.fileBytes > 0) stats.fileBytes = result.fileBytes;
      if (result.prunedRows > 0) log.debug(() => `retention and size cap removed ${result.prunedRows} rows`);
      if (flight.recovering) {
        log.info(`recording recovered after ${failures} failed commits`);
        healthy = true;
        lastError = null;
      }
      failures = 0;
      nextAttemptMs = Number.NEGATIVE_INFINITY;
      ok = true;
    } else {
      // Back in front of anything newer; samples and minutes stay bounded, events are all kept.
      pendingEvents = flight.events.concat(pendingEvents);
      samples = flight.samples.concat(samples);
      const excess = samples.length - cfg.maxBufferedSamples;
      if (excess > 0) {
        samples.splice(0, excess);
        stats.droppedSamples += excess;
      }
      minutes = flight.minutes.concat(minutes);
      const extra = minutes.length - MAX_BUFFERED_MINUTES;
      if (extra > 0) {
        minutes.splice(0, extra);
        stats.droppedMinutes += extra;
      }
      ok = fail(result.message, result.sqliteCode);
    }
    if (!inFlight) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const r of w) r();
    }
    return ok;
  }

  function startWorker(): Worker {
    const w = new Worker(workerUrl, {
      workerData: { path, config: cfg },
    });
    w.unref();
    w.on("message", (msg: { id: number; result?: WriteResult; quarantined?: string | null }) => {
      const cb = waiting.get(msg.id);
      waiting.delete(msg.id);
      cb?.(msg);
    });
    const lost = (why: string) => {
      if (worker === w) worker = null;
      for (const [id, cb] of waiting) {
        waiting.delete(id);
        cb({ result: { ok: false, message: why, sqliteCode: "" } });
      }
    };
    w.on("error", (err) => lost(`writer thread failed: ${err.message}`));
    w.on("exit", (code) => lost(`writer thread exited (${code})`));
    return w;
  }

  function flush(): boolean {
    if (closed || inFlight) return false;
    collect();
    const { batch, flight } = takeBatch();
    inFlight = flight;
    if (mode === "inline") {
      inline ??= new HistoryWriter(path, cfg, deps.onOpen);
      const result = inline.write(batch);
      const moved = inline.quarantined;
      inline.quarantined = null;
      return settle(flight, result, moved);
    }
    try {
      worker ??= startWorker();
      const id = requestSeq++;
      const w = worker;
      waiting.set(id, (msg) => {
        // The thread holds the process open only while a commit is in flight.
        if (waiting.size === 0) w.unref();
        settle(flight, msg.result!, msg.quarantined);
      });
      w.ref();
      w.postMessage({ kind: "write", id, batch });
      return true;
    } catch (err) {
      return settle(flight, { ok: false, message: (err as Error).message, sqliteCode: "" });
    }
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
    if (closed) return null;
    // Worker mode reads with a short-lived connection: restore() must answer synchronously.
    if (mode === "inline") inline ??= new HistoryWriter(path, cfg, deps.onOpen);
    const writer = inline ?? new HistoryWriter(path, cfg);
    const r = writer.restore(wallNow());
    if (writer.quarantined)
      log.error(`database was corrupt; moved aside as ${writer.quarantined}, started a new one`);
    writer.quarantined = null;
    if (mode !== "inline") writer.close();
    if (!r.ok) {
      fail(r.message ?? "cannot open the database", r.sqliteCode ?? "");
      return null;
    }
    if (!r.state) return null;
    const v = (r.state.value ?? {}) as Record<string, unknown>;
    return {
      ...(v.monitor !== undefined ? { monitor: v.monitor } : {}),
      ...(v.protection !== undefined ? { protection: v.protection } : {}),
      ...(v.counters !== undefined ? { counters: v.counters as RestoredState["counters"] } : {}),
      ...(typeof v.seq === "number" ? { seq: v.seq } : {}),
      savedAtMs: r.state.savedMs,
    };
  }

  function whenIdle(): Promise<void> {
    if (!inFlight) return Promise.resolve();
    return new Promise((r) => idleWaiters.push(r));
  }

  function detach(): void {
    for (const d of detachers.splice(0)) d();
    if (timer) clearInterval(timer);
    timer = null;
  }

  return {
    get healthy() {
      return healthy;
    },
    get lastError() {
      return lastError;
    },
    get stats(): RecorderStats {
      return { ...stats, bufferedEvents: pendingEvents.length, bufferedSamples: samples.length };
    },
    attach(bms) {
      detach();
      source = bms;
      detachers.push(bms.onSnapshot(onSnapshot), bms.onEvent(record));
      if (mode === "worker" && !worker && !closed) {
        // Started now rather than at the first commit: spawning a thread costs tens of ms.
        try {
          worker = startWorker();
        } catch (err) {
          log.warn(`could not start the writer thread yet: ${(err as Error).message}`);
        }
      }
      if (deps.autoFlush ?? true) {
        timer = setInterval(poll, cfg.commitIntervalMs);
        timer.unref?.();
      }
      return () => {
        detach();
        source = null;
      };
    },
    record,
    restore,
    flush,
    poll,
    whenIdle,
    onProblem(listener) {
      problemListeners.add(listener);
      return () => problemListeners.delete(listener);
    },
    async close() {
      if (closed) return;
      detach();
      const partial = aggregator.partial();
      if (partial) minutes.push(partial);
      if (mode === "inline") {
        flush();
        closed = true;
        source = null;
        try {
          inline?.close();
        } catch (err) {
          log.warn(`closing the database failed: ${(err as Error).message}`);
        }
        inline = null;
        return;
      }
      await whenIdle();
      flush();
      await whenIdle();
      closed = true;
      source = null;
      const w = worker;
      worker = null;
      if (w) {
        const id = requestSeq++;
        await new Promise<void>((done) => {
          waiting.set(id, () => done());
          w.ref();
          w.postMessage({ kind: "close", id });
        });
        await w.terminate();
      }
    },
  };
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
    whenIdle: () => Promise.resolve(),
    onProblem: () => () => {},
    close: () => Promise.resolve(),
  };
}
