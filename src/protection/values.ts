/**
 * Extracts the per-tick values the protections compare against, leaving out channels the
 * monitor has flagged: an open wire reading 0 V must raise sensor_fault, not a false
 * under-voltage or deep-discharge latch.
 */
import type { Measurements } from "../monitor/types.js";
import {
  V_BOARD_TEMP,
  V_CHG_CURRENT,
  V_COMMS,
  V_DSG_CURRENT,
  V_MAX_CELL,
  V_MAX_TEMP,
  V_MIN_CELL,
  V_MIN_TEMP,
  V_SENSOR,
  V_SPREAD,
} from "./rules.js";

/** Where the extremes are, for fault details. */
export interface Extremes {
  maxCell: number;
  minCell: number;
  maxTemp: number;
  minTemp: number;
  sumCellsMv: number;
  /** Every cell channel healthy (the extremes are "last good data"). */
  cellsHealthy: boolean;
}

const COMMS_KINDS = new Set(["driver", "stale", "missing"]);
/**
 * Kinds whose reading means nothing (no reading, outside the plausible range, an open sense
 * wire): such a channel is left out of the limit checks. A plausible reading that only
 * disagrees (`temp_spread`, `stuck`, `pack_mismatch`) is kept where it errs on the safe side:
 * a real hot spot also disagrees with its neighbours, so a suspicious thermistor still counts
 * for over-temperature; a lone cold reading among warm neighbours is a sensor (an open
 * thermistor reads its cold rail), so it does not count for under-temperature.
 */
const MEANINGLESS_KINDS = new Set(["missing", "range", "open_wire"]);

export function isCommsFault(channel: string, kind: string): boolean {
  return channel === "afe" && COMMS_KINDS.has(kind);
}

function channelIndex(channel: string, prefix: string): number {
  return channel.startsWith(prefix) ? Number(channel.slice(prefix.length)) : -1;
}

export function extractValues(m: Measurements, v: Float64Array, ex: Extremes): void {
  v.fill(Number.NaN);
  let sensorCount = 0;
  let comms = 0;
  let badCells: Set<number> | null = null;
  /** Left out of both temperature extremes. */
  let badTemps: Set<number> | null = null;
  /** Left out of the coldest reading (every flagged thermistor). */
  let coldSkip: Set<number> | null = null;
  let badCurrent = false;
  let badBoard = false;
  for (const f of m.sensorFaults) {
    if (isCommsFault(f.channel, f.kind)) {
      comms = 1;
      continue;
    }
    sensorCount++;
    const meaningless = MEANINGLESS_KINDS.has(f.kind);
    const ti0 = channelIndex(f.channel, "temp:");
    if (ti0 >= 0) {
      coldSkip ??= new Set();
      coldSkip.add(ti0);
      if (meaningless) {
        badTemps ??= new Set();
        badTemps.add(ti0);
      }
      continue;
    }
    if (!meaningless) continue;
    const ci = channelIndex(f.channel, "cell:");
    if (ci >= 0) {
      badCells ??= new Set();
      badCells.add(ci);
      continue;
    }
    if (f.channel === "current") badCurrent = true;
    else if (f.channel === "board_temp") badBoard = true;
    // A pack-voltage fault only raises sensor_fault: the cells keep their own protections.
  }
  v[V_SENSOR] = sensorCount;
  // Invalid data with only channel faults listed is a sensor problem, not a comms one (a
  // monitor that withholds validity for a bad channel); invalid with nothing listed is comms.
  v[V_COMMS] = comms === 1 || (!m.valid && sensorCount === 0) ? 1 : 0;
  ex.cellsHealthy = badCells === null;
  if (!m.valid) return;

  const cells = m.cellVoltagesMv;
  if (badCells === null) {
    v[V_MAX_CELL] = m.cells.maxMv;
    v[V_MIN_CELL] = m.cells.minMv;
    ex.maxCell = m.cells.maxIndex;
    ex.minCell = m.cells.minIndex;
    let sum = 0;
    for (let i = 0; i < cells.length; i++) sum += cells[i]!;
    ex.sumCellsMv = sum;
  } else {
    let max = Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    let sum = 0;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i]!;
      sum += c;
      if (badCells.has(i)) continue;
      if (c > max) {
        max = c;
        ex.maxCell = i;
      }
      if (c < min) {
        min = c;
        ex.minCell = i;
      }
    }
    if (max >= min) {
      v[V_MAX_CELL] = max;
      v[V_MIN_CELL] = min;
    }
    ex.sumCellsMv = sum;
  }
  if (!Number.isNaN(v[V_MAX_CELL]!)) v[V_SPREAD] = v[V_MAX_CELL]! - v[V_MIN_CELL]!;

  if (!badCurrent) {
    v[V_CHG_CURRENT] = m.packCurrentMa;
    v[V_DSG_CURRENT] = -m.packCurrentMa;
  }
  if (!badBoard && m.boardTempDeciC !== null) v[V_BOARD_TEMP] = m.boardTempDeciC;

  if (coldSkip === null) {
    if (m.maxTempDeciC !== null && m.minTempDeciC !== null) {
      v[V_MAX_TEMP] = m.maxTempDeciC;
      v[V_MIN_TEMP] = m.minTempDeciC;
      ex.maxTemp = m.maxTempIndex;
      ex.minTemp = m.minTempIndex;
    }
  } else {
    const temps = m.temperaturesDeciC;
    let max = Number.NEGATIVE_INFINITY;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < temps.length; i++) {
      const t = temps[i];
      if (t === null || t === undefined || badTemps?.has(i)) continue;
      if (t > max) {
        max = t;
        ex.maxTemp = i;
      }
      if (!coldSkip.has(i) && t < min) {
        min = t;
        ex.minTemp = i;
      }
    }
    if (max > Number.NEGATIVE_INFINITY) v[V_MAX_TEMP] = max;
    if (min < Number.POSITIVE_INFINITY) v[V_MIN_TEMP] = min;
  }
}
