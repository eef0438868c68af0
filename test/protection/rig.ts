/** Test rig: builds measurements from a compact spec and steps the reducer on fixed ticks. */
import type { BmsConfig } from "../../src/config/schema.js";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsEvent } from "../../src/core/events.js";
import type { FaultCode, HardwareFault, SensorFault } from "../../src/core/faults.js";
import type { FetState } from "../../src/core/fets.js";
import type { BmsRequest } from "../../src/core/requests.js";
import type { Estimates, Measurements } from "../../src/monitor/types.js";
import { reduceProtection } from "../../src/protection/reducer.js";
import { initialState, type ProtectionState, restoreState } from "../../src/protection/state.js";
import type { ProtectionView } from "../../src/protection/types.js";

export interface Spec {
  /** Every cell at this voltage unless `cells` is given. */
  cellMv?: number;
  /** Overrides for single cells: index → mV. */
  cells?: Record<number, number>;
  currentMa?: number;
  temps?: (number | null)[];
  boardDeciC?: number | null;
  valid?: boolean;
  sensorFaults?: SensorFault[];
  hardwareFaults?: HardwareFault[];
  fets?: FetState;
  socPct?: number;
  full?: boolean;
}

export function measurements(config: BmsConfig, s: Spec, nowMs = 0): Measurements {
  const n = config.pack.cellsInSeries;
  const cellVoltagesMv = Array.from({ length: n }, (_, i) => s.cells?.[i] ?? s.cellMv ?? 3300);
  let minMv = Number.POSITIVE_INFINITY;
  let maxMv = Number.NEGATIVE_INFINITY;
  let minIndex = 0;
  let maxIndex = 0;
  cellVoltagesMv.forEach((v, i) => {
    if (v < minMv) {
      minMv = v;
      minIndex = i;
    }
    if (v > maxMv) {
      maxMv = v;
      maxIndex = i;
    }
  });
  const temps = s.temps ?? [250, 250];
  const present = temps.map((t, i) => [t, i] as const).filter((p): p is [number, number] => p[0] !== null);
  const minT = present.length ? present.reduce((a, b) => (b[0] < a[0] ? b : a)) : null;
  const maxT = present.length ? present.reduce((a, b) => (b[0] > a[0] ? b : a)) : null;
  const packVoltageMv = cellVoltagesMv.reduce((a, b) => a + b, 0);
  const currentMa = s.currentMa ?? 0;
  return {
    timestampMs: nowMs,
    valid: s.valid ?? true,
    sampleAgeMs: 0,
    cellVoltagesMv,
    cells: {
      minMv,
      minIndex,
      maxMv,
      maxIndex,
      meanMv: packVoltageMv / n,
      deltaMv: maxMv - minMv,
    },
    packVoltageMv,
    packCurrentMa: currentMa,
    packPowerW: (packVoltageMv * currentMa) / 1e6,
    temperaturesDeciC: temps,
    minTempDeciC: minT ? minT[0] : null,
    minTempIndex: minT ? minT[1] : 0,
    maxTempDeciC: maxT ? maxT[0] : null,
    maxTempIndex: maxT ? maxT[1] : 0,
    boardTempDeciC: s.boardDeciC === undefined ? 300 : s.boardDeciC,
    sensorFaults: s.sensorFaults ?? [],
    hardwareFaults: s.hardwareFaults ?? [],
    fets: s.fets ?? { chg: true, dsg: true },
    balancingCells: [],
  };
}

export function estimates(s: Spec): Estimates {
  const soc = s.socPct ?? 60;
  return {
    socPct: soc,
    reportedSocPct: soc,
    sohPct: 100,
    capacityAh: 100,
    remainingAh: soc,
    remainingWh: soc * 50,
    runtimeS: null,
    timeToFullS: null,
    fullConfirmed: s.full ?? false,
    estimator: "coulomb",
    counters: { chargeInAh: 0, chargeOutAh: 0, energyInWh: 0, energyOutWh: 0, equivalentCycles: 0 },
  };
}

export const TICK_MS = 250;

export class Rig {
  state: ProtectionState;
  nowMs = 0;
  view!: ProtectionView;
  events: BmsEvent[] = [];
  clears: FaultCode[][] = [];
  private first = true;

  constructor(
    readonly config: BmsConfig = parseConfig({}),
    restored?: unknown,
  ) {
    this.state = restored === undefined ? initialState() : restoreState(restored);
  }

  /** One tick of `TICK_MS` (the first tick has elapsed 0). */
  tick(spec: Spec, requests: BmsRequest[] = [], elapsedMs = TICK_MS): ProtectionView {
    const dt = this.first ? 0 : elapsedMs;
    this.first = false;
    this.nowMs += dt;
    const r = reduceProtection(
      this.state,
      {
        nowMs: this.nowMs,
        elapsedMs: dt,
        measurements: measurements(this.config, spec, this.nowMs),
        estimates: estimates(spec),
        requests,
      },
      this.config,
    );
    this.state = r.state;
    this.view = r.view;
    this.events.push(...r.events);
    this.clears.push([...r.clearHardwareFaults]);
    return r.view;
  }

  /** Ticks for `ms` of simulated time (rounded up to whole ticks). */
  run(spec: Spec, ms: number): ProtectionView {
    const n = Math.ceil(ms / TICK_MS);
    for (let i = 0; i < n; i++) this.tick(spec);
    return this.view;
  }

  /** Ticks until `pred` holds; returns the time it took, or -1 after `maxMs`. */
  until(spec: Spec, pred: (v: ProtectionView) => boolean, maxMs: number): number {
    const t0 = this.nowMs;
    while (this.nowMs - t0 <= maxMs) {
      this.tick(spec);
      if (pred(this.view)) return this.nowMs - t0;
    }
    return -1;
  }

  fault(code: FaultCode) {
    return this.view.faults.find((f) => f.code === code);
  }

  faultEvents(code: FaultCode, action?: string) {
    return this.events.filter(
      (e): e is Extract<BmsEvent, { type: "fault" }> =>
        e.type === "fault" && e.code === code && (action === undefined || e.action === action),
    );
  }
}

export const tripOf = (v: ProtectionView, code: FaultCode) =>
  v.faults.find((f) => f.code === code && f.level === "trip");
