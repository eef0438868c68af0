/**
 * The cells of the string as a struct of arrays: per-cell parameters (after spread and faults)
 * and state (SOC, RC voltages, hysteresis), with the equivalent-circuit equations of
 * cell-model.md §2.1 (I > 0 charging here):
 *
 *   V = OCV25(z_eff) + (T − 25)·dU/dT + (M + h) + I·R0 + v1 + v2
 *   v_i ← a_i·v_i + R_i·(1 − a_i)·I, a_i = e^(−Δt/τ_i)              (exact ZOH)
 *   z  ← z + (η·I − I_leak)·Δt/Q − k_sd(T)·Δt                        (η = 1 on discharge)
 *   h  ← e·h + (1 − e)·M·sign(I), e = e^(−|η·I·γ·Δt/Q|)                (Plett one-state)
 *   R(T) = R25 · e^(Ea/R·(1/T − 1/298.15)) · f(z_eff)
 *
 * Cold derating shrinks the usable capacity from the bottom: z_eff = 1 − (1 − z)/q(T).
 * Nothing here allocates: the pack calls prepare() and commit() once per sub-step.
 */
import type { EnergyLedger } from "./ledger.js";
import { type CellModel, ocvAt } from "./presets.js";

const T_REF_K = 298.15;
const KELVIN = 273.15;
/** Recompute the temperature factors when a cell moved more than this since the last time, K. */
const TEMP_CACHE_K = 0.02;

/** Sums over the string that the current solver needs (V and Ω). */
export interface StringSums {
  /** Pack voltage at the end of the step = eEnd + I·rEnd. */
  eEnd: number;
  rEnd: number;
  /** Mean pack voltage over the step = eAvg + I·rAvg (for power). */
  eAvg: number;
  rAvg: number;
}

export class CellBank {
  readonly n: number;
  readonly model: CellModel;
  /** Capacity per cell at 25 °C, A·s. */
  readonly qAs: Float64Array;
  /** Resistance multiplier per cell (spread, weak-cell fault). */
  readonly rScale: Float64Array;
  readonly selfDischargePerS: Float64Array;
  /** Internal-leak fault current per cell, A. */
  readonly leakA: Float64Array;
  readonly bleeding: Uint8Array;
  bleedOhm: number;
  /** Share of the bleed resistor's heat that reaches its cell (the rest warms the board). */
  bleedHeatToCell = 0.5;

  readonly z: Float64Array;
  readonly v1: Float64Array;
  readonly v2: Float64Array;
  readonly h: Float64Array;
  readonly tempC: Float64Array;
  /** Terminal voltage at the end of the last step, V. */
  readonly vTerm: Float64Array;
  /** Cell current over the last step (string current minus bleed), A. */
  readonly iCell: Float64Array;
  /** Heat generated in each cell over the last step, W. */
  readonly heatW: Float64Array;
  /** Heat of the bleeders that goes to the board over the last step, W. */
  boardBleedW = 0;

  private readonly tCache: Float64Array;
  private readonly arrhenius: Float64Array;
  private readonly sdFactor: Float64Array;
  private readonly qFactor: Float64Array;
  private readonly emf: Float64Array;
  private readonly ocvT: Float64Array;
  private readonly ocv25: Float64Array;
  private readonly dudt: Float64Array;
  private readonly r0: Float64Array;
  private readonly r1: Float64Array;
  private readonly r2: Float64Array;
  private readonly ib: Float64Array;

  constructor(model: CellModel, n: number, bleedOhm: number) {
    this.n = n;
    this.model = model;
    this.bleedOhm = bleedOhm;
    const f = () => new Float64Array(n);
    this.qAs = f().fill(model.capacityAh * 3600);
    this.rScale = f().fill(1);
    this.selfDischargePerS = f().fill(model.selfDischargePerS);
    this.leakA = f();
    this.bleeding = new Uint8Array(n);
    this.z = f().fill(1);
    this.v1 = f();
    this.v2 = f();
    this.h = f();
    this.tempC = f().fill(25);
    this.vTerm = f();
    this.iCell = f();
    this.heatW = f();
    this.tCache = f().fill(Number.NaN);
    this.arrhenius = f();
    this.sdFactor = f();
    this.qFactor = f();
    this.emf = f();
    this.ocvT = f();
    this.ocv25 = f();
    this.dudt = f();
    this.r0 = f();
    this.r1 = f();
    this.r2 = f();
    this.ib = f();
  }

