import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { feedHistory, HistoryReader, SyntheticSource } from "../../src/record/index.js";
import { manualRecorder, tempDir, WALL0 } from "./helpers.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const fileBytes = (path: string): number =>
  statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

describe("size cap and retention", () => {
  it("keeps the file (with its WAL) under the cap over months of history, dropping the oldest first", () => {
    const path = join(tmp.dir, "h.db");
    const capMb = 1;
    const { clock, recorder } = manualRecorder({
      path,
      maxSizeMb: capMb,
      sampleWindowS: 2 * 3600,
      aggregateRetentionDays: 366,
      // Durability is not under test here; skipping fsync keeps the simulated months quick.
      synchronous: "normal",
    });
    const src = new SyntheticSource();
    recorder.attach(src);
    let maxBytes = 0;
    const days = 20;
    const fed = feedHistory(src, recorder, clock, {
      days,
      cells: 16,
      perSecondDays: 0.15,
      // Few, larger commits keep the test quick (each commit fsyncs at checkpoints).
      commitEveryMs: 6 * 3_600_000,
      perSecondCommitEveryMs: 300_000,
      onHour: () => {
        maxBytes = Math.max(maxBytes, fileBytes(path));
      },
    });
    expect(recorder.healthy).toBe(true);
    expect(recorder.stats.prunedRows).toBeGreaterThan(0);
    recorder.close();
    expect(maxBytes).toBeLessThanOrEqual(capMb * 1024 * 1024);
    expect(fileBytes(path)).toBeLessThanOrEqual(capMb * 1024 * 1024);

    const r = new HistoryReader(path);
    const endMs = WALL0 + days * 86_400_000;
    const mins = [...r.minutes(WALL0, endMs)];
    // The cap, not the 366-day retention, bounded the aggregates: the oldest went, the newest stayed.
    expect(mins[0]!.tMs).toBeGreaterThan(WALL0 + 86_400_000);
    expect(mins.at(-1)!.tMs).toBeGreaterThan(endMs - 2 * 3_600_000);
    // Per-second samples cover the last 2 h (their window) and no more.
    expect(r.countSamples(WALL0, endMs - 2 * 3_600_000 - 61_000)).toBe(0);
    expect(r.countSamples(endMs - 3_600_000, endMs)).toBeGreaterThan(3500);
    // Warnings outrank per-minute history: every under-voltage warning is still there.
    const warnings = r.events({ minLevel: "warning" });
    expect(warnings).toHaveLength(days * 4);
    expect(fed.snapshots).toBeGreaterThan(days * 1400);
    r.close();
  });

  it("drops aggregates past their retention time", () => {
    const path = join(tmp.dir, "h.db");
    const { clock, recorder } = manualRecorder({
      path,
      aggregateRetentionDays: 3,
      sampleWindowS: 600,
      synchronous: "normal",
    });
    const src = new SyntheticSource();
    recorder.attach(src);
    feedHistory(src, recorder, clock, { days: 6, perSecondDays: 0.01, commitEveryMs: 6 * 3_600_000 });
    recorder.close();
    const r = new HistoryReader(path);
    const mins = [...r.minutes(WALL0, WALL0 + 7 * 86_400_000)];
    const oldest = mins[0]!.tMs;
    expect(oldest).toBeGreaterThanOrEqual(WALL0 + 3 * 86_400_000 - 3_600_000);
    expect(oldest).toBeLessThanOrEqual(WALL0 + 3 * 86_400_000 + 3_600_000);
    r.close();
  });
});
