/**
 * Simulator figures: speed of a simulated day with the full BMS pipeline (16, 48, 240 cells at
 * 250 ms ticks), the physics' own cost per tick, and the fidelity of the cell model against the
 * measured About:Energy drive cycles (RMSE above 10 % SOC).
 *
 * Run after `npx tsc -p tsconfig.build.json`; `npm run bench` calls bench().
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../../dist/config/schema.js";
import { silentLogger } from "../../dist/core/logger.js";
import { capacityFromC20Ah, replayFidelity } from "../../dist/hal/sim/fidelity.js";
import { createSimulation } from "../../dist/hal/sim/index.js";
import { runScenario } from "../../dist/scenario/runner.js";
import { parseScenario } from "../../dist/hal/sim/scenario.js";
import { ManualClock } from "../../dist/time/clock.js";

const fixture = (name) =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/about-energy/${name}`, import.meta.url)), "utf8");

/** A UPS day: float, a 2.5 h outage at 0.3C-equivalent power, recharge. */
function dayScenario(cells) {
  return parseScenario({
    name: `bench-day-${cells}`,
    seed: 1,
    durationS: 86_400,
    pack: { cellPreset: "lfp-100ah", cellsInSeries: cells, capacityAh: 100 },
    initial: { socPct: 98, mains: true },
    config: { afe: { outageLoadW: 100 * cells, chargerMaxCurrentA: 20 } },
    timeline: [
      { atS: 7200, action: "mains", on: false },
      { atS: 16_200, action: "mains", on: true },
    ],
  });
}

async function speed(cells) {
  const s = await runScenario({ scenario: dayScenario(cells), write: () => {} });
  return {
    cells,
    wallMs: s.wallMs,
    cpuMs: s.cpuMs,
    speedupWall: Math.round((s.simulatedS * 1000) / s.wallMs),
    speedupCpu: Math.round((s.simulatedS * 1000) / s.cpuMs),
    usPerTick: Math.round((s.cpuMs * 1000 * 100) / s.ticks) / 100,
    energyRelativeError: s.energy.relativeError,
  };
}

function physicsCost(cells) {
  const config = parseConfig({ pack: { cellsInSeries: cells }, afe: { kind: "sim", realTime: false } });
  const clock = new ManualClock(0);
  const sim = createSimulation(config, { clock, logger: silentLogger });
  sim.pack.setFets({ chg: true, dsg: true });
  sim.physics.schedule(3_600_000, () => sim.setMains(false));
  const ticks = 100_000;
  const c0 = process.cpuUsage();
  for (let k = 1; k <= ticks; k++) sim.physics.advanceTo(k * 250);
  const c = process.cpuUsage(c0);
  return Math.round(((c.user + c.system) / ticks) * 100) / 100;
}

export async function bench() {
  const out = { speed: [], physicsUsPerTick: {}, fidelity: {} };
  console.log("sim: 24 h at 250 ms ticks, full BMS pipeline (monitor, protection, balance, actuate):");
  for (const cells of [16, 48, 240]) {
    const r = await speed(cells);
    out.speed.push(r);
    console.log(
      `  ${String(cells).padStart(3)} cells: ${r.wallMs.toFixed(0)} ms wall (${r.speedupWall}x), ` +
        `${r.cpuMs.toFixed(0)} ms CPU (${r.speedupCpu}x, ${r.usPerTick} us/tick); energy balance error ${r.energyRelativeError.toExponential(1)}`,
    );
  }
  for (const cells of [16, 48, 240]) out.physicsUsPerTick[cells] = physicsCost(cells);
  console.log(
    `sim: physics alone per 250 ms tick: ${Object.entries(out.physicsUsPerTick)
      .map(([n, us]) => `${n} cells ${us} us`)
      .join(", ")}`,
  );
  for (const [preset, chem, limit] of [
    ["ae-lfp-2ah", "LFP", 25],
    ["ae-nmc-12.5ah", "NMC", 10],
  ]) {
    const q = capacityFromC20Ah(fixture(`${chem}_25degC_Co20.csv`));
    const r = replayFidelity(preset, fixture(`${chem}_25degC_DriveCycle.csv`), q);
    out.fidelity[preset] = { rmseMv: r.rmseMv, maxErrorMv: r.maxErrorMv, points: r.points, limitMv: limit };
    console.log(
      `sim: fidelity ${preset} drive cycle (SOC > 10 %): RMSE ${r.rmseMv.toFixed(1)} mV (limit ${limit}), max ${r.maxErrorMv.toFixed(0)} mV, ${r.points} points`,
    );
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
