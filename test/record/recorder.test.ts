import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BmsEvent } from "../../src/core/events.js";
import { HistoryReader, SCHEMA_VERSION, SyntheticSource, syntheticSnapshot } from "../../src/record/index.js";
import { openSqlite } from "../../src/record/sqlite.js";
import { manualRecorder, tempDir, WALL0 } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const fault = (tMs: number, action: "raised" | "cleared", detail = "cell:3"): BmsEvent => ({
  type: "fault",
  tMs,
  code: "cell_ov",
  level: "trip",
  action,
  value: 3655,
  limit: 3650,
  detail,
});

describe("event log", () => {
  it("stores level, summary and data, and folds repeats inside the window into one row", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({ path, repeatWindowS: 60, tripCaptureS: 0 });
    const src = new SyntheticSource();
    recorder.attach(src);
    src.emit({ type: "lifecycle", tMs: 0, what: "start", detail: "a" });
    src.emit(fault(1000, "raised"));
    src.emit(fault(2000, "cleared"));
    recorder.flush();
    // A repeat after the commit still lands on the committed row.
    clock.advance(30_000);
    src.emit(fault(30_000, "raised"));
    src.emit({ type: "lifecycle", tMs: 30_000, what: "start", detail: "b" });
    recorder.flush();
    // Outside the window: a new row.
    clock.advance(100_000);
    src.emit(fault(130_000, "raised"));
    recorder.close();

    const r = new HistoryReader(path);
    const events = r.events();
    const raised = events.filter((e) => e.summary.startsWith("cell_ov raised"));
    expect(raised.map((e) => [e.count, e.firstMs - WALL0, e.lastMs - WALL0])).toEqual([
      [2, 1000, 30_000],
      [1, 130_000, 130_000],
    ]);
    expect(raised[0]!.level).toBe("critical");
    expect(events.filter((e) => e.type === "lifecycle")).toHaveLength(2);
    expect(events.find((e) => e.summary.startsWith("cell_ov cleared"))?.level).toBe("info");
    expect((raised[0]!.data as { value: number }).value).toBe(3655);
    expect(r.events({ minLevel: "critical" }).every((e) => e.level === "critical")).toBe(true);
    expect(r.events({ sinceMs: WALL0 + 100_000 }).map((e) => e.count)).toEqual([1]);
    r.close();
  });

  it("snapshot listeners only buffer: nothing reaches the file before a flush", () => {
    const path = join(tmp.dir, "h.db");
    const { recorder } = manualRecorder({ path });
    const src = new SyntheticSource();
    recorder.attach(src);
    for (let i = 0; i < 40; i++) src.publish(syntheticSnapshot(i + 1, i * 250));
    src.emit(fault(500, "raised"));
    expect(recorder.stats.bufferedSamples).toBe(10);
    expect(recorder.stats.bufferedEvents).toBe(1);
    // restore() opened the file; it must still be empty of history.
    recorder.restore();
    const probe = openSqlite(path, { readonly: true });
    expect((probe.prepare("SELECT count(*) AS n FROM samples").get() as { n: number }).n).toBe(0);
    expect((probe.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n).toBe(0);
    probe.close();
    expect(recorder.flush()).toBe(true);
    expect(recorder.stats.committedSamples).toBe(10);
    recorder.close();
  });
});

