/**
 * Cell-to-cell spread drawn from the seed (cell-model.md §6): capacity, resistance, initial SOC
 * and self-discharge. One resistance factor per cell scales R0, R1 and R2 together (the reference
 * correlates them at 0.7; full correlation is the simplification).
 */
import type { CellBank } from "./cell.js";
import { Prng } from "./prng.js";

export interface SpreadSettings {
  readonly capacityPct: number;
  readonly resistancePct: number;
  readonly socPct: number;
  readonly selfDischargeSigmaLn: number;
}

export const DEFAULT_SPREAD: SpreadSettings = {
  capacityPct: 1,
  resistancePct: 4,
  socPct: 2,
  selfDischargeSigmaLn: 0.3,
};

export function applySpread(bank: CellBank, s: SpreadSettings, seed: number, initialSocPct: number): void {
  const rng = Prng.derive(seed, 1);
  for (let i = 0; i < bank.n; i++) {
    const q = 1 + rng.truncatedNormal(s.capacityPct / 100);
    const r = Math.max(0.5, 1 + rng.truncatedNormal(s.resistancePct / 100));
    const soc = initialSocPct + rng.uniform(-s.socPct, s.socPct);
    const sd = Math.exp(rng.normal() * s.selfDischargeSigmaLn);
    bank.qAs[i] = bank.qAs[i]! * q;
    bank.rScale[i] = bank.rScale[i]! * r;
    bank.z[i] = Math.min(100, Math.max(0, soc)) / 100;
    bank.selfDischargePerS[i] = bank.selfDischargePerS[i]! * sd;
  }
}
