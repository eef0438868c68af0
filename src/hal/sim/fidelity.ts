/**
 * Fidelity check: drive one simulated cell with a measured current profile and compare its
 * terminal voltage with the measured one (RMSE above a SOC floor). Used by the tests and the
 * benchmark with the About:Energy drive cycles.
 */
import type { CellPresetId } from "../../config/cells.js";
import { readNumericCsv } from "../../core/csv.js";
import { parseConfig } from "../../config/schema.js";
import { silentLogger } from "../../core/logger.js";
import { ManualClock } from "../../time/clock.js";
import { createSimulation } from "./index.js";
import { PROFILE_CSV, parseCurrentProfileCsv, profileFromCsv } from "./profile.js";

export interface FidelityResult {
  readonly rmseMv: number;
  readonly maxErrorMv: number;
  readonly points: number;
  readonly finalSocPct: number;
}

/** Charge delivered by a measured C/20 discharge (Time [s], I[A], …), Ah: the cell's capacity. */
export function capacityFromC20Ah(csv: string): number {
  const p = parseCurrentProfileCsv(csv, "c20");
  let as = 0;
  for (let k = 0; k + 1 < p.timesS.length; k++) as -= p.currentsA[k]! * (p.timesS[k + 1]! - p.timesS[k]!);
  return as / 3600;
}

/**
 * Replays `csv` (Time [s], I[A], U[V]) on a 2-cell string of `preset` (no spread, held at
 * 25 °C as in a thermal chamber) and compares cell 0 with U where the true SOC is above
 * `minSocPct`. `capacityAh` is the measured capacity of the tested cell (from its C/20 test).
 */
export function replayFidelity(
  preset: CellPresetId,
  csv: string,
  capacityAh: number,
  minSocPct = 10,
): FidelityResult {
  const table = readNumericCsv(csv, preset, { ...PROFILE_CSV, minColumns: 3, columns: 3 });
  const profile = profileFromCsv(table, preset);
  const measured = table.rows.map((r) => r.values[2]!);
  const config = parseConfig({
    pack: { cellPreset: preset, cellsInSeries: 2 },
    afe: {
      kind: "sim",
      initialSocPct: 100,
      mains: true,
      hardwareProtection: false,
      spread: { capacityPct: 0, resistancePct: 0, socPct: 0, selfDischargeSigmaLn: 0 },
      cellOverrides: { capacityAh, thermalResistanceKPerW: 0.01 },
    },
  });
  const clock = new ManualClock(0);
  const sim = createSimulation(config, { clock, logger: silentLogger });
  sim.pack.setFets({ chg: true, dsg: true });
  sim.playProfile(profile);
  let sq = 0;
  let count = 0;
  let maxErr = 0;
  const ts = profile.timesS;
  for (let k = 0; k < ts.length && k < measured.length; k++) {
    // Just after row k starts, so the model's voltage carries row k's current (as the data does).
    sim.physics.advanceTo(ts[k]! * 1000 + 1);
    const soc = sim.physics.bank.z[0]! * 100;
    if (soc <= minSocPct) continue;
    const err = sim.physics.bank.vTerm[0]! - measured[k]!;
    sq += err * err;
    count++;
    if (Math.abs(err) > maxErr) maxErr = Math.abs(err);
  }
  return {
    rmseMv: Math.sqrt(sq / Math.max(1, count)) * 1000,
    maxErrorMv: maxErr * 1000,
    points: count,
    finalSocPct: sim.physics.bank.z[0]! * 100,
  };
}
