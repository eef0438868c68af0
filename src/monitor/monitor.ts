/**
 * Foundation monitor: the first-valid-sample gate, staleness, range checks, stats and a
 * plain coulomb counter. Issue #4 grows this into the full estimator.
 */
import type { BmsConfig } from "../config/schema.js";
import type { SensorFault } from "../core/faults.js";
import type { MonitorInput, MonitorOutput, MonitorStage } from "../core/stages.js";
import type { Sample } from "../hal/afe.js";
import type { CellStats, Estimates, Measurements } from "./types.js";

export function cellStats(cellsMv: readonly number[]): CellStats {
  let minMv = Number.POSITIVE_INFINITY;
  let maxMv = Number.NEGATIVE_INFINITY;
  let minIndex = -1;
  let maxIndex = -1;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < cellsMv.length; i++) {
    const v = cellsMv[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < minMv) {
      minMv = v;
      minIndex = i;
    }
    if (v > maxMv) {
      maxMv = v;
      maxIndex = i;
    }
    sum += v;
    n++;
  }
  if (n === 0)
    return {
      minMv: Number.NaN,
      minIndex: -1,
      maxMv: Number.NaN,
      maxIndex: -1,
      meanMv: Number.NaN,
      deltaMv: Number.NaN,
    };
  return { minMv, minIndex, maxMv, maxIndex, meanMv: sum / n, deltaMv: maxMv - minMv };
}

export function createMonitor(config: BmsConfig): MonitorStage {
  const pl = config.monitor.plausibility;
  const capacityAh = config.pack.capacityAh;
  let last: Sample | null = null;
  let everValid = false;
  let socPct = config.afe.kind === "sim" ? config.afe.initialSocPct : 50;
  let lastMs: number | null = null;

  const update = (input: MonitorInput): MonitorOutput => {
    if (input.sample) last = input.sample;
    const s = last;
    const faults: SensorFault[] = [];
    const ageMs = s ? input.nowMs - s.timestampMs : Number.POSITIVE_INFINITY;
    if (input.readError) faults.push({ channel: "afe", kind: "driver", detail: input.readError.message });
    if (!s) faults.push({ channel: "afe", kind: "missing", detail: "no sample yet" });
    else if (ageMs > config.monitor.staleAfterMs)
      faults.push({ channel: "afe", kind: "stale", detail: `sample is ${ageMs} ms old` });
    const cells = s?.cellVoltagesMv ?? [];
    cells.forEach((v, i) => {
      if (!(v >= pl.cellMinMv && v <= pl.cellMaxMv))
        faults.push({
          channel: `cell:${i}`,
          kind: "range",
          detail: `${v} mV outside ${pl.cellMinMv}..${pl.cellMaxMv}`,
        });
    });
    const temps = s?.temperaturesDeciC ?? [];
    let minT: number | null = null;
    let maxT: number | null = null;
    let minTi = -1;
    let maxTi = -1;
    temps.forEach((t, i) => {
      if (t === null || !(t >= pl.tempMinDeciC && t <= pl.tempMaxDeciC)) {
        faults.push({
          channel: `temp:${i}`,
          kind: "range",
          detail: `${t} outside ${pl.tempMinDeciC}..${pl.tempMaxDeciC}`,
        });
        return;
      }
      if (minT === null || t < minT) [minT, minTi] = [t, i];
      if (maxT === null || t > maxT) [maxT, maxTi] = [t, i];
    });
    const currentMa = (s?.packCurrentMa ?? 0) - config.monitor.currentOffsetMa;
    const stats = cellStats(cells);
    const packMv = s?.packVoltageMv ?? cells.reduce((a, b) => a + b, 0);
    const valid = s !== null && faults.length === 0;
    everValid ||= valid;
    if (valid && lastMs !== null) {
      const dtH = (input.nowMs - lastMs) / 3_600_000;
      const iMa = Math.abs(currentMa) < config.monitor.currentDeadbandMa ? 0 : currentMa;
      socPct = Math.min(100, Math.max(0, socPct + (iMa / 1000) * dtH * (100 / capacityAh)));
    }
    if (valid) lastMs = input.nowMs;
    const measurements: Measurements = {
      timestampMs: input.nowMs,
      valid: valid && everValid,
      sampleAgeMs: ageMs,
      cellVoltagesMv: cells,
      cells: stats,
      packVoltageMv: packMv,
      packCurrentMa: currentMa,
      packPowerW: (packMv / 1000) * (currentMa / 1000),
      temperaturesDeciC: temps,
      minTempDeciC: minT,
      minTempIndex: minTi,
      maxTempDeciC: maxT,
      maxTempIndex: maxTi,
      boardTempDeciC: s?.boardTempDeciC ?? null,
      sensorFaults: faults,
      hardwareFaults: s?.hardwareFaults ?? [],
      fets: s?.fets ?? { chg: false, dsg: false },
      balancingCells: s?.balancingCells ?? [],
    };
    const estimates: Estimates = {
      socPct,
      reportedSocPct: socPct,
      sohPct: 100,
      capacityAh,
      remainingAh: (socPct / 100) * capacityAh,
      remainingWh: (socPct / 100) * capacityAh * (packMv / 1000),
      runtimeS: null,
      timeToFullS: null,
      fullConfirmed: false,
      estimator: "coulomb",
      counters: { chargeInAh: 0, chargeOutAh: 0, energyInWh: 0, energyOutWh: 0, equivalentCycles: 0 },
    };
    return { measurements, estimates, events: [] };
  };

  return { update, exportState: () => ({ socPct }) };
}
