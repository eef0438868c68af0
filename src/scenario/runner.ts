/**
 * Runs a scenario: the full BMS (the same loop and stages as `run`, built by createBms) on the
 * simulated pack, in simulated time on a ManualClock with autoAdvance, as fast as the CPU allows.
 * Emits JSON-Lines records through `write` and returns the summary.
 *
 * The cooperative charger hears the BMS through `simulation.setBmsLimits`, called from
 * `bms.onSnapshot` every tick, as a UPS reads CVL/CCL over its BMS link.
 */
import { deepMerge, parseConfig } from "../config/schema.js";
import type { BmsEvent } from "../core/events.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { ManualClock } from "../time/clock.js";
import { createBms } from "../wiring.js";
import { connectUpsToBms, createSimulation, type Simulation } from "../hal/sim/index.js";
import type { CurrentProfile } from "../hal/sim/profile.js";
import { type Scenario, scenarioConfigOverrides } from "../hal/sim/scenario.js";

export type SimLine = { readonly t: number; readonly type: string } & Record<string, unknown>;

export interface SimRunOptions {
  readonly scenario: Scenario;
  /** Parsed --config file (user JSON, before defaults). */
  readonly baseConfig?: unknown;
  /** Sample line period, s (0 or undefined: scenario.sampleEveryS, else none). */
  readonly everyS?: number;
  readonly profiles?: ReadonlyMap<string, CurrentProfile>;
  readonly write: (line: SimLine) => void;
  readonly logger?: Logger;
  /** Lets a caller look at the simulation (tests) before the run starts. */
  readonly onSimulation?: (sim: Simulation) => void;
}

