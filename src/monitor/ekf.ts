/**
 * Two-state extended Kalman filter, x = [SOC %, V1 V] (1RC Thevenin; the slow RC and the
 * hysteresis are propagated outside the filter as known functions of current). Scalar
 * measurement: the mean cell voltage. Tuning follows cell-model.md §7.3.
 */
export interface EkfState {
  /** Covariance, row-major 2×2: [P_ss (%²), P_sv (%·V), P_vv (V²)]. */
  pSs: number;
  pSv: number;
  pVv: number;
}

export function createEkfState(socSigmaPct: number): EkfState {
  return { pSs: socSigmaPct * socSigmaPct, pSv: 0, pVv: 0.01 * 0.01 };
}

export interface EkfStep {
  /** Predicted SOC (coulomb step already applied), %; corrected in place. */
  socPct: number;
  /** V1 after the RC step, V; corrected in place. */
  v1: number;
}

/**
 * One predict/update. `a1` is the RC decay of this step, `qSocPct` the process noise of the
 * SOC step (% σ), `residualMv` measured minus predicted terminal voltage, `slopeMvPerPct`
 * dOCV/dSOC at the prediction, `sigmaVMv` the measurement noise.
 */
export function ekfStep(
  st: EkfState,
  x: EkfStep,
  a1: number,
  qSocPct: number,
  residualMv: number,
  slopeMvPerPct: number,
  sigmaVMv: number,
): void {
  // Predict: F = diag(1, a1).
  let pSs = st.pSs + qSocPct * qSocPct;
  let pSv = a1 * st.pSv;
  let pVv = a1 * a1 * st.pVv + 1e-8;
  // H = [slope mV/% , 1000 mV/V]; S = H P Hᵀ + R.
  const h0 = slopeMvPerPct;
  const h1 = 1000;
  const phS = pSs * h0 + pSv * h1;
  const phV = pSv * h0 + pVv * h1;
  const s = h0 * phS + h1 * phV + sigmaVMv * sigmaVMv;
  const kS = phS / s;
  const kV = phV / s;
  x.socPct += kS * residualMv;
  x.v1 += kV * residualMv;
  // Joseph-free form is adequate for a 2-state filter with these magnitudes.
  pSs -= kS * phS;
  pSv -= kS * phV;
  pVv -= kV * phV;
  st.pSs = Math.max(pSs, 1e-6);
  st.pSv = pSv;
  st.pVv = Math.max(pVv, 1e-12);
}
