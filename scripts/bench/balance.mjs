/**
 * Balancing figures: planner cost per tick, and (when the simulator is available) the
 * 16-cell LFP top-of-charge convergence soak. Imports the compiled code from dist/.
 */
import { createBalancer } from "../../dist/balance/balancer.js";
import { timeToBalanceS } from "../../dist/balance/estimate.js";
import { selectLimits } from "../../dist/balance/planner.js";
import { parseConfig } from "../../dist/config/schema.js";
import { silentLogger } from "../../dist/core/logger.js";
import { createSimulation } from "../../dist/hal/sim/index.js";
import { ManualClock } from "../../dist/time/clock.js";
import { createBms } from "../../dist/wiring.js";

const BQ769X0 = {
  groupSize: 5,
  adjacentAllowed: false,
  maxSimultaneous: 15,
  maxPerGroup: 5,
  measurementPauseMs: 0,
  bleedResistorOhm: 33,
};

function stageInput(nowMs, cellVoltagesMv, currentMa) {
  const min = Math.min(...cellVoltagesMv);
  const max = Math.max(...cellVoltagesMv);
  return {
    nowMs,
    elapsedMs: 250,
    measurements: {
      timestampMs: nowMs,
      valid: true,
      sampleAgeMs: 0,
      cellVoltagesMv,
      cells: { minMv: min, minIndex: 0, maxMv: max, maxIndex: 0, meanMv: min, deltaMv: max - min },
      packVoltageMv: 0,
      packCurrentMa: currentMa,
      packPowerW: 0,
      temperaturesDeciC: [250, 250, 250, 250],
      minTempDeciC: 250,
      minTempIndex: 0,
      maxTempDeciC: 250,
      maxTempIndex: 0,
      boardTempDeciC: 300,
      sensorFaults: [],
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: [],
    },
    estimates: { socPct: 99 },
    protection: { state: "charging", faults: [] },
  };
}

/**
 * µs per tick through the stage shell: median and best of batches, in CPU time of this
 * process (wall time would count the other jobs sharing the CPU).
 */
