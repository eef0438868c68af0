/**
 * Placeholder simulated pack (ideal cells: OCV + R0, a float charger, no faults) so the
 * foundation runs end to end. Issue #3 replaces it with the full physics model.
 */
import type { BmsConfig } from "../../config/schema.js";
import { CELL_PRESETS, ocvMv } from "../../config/cells.js";
import type { FetState } from "../../core/fets.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { AfeDriver, AppliedHardwareLimits, HardwareLimits, Sample } from "../afe.js";
import type { PackPort } from "../pack.js";

export interface Simulation {
  readonly driver: AfeDriver;
  readonly pack: PackPort;
  /** True state of charge per cell, %. */
  trueSocPct(): readonly number[];
}

export function createSimulation(config: BmsConfig, options: { clock: Clock; logger: Logger }): Simulation {
  if (config.afe.kind !== "sim") throw new Error("createSimulation needs afe.kind = sim");
  const sim = config.afe;
  const preset = CELL_PRESETS[config.pack.cellPreset];
  const n = config.pack.cellsInSeries;
  const capAh = config.pack.capacityAh;
  const soc = Array.from({ length: n }, () => sim.initialSocPct);
  let fets: FetState = { chg: false, dsg: false };
  let bleed: readonly number[] = [];
  let tMs = options.clock.nowMs();
  let currentMa = 0;
  const r0 = preset.r0MilliOhm / 1000;
  const floatMv = config.protection.charge.floatVoltageMv;

  const ocvs = () => soc.map((s) => ocvMv(preset.ocv, s));
  const solveCurrent = (): number => {
    if (!sim.mains)
      return fets.dsg ? (-sim.outageLoadW / (ocvs().reduce((a, b) => a + b, 0) / 1000 || 1)) * 1000 : 0;
    if (!fets.chg) return 0;
    const sumOcvV = ocvs().reduce((a, b) => a + b, 0) / 1000;
    const iA = (floatMv * n) / 1000 - sumOcvV;
    return Math.max(0, Math.min(sim.chargerMaxCurrentA, iA / (r0 * n))) * 1000;
  };
  const pack: PackPort = {
    cellCount: n,
    temperatureSensorCount: sim.temperatureSensors,
    advanceTo(nowMs) {
      const dtH = (nowMs - tMs) / 3_600_000;
      if (dtH <= 0) return;
      currentMa = solveCurrent();
      for (let i = 0; i < n; i++) {
        const bleedA = bleed.includes(i) ? ocvMv(preset.ocv, soc[i]!) / 1000 / sim.bleedResistorOhm : 0;
        soc[i] = Math.min(100, Math.max(0, soc[i]! + ((currentMa / 1000 - bleedA) * dtH * 100) / capAh));
      }
      tMs = nowMs;
    },
    senseVoltagesMv: () => soc.map((s) => ocvMv(preset.ocv, s) + (currentMa / 1000) * r0 * 1000),
    currentMa: () => currentMa,
    thermistorDeciC: () => sim.ambientDeciC,
    dieTempDeciC: () => sim.ambientDeciC + 50,
    commsAvailable: () => true,
    setFets(f) {
      fets = f;
    },
    fets: () => fets,
    setBleeders(cells) {
      bleed = [...cells];
    },
  };
  const driver: AfeDriver = {
    capabilities: {
      model: "sim-placeholder",
      cellCount: n,
      temperatureSensorCount: sim.temperatureSensors,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: true,
      balancing: null,
      hardwareProtections: [],
      controlsFets: true,
    },
    configure: async (_limits: HardwareLimits): Promise<AppliedHardwareLimits> => ({
      applied: {},
      notes: [],
    }),
    read: async (): Promise<Sample> => {
      const now = options.clock.nowMs();
      pack.advanceTo(now);
      const cells = pack.senseVoltagesMv().map(Math.round);
      return {
        timestampMs: now,
        cellVoltagesMv: cells,
        packVoltageMv: cells.reduce((a, b) => a + b, 0),
        packCurrentMa: Math.round(currentMa),
        temperaturesDeciC: Array.from({ length: sim.temperatureSensors }, (_, i) => pack.thermistorDeciC(i)),
        boardTempDeciC: pack.dieTempDeciC(),
        hardwareFaults: [],
        fets,
        balancingCells: bleed,
      };
    },
    setFets: async (f) => {
      pack.advanceTo(options.clock.nowMs());
      pack.setFets(f);
    },
    setBalancing: async (cells) => pack.setBleeders(cells),
    clearFaults: async () => {},
    close: async () => {},
  };
  return { driver, pack, trueSocPct: () => [...soc] };
}
