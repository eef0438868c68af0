/**
 * State of charge: a coulomb counter as the backbone, re-anchored at full, at empty and by
 * OCV after rest (weighted by how steep the OCV curve is there), or an EKF on top of the
 * same counter. Works on the mean cell; time comes in as sample timestamps.
 */
import { socFromOcvPct } from "../config/cells.js";
import type { MonitorConfig } from "../config/sections.js";
import { createEkfState, type EkfState, ekfStep } from "./ekf.js";
import { type CellModel, type Polarisation, stepPolarisation } from "./model.js";

export type AnchorKind = "full" | "empty" | "ocv";

export interface SocInput {
  readonly dtS: number;
  /** Corrected cell current, A (positive charging), deadband applied. */
  readonly currentA: number;
  readonly currentOk: boolean;
  /** Mean and lowest cell voltage, mV; only used when cellsOk. */
  readonly meanCellMv: number;
  readonly minCellMv: number;
  readonly cellsOk: boolean;
  readonly tempC: number;
  /** Sample time, ms. */
  readonly tMs: number;
}

export interface AnchorHit {
  readonly kind: AnchorKind;
  /** SOC the voltage says, %. */
  readonly socPct: number;
  /** Its 1σ uncertainty, %. */
  readonly sigmaPct: number;
  /** False when the reading only feeds capacity learning (OCV at rest under the EKF). */
  readonly applied: boolean;
  /** How much the anchor moved the estimate, % (0 when not applied). */
  readonly deltaPct: number;
}

export interface SocState {
  socPct: number;
  fullConfirmed: boolean;
  uncertaintyPct: number;
  pol: Polarisation;
  ekf: EkfState;
}

export class SocEstimator {
  readonly st: SocState;
  private fullSinceMs: number | null = null;
  private emptySinceMs: number | null = null;
  private restSinceMs: number | null = null;
  private lastOcvFixMs: number | null = null;
  private fullLatched = false;
  /** Current low-passed over ~30 s, A: anchors and rest look at the trend, not single noisy samples. */
  private iFiltA = 0;
  /** SOC the last full anchor set; "full" ends once the pack is discharged a little below it. */
  private fullAtPct = 100;
  private emptyLatched = false;

  constructor(
    private readonly cfg: MonitorConfig,
    private readonly model: CellModel,
    private readonly useEkf: boolean,
    /** Capacity used for counting, Ah (learned). */
    public capacityAh: number,
    /** Resistance scale learned from current steps (1 = as the preset). */
    public rScale: number,
    initial: SocState,
  ) {
    this.st = initial;
  }

  /** After a restore: "full" refers to the restored SOC. */
  restoreFull(fullConfirmed: boolean): void {
    this.st.fullConfirmed = fullConfirmed;
    if (fullConfirmed) this.fullAtPct = this.st.socPct;
  }

  static initialState(socPct: number, sigmaPct: number): SocState {
    return {
      socPct,
      fullConfirmed: false,
      uncertaintyPct: sigmaPct,
      pol: { v1: 0, v2: 0, h: 0 },
      ekf: createEkfState(sigmaPct),
    };
  }

  /** The model's terminal voltage for the present state at a current, mV. */
  terminalMv(socPct: number, currentA: number, tempC: number): number {
    const p = this.st.pol;
    return (
      this.model.ocvMv(socPct, tempC) +
      this.hystMv() +
      1000 * (currentA * this.model.r0Ohm(socPct, tempC) * this.rScale + p.v1 + p.v2)
    );
  }

  /** Hysteresis relative to the discharge-branch table: 0 on discharge, 2M after charging. */
  hystMv(): number {
    return this.model.preset.hysteresisMv + this.st.pol.h * 1000;
  }

  /** SOC that a measured cell voltage implies once the model's drops are removed, %. */
  socFromVoltage(cellMv: number, currentA: number, tempC: number): number {
    const p = this.st.pol;
    const guess = this.st.socPct;
    const ocv =
      cellMv -
      this.hystMv() -
      1000 * (currentA * this.model.r0Ohm(guess, tempC) * this.rScale + p.v1 + p.v2) -
      (this.model.ocvMv(guess, tempC) - this.model.ocvMv(guess, 25));
    return socFromOcvPct(this.model.preset.ocv, ocv);
  }

