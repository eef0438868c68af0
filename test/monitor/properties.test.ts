import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BmsError } from "../../src/core/errors.js";
import type { Sample } from "../../src/hal/afe.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { lfpConfig, sample } from "./helpers.js";

const cellArb = fc.oneof(
  fc.integer({ min: 2500, max: 3650 }),
  fc.integer({ min: -100, max: 7000 }),
  fc.constant(Number.NaN),
);
const stepArb = fc.record({
  dtMs: fc.integer({ min: 0, max: 4000 }),
  kind: fc.constantFrom("ok", "ok", "ok", "none", "error", "old"),
  cells: fc.array(cellArb, { minLength: 4, maxLength: 4 }),
  currentMa: fc.oneof(fc.integer({ min: -300_000, max: 300_000 }), fc.constant(null)),
  temps: fc.array(fc.oneof(fc.integer({ min: -600, max: 1500 }), fc.constant(null)), {
    minLength: 2,
    maxLength: 2,
  }),
});

describe("monitor invariants (property-based)", () => {
  it("never substitutes values, never validates a missing or stale tick, and keeps estimates in range", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), (steps) => {
        const cfg = lfpConfig();
        const m = createMonitor(cfg);
        let now = 0;
        let last: Sample | null = null;
        let cleanSeen = false;
        for (const st of steps) {
          now += st.dtMs;
          let s: Sample | null = null;
          let err: BmsError | null = null;
          if (st.kind === "ok" || st.kind === "old") {
            s = sample(st.kind === "old" ? now - 10_000 : now, {
              cellVoltagesMv: st.cells,
              packVoltageMv: null,
              packCurrentMa: st.currentMa,
              temperaturesDeciC: st.temps,
            });
            last = s;
          } else if (st.kind === "error") err = new BmsError("BUS_TIMEOUT", "timeout");
          const out = m.update({ nowMs: now, sample: s, readError: err });
          const ms = out.measurements;
          const fresh = s !== null && now - s.timestampMs <= cfg.monitor.staleAfterMs;
          if (!fresh) expect(ms.valid).toBe(false);
          // The gate needs the link, every cell and the current clean (temperatures are flags).
          const gating = (c: string) => c === "afe" || c === "current" || c.startsWith("cell:");
          if (fresh && !ms.sensorFaults.some((f) => gating(f.channel))) cleanSeen = true;
          if (ms.valid) expect(cleanSeen).toBe(true);
          // Shown values are the hardware's, never replaced.
          if (last) expect(ms.cellVoltagesMv).toEqual(last.cellVoltagesMv);
          // Every fault names a channel; a bad cell is always flagged.
          if (fresh)
            st.cells.forEach((v, i) => {
              if (!(v >= cfg.monitor.plausibility.cellMinMv && v <= cfg.monitor.plausibility.cellMaxMv))
                expect(ms.sensorFaults.some((f) => f.channel === `cell:${i}`)).toBe(true);
            });
          const e = out.estimates;
          expect(e.socPct).toBeGreaterThanOrEqual(0);
          expect(e.socPct).toBeLessThanOrEqual(100);
          expect(e.reportedSocPct).toBeGreaterThanOrEqual(0);
          expect(e.reportedSocPct).toBeLessThanOrEqual(100);
          if (e.runtimeS !== null) expect(e.runtimeS).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
