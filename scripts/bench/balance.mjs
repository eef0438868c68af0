/**
 * Balancing figures: planner cost per tick, and (when the simulator is available) the
 * 16-cell LFP top-of-charge convergence soak. Imports the compiled code from dist/.
 */
import { createBalancer } from "../../dist/balance/balancer.js";
import { parseConfig } from "../../dist/config/schema.js";

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

/** µs per tick through the stage shell, median of batches. */
export function plannerCost(cells, capabilities = BQ769X0) {
  const config = parseConfig({ pack: { chemistry: "lfp", cellsInSeries: cells } });
  const bal = createBalancer(config, capabilities);
  const inputs = Array.from({ length: 64 }, (_, k) =>
    stageInput(
      k * 250,
      Array.from({ length: cells }, (_, i) => 3400 + ((i * 37 + k * 11) % 60)),
      3000,
    ),
  );
  const batch = Math.max(200, Math.round(40_000 / cells));
  const samples = [];
  for (let b = 0; b < 21; b++) {
    const t0 = performance.now();
    for (let k = 0; k < batch; k++) bal.plan(inputs[k & 63]);
    samples.push(((performance.now() - t0) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return { medianUs: samples[10], bestUs: samples[0] };
}

export async function bench() {
  const figures = {};
  for (const n of [16, 48, 256]) {
    const c = plannerCost(n);
    figures[`plannerUsPerTick_${n}`] = Number(c.medianUs.toFixed(2));
    console.log(
      `balance: planner ${n} cells: ${c.medianUs.toFixed(2)} µs/tick median (best ${c.bestUs.toFixed(2)})`,
    );
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await bench();
  console.log(JSON.stringify(f));
}