describe("telemetry history", () => {
  it("keeps one sample per second and exact per-minute min/mean/max", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({ path });
    const src = new SyntheticSource();
    recorder.attach(src);
    const snaps = [];
    for (let i = 0; i < 4 * 150; i++) {
      const s = syntheticSnapshot(i + 1, clock.nowMs(), { cells: 8 });
      snaps.push(s);
      src.publish(s);
      clock.advance(250);
      if (i % 4 === 3) recorder.flush();
    }
    recorder.close();
    const r = new HistoryReader(path);
    const rows = [...r.samples(WALL0, WALL0 + 10 * 60_000)];
    expect(rows).toHaveLength(150);
    expect(rows[7]!.tMs - WALL0).toBe(7000);
    expect(rows[7]!.cellsMv).toEqual(snaps[28]!.measurements.cellVoltagesMv);
    expect(rows[7]!.tempsDeciC).toEqual(snaps[28]!.measurements.temperaturesDeciC);
    const mins = [...r.minutes(WALL0, WALL0 + 10 * 60_000)];
    // 150 s: two full minutes and the partial third written at close.
    expect(mins.map((m) => m.n)).toEqual([240, 240, 120]);
    const first = snaps.slice(0, 240).map((s) => s.measurements.packCurrentMa);
    expect(mins[0]!.current_ma_min).toBe(Math.min(...first));
    expect(mins[0]!.current_ma_max).toBe(Math.max(...first));
    expect(mins[0]!.current_ma_mean).toBe(Math.round(first.reduce((a, b) => a + b, 0) / first.length));
    r.close();
  });

  it("merges a minute split across a restart instead of replacing it", () => {
    const path = join(tmp.dir, "h.db");
    const values: number[] = [];
    for (const run of [0, 1]) {
      const { clock, recorder } = manualRecorder({ path });
      clock.advanceTo(run * 20_000);
      const src = new SyntheticSource();
      recorder.attach(src);
      for (let i = 0; i < 40; i++) {
        const s = syntheticSnapshot(run * 100 + i, clock.nowMs(), { currentMa: run * 1000 + i });
        values.push(s.measurements.packCurrentMa);
        src.publish(s);
        clock.advance(250);
      }
      recorder.close();
    }
    const r = new HistoryReader(path);
    const [m] = [...r.minutes(WALL0, WALL0 + 60_000)];
    expect(m!.n).toBe(80);
    expect(m!.current_ma_min).toBe(Math.min(...values));
    expect(m!.current_ma_max).toBe(Math.max(...values));
    expect(m!.current_ma_mean).toBe(Math.round(values.reduce((a, b) => a + b, 0) / values.length));
    r.close();
  });
});

describe("trip capture", () => {
  it("stores the raw ticks from N s before to N s after a trip with its event", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({ path, tripCaptureS: 2, commitIntervalMs: 1000 });
    const src = new SyntheticSource();
    recorder.attach(src);
    const tripAt = 10_000;
    for (let i = 0; i < 80; i++) {
      const t = clock.nowMs();
      if (t === tripAt) src.emit(fault(t, "raised"));
      src.publish(syntheticSnapshot(i + 1, t, { offsetMv: t >= tripAt ? 500 : 0 }));
      clock.advance(250);
      if (i % 4 === 3) recorder.poll();
    }
    recorder.close();
    const r = new HistoryReader(path);
    const [trip, ...more] = r.trips();
    expect(more).toHaveLength(0);
    expect(trip!.complete).toBe(true);
    expect(trip!.code).toBe("cell_ov");
    expect(trip!.tMs - WALL0).toBe(tripAt);
    expect(trip!.summary).toContain("cell_ov raised");
    const dts = trip!.samples.map((p) => p.dtMs);
    expect(dts[0]).toBe(-2000);
    expect(dts.at(-1)).toBe(2000);
    expect(dts).toHaveLength(17);
    // The raw cells around the trip show the step.
    expect(
      trip!.samples.find((p) => p.dtMs === 0)!.cellsMv[0]! - trip!.samples[0]!.cellsMv[0]!,
    ).toBeGreaterThan(400);
    r.close();
  });

  it("writes the pre-trip window at the next commit, before the post window is complete", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({ path, tripCaptureS: 5 });
    const src = new SyntheticSource();
    recorder.attach(src);
    for (let i = 0; i < 30; i++) {
      if (i === 24) src.emit(fault(clock.nowMs(), "raised"));
      src.publish(syntheticSnapshot(i + 1, clock.nowMs()));
      clock.advance(250);
    }
    recorder.flush();
    const r = new HistoryReader(path);
    const [trip] = r.trips();
    expect(trip!.complete).toBe(false);
    expect(trip!.samples[0]!.dtMs).toBe(-5000);
    expect(trip!.samples.at(-1)!.dtMs).toBe(1250);
    r.close();
    recorder.close();
  });
});

