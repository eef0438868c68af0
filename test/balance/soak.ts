/**
 * The 16-cell LFP top-of-charge convergence soak on the simulator, through the full loop:
 * daily UPS cycle (float, a one-hour outage, recharge, float). It measures the spread at the
 * top of charge at the end of each day's float and predicts, from the true excess charge at
 * the start and the bleed current V/R, how many days full equalisation needs.
 */
import { timeToBalanceS } from "../../src/balance/estimate.js";
import { selectLimits } from "../../src/balance/planner.js";
import { parseConfig } from "../../src/config/schema.js";
import type { BalancingCapabilities } from "../../src/core/capabilities.js";
import { silentLogger } from "../../src/core/logger.js";
import type { AfeDriver } from "../../src/hal/afe.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";

export interface SoakOptions {
  readonly days: number;
  readonly periodMs: number;
  readonly seed: number;
  /** Initial SOC spread, ± % (uniform), and the pack's mean SOC at start. */
  readonly socSpreadPct: number;
  readonly initialSocPct: number;
  /** Balancing limits the driver declares (the simulator's own are unconstrained). */
  readonly capabilities?: Omit<BalancingCapabilities, "bleedResistorOhm">;
  readonly outageW: number;
  readonly outageH: number;
  /** Longest physics sub-step, ms (the simulator's default is 1000). */
  readonly maxStepMs?: number;
  /** Balance config overrides (defaults: the LFP preset's). */
  readonly balance?: Record<string, unknown>;
  /** Stop this many days after the true spread first reaches ≤ 10 mV (default: run all days). */
  readonly daysAfterConvergence?: number;
}

