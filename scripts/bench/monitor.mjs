/**
 * Monitor accuracy and cost (issue #4). Imports the compiled build (npx tsc -p tsconfig.build.json).
 *
 * 1. Per-tick cost of monitor.update for 16 cells (coulomb and EKF; discharging, so the
 *    runtime forward simulation's refresh every 5 s is included).
 * 2. EKF on the measured About:Energy NMC drive cycle (CC BY-SA 4.0, About:Energy Limited, UK —
 *    https://www.aboutenergy.io), started 20 % off: worst |SOC error| after 30 min.
 * 3. The 7-day UPS duty on the simulated pack, the full loop (createBms, ManualClock with
 *    autoAdvance, 250 ms ticks): float, three outages of different depths at constant power,
 *    recharges; 1 % current-gain error, 50 mA offset and the simulator's noise. SOC error at
 *    every tick against the simulator's true mean SOC, and runtime at outage start against the
 *    actual time to the cut-off.
 *
 * BENCH_MONITOR_DAYS shortens the duty (default 7); BENCH_MONITOR_BOTH_SIGNS=1 adds the duty
 * with −1 % gain and −50 mA offset (another seed).
 */
import { readFileSync } from "node:fs";

const dist = new URL("../../dist/", import.meta.url);
const imp = (p) => import(new URL(p, dist).href);

function makeSamples(n, count, currentMa) {
  const out = [];
  for (let k = 0; k < count; k++) {
    const cells = Array.from({ length: n }, (_, c) => 3300 - k * 0.002 + ((c * 7 + k) % 3));
    out.push({
      timestampMs: k * 250,
      cellVoltagesMv: cells,
      packVoltageMv: cells.reduce((a, b) => a + b, 0),
      packCurrentMa: currentMa + ((k * 37) % 11) * 5,
      temperaturesDeciC: [250, 251, 252, 250],
      boardTempDeciC: 300,
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: [],
    });
  }
  return out;
}

async function tickCost() {
  const { parseConfig } = await imp("config/schema.js");
  const { createMonitor } = await imp("monitor/monitor.js");
  const result = {};
  for (const [name, estimator, currentMa] of [
    ["coulomb_discharging", "coulomb", -50_000],
    ["ekf_discharging", "ekf", -50_000],
    ["coulomb_rest", "coulomb", 0],
  ]) {
    const cfg = parseConfig({
      pack: { chemistry: "lfp", cellsInSeries: 16 },
      afe: { kind: "sim" },
      monitor: { estimator },
    });
    const samples = makeSamples(16, 40_000, currentMa);
    let best = Number.POSITIVE_INFINITY;
    for (let rep = 0; rep < 4; rep++) {
      const m = createMonitor(cfg, { initialSocPct: 90 });
      const t0 = process.cpuUsage();
      for (let k = 0; k < samples.length; k++)
        m.update({ nowMs: k * 250, sample: samples[k], readError: null });
      const cpu = process.cpuUsage(t0);
      best = Math.min(best, (cpu.user + cpu.system) / samples.length);
    }
    result[name] = Math.round(best * 100) / 100;
    console.log(`monitor: ${name.padEnd(20)} ${best.toFixed(2)} µs per tick (16 cells, CPU time, best of 4)`);
  }
  return result;
}

async function driveCycle() {
  const { parseReplayCsv } = await imp("monitor/csv.js");
  const { replay } = await imp("monitor/replay.js");
  const file = new URL("../../test/fixtures/about-energy/NMC_25degC_DriveCycle.csv", import.meta.url);
  const log = parseReplayCsv(readFileSync(file, "utf8"), "NMC_25degC_DriveCycle.csv");
  // Truth: coulomb count from the rested full start, C/20 capacity of this cell.
  const qAh = 13.1;
  let ah = 0;
  let prev = null;
  let max = 0;
  let sq = 0;
  let n = 0;
  let at30 = 0;
  for (const p of replay(log, {
    cellPreset: "ae-nmc-12.5ah",
    estimator: "ekf",
    initialSocPct: 80,
    capacityAh: qAh,
  })) {
    if (prev) ah += (prev.i * (p.timeS - prev.t)) / 3600;
    prev = { t: p.timeS, i: p.currentA };
    const err = p.estimates.socPct - (100 + (100 * ah) / qAh);
    if (p.timeS === 1800) at30 = err;
    if (p.timeS >= 1800) {
      max = Math.max(max, Math.abs(err));
      sq += err * err;
      n++;
    }
  }
  const r = {
    errAt30MinPct: round(at30, 2),
    maxAbsAfter30MinPct: round(max, 2),
    rmsAfter30MinPct: round(Math.sqrt(sq / n), 2),
  };
  console.log(
    `monitor: EKF on measured NMC drive cycle from 20 % off: error ${r.errAt30MinPct} % at 30 min, max ${r.maxAbsAfter30MinPct} %, RMS ${r.rmsAfter30MinPct} % after (target ≤ 3 %)`,
  );
  return r;
}

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;

