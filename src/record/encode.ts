/** Turns snapshots into stored rows: compact per-second samples, minute aggregates, trip rows. */
import type { BmsSnapshot } from "../core/snapshot.js";

/** Temperatures that are missing are stored as this value in the Int16 blob. */
export const NO_TEMP = -32768;

const intOrNull = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.round(v);

export function encodeCells(cellsMv: readonly number[]): Buffer {
  const b = Buffer.alloc(cellsMv.length * 2);
  for (let i = 0; i < cellsMv.length; i++) {
    const v = cellsMv[i]!;
    b.writeUInt16LE(Number.isFinite(v) ? Math.max(0, Math.min(65535, Math.round(v))) : 0, i * 2);
  }
  return b;
}

export function decodeCells(b: Uint8Array | null): number[] {
  if (!b) return [];
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 1 < buf.length; i += 2) out.push(buf.readUInt16LE(i));
  return out;
}

export function encodeTemps(temps: readonly (number | null)[]): Buffer {
  const b = Buffer.alloc(temps.length * 2);
  for (let i = 0; i < temps.length; i++) {
    const t = temps[i];
    b.writeInt16LE(
      t === null || t === undefined || !Number.isFinite(t)
        ? NO_TEMP
        : Math.max(-32767, Math.min(32767, Math.round(t))),
      i * 2,
    );
  }
  return b;
}

export function decodeTemps(b: Uint8Array | null): (number | null)[] {
  if (!b) return [];
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: (number | null)[] = [];
  for (let i = 0; i + 1 < buf.length; i += 2) {
    const v = buf.readInt16LE(i);
    out.push(v === NO_TEMP ? null : v);
  }
  return out;
}

export interface SampleRow {
  readonly t_ms: number;
  readonly seq: number;
  readonly state: string;
  readonly soc_dpct: number | null;
  readonly pack_mv: number | null;
  readonly current_ma: number | null;
  readonly cell_min_mv: number | null;
  readonly cell_max_mv: number | null;
  readonly temp_min_dc: number | null;
  readonly temp_max_dc: number | null;
  readonly fets: number;
  readonly faults: number;
  readonly valid: number;
  readonly cells: Buffer;
  readonly temps: Buffer;
  readonly balancing: string;
}

export function sampleRow(s: BmsSnapshot, wallMs: number): SampleRow {
  const m = s.measurements;
  return {
    t_ms: Math.round(wallMs),
    seq: s.seq,
    state: s.protection.state,
    soc_dpct: intOrNull(s.estimates.socPct * 10),
    pack_mv: intOrNull(m.packVoltageMv),
    current_ma: intOrNull(m.packCurrentMa),
    cell_min_mv: intOrNull(m.cells.minMv),
    cell_max_mv: intOrNull(m.cells.maxMv),
    temp_min_dc: intOrNull(m.minTempDeciC),
    temp_max_dc: intOrNull(m.maxTempDeciC),
    fets: (s.protection.fets.chg ? 1 : 0) | (s.protection.fets.dsg ? 2 : 0),
    faults: s.protection.faults.length,
    valid: m.valid ? 1 : 0,
    cells: encodeCells(m.cellVoltagesMv),
    temps: encodeTemps(m.temperaturesDeciC),
    balancing: s.balance.cells.join(","),
  };
}

/** One tick of a trip capture: offset from the trip, then the raw values the technician needs. */
export interface TripPoint {
  readonly dtMs: number;
  readonly state: string;
  readonly valid: boolean;
  readonly packMv: number;
  readonly currentMa: number;
  readonly socPct: number;
  readonly chg: boolean;
  readonly dsg: boolean;
  readonly cellsMv: readonly number[];
  readonly tempsDeciC: readonly (number | null)[];
  readonly faults: readonly string[];
}

export function tripPoint(s: BmsSnapshot, tripClockMs: number): TripPoint {
  const m = s.measurements;
  return {
    dtMs: Math.round(s.timestampMs - tripClockMs),
    state: s.protection.state,
    valid: m.valid,
    packMv: Math.round(m.packVoltageMv),
    currentMa: Math.round(m.packCurrentMa),
    socPct: Math.round(s.estimates.socPct * 100) / 100,
    chg: s.protection.fets.chg,
    dsg: s.protection.fets.dsg,
    cellsMv: m.cellVoltagesMv.map((v) => (Number.isFinite(v) ? Math.round(v) : 0)),
    tempsDeciC: m.temperaturesDeciC,
    faults: s.protection.faults.map((f) => f.code),
  };
}

