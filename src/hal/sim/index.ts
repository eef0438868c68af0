/**
 * The simulated pack and its UPS environment, assembled from a parsed config: per-cell
 * equivalent-circuit physics with spread, thermal network, sensors, hardware protection, faults
 * and a timeline. `createSimulation` is what the driver factory calls for `afe.kind = "sim"`.
 *
 * Physics advances lazily to the clock time it is asked about, so the loop can run on a
 * ManualClock with autoAdvance as fast as the CPU allows.
 */
import { CELL_PRESETS } from "../../config/cells.js";
import type { BmsSnapshot } from "../../core/snapshot.js";
import type { BmsConfig } from "../../config/schema.js";
import { BmsError } from "../../core/errors.js";
import type { FetState } from "../../core/fets.js";
import type { Logger } from "../../core/logger.js";
import type { ChargeLimits } from "../../core/limits.js";
import type { Clock } from "../../time/clock.js";
import type { AfeDriver } from "../afe.js";
import type { PackPort } from "../pack.js";
import { type ChargerSettings, UpsEnvironment } from "./environment.js";
import { type SimFault, applyFault, checkFault } from "./faults.js";
import { HardwareProtection } from "./hw-protection.js";
import type { LedgerReport } from "./ledger.js";
import { SimPack } from "./pack.js";
import { buildCellModel } from "./presets.js";
import { type CurrentProfile, ProfileCursor } from "./profile.js";
import type { TimelineEntry } from "./scenario.js";
import { SensorModel, sensorSettings } from "./sensors.js";
import { SimAfe } from "./sim-afe.js";
import { DEFAULT_SPREAD, applySpread } from "./spread.js";

export type { SimFault } from "./faults.js";
export type { CurrentProfile } from "./profile.js";
export { parseCurrentProfileCsv } from "./profile.js";
export type { Scenario, TimelineEntry } from "./scenario.js";
export { parseScenario, scenarioSchema } from "./scenario.js";
export type { LedgerReport } from "./ledger.js";
export { SimPack } from "./pack.js";
export { SimAfe } from "./sim-afe.js";

/** The timeline a scenario hands to the simulation (profiles already loaded by the caller). */
export interface SimScenarioInput {
  readonly timeline: readonly TimelineEntry[];
  /** Current profiles by the `file` name used in the timeline. */
  readonly profiles?: ReadonlyMap<string, CurrentProfile>;
  /** Called for timeline entries the simulation does not handle itself (BMS requests). */
  readonly onRequest?: (entry: Extract<TimelineEntry, { action: "request" }>) => void;
}

export interface SimOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scenario?: SimScenarioInput;
}

/** The physical truth at one instant (for samples, tests and the summary). */
export interface SimTruth {
  readonly tMs: number;
  readonly cellVoltagesMv: readonly number[];
  readonly socPct: readonly number[];
  readonly cellTempsC: readonly number[];
  readonly packVoltageMv: number;
  readonly currentMa: number;
  readonly ambientC: number;
  readonly boardTempC: number;
  readonly fets: FetState;
  readonly mains: boolean;
  readonly bleeding: readonly number[];
}

export interface Simulation {
  readonly driver: AfeDriver;
  readonly pack: PackPort;
  /** True state of charge per cell, % of its capacity at 25 °C. */
  trueSocPct(): readonly number[];
  /** The full model (cells, thermal network, ledger) for tests and emulators. */
  readonly physics: SimPack;
  readonly environment: UpsEnvironment;
  truth(): SimTruth;
  /** The simulated AFE's hardware protection trips (SCD, OCD, OCC, OV, UV), as they happen. */
  onHardwareTrip(listener: (tMs: number, codes: readonly string[]) => void): void;
  /** Energy balance since start (advance first: it reports the state physics has reached). */
  energy(): LedgerReport;
  /** The cooperative charger obeys these; the sim runner calls it from `bms.onSnapshot`. */
  setBmsLimits(limits: ChargeLimits): void;
  setMains(on: boolean): void;
  setLoadW(powerW: number): void;
  /** A constant current at the pack terminals (bench source), A, positive charging; null releases. */
  setCurrentA(currentA: number | null): void;
  playProfile(profile: CurrentProfile, options?: { loop?: boolean }): void;
  setCharger(settings: Partial<ChargerSettings>): void;
  setAmbientC(tempC: number): void;
  /** Injects a fault now; returns an id for clearFault. Throws SCENARIO_INVALID on bad indices. */
  injectFault(fault: SimFault): number;
  clearFault(id: number): void;
  activeFaults(): readonly { readonly id: number; readonly fault: SimFault }[];
  /** Applies a timeline entry at simulated time `entry.atS` (scheduled; at once if past). */
  scheduleEntry(entry: TimelineEntry, profiles?: ReadonlyMap<string, CurrentProfile>): void;
}