  /** Voltage noise of an OCV reading, mV: ADC and table error plus unmodelled hysteresis. */
  private sigmaVMv(): number {
    return 4 + this.model.preset.hysteresisMv / 2;
  }

  step(inp: SocInput): AnchorHit | null {
    const cfg = this.cfg;
    const st = this.st;
    const preset = this.model.preset;
    const iA = inp.currentOk ? inp.currentA : 0;
    const dtS = inp.dtS;
    if (dtS <= 0) return null;
    const qAh = this.capacityAh;
    const eta = iA > 0 ? preset.coulombicEfficiency : 1;
    const dSoc = (eta * iA * dtS * 100) / (3600 * qAh);
    st.socPct += dSoc;
    // The offset residual and a 1 % gain error bound what counting can know.
    st.uncertaintyPct += 0.01 * Math.abs(dSoc) + (cfg.currentDeadbandMa * dtS * 100) / (3_600_000 * qAh);
    const rf = this.rScale * this.model.rFactor(Math.min(100, Math.max(0, st.socPct)), inp.tempC);
    stepPolarisation(st.pol, preset, iA, dtS, rf, qAh);

    if (this.useEkf && inp.cellsOk && inp.currentOk) {
      const soc = Math.min(100, Math.max(0, st.socPct));
      const slope = this.model.slopeMvPerPct(soc);
      let sigmaV = preset.chemistry === "lfp" ? 10 : 7;
      if (slope < cfg.rest.minSlopeMvPerPct) sigmaV *= 10;
      const residual = inp.meanCellMv - this.terminalMv(soc, iA, inp.tempC);
      const x = { socPct: soc, v1: st.pol.v1 };
      // Process noise: 1 % gain plus an uncalibrated offset of up to ~C/50. An offset is a bias,
      // not white noise: the filter must keep trusting the voltage enough that a constant drift
      // only lags by (offset / σ_I) · (σ_V / slope), a fraction of a percent.
      const sigmaIA = 0.01 * Math.abs(iA) + Math.max(0.02 * qAh, cfg.currentDeadbandMa / 1000);
      const qSoc = sigmaIA * ((dtS * 100) / (3600 * qAh));
      ekfStep(st.ekf, x, Math.exp(-dtS / preset.tau1S), qSoc, residual, slope, sigmaV);
      st.socPct = x.socPct;
      st.pol.v1 = x.v1;
      st.uncertaintyPct = Math.sqrt(st.ekf.pSs);
    }

    this.iFiltA += (1 - Math.exp(-dtS / 30)) * (iA - this.iFiltA);
    const beforePct = st.socPct;
    let hit: AnchorHit | null = null;
    if (inp.cellsOk && inp.currentOk) hit = this.anchors(inp, iA);

    const cap = st.fullConfirmed ? 100 : cfg.socCapBeforeFullPct;
    if (st.socPct > cap) st.socPct = cap;
    if (st.socPct < 0) st.socPct = 0;
    if (st.fullConfirmed && st.socPct < Math.min(this.fullAtPct, cfg.socCapBeforeFullPct) - 2)
      st.fullConfirmed = false;
    // Measured after the cap, so the delta is what the user sees the anchor do.
    if (hit?.applied) hit = { ...hit, deltaPct: st.socPct - beforePct };
    return hit;
  }

  private setSoc(socPct: number, sigmaPct: number): void {
    const st = this.st;
    st.socPct = socPct;
    st.uncertaintyPct = sigmaPct;
    st.ekf.pSs = sigmaPct * sigmaPct;
    st.ekf.pSv = 0;
  }

  /** Scalar Kalman update of the counted SOC with a voltage-derived one. */
  private blend(socPct: number, sigmaPct: number): void {
    const u2 = this.st.uncertaintyPct * this.st.uncertaintyPct;
    const s2 = sigmaPct * sigmaPct;
    this.setSoc(
      this.st.socPct + (u2 / (u2 + s2)) * (socPct - this.st.socPct),
      Math.sqrt((u2 * s2) / (u2 + s2)),
    );
  }