describe("persisted state and schema", () => {
  it("restores the stage state, counters and sequence of the last commit", () => {
    const path = join(tmp.dir, "h.db");
    const a = manualRecorder({ path });
    const src = new SyntheticSource();
    a.recorder.attach(src);
    expect(a.recorder.restore()).toBeNull();
    src.state = { monitor: { socPct: 42.5, ekf: [1, 2, 3] }, protection: { latched: ["deep_discharge"] } };
    src.publish(syntheticSnapshot(77, 0));
    a.recorder.flush();
    src.state = { monitor: { socPct: 41 }, protection: { latched: [] } };
    src.publish(syntheticSnapshot(78, 250));
    a.recorder.close();

    const b = manualRecorder({ path });
    const restored = b.recorder.restore();
    expect(restored?.monitor).toEqual({ socPct: 41 });
    expect(restored?.protection).toEqual({ latched: [] });
    expect(restored?.seq).toBe(78);
    expect(restored?.counters).toEqual(syntheticSnapshot(78, 250).estimates.counters);
    b.recorder.close();
  });

  it("migrates once, records the version and refuses a database from a newer build", () => {
    const path = join(tmp.dir, "h.db");
    const a = manualRecorder({ path });
    a.recorder.flush();
    a.recorder.close();
    const b = manualRecorder({ path });
    b.recorder.flush();
    b.recorder.close();
    const db = openSqlite(path);
    expect(db.prepare("SELECT version FROM schema_version").all()).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.prepare("INSERT INTO schema_version VALUES (?, 0)").run(SCHEMA_VERSION + 1);
    db.close();
    const c = manualRecorder({ path });
    expect(c.recorder.flush()).toBe(false);
    expect(c.recorder.healthy).toBe(false);
    expect(c.recorder.lastError?.message).toMatch(/newer than this build/);
    c.recorder.close();
  });

  it("moves a corrupt file aside and starts a new database", async () => {
    const { writeFileSync, readdirSync } = await import("node:fs");
    const path = join(tmp.dir, "h.db");
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const { recorder } = manualRecorder({ path });
    expect(recorder.flush()).toBe(true);
    expect(recorder.healthy).toBe(true);
    expect(readdirSync(tmp.dir).some((f) => f.startsWith("h.db.corrupt-"))).toBe(true);
    recorder.close();
  });
});

describe("edge cases", () => {
  it("records snapshots without valid data (no cells, no temperatures) as nulls", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({ path });
    const src = new SyntheticSource();
    recorder.attach(src);
    for (let i = 0; i < 8; i++) {
      src.publish(syntheticSnapshot(i + 1, clock.nowMs(), { cells: 0, tempsDeciC: [null] }));
      clock.advance(250);
    }
    expect(recorder.flush()).toBe(true);
    recorder.close();
    const r = new HistoryReader(path);
    const [s] = [...r.samples(WALL0, WALL0 + 10_000)];
    expect(s).toMatchObject({
      cellMinMv: null,
      cellMaxMv: null,
      tempMaxDeciC: null,
      cellsMv: [],
      tempsDeciC: [null],
    });
    const [m] = [...r.minutes(WALL0, WALL0 + 60_000)];
    expect(m).toMatchObject({ n: 8, cell_min_mv: null, temp_max_dc: null });
    r.close();
  });

  it("record.enabled = false gives a recorder that writes nothing", async () => {
    const { existsSync } = await import("node:fs");
    const { createRecorder } = await import("../../src/record/index.js");
    const { configWith } = await import("./helpers.js");
    const { ManualClock } = await import("../../src/time/clock.js");
    const { silentLogger } = await import("../../src/core/logger.js");
    const path = join(tmp.dir, "off.db");
    const rec = createRecorder(configWith({ path, enabled: false }), {
      clock: new ManualClock(0),
      logger: silentLogger,
    });
    const src = new SyntheticSource();
    rec.attach(src);
    src.publish(syntheticSnapshot(1, 0));
    expect(rec.flush()).toBe(true);
    expect(rec.restore()).toBeNull();
    await rec.close();
    expect(existsSync(path)).toBe(false);
  });
});
