import { parseConfig } from "../../src/config/schema.js";
import type { Sample } from "../../src/hal/afe.js";

export function lfpConfig(over: Record<string, unknown> = {}) {
  return parseConfig({ pack: { chemistry: "lfp", cellsInSeries: 4 }, afe: { kind: "sim" }, ...over });
}

export function sample(tMs: number, over: Partial<Sample> = {}): Sample {
  return {
    timestampMs: tMs,
    cellVoltagesMv: [3300, 3301, 3302, 3299],
    packVoltageMv: 13202,
    packCurrentMa: 0,
    temperaturesDeciC: [250, 251],
    boardTempDeciC: 300,
    hardwareFaults: [],
    fets: { chg: true, dsg: true },
    balancingCells: [],
    ...over,
  };
}
