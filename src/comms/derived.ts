/** Values computed once per snapshot, shared by the points of every block. */
import type { BmsConfig } from "../config/schema.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { BMS_STATES } from "../protection/types.js";
import { type AlarmWords, alarmWords } from "./alarms.js";
import { heartbeatAlive, heartbeatLost, remoteOf } from "./remote.js";
import type { ModuleSpan } from "./scales.js";

export interface ModuleStats {
  readonly vMv: number;
  readonly maxMv: number;
  readonly maxCell: number;
  readonly minMv: number;
  readonly minCell: number;
  readonly avgMv: number;
  readonly tMax: number | null;
  readonly tMaxCell: number;
  readonly tMin: number | null;
  readonly tMinCell: number;
  readonly tAvg: number | null;
  readonly balancing: number;
}

export interface Derived {
  readonly alarms: AlarmWords;
  /** Temperature shown for each cell (the sensor covering its position), 0.1 °C. */
  readonly cellTempDeciC: readonly (number | null)[];
  readonly balancing: ReadonlySet<number>;
  readonly faultyCells: ReadonlySet<number>;
  readonly modules: readonly ModuleStats[];
  /** Module (1-based) holding each cell. */
  readonly moduleOfCell: (cell: number) => number | null;
  readonly state802: number;
  readonly chaSt: number;
  readonly statusFlags: number;
  readonly heartbeatAlive: boolean;
}

/** Thresholds for the UPS block's summary flags (RFC 1628 style "battery low" / "replace"). */
export const LOW_SOC_PCT = 20;
export const REPLACE_SOH_PCT = 70;

export const STATUS_FLAGS = [
  "charge allowed",
  "discharge allowed",
  "charge FET closed",
  "discharge FET closed",
  "balancing",
  `battery low (reported SOC ≤ ${LOW_SOC_PCT} % or DCL derated)`,
  "battery depleted (discharge not allowed)",
  `replace battery (SOH < ${REPLACE_SOH_PCT} %)`,
  "remote mode (writes accepted)",
  "remote disconnect active",
  "measurements valid",
  "latched fault present (alarm reset needed)",
  "controller heartbeat alive",
  "any warning or alarm active",
] as const;

/** 802 `State`: 1 DISCONNECTED, 2 INITIALIZING, 3 CONNECTED, 99 FAULT. */
function state802(s: BmsSnapshot): number {
  const st = s.protection.state;
  if (st === "fault") return 99;
  if (st === "init") return 2;
  if (st === "shutdown" || s.remote.disconnectRequested) return 1;
  const f = s.protection.fets;
  return f.chg || f.dsg ? 3 : 1;
}

/** 802 `ChaSt`: 1 OFF, 2 EMPTY, 3 DISCHARGING, 4 CHARGING, 5 FULL, 6 HOLDING. */
function chaSt(s: BmsSnapshot, config: BmsConfig): number {
  const f = s.protection.fets;
  if (!f.chg && !f.dsg) return 1;
  const i = s.measurements.packCurrentMa;
  const dead = config.monitor.currentDeadbandMa;
  if (i < -dead) return 3;
  if (i > dead) return 4;
  if (s.estimates.fullConfirmed) return 5;
  if (!s.protection.dischargeAllowed) return 2;
  return 6;
}

export function deriveFrom(s: BmsSnapshot, config: BmsConfig, modules: readonly ModuleSpan[]): Derived {
  const m = s.measurements;
  const n = m.cellVoltagesMv.length;
  const temps = m.temperaturesDeciC;
  const cellTempDeciC: (number | null)[] = [];
  for (let c = 0; c < n; c++)
    cellTempDeciC.push(temps.length === 0 ? null : (temps[Math.floor((c * temps.length) / n)] ?? null));
  const balancing = new Set(m.balancingCells);
  const faultyCells = new Set<number>();
  for (const f of m.sensorFaults) {
    if (f.channel.startsWith("cell:")) faultyCells.add(Number(f.channel.slice(5)));
  }
  // Protection's heartbeat clock, not one of our own: what is shown is what is applied.
  const remote = remoteOf(s);
  const alive = heartbeatAlive(remote);
  // Loss of the controller heartbeat is a comms error only once a controller has spoken.
  const alarms = alarmWords(s.protection.faults, heartbeatLost(remote));

  const stats: ModuleStats[] = modules.map((mod) => {
    let vMv = 0;
    let maxMv = -Infinity;
    let minMv = Infinity;
    let maxCell = 0;
    let minCell = 0;
    let tMax: number | null = null;
    let tMin: number | null = null;
    let tMaxCell = 0;
    let tMinCell = 0;
    let tSum = 0;
    let tN = 0;
    let bal = 0;
    for (let k = 0; k < mod.cellCount; k++) {
      const c = mod.firstCell + k;
      const v = m.cellVoltagesMv[c] ?? Number.NaN;
      if (Number.isFinite(v)) {
        vMv += v;
        if (v > maxMv) {
          maxMv = v;
          maxCell = k + 1;
        }
        if (v < minMv) {
          minMv = v;
          minCell = k + 1;
        }
      }
      const t = cellTempDeciC[c] ?? null;
      if (t !== null) {
        if (tMax === null || t > tMax) {
          tMax = t;
          tMaxCell = k + 1;
        }
        if (tMin === null || t < tMin) {
          tMin = t;
          tMinCell = k + 1;
        }
        tSum += t;
        tN++;
      }
      if (balancing.has(c)) bal++;
    }
    return {
      vMv,
      maxMv,
      maxCell,
      minMv,
      minCell,
      avgMv: vMv / mod.cellCount,
      tMax,
      tMaxCell,
      tMin,
      tMinCell,
      tAvg: tN > 0 ? tSum / tN : null,
      balancing: bal,
    };
  });
  const per = config.modbus.cellsPerModule;
  const p = s.protection;
  const est = s.estimates;
  const flags = [
    p.chargeAllowed,
    p.dischargeAllowed,
    p.fets.chg,
    p.fets.dsg,
    m.balancingCells.length > 0,
    est.reportedSocPct <= LOW_SOC_PCT || p.limits.dclMa < config.protection.charge.maxDischargeCurrentMa,
    !p.dischargeAllowed,
    est.sohPct < REPLACE_SOH_PCT,
    s.remote.remoteMode,
    s.remote.disconnectRequested,
    m.valid,
    p.faults.some((f) => f.latched),
    alive,
    p.faults.length > 0,
  ];
  let statusFlags = 0;
  flags.forEach((on, bit) => {
    if (on) statusFlags |= 1 << bit;
  });
  return {
    alarms,
    cellTempDeciC,
    balancing,
    faultyCells,
    modules: stats,
    moduleOfCell: (c) => (c < 0 ? null : Math.floor(c / per) + 1),
    state802: state802(s),
    chaSt: chaSt(s, config),
    statusFlags,
    heartbeatAlive: alive,
  };
}

/** Vendor enum of the BMS state (index in BMS_STATES). */
export const bmsStateIndex = (s: BmsSnapshot): number => BMS_STATES.indexOf(s.protection.state);
