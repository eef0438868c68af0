// Recorder benchmark: loop tick timing with and without the recorder, insert throughput,
// and the database size after a simulated year. Imports the built code (npm run build first).
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseConfig } from "../../dist/config/schema.js";
import { createLogger } from "../../dist/core/logger.js";
import { createSimulation } from "../../dist/hal/sim/index.js";
import { createRecorder, feedHistory, SyntheticSource, syntheticSnapshot } from "../../dist/record/index.js";
import { ManualClock } from "../../dist/time/clock.js";
import { createBms } from "../../dist/wiring.js";

const logger = createLogger("bench", "silent");
const WALL0 = Date.UTC(2026, 0, 1);

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

const fileBytes = (p) =>
  (existsSync(p) ? statSync(p).size : 0) + (existsSync(`${p}-wal`) ? statSync(`${p}-wal`).size : 0);

// mode: "none" (no recorder), "inline" (commits on the loop's thread) or "worker" (the default).
async function tickTiming(dir, cells, ticks, mode) {
  const withRecorder = mode !== "none";
  const config = parseConfig({
    pack: { cellsInSeries: cells },
    record: { path: join(dir, `ticks-${cells}-${mode}.db`) },
  });
  const clock = new ManualClock(0, { autoAdvance: true });
  const sim = createSimulation(config, { clock, logger });
  const bms = createBms(config, { clock, logger, driver: sim.driver });
  const recorder = withRecorder
    ? createRecorder(config, {
        clock,
        logger,
        autoFlush: false,
        writer: mode,
        wallNowMs: () => WALL0 + clock.nowMs(),
      })
    : null;
  recorder?.attach(bms);
  await bms.start();
  const tickMs = [];
  const flushMs = [];
  const perCommit = Math.round(config.record.commitIntervalMs / config.loop.periodMs);
  for (let i = 0; i < ticks; i++) {
    const t0 = performance.now();
    await bms.tick();
    tickMs.push(performance.now() - t0);
    await clock.sleepUntil(clock.nowMs() + config.loop.periodMs);
    if (recorder && i % perCommit === perCommit - 1) {
      const f0 = performance.now();
      recorder.poll();
      flushMs.push(performance.now() - f0);
      // Worker commits overlap the next ticks, as in real time; here time is simulated, so
      // wait for the commit to keep the comparison fair.
      if (mode === "worker") await recorder.whenIdle();
    }
  }
  await recorder?.close();
  await bms.shutdown();
  return { tickMs, flushMs };
}

function throughput(dir) {
  const path = join(dir, "throughput.db");
  const clock = new ManualClock(0);
  const config = parseConfig({ record: { path, synchronous: "normal", repeatWindowS: 0 } });
  const rec = createRecorder(config, {
    clock,
    logger,
    autoFlush: false,
    writer: "inline",
    wallNowMs: () => WALL0 + clock.nowMs(),
  });
  const src = new SyntheticSource();
  rec.attach(src);
  rec.flush();
  const nEvents = 20_000;
  for (let i = 0; i < nEvents; i++)
    src.emit({ type: "command", tMs: i, source: "bench", command: `c${i}`, accepted: true, detail: "" });
  let t0 = performance.now();
  rec.flush();
  const eventsPerS = nEvents / ((performance.now() - t0) / 1000);
  const nSamples = 3_000;
  for (let i = 0; i < nSamples; i++) {
    clock.advance(1000);
    src.publish(syntheticSnapshot(i + 1, clock.nowMs(), { cells: 16 }));
  }
  t0 = performance.now();
  rec.flush();
  const samplesPerS = nSamples / ((performance.now() - t0) / 1000);
  rec.close();
  return { eventsPerS, samplesPerS };
}

function simulatedYear(dir) {
  const path = join(dir, "year.db");
  const clock = new ManualClock(0);
  const config = parseConfig({ record: { path, synchronous: "normal" } });
  const rec = createRecorder(config, {
    clock,
    logger,
    autoFlush: false,
    writer: "inline",
    wallNowMs: () => WALL0 + clock.nowMs(),
  });
  const src = new SyntheticSource();
  rec.attach(src);
  let peak = 0;
  const t0 = performance.now();
  const fed = feedHistory(src, rec, clock, {
    days: 365,
    cells: 16,
    perSecondDays: 1,
    onHour: (h) => {
      if (h % 24 === 0) peak = Math.max(peak, fileBytes(path));
    },
  });
  rec.close();
  return {
    elapsedS: (performance.now() - t0) / 1000,
    snapshots: fed.snapshots,
    fileMb: fileBytes(path) / 1048576,
    peakMb: Math.max(peak, fileBytes(path)) / 1048576,
    capMb: config.record.maxSizeMb,
    prunedRows: rec.stats.prunedRows,
  };
}

export async function bench() {
  const dir = mkdtempSync(join(tmpdir(), "ups-bms-bench-record-"));
  try {
    const figures = {};
    for (const cells of [16, 256]) {
      const ticks = cells > 16 ? 1200 : 4000;
      const base = await tickTiming(dir, cells, ticks, "none");
      const f = { tickP50Ms: pct(base.tickMs, 50), tickP99Ms: pct(base.tickMs, 99) };
      const parts = [`without ${f.tickP50Ms.toFixed(3)}/${f.tickP99Ms.toFixed(3)} ms`];
      for (const mode of ["worker", "inline"]) {
        const r = await tickTiming(dir, cells, ticks, mode);
        f[mode] = {
          tickP50Ms: pct(r.tickMs, 50),
          tickP99Ms: pct(r.tickMs, 99),
          commitOnLoopThreadP50Ms: pct(r.flushMs, 50),
          commitOnLoopThreadP99Ms: pct(r.flushMs, 99),
          commitOnLoopThreadMaxMs: Math.max(...r.flushMs),
        };
        const m = f[mode];
        parts.push(
          `${mode} ${m.tickP50Ms.toFixed(3)}/${m.tickP99Ms.toFixed(3)} ms (loop-thread time per commit p50/p99/max ${m.commitOnLoopThreadP50Ms.toFixed(2)}/${m.commitOnLoopThreadP99Ms.toFixed(2)}/${m.commitOnLoopThreadMaxMs.toFixed(2)} ms)`,
        );
      }
      figures[`cells${cells}`] = f;
      console.log(`record: ${cells} cells, ${ticks} ticks, tick p50/p99: ${parts.join("; ")}`);
    }
    const tp = throughput(dir);
    figures.throughput = tp;
    console.log(
      `record: insert throughput ${Math.round(tp.eventsPerS)} events/s, ${Math.round(tp.samplesPerS)} per-second samples/s (16 cells, one transaction)`,
    );
    const year = simulatedYear(dir);
    figures.year = year;
    console.log(
      `record: simulated year (${year.snapshots} snapshots: 365 d of minutes, last day per second, 16 cells): ` +
        `${year.fileMb.toFixed(1)} MB (peak ${year.peakMb.toFixed(1)} MB, cap ${year.capMb} MB, pruned ${year.prunedRows} rows) in ${year.elapsedS.toFixed(1)} s`,
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  bench().then((f) => console.log(JSON.stringify(f, null, 2)));
}
