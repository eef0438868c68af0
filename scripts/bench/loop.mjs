// CPU time of one full tick (read → monitor → protect → balance → actuate → publish) on the
// simulated driver, per pack size. Targets on the 2-core CI machine: ≤ 0.2 ms mean for 16
// cells, ≤ 2 ms for 240 cells.
import { parseConfig } from "../../dist/config/schema.js";
import { silentLogger } from "../../dist/core/logger.js";
import { createAfeDriver } from "../../dist/hal/factory.js";
import { ManualClock } from "../../dist/time/clock.js";
import { createBms } from "../../dist/wiring.js";

export async function tickTimes(cells, ticks, configOverrides = {}) {
  const config = parseConfig({
    pack: { cellsInSeries: cells },
    afe: { kind: "sim", realTime: false },
    ...configOverrides,
  });
  const clock = new ManualClock(0, { autoAdvance: true });
  const { driver } = await createAfeDriver(config, { clock, logger: silentLogger });
  const bms = createBms(config, { clock, logger: silentLogger, driver });
  await bms.start();
  const period = config.loop.periodMs;
  const times = new Float64Array(ticks);
  for (let i = 0; i < 2000; i++) {
    await bms.tick();
    clock.advance(period);
  }
  for (let i = 0; i < ticks; i++) {
    const t0 = performance.now();
    await bms.tick();
    times[i] = performance.now() - t0;
    clock.advance(period);
  }
  await bms.shutdown("bench");
  return times;
}

export function summarize(times) {
  const sorted = Float64Array.from(times).sort();
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { meanMs: mean, p50Ms: p(0.5), p99Ms: p(0.99), maxMs: sorted[sorted.length - 1] };
}

export async function bench() {
  const out = {};
  for (const cells of [16, 48, 240]) {
    const s = summarize(await tickTimes(cells, 20_000));
    const target = cells === 16 ? 0.2 : cells === 240 ? 2 : null;
    out[`cells${cells}`] = { ...s, targetMeanMs: target };
    console.log(
      `tick CPU time, ${String(cells).padStart(3)} cells: mean ${(s.meanMs * 1000).toFixed(1)} µs, p50 ${(s.p50Ms * 1000).toFixed(1)} µs, p99 ${(s.p99Ms * 1000).toFixed(1)} µs` +
        (target ? `  (target mean ≤ ${target} ms: ${s.meanMs <= target ? "met" : "NOT met"})` : ""),
    );
  }
  return out;
}
