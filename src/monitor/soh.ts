/**
 * State of health: capacity learnt between voltage anchors far enough apart (TI's 37 %
 * rule), and resistance from current steps (ΔV/ΔI within one sample), normalised to 25 °C.
 */
import type { AnchorHit } from "./soc.js";

export interface SohState {
  capacityAh: number;
  /** Learnt R0 relative to the preset (1 = new). */
  rScale: number;
  /** Last trustworthy anchor and the Ah counted since (charge efficiency applied). */
  anchorSocPct: number | null;
  ahSinceAnchor: number;
  capacityLearnings: number;
  resistanceSamples: number;
}

export const MIN_SWING_PCT = 37;
const CAPACITY_GAIN = 0.2;
const R_ALPHA = 0.05;

export function createSohState(capacityAh: number): SohState {
  return {
    capacityAh,
    rScale: 1,
    anchorSocPct: null,
    ahSinceAnchor: 0,
    capacityLearnings: 0,
    resistanceSamples: 0,
  };
}

/**
 * Called on every anchor. Learns capacity when the swing since the last anchor is large,
 * the anchor is precise and the temperature moderate; bounds keep a bad reading harmless.
 */
export function onAnchor(s: SohState, hit: AnchorHit, tempC: number, ratedAh: number): boolean {
  if (hit.sigmaPct > 2) return false;
  let learnt = false;
  if (s.anchorSocPct !== null && tempC >= 10 && tempC <= 40) {
    const dSoc = hit.socPct - s.anchorSocPct;
    if (Math.abs(dSoc) >= MIN_SWING_PCT && Math.sign(dSoc) === Math.sign(s.ahSinceAnchor)) {
      const q = Math.abs(s.ahSinceAnchor) / (Math.abs(dSoc) / 100);
      const bounded = Math.min(1.2 * ratedAh, Math.max(0.5 * ratedAh, q));
      s.capacityAh += CAPACITY_GAIN * (bounded - s.capacityAh);
      s.capacityLearnings++;
      learnt = true;
    }
  }
  s.anchorSocPct = hit.socPct;
  s.ahSinceAnchor = 0;
  return learnt;
}

/**
 * Resistance from a step: `dMv`/`dA` between two consecutive samples, compared with the
 * model's R0 at that SOC and temperature. Returns true when a sample was taken.
 */
export function onCurrentStep(s: SohState, dMv: number, dA: number, modelR0Ohm: number): boolean {
  if (dA === 0 || !(modelR0Ohm > 0)) return false;
  const rOhm = dMv / 1000 / dA;
  const ratio = rOhm / modelR0Ohm;
  if (!(ratio > 0.3 && ratio < 5)) return false;
  s.rScale += R_ALPHA * (ratio - s.rScale);
  s.resistanceSamples++;
  return true;
}
