/**
 * The EKF on a measured drive cycle (About:Energy NMC111 12.5 Ah pouch, 25 °C, CC BY-SA 4.0,
 * see test/fixtures/about-energy/NOTICE.md). Truth: coulomb count of the measured current
 * from the rested full start, with the C/20 capacity of the same cell (13.1 Ah).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseReplayCsv } from "../../src/monitor/csv.js";
import { replay } from "../../src/monitor/replay.js";

const log = parseReplayCsv(
  readFileSync(new URL("../fixtures/about-energy/NMC_25degC_DriveCycle.csv", import.meta.url), "utf8"),
  "NMC_25degC_DriveCycle.csv",
);
const Q_AH = 13.1;

function errorsAfter(initialSocPct: number, gain: number, afterS: number) {
  const scaled = { ...log, rows: log.rows.map((r) => ({ ...r, currentA: r.currentA * gain })) };
  let ah = 0;
  let prev: { t: number; i: number } | null = null;
  let max = 0;
  let sq = 0;
  let n = 0;
  let startErr = 0;
  for (const p of replay(scaled, {
    cellPreset: "ae-nmc-12.5ah",
    estimator: "ekf",
    initialSocPct,
    capacityAh: Q_AH,
  })) {
    const i = p.currentA / gain;
    if (prev) ah += (prev.i * (p.timeS - prev.t)) / 3600;
    prev = { t: p.timeS, i };
    const err = p.estimates.socPct - (100 + (100 * ah) / Q_AH);
    if (p.timeS === 0) startErr = err;
    if (p.timeS >= afterS) {
      max = Math.max(max, Math.abs(err));
      sq += err * err;
      n++;
    }
  }
  return { startErr, max, rms: Math.sqrt(sq / n) };
}

describe("EKF on the measured NMC drive cycle", () => {
  it("converges from 20 % off to within 3 % after 30 minutes and stays there", () => {
    const r = errorsAfter(80, 1, 1800);
    expect(r.startErr).toBeCloseTo(-20, 6);
    expect(r.max).toBeLessThanOrEqual(3);
    expect(r.rms).toBeLessThanOrEqual(1.5);
  });

  it("also with a 1 % current-gain error", () => {
    const r = errorsAfter(80, 1.01, 1800);
    expect(r.max).toBeLessThanOrEqual(3);
  });

  it("coulomb counting alone does not recover from the same start (the EKF is doing the work)", () => {
    let ah = 0;
    let prev: { t: number; i: number } | null = null;
    let errAt30 = 0;
    for (const p of replay(log, {
      cellPreset: "ae-nmc-12.5ah",
      estimator: "coulomb",
      initialSocPct: 80,
      capacityAh: Q_AH,
    })) {
      if (prev) ah += (prev.i * (p.timeS - prev.t)) / 3600;
      prev = { t: p.timeS, i: p.currentA };
      if (p.timeS === 1800) errAt30 = p.estimates.socPct - (100 + (100 * ah) / Q_AH);
    }
    expect(Math.abs(errAt30)).toBeGreaterThan(10);
  });
});