  /** Terminal voltages at rest from the present state (after initialisation). */
  settle(): void {
    for (let i = 0; i < this.n; i++) {
      this.refreshTemperature(i);
      const ze = this.effectiveSoc(i);
      const t = this.tempC[i]!;
      const dudt = this.model.dUdT.at(ze);
      this.vTerm[i] =
        ocvAt(this.model, ze) +
        (t - 25) * dudt +
        this.model.hysteresisV +
        this.h[i]! +
        this.v1[i]! +
        this.v2[i]!;
    }
  }

  effectiveSoc(i: number): number {
    const q = this.qFactor[i]!;
    return q === 1 ? this.z[i]! : 1 - (1 - this.z[i]!) / q;
  }

  private refreshTemperature(i: number): void {
    const t = this.tempC[i]!;
    if (Math.abs(t - this.tCache[i]!) <= TEMP_CACHE_K) return;
    this.tCache[i] = t;
    this.arrhenius[i] = Math.exp(this.model.activationK * (1 / (t + KELVIN) - 1 / T_REF_K));
    this.sdFactor[i] = 2 ** ((t - 25) / 10);
    this.qFactor[i] = Math.max(0.05, this.model.capacityTempFactor.at(t));
  }

  /** Per-cell EMF and resistances for a step of `dtS`; returns the string sums. */
  prepare(a1: number, a2: number, g1: number, g2: number, out: StringSums): void {
    const m = this.model;
    const hystV = m.hysteresisV;
    const ocvYs = m.ocv.ys;
    const dudtYs = m.dUdT.ys;
    const rSocYs = m.rSocFactor.ys;
    const lastIdx = ocvYs.length - 1;
    let eEnd = 0;
    let rEnd = 0;
    let eAvg = 0;
    let rAvg = 0;
    for (let i = 0; i < this.n; i++) {
      this.refreshTemperature(i);
      const z = this.z[i]!;
      const t = this.tempC[i]!;
      const q = this.qFactor[i]!;
      const ze = q === 1 ? z : 1 - (1 - z) / q;
      // The SOC tables share one grid: find the segment once and blend all three.
      let f = Math.min(1, Math.max(0, ze)) * lastIdx;
      let k = f | 0;
      if (k >= lastIdx) k = lastIdx - 1;
      f -= k;
      const d0 = dudtYs[k]!;
      const dudt = d0 + (dudtYs[k + 1]! - d0) * f;
      const s0 = rSocYs[k]!;
      const rSoc = s0 + (rSocYs[k + 1]! - s0) * f;
      let o25e: number;
      if (ze >= 0 && ze <= 1) {
        const o0 = ocvYs[k]!;
        o25e = o0 + (ocvYs[k + 1]! - o0) * f;
      } else o25e = ocvAt(m, ze);
      const o25 = ze === z ? o25e : ocvAt(m, z);
      const oT = o25e + (t - 25) * dudt;
      const emf = oT + hystV + this.h[i]!;
      const rf = this.rScale[i]! * this.arrhenius[i]! * rSoc;
      const r0 = m.r0Ohm * rf;
      const r1 = m.r1Ohm * rf;
      const r2 = m.r2Ohm * rf;
      const ib = this.bleeding[i] === 1 ? this.vTerm[i]! / this.bleedOhm : 0;
      this.dudt[i] = dudt;
      this.ocv25[i] = o25;
      this.ocvT[i] = oT;
      this.emf[i] = emf;
      this.r0[i] = r0;
      this.r1[i] = r1;
      this.r2[i] = r2;
      this.ib[i] = ib;
      const re = r0 + r1 * (1 - a1) + r2 * (1 - a2);
      const ra = r0 + r1 * (1 - g1) + r2 * (1 - g2);
      const v1 = this.v1[i]!;
      const v2 = this.v2[i]!;
      eEnd += emf + a1 * v1 + a2 * v2 - ib * re;
      rEnd += re;
      eAvg += emf + g1 * v1 + g2 * v2 - ib * ra;
      rAvg += ra;
    }
    out.eEnd = eEnd;
    out.rEnd = rEnd;
    out.eAvg = eAvg;
    out.rAvg = rAvg;
  }

