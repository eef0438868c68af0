import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BmsEvent } from "../../src/core/events.js";
import { createLogger } from "../../src/core/logger.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { createRecorder, HistoryReader, SyntheticSource, syntheticSnapshot } from "../../src/record/index.js";
import type { Db } from "../../src/record/sqlite.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";
import { configWith, manualRecorder, tempDir } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe("disk full", () => {
  it("keeps taking snapshots, raises the problem, drops oldest samples but no events, then recovers", () => {
    const path = join(tmp.dir, "h.db");
    let conn: Db | null = null;
    const { clock, recorder } = manualRecorder(
      { path, maxBufferedSamples: 60, commitIntervalMs: 1000, tripCaptureS: 0 },
      { onOpen: (db) => (conn = db) },
    );
    const problems: BmsEvent[] = [];
    recorder.onProblem((e) => problems.push(e));
    const src = new SyntheticSource();
    recorder.attach(src);
    recorder.flush();
    expect(conn).not.toBeNull();
    // Simulate a full disk: the file may not grow past its present size.
    const pages = conn!.pragma("page_count", { simple: true }) as number;
    conn!.pragma(`max_page_count = ${pages}`);

    let seq = 0;
    const tick = (n: number) => {
      for (let i = 0; i < n; i++) {
        src.publish(syntheticSnapshot(++seq, clock.nowMs(), { cells: 48 }));
        if (seq % 40 === 0)
          src.emit({
            type: "command",
            tMs: clock.nowMs(),
            source: "test",
            command: `c${seq}`,
            accepted: true,
            detail: "",
          });
        clock.advance(250);
        if (seq % 4 === 0) recorder.poll();
      }
    };
    tick(4 * 300);
    expect(recorder.healthy).toBe(false);
    expect(recorder.lastError?.code).toBe("RECORD");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ type: "error", where: "record", code: "RECORD" });
    const s = recorder.stats;
    expect(s.failedFlushes).toBeGreaterThan(1);
    // Back-off: far fewer attempts than the 300 commit slots.
    expect(s.failedFlushes).toBeLessThan(20);
    expect(s.bufferedSamples).toBeLessThanOrEqual(60 + 64);
    expect(s.droppedSamples).toBeGreaterThan(100);
    // Every event is either committed or still held: 30 commands and the problem itself.
    expect(s.bufferedEvents + s.committedEvents).toBe(30 + 1);
    expect(s.bufferedEvents).toBeGreaterThan(20);

    // Space again: the next due retry commits everything it kept.
    conn!.pragma("max_page_count = 1073741823");
    tick(4 * 70);
    expect(recorder.healthy).toBe(true);
    expect(recorder.lastError).toBeNull();
    recorder.close();

    const r = new HistoryReader(path);
    const ev = r.events();
    const commands = ev.filter((e) => e.type === "command").map((e) => e.summary);
    expect(commands).toHaveLength(37);
    expect(commands[0]).toContain("c40");
    expect(ev.some((e) => e.type === "error" && e.summary.includes("error in record"))).toBe(true);
    const recovered = ev.find((e) => e.type === "record");
    expect(recovered?.summary).toMatch(/recovered after \d+ failed commits; \d+ samples dropped/);
    r.close();
  });
});

describe("unwritable database path", () => {
  it("reports unhealthy without throwing, and recovers once the path becomes writable", () => {
    const blocker = join(tmp.dir, "blocked");
    writeFileSync(blocker, "a file where a directory should be");
    const path = join(blocker, "h.db");
    const { clock, recorder } = manualRecorder({ path, commitIntervalMs: 500 });
    const src = new SyntheticSource();
    recorder.attach(src);
    expect(recorder.restore()).toBeNull();
    expect(recorder.healthy).toBe(false);
    src.emit({ type: "lifecycle", tMs: 0, what: "start", detail: "x" });
    for (let i = 0; i < 40; i++) {
      src.publish(syntheticSnapshot(i + 1, clock.nowMs()));
      clock.advance(250);
      recorder.poll();
    }
    expect(recorder.healthy).toBe(false);
    rmSync(blocker);
    mkdirSync(blocker);
    clock.advance(120_000);
    recorder.poll();
    expect(recorder.healthy).toBe(true);
    recorder.close();
    const r = new HistoryReader(path);
    expect(r.events().map((e) => e.type)).toEqual(expect.arrayContaining(["lifecycle", "error", "record"]));
    r.close();
  });

  it("the real loop keeps protecting while the recorder cannot write", async () => {
    const blocker = join(tmp.dir, "blocked");
    writeFileSync(blocker, "");
    const config = configWith({ path: join(blocker, "h.db"), commitIntervalMs: 1000 });
    const clock = new ManualClock(0, { autoAdvance: true });
    const logger = createLogger("test", "silent");
    const sim = createSimulation(config, { clock, logger });
    const bms = createBms(config, { clock, logger, driver: sim.driver });
    const recorder = createRecorder(config, { clock, logger, autoFlush: false, writer: "inline" });
    recorder.attach(bms);
    const ticks: number[] = [];
    bms.onSnapshot((s) => {
      ticks.push(s.seq);
      if (s.seq % 4 === 0) recorder.poll();
    });
    await bms.start();
    await bms.run({ maxTicks: 200 });
    expect(ticks).toHaveLength(200);
    expect(bms.loopStats.tickErrors).toBe(0);
    expect(recorder.healthy).toBe(false);
    expect(bms.snapshot?.protection.fets.dsg).toBe(true);
    recorder.close();
    await bms.shutdown();
  });
});

describe("with the real loop", () => {
  it("persists Bms.exportState and gives it back on restore", async () => {
    const path = join(tmp.dir, "h.db");
    const config = configWith({ path });
    const clock = new ManualClock(0, { autoAdvance: true });
    const logger = createLogger("test", "silent");
    const sim = createSimulation(config, { clock, logger });
    const bms = createBms(config, { clock, logger, driver: sim.driver });
    const recorder = createRecorder(config, { clock, logger, autoFlush: false, writer: "inline" });
    recorder.attach(bms);
    await bms.start();
    await bms.run({ maxTicks: 40 });
    const expected = bms.exportState();
    await bms.shutdown();
    recorder.close();
    // No writer option: from sources there is no compiled worker, so it falls back to inline.
    const again = createRecorder(config, { clock, logger, autoFlush: false });
    const restored = again.restore();
    expect(restored?.monitor).toEqual(JSON.parse(JSON.stringify(expected.monitor)));
    expect(restored?.seq).toBe(40);
    again.close();
    const r = new HistoryReader(path);
    const types = r.events().map((e) => e.type);
    expect(types[0]).toBe("lifecycle");
    expect(types.at(-1)).toBe("lifecycle");
    r.close();
  });
});