function spreadThermistors(cells: number, sensors: number): number[] {
  return Array.from({ length: sensors }, (_, k) =>
    Math.min(cells - 1, Math.floor(((k + 0.5) * cells) / sensors)),
  );
}

export function createSimulation(config: BmsConfig, options: SimOptions): Simulation {
  if (config.afe.kind !== "sim")
    throw new BmsError("CONFIG_INVALID", "createSimulation needs afe.kind = sim", { path: "afe.kind" });
  const afe = config.afe;
  const clock = options.clock;
  const log = options.logger.child("sim");
  const n = config.pack.cellsInSeries;
  const preset = CELL_PRESETS[config.pack.cellPreset];
  // The physics takes the pack's rated capacity unless the scenario gives the cells their own.
  const model = buildCellModel(preset, { capacityAh: config.pack.capacityAh, ...afe.cellOverrides });

  const thermistorCells = afe.thermistorCells ?? spreadThermistors(n, afe.temperatureSensors);
  thermistorCells.forEach((c, k) => {
    if (c >= n)
      throw new BmsError("CONFIG_INVALID", `thermistor ${k} on cell ${c}, but the pack has ${n} cells`, {
        path: `afe.thermistorCells.${k}`,
      });
  });
  const ambientC = afe.ambientDeciC / 10;
  const env = new UpsEnvironment(
    n,
    afe.mains,
    {
      cellVoltageMv: afe.chargerCellVoltageMv ?? config.protection.charge.floatVoltageMv,
      maxCurrentA: afe.chargerMaxCurrentA,
      cooperative: afe.chargerCooperative,
    },
    afe.outageLoadW,
    ambientC,
  );
  const pack = new SimPack({
    model,
    cells: n,
    env,
    bleedOhm: afe.bleedResistorOhm,
    thermistorCells,
    initialTempC: (afe.initialTempDeciC ?? afe.ambientDeciC) / 10,
    maxStepMs: afe.maxStepMs ?? 1000,
    startMs: clock.nowMs(),
  });
  applySpread(pack.bank, { ...DEFAULT_SPREAD, ...afe.spread }, afe.seed, afe.initialSocPct);
  // A UPS pack that starts on mains has been floating: its LFP hysteresis sits on the charge branch.
  pack.bank.h.fill(afe.mains ? model.hysteresisV : -model.hysteresisV);
  pack.start();

  const hw = afe.hardwareProtection === false ? null : new HardwareProtection();
  pack.guard = hw;
  const sensors = new SensorModel(
    sensorSettings(afe, config.pack.capacityAh, config.loop.periodMs),
    n,
    thermistorCells.length,
    afe.seed,
  );
  const driver = new SimAfe(pack, sensors, clock, hw);

  let nextFaultId = 1;
  const active = new Map<number, { fault: SimFault; undo: () => void }>();
  const target = {
    bank: pack.bank,
    env,
    sensors: pack.sensorFaults,
    changeCapacity: (cell: number, factor: number) => pack.changeCapacity(cell, factor),
  };
  const now = () => pack.advanceTo(clock.nowMs());

  const injectNow = (fault: SimFault): number => {
    const bad = checkFault(fault, n, thermistorCells.length);
    if (bad)
      throw new BmsError("SCENARIO_INVALID", `fault ${fault.kind}: ${bad.path}: ${bad.message}`, {
        path: bad.path,
      });
    const id = nextFaultId++;
    active.set(id, { fault, undo: applyFault(fault, target) });
    log.debug(() => `t=${(pack.nowMs / 1000).toFixed(3)} s: fault ${fault.kind} injected (#${id})`);
    return id;
  };
  const clearNow = (id: number): void => {
    const f = active.get(id);
    if (!f) return;
    active.delete(id);
    f.undo();
    log.debug(() => `t=${(pack.nowMs / 1000).toFixed(3)} s: fault ${f.fault.kind} cleared (#${id})`);
  };

  const sim: Simulation = {
    driver,
    pack,
    physics: pack,
    environment: env,
    trueSocPct: () => Array.from(pack.bank.z, (z) => z * 100),
    truth: () => ({
      tMs: pack.nowMs,
      cellVoltagesMv: Array.from(pack.bank.vTerm, (v) => v * 1000),
      socPct: Array.from(pack.bank.z, (z) => z * 100),
      cellTempsC: Array.from(pack.bank.tempC),
      packVoltageMv: pack.packVoltageV * 1000,
      currentMa: pack.currentA * 1000,
      ambientC: env.effectiveAmbientC(),
      boardTempC: pack.thermal.boardC,
      fets: pack.fets(),
      mains: env.mains,
      bleeding: pack.bleedingCells(),
    }),
    energy: () => pack.ledgerReport(),
    onHardwareTrip: (listener) => {
      pack.onGuardTrip = (tMs) => listener(tMs, hw?.lastTrips ?? []);
    },
    setBmsLimits: (limits) => {
      env.bmsLimits = limits;
    },
    setMains: (on) => {
      now();
      env.mains = on;
    },
    setLoadW: (w) => {
      now();
      env.loadW = w;
    },
    setCurrentA: (a) => {
      now();
      env.source = a === null ? null : { kind: "constant", currentA: a };
    },
    playProfile: (profile, o = {}) => {
      now();
      env.source = {
        kind: "profile",
        cursor: new ProfileCursor(profile, pack.nowMs / 1000, o.loop ?? false),
      };
    },
    setCharger: (s) => {
      now();
      Object.assign(env.charger, s);
    },
    setAmbientC: (c) => {
      now();
      env.ambientC = c;
    },
    injectFault: (fault) => {
      now();
      return injectNow(fault);
    },
    clearFault: (id) => {
      now();
      clearNow(id);
    },
    activeFaults: () => [...active].map(([id, f]) => ({ id, fault: f.fault })),
    scheduleEntry: (e, profiles) => {
      const atMs = e.atS * 1000;
      switch (e.action) {
        case "mains":
          pack.schedule(atMs, () => {
            env.mains = e.on;
          });
          return;
        case "load":
          pack.schedule(atMs, () => {
            env.loadW = e.powerW;
          });
          return;
        case "current":
          pack.schedule(atMs, () => {
            env.source = e.currentA === null ? null : { kind: "constant", currentA: e.currentA };
          });
          return;
        case "profile": {
          const p = profiles?.get(e.file);
          if (!p)
            throw new BmsError("SCENARIO_INVALID", `profile ${e.file} was not loaded`, { path: "file" });
          pack.schedule(atMs, () => {
            env.source = { kind: "profile", cursor: new ProfileCursor(p, atMs / 1000, e.loop ?? false) };
          });
          return;
        }
        case "charger":
          pack.schedule(atMs, () => {
            if (e.cellVoltageMv !== undefined) env.charger.cellVoltageMv = e.cellVoltageMv;
            if (e.maxCurrentA !== undefined) env.charger.maxCurrentA = e.maxCurrentA;
            if (e.cooperative !== undefined) env.charger.cooperative = e.cooperative;
          });
          return;
        case "ambient":
          pack.schedule(atMs, () => {
            env.ambientC = e.tempC;
          });
          return;
        case "fault": {
          const bad = checkFault(e.fault, n, thermistorCells.length);
          if (bad) throw new BmsError("SCENARIO_INVALID", bad.message, { path: `fault.${bad.path}` });
          let id = 0;
          pack.schedule(atMs, () => {
            id = injectNow(e.fault);
          });
          if (e.clearAtS !== undefined) pack.schedule(e.clearAtS * 1000, () => clearNow(id));
          return;
        }
        case "request":
          pack.schedule(atMs, () => options.scenario?.onRequest?.(e));
          return;
      }
    },
  };

  for (const [i, e] of (options.scenario?.timeline ?? []).entries()) {
    try {
      sim.scheduleEntry(e, options.scenario?.profiles);
    } catch (err) {
      if (err instanceof BmsError && err.code === "SCENARIO_INVALID")
        throw new BmsError("SCENARIO_INVALID", `timeline.${i}.${err.path ?? ""}: ${err.message}`, {
          path: `timeline.${i}.${err.path ?? ""}`,
          cause: err,
        });
      throw err;
    }
  }
  return sim;
}

/**
 * Lets the simulated UPS hear the BMS as a real one does over its BMS link: the cooperative
 * charger reads the limits (CVL/CCL) the loop publishes, every tick. Returns the unsubscribe.
 */
export function connectUpsToBms(
  simulation: Pick<Simulation, "setBmsLimits">,
  bms: { onSnapshot(listener: (s: BmsSnapshot) => void): () => void },
): () => void {
  return bms.onSnapshot((s) => simulation.setBmsLimits(s.protection.limits));
}