  /**
   * Applies string current `iA` for `dtS` (after prepare with the same factors). Updates state,
   * the ledger and per-cell heat; returns the mean pack voltage over the step (for power).
   */
  commit(
    iA: number,
    dtS: number,
    a1: number,
    a2: number,
    g1: number,
    g2: number,
    ledger: EnergyLedger,
  ): number {
    const m = this.model;
    const tau1 = m.tau1S;
    const tau2 = m.tau2S;
    const hystV = m.hysteresisV;
    const gamma = m.hysteresisGamma;
    const eta = m.coulombicEfficiency;
    const b1 = tau1 * (1 - a1) * (1 + a1) * 0.5;
    const b2 = tau2 * (1 - a2) * (1 + a2) * 0.5;
    const gd1 = g1 * dtS;
    const gd2 = g2 * dtS;
    const invDt = 1 / dtS;
    let packV = 0;
    let boardBleedW = 0;
    let jR0 = 0;
    let jRc = 0;
    let jHyst = 0;
    let jCoul = 0;
    let jSd = 0;
    let jLeak = 0;
    let jBleed = 0;
    let jRev = 0;
    let jCap = 0;
    for (let i = 0; i < this.n; i++) {
      const ib = this.ib[i]!;
      const ic = iA - ib;
      const r0 = this.r0[i]!;
      const r1 = this.r1[i]!;
      const r2 = this.r2[i]!;
      const v1 = this.v1[i]!;
      const v2 = this.v2[i]!;
      const hv = hystV + this.h[i]!;
      const emf = this.emf[i]!;
      const o25 = this.ocv25[i]!;
      const vAvg = emf + g1 * v1 + g2 * v2 + ic * (r0 + r1 * (1 - g1) + r2 * (1 - g2));
      packV += vAvg;

      // Exact integrals of the RC losses over the step (v relaxes exponentially to R·I).
      const vi1 = r1 * ic;
      const d1 = v1 - vi1;
      const vi2 = r2 * ic;
      const d2 = v2 - vi2;
      const inv1 = r1 > 0 ? 1 / r1 : 0;
      const inv2 = r2 > 0 ? 1 / r2 : 0;
      // ∫v²/R with v = vi + d·e^(−t/τ), vi = R·I: R·I²·Δt + 2·I·d·τ(1−a) + d²·τ(1−a²)/(2R).
      const loss1 = r1 * ic * ic * dtS + 2 * ic * d1 * gd1 + d1 * d1 * b1 * inv1;
      const loss2 = r2 * ic * ic * dtS + 2 * ic * d2 * gd2 + d2 * d2 * b2 * inv2;
      const v1n = a1 * v1 + (1 - a1) * vi1;
      const v2n = a2 * v2 + (1 - a2) * vi2;
      const lossR0 = ic * ic * r0 * dtS;
      const etaC = ic > 0 ? eta : 1;
      const coul = ic > 0 ? (1 - eta) * ic * o25 * dtS : 0;
      const qAs = this.qAs[i]!;
      const sdPerS = this.selfDischargePerS[i]! * this.sdFactor[i]!;
      const leakA = this.leakA[i]!;
      const sd = qAs * sdPerS * dtS * o25;
      const leak = leakA * o25 * dtS;
      const bleed = ib * vAvg * dtS;
      const rev = ic * (this.ocvT[i]! - o25) * dtS;
      const hyst = ic * hv * dtS;

      jR0 += lossR0;
      jRc += loss1 + loss2;
      jHyst += hyst;
      jCoul += coul;
      jSd += sd;
      jLeak += leak;
      jBleed += bleed;
      jRev += rev;
      jCap += 0.5 * (tau1 * (v1n * v1n - v1 * v1) * inv1 + tau2 * (v2n * v2n - v2 * v2) * inv2);

      const tK = this.tempC[i]! + KELVIN;
      // Bernardi: irreversible losses plus the reversible entropic heat I·T·dU/dT (I > 0 charging).
      this.heatW[i] =
        (lossR0 + loss1 + loss2 + hyst + coul + sd + leak + bleed * this.bleedHeatToCell) * invDt +
        ic * tK * this.dudt[i]!;
      boardBleedW += bleed * (1 - this.bleedHeatToCell) * invDt;

      this.z[i] = this.z[i]! + ((etaC * ic - leakA) * dtS) / qAs - sdPerS * dtS;
      this.v1[i] = v1n;
      this.v2[i] = v2n;
      if (hystV > 0 && ic !== 0) {
        const e = Math.exp(-Math.abs((etaC * ic * gamma * dtS) / qAs));
        this.h[i] = e * this.h[i]! + (1 - e) * (ic > 0 ? hystV : -hystV);
      }
      this.vTerm[i] = emf + ic * r0 + v1n + v2n;
      this.iCell[i] = ic;
    }
    this.boardBleedW = boardBleedW;
    ledger.jouleR0J += jR0;
    ledger.jouleRcJ += jRc;
    ledger.hysteresisJ += jHyst;
    ledger.coulombicJ += jCoul;
    ledger.selfDischargeJ += jSd;
    ledger.leakJ += jLeak;
    ledger.bleedJ += jBleed;
    ledger.reversibleJ += jRev;
    ledger.rcStoredJ += jCap;
    const e = iA * packV * dtS;
    if (e >= 0) ledger.inJ += e;
    else ledger.outJ -= e;
    return packV;
  }
}
