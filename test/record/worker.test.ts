/** The default writer runs in a worker thread; it loads the built file, so this runs against dist/. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, ROOT, tempDir, WALL0 } from "./helpers.js";

type Dist = typeof import("../../src/record/index.js");
let dist: Dist;
let parseConfig: typeof import("../../src/config/schema.js").parseConfig;
let ManualClock: typeof import("../../src/time/clock.js").ManualClock;
let silent: import("../../src/core/logger.js").Logger;
const tmp = tempDir();

beforeAll(async () => {
  ensureBuilt();
  dist = (await import(join(ROOT, "dist", "record", "index.js"))) as Dist;
  ({ parseConfig } = await import(join(ROOT, "dist", "config", "schema.js")));
  ({ ManualClock } = await import(join(ROOT, "dist", "time", "clock.js")));
  const { createLogger } = await import(join(ROOT, "dist", "core", "logger.js"));
  silent = createLogger("t", "silent");
});
afterAll(() => tmp.cleanup());

describe("worker-thread writer", () => {
  it("commits off the loop's thread and restores from the same file", async () => {
    const path = join(tmp.dir, "w.db");
    const config = parseConfig({ record: { path } });
    const clock = new ManualClock(0);
    const rec = dist.createRecorder(config, {
      logger: silent,
      clock,
      autoFlush: false,
      wallNowMs: () => WALL0 + clock.nowMs(),
    });
    const src = new dist.SyntheticSource();
    rec.attach(src);
    src.emit({ type: "lifecycle", tMs: 0, what: "start", detail: "worker" });
    for (let i = 0; i < 40; i++) {
      src.state = { monitor: { socPct: i }, protection: {} };
      src.publish(dist.syntheticSnapshot(i + 1, clock.nowMs()));
      clock.advance(250);
      if (i === 20) {
        expect(rec.flush()).toBe(true);
        // One commit at a time: a second one waits for the next poll.
        expect(rec.flush()).toBe(false);
        await rec.whenIdle();
        expect(rec.stats.flushes).toBe(1);
      }
    }
    await rec.close();
    expect(rec.healthy).toBe(true);
    expect(rec.stats.committedSamples).toBe(10);
    const r = new dist.HistoryReader(path);
    expect(r.events().map((e) => e.summary)).toEqual(["start: worker"]);
    expect(r.countSamples(WALL0, WALL0 + 60_000)).toBe(10);
    r.close();
    const again = dist.createRecorder(config, { logger: silent, clock });
    expect(again.restore()).toMatchObject({ monitor: { socPct: 39 }, seq: 40 });
    await again.close();
  });

  it("reports an unwritable path as a recording problem", async () => {
    const blocker = join(tmp.dir, "file");
    writeFileSync(blocker, "");
    const config = parseConfig({ record: { path: join(blocker, "w.db") } });
    const clock = new ManualClock(0);
    const rec = dist.createRecorder(config, { logger: silent, clock, autoFlush: false });
    const problems: unknown[] = [];
    rec.onProblem((e) => problems.push(e));
    rec.attach(new dist.SyntheticSource());
    rec.flush();
    await rec.whenIdle();
    expect(rec.healthy).toBe(false);
    expect(problems).toEqual([expect.objectContaining({ type: "error", where: "record" })]);
    await rec.close();
  });
});
