/**
 * A 7-day UPS duty on the truth pack: float, three outages of different depths at constant
 * power, CC/CV recharges back to float. Measures the monitor's SOC error at every sample
 * and its runtime prediction at the start of each outage.
 */
import type { CellPresetId } from "../../src/config/cells.js";
import { type BmsConfig, parseConfig } from "../../src/config/schema.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { type Load, type SensorErrors, TruthPack } from "./truth.js";

export interface DutyResult {
  readonly maxAbsErrPct: number;
  readonly rmsErrPct: number;
  readonly samples: number;
  readonly runtime: { predictedS: number; actualS: number }[];
  readonly config: BmsConfig;
  readonly finalSohPct: number;
}

interface Outage {
  readonly atS: number;
  readonly cRate: number;
  /** Stop after this much SOC (or at cut-off). */
  readonly depthPct: number;
}

export function runDuty(
  chemistry: "lfp" | "nmc",
  preset: CellPresetId,
  opts: { cells?: number; dtS?: number; days?: number; errors?: SensorErrors; seed?: number } = {},
): DutyResult {
  const cells = opts.cells ?? 16;
  const dtS = opts.dtS ?? 1;
  const days = opts.days ?? 7;
  const config = parseConfig({
    pack: { chemistry, cellPreset: preset, cellsInSeries: cells },
    afe: { kind: "sim" },
  });
  const capAh = config.pack.capacityAh;
  const errors = opts.errors ?? { noiseMv: 2, noiseMa: 0.002 * capAh * 1000, gain: 1.01, offsetMa: 50 };
  const truth = new TruthPack(preset, cells, capAh, 100, opts.seed ?? 7);
  const monitor = createMonitor(config);
  const ch = config.protection.charge;
  const cutoffMv = config.monitor.runtimeCutoffMv;
  const outages: Outage[] = [
    { atS: 86_400, cRate: 0.5, depthPct: 30 },
    { atS: 3 * 86_400, cRate: 0.3, depthPct: 80 },
    { atS: 5.5 * 86_400, cRate: 1, depthPct: 100 },
  ];
  const endS = days * 86_400;
  let mode: "float" | "outage" | "charge" = "float";
  let outage: Outage | null = null;
  let outageStartSoc = 0;
  let outageStartS = 0;
  let predicted: number | null = null;
  let fullSince: number | null = null;
  const runtime: { predictedS: number; actualS: number }[] = [];
  let maxErr = 0;
  let sq = 0;
  let n = 0;
  let last = null as ReturnType<typeof monitor.update> | null;
  for (let t = 0; t <= endS; t += dtS) {
    const next = outages.find((o) => o.atS === t);
    if (next) {
      mode = "outage";
      outage = next;
      outageStartSoc = truth.meanSoc();
      outageStartS = t;
      predicted = null;
    }
    let load: Load;
    if (mode === "outage" && outage) {
      const nominalW = outage.cRate * capAh * 3.2 * cells * (chemistry === "nmc" ? 3.6 / 3.2 : 1);
      load = { kind: "power", watts: nominalW };
      const done = outageStartSoc - truth.meanSoc() >= outage.depthPct || truth.minCellV() * 1000 <= cutoffMv;
      if (done) {
        if (truth.minCellV() * 1000 <= cutoffMv && predicted !== null)
          runtime.push({ predictedS: predicted, actualS: t - outageStartS - 5 });
        mode = "charge";
        outage = null;
        load = { kind: "rest" };
      }
    } else if (mode === "charge") {
      load = { kind: "charge", cellMv: ch.chargeVoltageMv, maxA: 0.2 * capAh };
    } else {
      load = { kind: "charge", cellMv: ch.floatVoltageMv, maxA: 0.05 * capAh };
    }
    truth.step(dtS, load);
    // The last few % near the top: the charger tapers (the OCV table ends at 100 %).
    if (mode === "charge" && truth.meanSoc() >= 99.95)
      truth.currentA = Math.min(truth.currentA, 0.01 * capAh);
    const out = monitor.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, errors), readError: null });
    last = out;
    if (mode === "charge") {
      if (out.estimates.fullConfirmed || truth.meanSoc() >= 99.95) fullSince ??= t;
      if (fullSince !== null && t - fullSince > 600) {
        mode = "float";
        fullSince = null;
      }
    }
    if (mode === "outage" && predicted === null && t - outageStartS >= 5 && out.estimates.runtimeS !== null)
      predicted = out.estimates.runtimeS;
    if (process.env.DUTY_TRACE && t % 3600 === 0)
      console.log(
        t / 3600,
        mode,
        truth.meanSoc().toFixed(2),
        out.estimates.socPct.toFixed(2),
        truth.currentA.toFixed(3),
        out.measurements.cells.minMv,
        out.estimates.lastAnchor?.kind,
        out.estimates.fullConfirmed,
      );
    if (t >= 60) {
      const err = out.estimates.socPct - truth.meanSoc();
      maxErr = Math.max(maxErr, Math.abs(err));
      sq += err * err;
      n++;
    }
  }
  return {
    maxAbsErrPct: maxErr,
    rmsErrPct: Math.sqrt(sq / n),
    samples: n,
    runtime,
    config,
    finalSohPct: last?.estimates.sohPct ?? Number.NaN,
  };
}
