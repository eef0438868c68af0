/** Per-tick statistics and the lifetime charge/energy counters. */
import type { CellStats, Counters } from "./types.js";

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

export interface TempStats {
  minDeciC: number | null;
  minIndex: number;
  maxDeciC: number | null;
  maxIndex: number;
  meanDeciC: number | null;
}

/** Over plausible readings only (null and out-of-range sensors are skipped). */
export function tempStats(temps: readonly (number | null)[], lo: number, hi: number): TempStats {
  let minDeciC: number | null = null;
  let maxDeciC: number | null = null;
  let minIndex = -1;
  let maxIndex = -1;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < temps.length; i++) {
    const t = temps[i];
    if (t === null || t === undefined || !(t >= lo && t <= hi)) continue;
    if (minDeciC === null || t < minDeciC) [minDeciC, minIndex] = [t, i];
    if (maxDeciC === null || t > maxDeciC) [maxDeciC, maxIndex] = [t, i];
    sum += t;
    n++;
  }
  return { minDeciC, minIndex, maxDeciC, maxIndex, meanDeciC: n > 0 ? sum / n : null };
}

export interface MutableCounters {
  chargeInAh: number;
  chargeOutAh: number;
  energyInWh: number;
  energyOutWh: number;
}

export function createCounters(): MutableCounters {
  return { chargeInAh: 0, chargeOutAh: 0, energyInWh: 0, energyOutWh: 0 };
}

export function addToCounters(c: MutableCounters, currentA: number, packV: number, dtS: number): void {
  const ah = (currentA * dtS) / 3600;
  const wh = ah * packV;
  if (ah > 0) {
    c.chargeInAh += ah;
    c.energyInWh += wh;
  } else {
    c.chargeOutAh -= ah;
    c.energyOutWh -= wh;
  }
}

export function countersView(c: MutableCounters, ratedAh: number): Counters {
  return {
    chargeInAh: c.chargeInAh,
    chargeOutAh: c.chargeOutAh,
    energyInWh: c.energyInWh,
    energyOutWh: c.energyOutWh,
    equivalentCycles: c.chargeOutAh / ratedAh,
  };
}