export interface SimSummary extends SimLine {
  readonly type: "summary";
  readonly simulatedS: number;
  readonly wallMs: number;
  /** CPU time of the run (user + system), ms: steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly speedup: number;
  readonly ticks: number;
  readonly cellMv: { readonly min: number; readonly max: number };
  readonly tempC: { readonly min: number; readonly max: number };
  /** BMS fault events at trip level, by code. */
  readonly tripsByCode: Readonly<Record<string, number>>;
  /** Trips of the simulated AFE's own hardware protection, by code. */
  readonly hardwareTripsByCode: Readonly<Record<string, number>>;
  readonly socErrorPct: { readonly meanAbs: number; readonly maxAbs: number; readonly final: number };
  readonly energy: {
    readonly inWh: number;
    readonly outWh: number;
    readonly lossesWh: number;
    readonly relativeError: number;
  };
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

function buildConfig(s: Scenario, base: unknown) {
  const b = (
    typeof base === "object" && base !== null ? { ...(base as Record<string, unknown>) } : {}
  ) as Record<string, unknown>;
  // A config file for real hardware still runs here: its afe section does not apply to the sim.
  const afe = b.afe as { kind?: unknown } | undefined;
  if (afe !== undefined && afe.kind !== undefined && afe.kind !== "sim") delete b.afe;
  return parseConfig(deepMerge(deepMerge(b, s.config ?? {}), scenarioConfigOverrides(s)));
}

function eventLine(e: BmsEvent, t: number): SimLine | null {
  switch (e.type) {
    case "state":
      return { t, type: "state", from: e.from, to: e.to, reason: e.reason };
    case "fault":
      return {
        t,
        type: "fault",
        code: e.code,
        level: e.level,
        action: e.action === "raised" || e.action === "latched" ? "raised" : "cleared",
        latched: e.action === "latched",
        value: e.value,
        limit: e.limit,
        ...(e.detail === undefined ? {} : { detail: e.detail }),
      };
    case "fets":
      return { t, type: "fets", chg: e.chg, dsg: e.dsg, reason: e.reason };
    case "balance":
      return { t, type: "balance", cells: e.cells, reason: e.reason };
    case "error":
      return { t, type: "error", where: e.where, code: e.code, message: e.message };
    case "command":
      return { t, type: "command", source: e.source, command: e.command, detail: e.detail };
    case "estimate":
      return {
        t,
        type: "estimate",
        what: e.what,
        socPct: round(e.socPct, 2),
        deltaPct: round(e.deltaPct, 2),
        detail: e.detail,
      };
    case "lifecycle":
      return null;
  }
}

export async function runScenario(o: SimRunOptions): Promise<SimSummary> {
  const s = o.scenario;
  const config = buildConfig(s, o.baseConfig);
  const logger = o.logger ?? silentLogger;
  const clock = new ManualClock(0, { autoAdvance: true });
  let bmsRef: ReturnType<typeof createBms> | null = null;
  const sim = createSimulation(config, {
    clock,
    logger,
    scenario: {
      timeline: s.timeline,
      ...(o.profiles === undefined ? {} : { profiles: o.profiles }),
      onRequest: (e) => bmsRef?.request({ kind: e.request, source: "scenario" }),
    },
  });
  o.onSimulation?.(sim);
  const bms = createBms(config, { clock, logger, driver: sim.driver });
  bmsRef = bms;
  const tOf = (ms: number) => round(ms / 1000, 3);
  const write = o.write;
  const afe = config.afe.kind === "sim" ? config.afe : null;

  write({
    t: 0,
    type: "start",
    scenario: s.name,
    seed: afe?.seed ?? null,
    cells: config.pack.cellsInSeries,
    cellPreset: config.pack.cellPreset,
    capacityAh: config.pack.capacityAh,
    periodMs: config.loop.periodMs,
    durationS: s.durationS,
  });
  for (const e of s.timeline) {
    sim.physics.schedule(e.atS * 1000, () => {
      const { atS: _at, action, ...rest } = e;
      write({ t: e.atS, type: "env", action, ...rest });
    });
    if (e.action === "fault" && e.clearAtS !== undefined) {
      const clearAtS = e.clearAtS;
      sim.physics.schedule(clearAtS * 1000, () => {
        write({ t: clearAtS, type: "env", action: "fault_clear", fault: e.fault });
      });
    }
  }

  // Hardware trips open a FET without a BMS event: the truth side reports them.
  const hardwareTripsByCode: Record<string, number> = {};
  sim.onHardwareTrip((tMs, codes) => {
    for (const code of codes) {
      hardwareTripsByCode[code] = (hardwareTripsByCode[code] ?? 0) + 1;
      write({ t: tOf(tMs), type: "hw_trip", code, fets: sim.pack.fets() });
    }
  });
  const tripsByCode: Record<string, number> = {};
  bms.onEvent((e) => {
    if (e.type === "fault" && e.level === "trip" && (e.action === "raised" || e.action === "latched"))
      tripsByCode[e.code] = (tripsByCode[e.code] ?? 0) + 1;
    const line = eventLine(e, tOf(e.tMs));
    if (line) write(line);
  });

  const everyS = o.everyS && o.everyS > 0 ? o.everyS : (s.sampleEveryS ?? 0);
  let nextSampleMs = 0;
  let errSum = 0;
  let errMax = 0;
  let errLast = 0;
  let errCount = 0;
  const z = sim.physics.bank.z;
  connectUpsToBms(sim, bms);
  const onSnap = (snap: BmsSnapshot): void => {
    let mean = 0;
    for (let i = 0; i < z.length; i++) mean += z[i]!;
    mean = (mean / z.length) * 100;
    const err = snap.estimates.socPct - mean;
    errLast = err;
    const a = err < 0 ? -err : err;
    errSum += a;
    errCount++;
    if (a > errMax) errMax = a;
    if (everyS > 0 && snap.timestampMs >= nextSampleMs) {
      nextSampleMs += everyS * 1000;
      write(sampleLine(sim, snap, tOf(snap.timestampMs)));
    }
  };
  bms.onSnapshot(onSnap);

  const durationMs = s.durationS * 1000;
  const ticks = Math.floor(durationMs / config.loop.periodMs) + 1;
  await bms.start();
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  await bms.run({ maxTicks: ticks });
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  sim.physics.advanceTo(clock.nowMs());
  const simulatedS = clock.nowMs() / 1000;
  const ex = sim.physics.extremes;
  const en = sim.energy();
  const summary: SimSummary = {
    t: tOf(clock.nowMs()),
    type: "summary",
    simulatedS,
    wallMs: round(wallMs, 1),
    cpuMs: round((cpu.user + cpu.system) / 1000, 1),
    speedup: Math.round((simulatedS * 1000) / Math.max(wallMs, 1e-3)),
    ticks,
    cellMv: { min: round(ex.minCellV * 1000, 1), max: round(ex.maxCellV * 1000, 1) },
    tempC: { min: round(ex.minTempC, 2), max: round(ex.maxTempC, 2) },
    tripsByCode,
    hardwareTripsByCode,
    socErrorPct: {
      meanAbs: round(errSum / Math.max(1, errCount), 3),
      maxAbs: round(errMax, 3),
      final: round(errLast, 3),
    },
    energy: {
      inWh: round(en.inJ / 3600, 3),
      outWh: round(en.outJ / 3600, 3),
      lossesWh: round(en.lossesJ / 3600, 3),
      relativeError: en.relativeError,
    },
  };
  try {
    await bms.shutdown("scenario finished");
  } catch (err) {
    // A scenario may end while the AFE is unreachable (injected comms loss): the run still counts.
    logger.warn(`shutdown at the end of the scenario failed: ${(err as Error).message}`);
  }
  write(summary);
  return summary;
}

function sampleLine(sim: Simulation, snap: BmsSnapshot, t: number): SimLine {
  const tr = sim.truth();
  const m = snap.measurements;
  const socMean = tr.socPct.reduce((a, b) => a + b, 0) / tr.socPct.length;
  return {
    t,
    type: "sample",
    true: {
      cellMv: tr.cellVoltagesMv.map((v) => round(v, 1)),
      packMv: round(tr.packVoltageMv, 0),
      currentMa: round(tr.currentMa, 0),
      tempC: tr.cellTempsC.map((c) => round(c, 2)),
      socPct: tr.socPct.map((x) => round(x, 2)),
      socMeanPct: round(socMean, 3),
      ambientC: tr.ambientC,
      mains: tr.mains,
      fets: tr.fets,
    },
    measured: {
      cellMv: m.cellVoltagesMv,
      packMv: m.packVoltageMv,
      currentMa: m.packCurrentMa,
      tempDeciC: m.temperaturesDeciC,
      boardTempDeciC: m.boardTempDeciC,
      valid: m.valid,
    },
    estimated: { socPct: round(snap.estimates.socPct, 3), runtimeS: snap.estimates.runtimeS },
    state: snap.protection.state,
  };
}
