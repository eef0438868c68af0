/**
 * Measurement validation: turns one raw sample into typed per-channel sensor faults.
 * Nothing is substituted: the caller keeps the hardware's values and the fault list says
 * what is wrong with them.
 *
 * Which faults gate `valid` (see docs/estimation.md):
 * - `afe` faults (no sample, stale sample, read failure this tick) make the whole tick
 *   invalid: there is nothing current to act on.
 * - Before the first valid tick, every channel must be clean (complete and plausible).
 * - After that, channel faults (`cell:i`, `temp:i`, `current`, `pack_voltage`,
 *   `board_temp`) are flags for protection to act on; `valid` stays true.
 */
import type { MonitorConfig } from "../config/sections.js";
import type { ChannelId, SensorFault } from "../core/faults.js";
import type { Sample } from "../hal/afe.js";

type Plausibility = MonitorConfig["plausibility"];

const CHANNEL_RE = /^(cell:\d+|temp:\d+|current|pack_voltage|board_temp|afe)$/;

/** Tracks identical readings per channel, for the stuck-value check. */
export interface StuckTracker {
  readonly values: Float64Array;
  readonly sinceMs: Float64Array;
}

export function createStuckTracker(channels: number): StuckTracker {
  return { values: new Float64Array(channels).fill(Number.NaN), sinceMs: new Float64Array(channels) };
}

function stuck(t: StuckTracker, slot: number, v: number, nowMs: number, afterMs: number): boolean {
  if (slot >= t.values.length) return false;
  if (t.values[slot] !== v) {
    t.values[slot] = v;
    t.sinceMs[slot] = nowMs;
    return false;
  }
  return nowMs - t.sinceMs[slot]! >= afterMs;
}

export interface ChannelCheck {
  /** Cells with any fault. */
  cellsOk: boolean;
  currentOk: boolean;
}

/**
 * Appends the channel faults of a fresh sample to `out` and reports which groups are clean.
 * Allocation-free when everything is fine.
 */