export interface SoakResult {
  /** Spread at the first top of charge, measured by the BMS and true, mV. */
  readonly initialSpreadMv: number;
  readonly initialTrueSpreadMv: number;
  /** True excess charge at the first top of charge, Ah (sum over cells). */
  readonly excessAh: number;
  readonly bleedMaPerCell: number;
  readonly predictedBleedH: number;
  readonly bleedHoursPerDay: number;
  readonly predictedDays: number;
  /** End-of-float spread per day (BMS-measured and true), mV. */
  readonly dailySpreadMv: readonly number[];
  readonly dailyTrueSpreadMv: readonly number[];
  /** First day (1-based) whose end-of-float true spread is ≤ 10 mV; null if none. */
  readonly convergedDay: number | null;
  readonly maxBoardC: number;
  readonly maxCellC: number;
  readonly boardLimitC: number;
  readonly cellLimitC: number;
  readonly bleedTicks: number;
  /** Bleeder mask changes commanded to the driver per simulated day (chatter shows here). */
  readonly maskChangesPerDay: number;
  readonly wallMs: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const spread = (v: readonly number[]) => Math.max(...v) - Math.min(...v);

export async function balanceSoak(o: SoakOptions): Promise<SoakResult> {
  const config = parseConfig({
    pack: { chemistry: "lfp", cellPreset: "lfp-100ah", cellsInSeries: 16, capacityAh: 100 },
    loop: { periodMs: o.periodMs },
    afe: {
      kind: "sim",
      seed: o.seed,
      initialSocPct: o.initialSocPct,
      mains: true,
      realTime: false,
      chargerMaxCurrentA: 20,
      outageLoadW: o.outageW,
      temperatureSensors: 4,
      spread: { socPct: o.socSpreadPct },
      ...(o.maxStepMs === undefined ? {} : { maxStepMs: o.maxStepMs }),
    },
    ...(o.balance === undefined ? {} : { balance: o.balance }),
  });
  const clock = new ManualClock(0, { autoAdvance: true });
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const ohm = sim.physics.bank.bleedOhm;
  const base = sim.driver;
  const caps: BalancingCapabilities = o.capabilities
    ? { ...o.capabilities, bleedResistorOhm: ohm }
    : base.capabilities.balancing!;
  // The same physics behind a driver that declares the chip's limits.
  const driver: AfeDriver = {
    capabilities: { ...base.capabilities, balancing: caps },
    configure: (l) => base.configure(l),
    read: (f) => base.read(f),
    setFets: (f) => base.setFets(f),
    setBalancing: (c) => base.setBalancing(c),
    clearFaults: (c) => base.clearFaults(c),
    close: () => base.close(),
  };
  const bms = createBms(config, { clock, logger: silentLogger, driver });

  // Day k: outage from k·24 h + 2 h for outageH, then recharge and float; the top of charge is
  // sampled at the end of each day, and once before the first outage (t = 1.5 h).
  for (let d = 0; d < o.days; d++) {
    sim.physics.schedule(d * DAY_MS + 2 * HOUR_MS, () => sim.setMains(false));
    sim.physics.schedule(d * DAY_MS + 2 * HOUR_MS + o.outageH * HOUR_MS, () => sim.setMains(true));
  }
  const firstTopMs = 1.5 * HOUR_MS;
  let initial: { spread: number; trueSpread: number; soc: number[]; q: number[]; v: number[] } | null = null;
  const dailySpreadMv: number[] = [];
  const dailyTrueSpreadMv: number[] = [];
  let nextDayEndMs = DAY_MS - o.periodMs;
  let maxBoardC = Number.NEGATIVE_INFINITY;
  let maxCellC = Number.NEGATIVE_INFINITY;
  let bleedTicks = 0;
  let stop = false;
  bms.onSnapshot((snap) => {
    sim.setBmsLimits(snap.protection.limits);
    const phys = sim.physics;
    if (phys.thermal.boardC > maxBoardC) maxBoardC = phys.thermal.boardC;
    for (let i = 0; i < phys.bank.tempC.length; i++)
      if (phys.bank.tempC[i]! > maxCellC) maxCellC = phys.bank.tempC[i]!;
    if (snap.balance.cells.length > 0) bleedTicks++;
    const sampleNow =
      (initial === null && snap.timestampMs >= firstTopMs) || snap.timestampMs >= nextDayEndMs;
    if (!sampleNow) return;
    const t = sim.truth();
    if (initial === null && snap.timestampMs >= firstTopMs) {
      initial = {
        spread: spread(snap.measurements.cellVoltagesMv),
        trueSpread: spread(t.cellVoltagesMv),
        soc: [...t.socPct],
        q: Array.from(sim.physics.bank.qAs, (q) => q / 3600),
        v: [...t.cellVoltagesMv],
      };
    }
    if (snap.timestampMs >= nextDayEndMs) {
      nextDayEndMs += DAY_MS;
      dailySpreadMv.push(spread(snap.measurements.cellVoltagesMv));
      dailyTrueSpreadMv.push(Math.round(spread(t.cellVoltagesMv) * 10) / 10);
      if (dailyTrueSpreadMv.length >= o.days) stop = true;
      const first = dailyTrueSpreadMv.findIndex((x) => x <= 10);
      if (
        o.daysAfterConvergence !== undefined &&
        first >= 0 &&
        dailyTrueSpreadMv.length > first + o.daysAfterConvergence
      )
        stop = true;
    }
    if (stop) bms.stop();
  });

  let maskChanges = 0;
  bms.onEvent((e) => {
    if (e.type === "balance") maskChanges++;
  });
  await bms.start();
  const wall0 = performance.now();
  await bms.run({ maxTicks: Math.ceil((o.days * DAY_MS) / o.periodMs) + 2 });
  const wallMs = performance.now() - wall0;
  await bms.shutdown("soak finished");

  const init = initial as {
    spread: number;
    trueSpread: number;
    soc: number[];
    q: number[];
    v: number[];
  } | null;
  if (init === null) throw new Error("soak ended before the first top of charge");
  // Balanced at the top means equal SOC (equal OCV on the charger's common float): each cell
  // must lose its charge above the lowest cell's SOC.
  const minSoc = Math.min(...init.soc);
  const excessMah = init.soc.map((s, i) => ((s - minSoc) / 100) * init.q[i]! * 1000);
  const bleedMa = init.v.map((v) => v / ohm);
  const limits = selectLimits(caps, config.balance);
  const predictedBleedH = (timeToBalanceS(excessMah, bleedMa, limits) ?? Number.POSITIVE_INFINITY) / 3600;
  // Bleeding runs while not discharging and the top cell is above the start voltage: the day
  // minus the outage and the recharge of what the outage took (at the charger's 20 A).
  const outageAh = (o.outageW * o.outageH) / (16 * 3.2);
  const bleedHoursPerDay = 24 - o.outageH - outageAh / 20;
  const convergedIdx = dailyTrueSpreadMv.findIndex((s) => s <= 10);
  return {
    initialSpreadMv: init.spread,
    initialTrueSpreadMv: Math.round(init.trueSpread * 10) / 10,
    excessAh: excessMah.reduce((a, b) => a + b, 0) / 1000,
    bleedMaPerCell: bleedMa.reduce((a, b) => a + b, 0) / bleedMa.length,
    predictedBleedH,
    bleedHoursPerDay,
    predictedDays: Math.ceil(predictedBleedH / bleedHoursPerDay),
    dailySpreadMv,
    dailyTrueSpreadMv,
    convergedDay: convergedIdx < 0 ? null : convergedIdx + 1,
    maxBoardC,
    maxCellC,
    boardLimitC: config.balance.maxBoardTempDeciC / 10,
    cellLimitC: config.balance.maxCellTempDeciC / 10,
    bleedTicks,
    maskChangesPerDay: maskChanges / (clock.nowMs() / DAY_MS),
    wallMs,
  };
}