  private anchors(inp: SocInput, iA: number): AnchorHit | null {
    const cfg = this.cfg;
    const st = this.st;
    const iMa = this.iFiltA * 1000;
    const t = inp.tMs;
    let hit: AnchorHit | null = null;

    const full =
      inp.minCellMv >= cfg.fullAnchor.cellMv &&
      iMa > -cfg.currentDeadbandMa &&
      iMa < cfg.fullAnchor.taperCurrentMa;
    if (full) {
      this.fullSinceMs ??= t;
      if (t - this.fullSinceMs >= cfg.fullAnchor.holdMs) {
        // Full at the charge voltage actually used: 100 % only if that voltage is at the table's top.
        const socPct = Math.min(100, this.socFromVoltage(inp.meanCellMv, iA, inp.tempC));
        this.setSoc(socPct, 0.5);
        st.fullConfirmed = true;
        this.fullAtPct = socPct;
        if (!this.fullLatched) hit = { kind: "full", socPct, sigmaPct: 0.5, applied: true, deltaPct: 0 };
        this.fullLatched = true;
      }
    } else {
      this.fullSinceMs = null;
      if (iMa < -cfg.rest.currentMa) this.fullLatched = false;
    }

    // The EKF already weighs the voltage in the knee; a hard reset there would only add noise.
    const empty = !this.useEkf && inp.minCellMv <= cfg.emptyAnchor.cellMv && iMa < -cfg.rest.currentMa;
    if (empty) {
      this.emptySinceMs ??= t;
      if (t - this.emptySinceMs >= cfg.emptyAnchor.holdMs && !this.emptyLatched) {
        // Under load the knee is reached above 0 %: the model removes the IR and RC drops. Its
        // resistance is uncertain (±30 % near empty), which the local OCV slope turns into %.
        const socPct = Math.max(0, Math.min(15, this.socFromVoltage(inp.meanCellMv, iA, inp.tempC)));
        const p = this.model.preset;
        const rTotOhm =
          ((p.r0MilliOhm + p.r1MilliOhm + p.r2MilliOhm) / 1000) *
          this.rScale *
          this.model.rFactor(socPct, inp.tempC);
        const dropMv = 0.3 * Math.abs(iA) * rTotOhm * 1000;
        const sigma = 1 + dropMv / Math.max(this.model.slopeMvPerPct(socPct), 1);
        this.blend(socPct, sigma);
        st.fullConfirmed = false;
        hit = { kind: "empty", socPct, sigmaPct: sigma, applied: true, deltaPct: 0 };
        this.emptyLatched = true;
      }
    } else {
      this.emptySinceMs = null;
      if (iMa > cfg.rest.currentMa) this.emptyLatched = false;
    }

    // OCV correction after rest, a scalar Kalman blend weighted by the local OCV slope.
    // Under the EKF the rested voltage is already in the filter; it still serves capacity learning.
    const rest = Math.abs(iMa) < cfg.rest.currentMa;
    if (!rest) {
      this.restSinceMs = null;
      return hit;
    }
    this.restSinceMs ??= t;
    if (t - this.restSinceMs < cfg.rest.minRestMs) return hit;
    if (this.lastOcvFixMs !== null && t - this.lastOcvFixMs < cfg.rest.minRestMs) return hit;
    this.lastOcvFixMs = t;
    const socOcv = this.socFromVoltage(inp.meanCellMv, iA, inp.tempC);
    const slope = this.model.slopeMvPerPct(socOcv);
    if (slope < cfg.rest.minSlopeMvPerPct) return hit;
    const sigma = this.sigmaVMv() / slope;
    if (!this.useEkf) this.blend(socOcv, sigma);
    return hit ?? { kind: "ocv", socPct: socOcv, sigmaPct: sigma, applied: !this.useEkf, deltaPct: 0 };
  }
}