export function checkChannels(
  s: Sample,
  pl: Plausibility,
  stuckTracker: StuckTracker | null,
  out: SensorFault[],
): ChannelCheck {
  const cells = s.cellVoltagesMv;
  const n = cells.length;
  let cellsOk = true;
  let sumMv = 0;
  let finite = 0;
  let sorted: number[] | null = null;
  for (let i = 0; i < n; i++) {
    const v = cells[i]!;
    if (Number.isFinite(v)) {
      sumMv += v;
      finite++;
    }
    if (!(v >= pl.cellMinMv && v <= pl.cellMaxMv)) cellsOk = false;
  }
  if (!cellsOk) {
    // Open sense wire: one cell reads near 0 and a neighbour reads about the sum of two.
    sorted = cells.filter(Number.isFinite).sort((a, b) => a - b);
    const median = sorted.length > 0 ? sorted[sorted.length >> 1]! : Number.NaN;
    const open = new Set<number>();
    for (let i = 0; i < n; i++) {
      const v = cells[i]!;
      if (!(v < 0.3 * median)) continue;
      for (const j of [i - 1, i + 1]) {
        const w = cells[j];
        if (w !== undefined && w > 1.6 * median && w < 2.4 * median) {
          open.add(i);
          open.add(j);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const v = cells[i]!;
      if (open.has(i)) {
        out.push({
          channel: `cell:${i}`,
          kind: "open_wire",
          detail: `${v} mV: open sense wire pattern (neighbour reads about the sum of two cells)`,
        });
      } else if (!Number.isFinite(v)) {
        out.push({ channel: `cell:${i}`, kind: "missing", detail: "no reading" });
      } else if (!(v >= pl.cellMinMv && v <= pl.cellMaxMv)) {
        out.push({
          channel: `cell:${i}`,
          kind: "range",
          detail: `${v} mV outside ${pl.cellMinMv}..${pl.cellMaxMv}`,
        });
      }
    }
  }
  // With a bad cell the sum is wrong anyway; the cell's own fault says so.
  if (s.packVoltageMv !== null && cellsOk && finite === n && n > 0) {
    const diff = s.packVoltageMv - sumMv;
    if (Math.abs(diff) > pl.packVsSumToleranceMv) {
      out.push({
        channel: "pack_voltage",
        kind: "pack_mismatch",
        detail: `pack ${s.packVoltageMv} mV vs sum of cells ${Math.round(sumMv)} mV (tolerance ${pl.packVsSumToleranceMv})`,
      });
    }
  }
  let currentOk = true;
  const i = s.packCurrentMa;
  if (i === null) {
    // The driver has no current measurement (a capability, not a failure): nothing to flag,
    // but nothing to count either.
    currentOk = false;
  } else if (!Number.isFinite(i)) {
    currentOk = false;
    out.push({ channel: "current", kind: "missing", detail: "no current reading" });
  } else if (Math.abs(i) > pl.currentMaxMa) {
    currentOk = false;
    out.push({ channel: "current", kind: "range", detail: `${i} mA beyond ±${pl.currentMaxMa}` });
  }

  const temps = s.temperaturesDeciC;
  let tMin = Number.POSITIVE_INFINITY;
  let tMax = Number.NEGATIVE_INFINITY;
  let tMinI = -1;
  let tMaxI = -1;
  let tOk = 0;
  let tSum = 0;
  for (let k = 0; k < temps.length; k++) {
    const t = temps[k];
    if (t === null || t === undefined || !Number.isFinite(t)) {
      out.push({ channel: `temp:${k}`, kind: "missing", detail: "no reading" });
      continue;
    }
    if (t < pl.tempMinDeciC || t > pl.tempMaxDeciC) {
      out.push({
        channel: `temp:${k}`,
        kind: "range",
        detail: `${t} outside ${pl.tempMinDeciC}..${pl.tempMaxDeciC} (0.1 °C)`,
      });
      continue;
    }
    tOk++;
    tSum += t;
    if (t < tMin) [tMin, tMinI] = [t, k];
    if (t > tMax) [tMax, tMaxI] = [t, k];
  }
  if (tOk >= 2 && tMax - tMin > pl.tempSpreadDeciC) {
    // Blame the sensor furthest from the mean of the others.
    const mean = tSum / tOk;
    const culprit = tMax - mean >= mean - tMin ? tMaxI : tMinI;
    out.push({
      channel: `temp:${culprit}`,
      kind: "temp_spread",
      detail: `sensor spread ${tMax - tMin} exceeds ${pl.tempSpreadDeciC} (0.1 °C)`,
    });
  }
  const b = s.boardTempDeciC;
  if (b !== null && (!Number.isFinite(b) || b < pl.tempMinDeciC || b > pl.tempMaxDeciC)) {
    out.push({
      channel: "board_temp",
      kind: "range",
      detail: `${b} outside ${pl.tempMinDeciC}..${pl.tempMaxDeciC}`,
    });
  }

  if (stuckTracker && pl.stuckAfterMs > 0) {
    const now = s.timestampMs;
    for (let k = 0; k < n; k++) {
      if (stuck(stuckTracker, k, cells[k]!, now, pl.stuckAfterMs)) {
        cellsOk = false;
        out.push({ channel: `cell:${k}`, kind: "stuck", detail: `unchanged for ${pl.stuckAfterMs} ms` });
      }
    }
    for (let k = 0; k < temps.length; k++) {
      const t = temps[k];
      if (t !== null && t !== undefined && stuck(stuckTracker, n + k, t, now, pl.stuckAfterMs))
        out.push({ channel: `temp:${k}`, kind: "stuck", detail: `unchanged for ${pl.stuckAfterMs} ms` });
    }
    // A current of exactly zero for long is normal (idle pack); a frozen non-zero value is not.
    if (i !== null && i !== 0 && stuck(stuckTracker, n + temps.length, i, now, pl.stuckAfterMs)) {
      currentOk = false;
      out.push({ channel: "current", kind: "stuck", detail: `unchanged for ${pl.stuckAfterMs} ms` });
    }
  }

  for (const e of s.channelErrors ?? []) {
    if (CHANNEL_RE.test(e.channel)) {
      const ch = e.channel as ChannelId;
      if (ch.startsWith("cell:")) cellsOk = false;
      if (ch === "current") currentOk = false;
      out.push({ channel: ch, kind: "driver", detail: e.reason });
    } else {
      out.push({ channel: "afe", kind: "driver", detail: `${e.channel}: ${e.reason}` });
    }
  }
  // Any cell-channel fault (range, open wire, missing) means the voltages cannot feed the estimator.
  if (out.some((f) => f.channel.startsWith("cell:"))) cellsOk = false;
  return { cellsOk, currentOk };
}