interface Stat {
  min: number;
  max: number;
  sum: number;
  n: number;
}

const stat = (): Stat => ({ min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sum: 0, n: 0 });

function add(st: Stat, v: number | null): void {
  if (v === null || !Number.isFinite(v)) return;
  if (v < st.min) st.min = v;
  if (v > st.max) st.max = v;
  st.sum += v;
  st.n++;
}

const minOf = (s: Stat) => (s.n ? Math.round(s.min) : null);
const maxOf = (s: Stat) => (s.n ? Math.round(s.max) : null);
const meanOf = (s: Stat) => (s.n ? Math.round(s.sum / s.n) : null);

export interface MinuteRow {
  readonly t_min: number;
  readonly n: number;
  readonly pack_mv_min: number | null;
  readonly pack_mv_mean: number | null;
  readonly pack_mv_max: number | null;
  readonly current_ma_min: number | null;
  readonly current_ma_mean: number | null;
  readonly current_ma_max: number | null;
  readonly cell_min_mv: number | null;
  readonly cell_mean_mv: number | null;
  readonly cell_max_mv: number | null;
  readonly delta_mv_max: number | null;
  readonly temp_min_dc: number | null;
  readonly temp_max_dc: number | null;
  readonly soc_dpct_min: number | null;
  readonly soc_dpct_mean: number | null;
  readonly soc_dpct_max: number | null;
  readonly state: string;
  readonly fault_ticks: number;
}

/**
 * Running min/mean/max over one wall-clock minute. `add` does a fixed amount of work per
 * snapshot whatever the cell count, so it can run inside the tick.
 */
export class MinuteAggregator {
  private minute: number | null = null;
  private n = 0;
  private pack = stat();
  private cur = stat();
  private cellMin = stat();
  private cellMean = stat();
  private cellMax = stat();
  private delta = stat();
  private tMin = stat();
  private tMax = stat();
  private soc = stat();
  private state = "init";
  private faultTicks = 0;

  /** Adds one snapshot; returns the finished previous minute when this one starts a new minute. */
  add(s: BmsSnapshot, wallMs: number): MinuteRow | null {
    const minute = Math.floor(wallMs / 60_000);
    let done: MinuteRow | null = null;
    if (this.minute !== null && minute !== this.minute) done = this.take();
    if (this.minute === null || minute !== this.minute) this.reset(minute);
    const m = s.measurements;
    this.n++;
    add(this.pack, m.packVoltageMv);
    add(this.cur, m.packCurrentMa);
    add(this.cellMin, m.cells.minMv);
    add(this.cellMean, m.cells.meanMv);
    add(this.cellMax, m.cells.maxMv);
    add(this.delta, m.cells.deltaMv);
    add(this.tMin, m.minTempDeciC);
    add(this.tMax, m.maxTempDeciC);
    add(this.soc, s.estimates.socPct * 10);
    this.state = s.protection.state;
    if (s.protection.faults.length > 0) this.faultTicks++;
    return done;
  }

  /** The minute in progress, if any (written at close so a clean stop loses nothing). */
  partial(): MinuteRow | null {
    return this.minute === null || this.n === 0 ? null : this.take();
  }

  private reset(minute: number): void {
    this.minute = minute;
    this.n = 0;
    this.pack = stat();
    this.cur = stat();
    this.cellMin = stat();
    this.cellMean = stat();
    this.cellMax = stat();
    this.delta = stat();
    this.tMin = stat();
    this.tMax = stat();
    this.soc = stat();
    this.faultTicks = 0;
  }

  private take(): MinuteRow {
    return {
      t_min: this.minute!,
      n: this.n,
      pack_mv_min: minOf(this.pack),
      pack_mv_mean: meanOf(this.pack),
      pack_mv_max: maxOf(this.pack),
      current_ma_min: minOf(this.cur),
      current_ma_mean: meanOf(this.cur),
      current_ma_max: maxOf(this.cur),
      cell_min_mv: minOf(this.cellMin),
      cell_mean_mv: meanOf(this.cellMean),
      cell_max_mv: maxOf(this.cellMax),
      delta_mv_max: maxOf(this.delta),
      temp_min_dc: minOf(this.tMin),
      temp_max_dc: maxOf(this.tMax),
      soc_dpct_min: minOf(this.soc),
      soc_dpct_mean: meanOf(this.soc),
      soc_dpct_max: maxOf(this.soc),
      state: this.state,
      fault_ticks: this.faultTicks,
    };
  }
}
