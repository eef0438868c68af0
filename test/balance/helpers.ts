import { parseConfig } from "../../src/config/schema.js";
import type { BalanceConfig } from "../../src/config/sections.js";
import { CELL_PRESETS } from "../../src/config/cells.js";
import type { BalancingCapabilities } from "../../src/core/capabilities.js";
import type { PlannerInput, PlannerPack } from "../../src/balance/planner.js";
import type { ActiveFault } from "../../src/protection/types.js";

export const LFP = parseConfig({ pack: { chemistry: "lfp", cellsInSeries: 16 } });

export const BQ769X0: BalancingCapabilities = {
  groupSize: 5,
  adjacentAllowed: false,
  maxSimultaneous: 15,
  maxPerGroup: 5,
  measurementPauseMs: 0,
  bleedResistorOhm: 33,
};

export const FREE: BalancingCapabilities = {
  groupSize: 16,
  adjacentAllowed: true,
  maxSimultaneous: 16,
  maxPerGroup: 16,
  measurementPauseMs: 0,
  bleedResistorOhm: 33,
};

export const PACK: PlannerPack = {
  ocv: CELL_PRESETS["lfp-100ah"].ocv,
  capacityAh: 100,
  periodMs: 250,
};

export function balanceCfg(over: Partial<BalanceConfig> = {}): BalanceConfig {
  return { ...LFP.balance, ...over };
}

export function input(cellVoltagesMv: readonly number[], over: Partial<PlannerInput> = {}): PlannerInput {
  return {
    nowMs: 0,
    valid: true,
    cellVoltagesMv,
    faultedCells: [],
    temperaturesDeciC: [250, 250],
    boardTempDeciC: 300,
    packCurrentMa: 0,
    currentValid: true,
    restMs: 0,
    socPct: 99,
    bledDuringSample: false,
    faults: [],
    ...over,
  };
}

export function fault(level: ActiveFault["level"], code: ActiveFault["code"] = "cell_ov"): ActiveFault {
  return {
    code,
    level,
    latched: level === "trip",
    sinceMs: 0,
    value: 0,
    limit: 0,
    blocksCharge: level === "trip",
    blocksDischarge: false,
  };
}

/** Whether `cells` obeys the declared limits. Returns the broken rule, or null. */
export function violation(
  cells: readonly number[],
  caps: BalancingCapabilities,
  cfgMax: number,
): string | null {
  const g = caps.groupSize;
  if (cells.length > Math.min(caps.maxSimultaneous, cfgMax)) return "maxSimultaneous";
  const perGroup = new Map<number, number>();
  for (const c of cells) perGroup.set(Math.floor(c / g), (perGroup.get(Math.floor(c / g)) ?? 0) + 1);
  for (const k of perGroup.values()) if (k > caps.maxPerGroup) return "maxPerGroup";
  if (!caps.adjacentAllowed) {
    const set = new Set(cells);
    for (const c of cells)
      if (set.has(c + 1) && Math.floor(c / g) === Math.floor((c + 1) / g)) return "adjacent";
  }
  if (new Set(cells).size !== cells.length) return "duplicate";
  return null;
}

import type { BalanceInput } from "../../src/core/stages.js";
import type { Measurements } from "../../src/monitor/types.js";
import type { SensorFault } from "../../src/core/faults.js";

/** A tick input for the stage shell, as the loop would pass it. */
export function stageInput(
  nowMs: number,
  elapsedMs: number,
  cellVoltagesMv: readonly number[],
  over: {
    currentMa?: number;
    bleeding?: readonly number[];
    sensorFaults?: SensorFault[];
    boardTempDeciC?: number;
  } = {},
): BalanceInput {
  const min = Math.min(...cellVoltagesMv);
  const max = Math.max(...cellVoltagesMv);
  const measurements: Measurements = {
    timestampMs: nowMs,
    valid: true,
    sampleAgeMs: 0,
    cellVoltagesMv,
    cells: {
      minMv: min,
      minIndex: cellVoltagesMv.indexOf(min),
      maxMv: max,
      maxIndex: cellVoltagesMv.indexOf(max),
      meanMv: cellVoltagesMv.reduce((a, b) => a + b, 0) / cellVoltagesMv.length,
      deltaMv: max - min,
    },
    packVoltageMv: cellVoltagesMv.reduce((a, b) => a + b, 0),
    packCurrentMa: over.currentMa ?? 0,
    packPowerW: 0,
    temperaturesDeciC: [250, 250],
    minTempDeciC: 250,
    minTempIndex: 0,
    maxTempDeciC: 250,
    maxTempIndex: 0,
    boardTempDeciC: over.boardTempDeciC ?? 300,
    sensorFaults: over.sensorFaults ?? [],
    hardwareFaults: [],
    fets: { chg: true, dsg: true },
    balancingCells: over.bleeding ?? [],
  };
  return {
    nowMs,
    elapsedMs,
    measurements,
    estimates: {
      socPct: 99,
      reportedSocPct: 99,
      sohPct: 100,
      capacityAh: 100,
      remainingAh: 99,
      remainingWh: 0,
      runtimeS: null,
      timeToFullS: null,
      fullConfirmed: true,
      estimator: "coulomb",
      counters: { chargeInAh: 0, chargeOutAh: 0, energyInWh: 0, energyOutWh: 0, equivalentCycles: 0 },
    },
    protection: {
      state: "standby",
      fets: { chg: true, dsg: true },
      faults: [],
      limits: { cvlMv: 0, cclMa: 0, dclMa: 0, cvlBinding: "", cclBinding: "", dclBinding: "" },
      chargeAllowed: true,
      dischargeAllowed: true,
    },
  };
}