export function plannerCost(cells, capabilities = BQ769X0, filterTimeMs = 30_000) {
  const config = parseConfig({ pack: { chemistry: "lfp", cellsInSeries: cells }, balance: { filterTimeMs } });
  const bal = createBalancer(config, capabilities);
  const inputs = Array.from({ length: 64 }, (_, k) =>
    stageInput(
      k * 250,
      Array.from({ length: cells }, (_, i) => 3400 + ((i * 37 + k * 11) % 60)),
      3000,
    ),
  );
  const batch = Math.max(500, Math.round(80_000 / cells));
  const samples = [];
  for (let b = 0; b < 21; b++) {
    const c0 = process.cpuUsage();
    for (let k = 0; k < batch; k++) bal.plan(inputs[k & 63]);
    const c = process.cpuUsage(c0);
    samples.push((c.user + c.system) / batch);
  }
  samples.sort((a, b) => a - b);
  return { medianUs: samples[10], bestUs: samples[0] };
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const spreadOf = (v) => Math.max(...v) - Math.min(...v);

/**
 * The full-rate convergence soak (same scenario as test/balance/soak.ts): 16s 100 Ah LFP on the
 * simulator, daily UPS cycle (float, 1 h outage at 2 kW at 02:00, recharge, float), bq769x0
 * limits. Top-of-charge spread sampled once before the first outage and at each day's end.
 */
export async function convergenceSoak({
  periodMs = 250,
  maxDays = 8,
  daysAfterConvergence = 1,
  seed = 1,
} = {}) {
  const outageW = 2000;
  const outageH = 1;
  const config = parseConfig({
    pack: { chemistry: "lfp", cellPreset: "lfp-100ah", cellsInSeries: 16, capacityAh: 100 },
    loop: { periodMs },
    afe: {
      kind: "sim",
      seed,
      initialSocPct: 97,
      mains: true,
      realTime: false,
      chargerMaxCurrentA: 20,
      outageLoadW: outageW,
      temperatureSensors: 4,
      spread: { socPct: 5 },
    },
  });
  const clock = new ManualClock(0, { autoAdvance: true });
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const base = sim.driver;
  const caps = { ...BQ769X0, bleedResistorOhm: sim.physics.bank.bleedOhm };
  const driver = {
    capabilities: { ...base.capabilities, balancing: caps },
    configure: (l) => base.configure(l),
    read: (f) => base.read(f),
    setFets: (f) => base.setFets(f),
    setBalancing: (c) => base.setBalancing(c),
    clearFaults: (c) => base.clearFaults(c),
    close: () => base.close(),
  };
  const bms = createBms(config, { clock, logger: silentLogger, driver });
  for (let d = 0; d < maxDays; d++) {
    sim.physics.schedule(d * DAY_MS + 2 * HOUR_MS, () => sim.setMains(false));
    sim.physics.schedule(d * DAY_MS + (2 + outageH) * HOUR_MS, () => sim.setMains(true));
  }
  let initial = null;
  const daily = [];
  const dailyTrue = [];
  let nextDayEndMs = DAY_MS - periodMs;
  let maxBoardC = Number.NEGATIVE_INFINITY;
  let maxCellC = Number.NEGATIVE_INFINITY;
  let bleedTicks = 0;
  let ticks = 0;
  bms.onSnapshot((snap) => {
    ticks++;
    sim.setBmsLimits(snap.protection.limits);
    const phys = sim.physics;
    if (phys.thermal.boardC > maxBoardC) maxBoardC = phys.thermal.boardC;
    for (let i = 0; i < phys.bank.tempC.length; i++)
      if (phys.bank.tempC[i] > maxCellC) maxCellC = phys.bank.tempC[i];
    if (snap.balance.cells.length > 0) bleedTicks++;
    const first = initial === null && snap.timestampMs >= 1.5 * HOUR_MS;
    if (!first && snap.timestampMs < nextDayEndMs) return;
    const t = sim.truth();
    if (first) {
      initial = {
        spread: spreadOf(snap.measurements.cellVoltagesMv),
        trueSpread: spreadOf(t.cellVoltagesMv),
        soc: [...t.socPct],
        q: Array.from(phys.bank.qAs, (q) => q / 3600),
        v: [...t.cellVoltagesMv],
      };
      return;
    }
    nextDayEndMs += DAY_MS;
    daily.push(spreadOf(snap.measurements.cellVoltagesMv));
    dailyTrue.push(Math.round(spreadOf(t.cellVoltagesMv) * 10) / 10);
    const conv = dailyTrue.findIndex((x) => x <= 10);
    if (daily.length >= maxDays || (conv >= 0 && daily.length > conv + daysAfterConvergence)) bms.stop();
  });
  let maskChanges = 0;
  bms.onEvent((e) => {
    if (e.type === "balance") maskChanges++;
  });
  await bms.start();
  const wall0 = performance.now();
  await bms.run({ maxTicks: Math.ceil((maxDays * DAY_MS) / periodMs) + 2 });
  const wallMs = performance.now() - wall0;
  await bms.shutdown("soak finished");

  // Balanced at the top means equal SOC (equal OCV on the charger's common float): each cell
  // must lose its charge above the lowest cell's SOC, at V/R, under the driver's limits.
  const minSoc = Math.min(...initial.soc);
  const excessMah = initial.soc.map((s, i) => ((s - minSoc) / 100) * initial.q[i] * 1000);
  const bleedMa = initial.v.map((v) => v / caps.bleedResistorOhm);
  const predictedBleedH = timeToBalanceS(excessMah, bleedMa, selectLimits(caps, config.balance)) / 3600;
  // Bleeding runs while not discharging: the day minus the outage and its recharge at 20 A.
  const outageAh = (outageW * outageH) / (16 * 3.2);
  const bleedHoursPerDay = 24 - outageH - outageAh / 20;
  const conv = dailyTrue.findIndex((x) => x <= 10);
  return {
    periodMs,
    initialSpreadMv: initial.spread,
    initialTrueSpreadMv: Math.round(initial.trueSpread * 10) / 10,
    excessAh: excessMah.reduce((a, b) => a + b, 0) / 1000,
    bleedMaPerCell: bleedMa.reduce((a, b) => a + b, 0) / bleedMa.length,
    predictedBleedH,
    bleedHoursPerDay,
    predictedDays: Math.ceil(predictedBleedH / bleedHoursPerDay),
    dailySpreadMv: daily,
    dailyTrueSpreadMv: dailyTrue,
    convergedDay: conv < 0 ? null : conv + 1,
    maxBoardC,
    maxCellC,
    boardLimitC: config.balance.maxBoardTempDeciC / 10,
    cellLimitC: config.balance.maxCellTempDeciC / 10,
    bleedShare: bleedTicks / Math.max(1, ticks),
    maskChangesPerDay: maskChanges / (clock.nowMs() / DAY_MS),
    wallMs,
  };
}

export async function bench() {
  const figures = {};
  // Raw decisions (filter off) re-rank the cells every tick: the worst case for the planner.
  for (const n of [16, 48, 256]) {
    const c = plannerCost(n);
    const w = plannerCost(n, BQ769X0, 0);
    figures[`plannerUsPerTick_${n}`] = Number(c.medianUs.toFixed(2));
    figures[`plannerUsPerTickUnfiltered_${n}`] = Number(w.medianUs.toFixed(2));
    console.log(
      `balance: planner ${n} cells: ${c.medianUs.toFixed(2)} µs/tick CPU median (${w.medianUs.toFixed(2)} with raw decisions)`,
    );
  }
  const r = await convergenceSoak();
  console.log(
    `balance: 16s LFP soak at ${r.periodMs} ms ticks: top-of-charge spread ${r.initialSpreadMv} mV measured (${r.initialTrueSpreadMv} true)`,
  );
  console.log(
    `balance:   prediction: ${r.excessAh.toFixed(1)} Ah to bleed at ${r.bleedMaPerCell.toFixed(0)} mA/cell under bq769x0 limits → ${r.predictedBleedH.toFixed(0)} h of bleeding at ${r.bleedHoursPerDay.toFixed(1)} h/day → ${r.predictedDays} days`,
  );
  console.log(
    `balance:   result: end-of-day spread ${r.dailySpreadMv.join(", ")} mV measured (${r.dailyTrueSpreadMv.join(", ")} true); ≤ 10 mV on day ${r.convergedDay ?? "never"}`,
  );
  console.log(
    `balance:   heat: board max ${r.maxBoardC.toFixed(1)} °C (limit ${r.boardLimitC}), cells max ${r.maxCellC.toFixed(1)} °C (limit ${r.cellLimitC}); bleeding ${(100 * r.bleedShare).toFixed(0)} % of ticks, ${r.maskChangesPerDay.toFixed(0)} mask changes/day; ${(r.wallMs / 1000).toFixed(1)} s wall`,
  );
  Object.assign(figures, {
    soakInitialSpreadMv: r.initialSpreadMv,
    soakExcessAh: Number(r.excessAh.toFixed(2)),
    soakPredictedDays: r.predictedDays,
    soakConvergedDay: r.convergedDay,
    soakDailySpreadMv: r.dailySpreadMv,
    soakDailyTrueSpreadMv: r.dailyTrueSpreadMv,
    soakMaxBoardC: Number(r.maxBoardC.toFixed(1)),
    soakMaxCellC: Number(r.maxCellC.toFixed(1)),
    soakMaskChangesPerDay: Number(r.maskChangesPerDay.toFixed(1)),
    soakWallS: Number((r.wallMs / 1000).toFixed(1)),
  });
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await bench();
  console.log(JSON.stringify(f));
}