export async function duty(chemistry, days, sensors = { currentGainPct: 1, currentOffsetMa: 50 }, seed = 11) {
  const { parseConfig } = await imp("config/schema.js");
  const { createSimulation } = await imp("hal/sim/index.js");
  const { createBms } = await imp("wiring.js");
  const { ManualClock } = await imp("time/clock.js");
  const { silentLogger } = await imp("core/logger.js");
  const cells = 16;
  const config = parseConfig({
    pack: { chemistry, cellsInSeries: cells },
    afe: {
      kind: "sim",
      seed,
      initialSocPct: 100,
      mains: true,
      realTime: false,
      temperatureSensors: 4,
      sensors,
    },
  });
  const capAh = config.pack.capacityAh;
  const vNom = chemistry === "lfp" ? 3.2 : 3.6;
  const packWh = capAh * vNom * cells;
  const clock = new ManualClock(0, { autoAdvance: true });
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
  const cutoffMv = config.monitor.runtimeCutoffMv;
  // Outages: [start s, load as a fraction of the pack's nominal energy per hour, minutes or null = to cut-off].
  const outages = [
    { atS: 1 * 86_400, c: 0.5, minutes: 40 },
    { atS: 3 * 86_400 + 3600 * 5, c: 0.3, minutes: 150 },
    { atS: 5 * 86_400 + 3600 * 13, c: 0.8, minutes: null },
  ].filter((o) => o.atS < days * 86_400);
  let current = null;
  const runtime = [];
  for (const o of outages) {
    sim.physics.schedule(o.atS * 1000, () => {
      sim.setLoadW(o.c * packWh);
      sim.setMains(false);
      current = { ...o, startMs: o.atS * 1000, predictedS: null, endMs: null };
    });
  }
  const z = sim.physics.bank.z;
  let sq = 0;
  let n = 0;
  let maxErr = 0;
  let maxAtS = 0;
  bms.onSnapshot((snap) => {
    sim.setBmsLimits(snap.protection.limits);
    let mean = 0;
    for (let i = 0; i < z.length; i++) mean += z[i];
    mean = (mean / z.length) * 100;
    const err = snap.estimates.socPct - mean;
    const a = Math.abs(err);
    if (a > maxErr) {
      maxErr = a;
      maxAtS = snap.timestampMs / 1000;
    }
    sq += err * err;
    n++;
    if (process.env.BENCH_MONITOR_TRACE === chemistry && snap.timestampMs % 1_800_000 === 0)
      console.log(
        `${(snap.timestampMs / 3_600_000).toFixed(1)} h truth ${mean.toFixed(2)} est ${snap.estimates.socPct.toFixed(2)} I ${snap.measurements.packCurrentMa} mA min ${snap.measurements.cells.minMv} max ${snap.measurements.cells.maxMv} anchor ${snap.estimates.lastAnchor?.kind} full ${snap.estimates.fullConfirmed} sd ${snap.estimates.socUncertaintyPct?.toFixed(2)}`,
      );
    if (current) {
      const dt = snap.timestampMs - current.startMs;
      if (current.predictedS === null && dt >= 10_000 && snap.estimates.runtimeS !== null)
        current.predictedS = snap.estimates.runtimeS + dt / 1000;
      const cut = snap.measurements.cells.minMv <= cutoffMv;
      const timeUp = current.minutes !== null && dt >= current.minutes * 60_000;
      if (cut || timeUp || !snap.protection.fets.dsg) {
        if (current.minutes === null && current.predictedS !== null)
          runtime.push({ predictedS: Math.round(current.predictedS), actualS: Math.round(dt / 1000) });
        sim.setMains(true);
        current = null;
      }
    }
  });
  const ticks = Math.floor((days * 86_400_000) / config.loop.periodMs);
  await bms.start();
  const cpu0 = process.cpuUsage();
  await bms.run({ maxTicks: ticks });
  const cpu = process.cpuUsage(cpu0);
  const rms = Math.sqrt(sq / n);
  const r = {
    maxAbsErrPct: round(maxErr, 2),
    maxAtH: round(maxAtS / 3600, 1),
    rmsErrPct: round(rms, 2),
    runtime: runtime.map((x) => ({
      ...x,
      errorPct: round((100 * (x.predictedS - x.actualS)) / x.actualS, 1),
    })),
    ticks: n,
    cpuS: round((cpu.user + cpu.system) / 1e6, 1),
  };
  console.log(
    `monitor: ${days}-day UPS duty ${chemistry.toUpperCase()} 16s ${capAh} Ah (gain ${sensors.currentGainPct} %, offset ${sensors.currentOffsetMa} mA): max |SOC err| ${r.maxAbsErrPct} % (at ${r.maxAtH} h), RMS ${r.rmsErrPct} % (targets 3 / 1.5); ` +
      `runtime at outage start ${r.runtime.map((x) => `${x.predictedS} s vs ${x.actualS} s (${x.errorPct} %)`).join(", ") || "n/a"} (target ±10 %); ${r.ticks} ticks in ${r.cpuS} s CPU`,
  );
  return r;
}

export async function bench() {
  const days = Number(process.env.BENCH_MONITOR_DAYS ?? 7);
  const cost = await tickCost();
  const dc = await driveCycle();
  const lfp = await duty("lfp", days);
  const nmc = await duty("nmc", days);
  const result = { tickCostUs: cost, ekfDriveCycle: dc, duty: { days, lfp, nmc } };
  if (process.env.BENCH_MONITOR_BOTH_SIGNS === "1") {
    const neg = { currentGainPct: -1, currentOffsetMa: -50 };
    result.dutyNegativeErrors = {
      lfp: await duty("lfp", days, neg, 3),
      nmc: await duty("nmc", days, neg, 3),
    };
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await bench();
  console.log(JSON.stringify(r));
}
