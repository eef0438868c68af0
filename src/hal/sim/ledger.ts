/**
 * Energy bookkeeping of the simulated pack, in joules. Every term is accumulated independently
 * (terminal energy from the terminal voltage, losses from their own exact integrals, stored energy
 * as a state function of SOC), so their balance is a real check of the integrator.
 */
export class EnergyLedger {
  /** Energy into the pack terminals while charging. */
  inJ = 0;
  /** Energy out of the pack terminals while discharging (positive). */
  outJ = 0;
  jouleR0J = 0;
  jouleRcJ = 0;
  /** Current × hysteresis voltage (the LFP charge/discharge gap). */
  hysteresisJ = 0;
  /** Charge accepted but not stored (1 − η). */
  coulombicJ = 0;
  selfDischargeJ = 0;
  /** Internal-leak fault. */
  leakJ = 0;
  /** Balancing bleeders. */
  bleedJ = 0;
  /** Current × (OCV(SOC, T) − OCV25(SOC)): entropic term and cold derating, reversible. */
  reversibleJ = 0;
  /** Energy held in the RC pairs' capacitors (sum of exact per-step changes). */
  rcStoredJ = 0;
  /** Stored-energy jumps from parameter changes (e.g. a weak-cell fault shrinking a capacity). */
  adjustmentsJ = 0;
}

export interface LedgerReport {
  readonly inJ: number;
  readonly outJ: number;
  readonly lossesJ: number;
  readonly storedChangeJ: number;
  readonly terms: Readonly<Record<string, number>>;
  /** in − out − losses − Δstored. */
  readonly residualJ: number;
  /** |residual| / max(in + out, |Δstored|), 0 when nothing changed. */
  readonly relativeError: number;
}

export function ledgerReport(
  l: EnergyLedger,
  storedChemStartJ: number,
  storedChemNowJ: number,
): LedgerReport {
  const lossesJ =
    l.jouleR0J +
    l.jouleRcJ +
    l.hysteresisJ +
    l.coulombicJ +
    l.selfDischargeJ +
    l.leakJ +
    l.bleedJ +
    l.reversibleJ;
  const storedChangeJ = storedChemNowJ - storedChemStartJ + l.rcStoredJ - l.adjustmentsJ;
  const residualJ = l.inJ - l.outJ - lossesJ - storedChangeJ;
  const flow = Math.max(l.inJ + l.outJ, Math.abs(storedChangeJ));
  return {
    inJ: l.inJ,
    outJ: l.outJ,
    lossesJ,
    storedChangeJ,
    terms: {
      jouleR0J: l.jouleR0J,
      jouleRcJ: l.jouleRcJ,
      hysteresisJ: l.hysteresisJ,
      coulombicJ: l.coulombicJ,
      selfDischargeJ: l.selfDischargeJ,
      leakJ: l.leakJ,
      bleedJ: l.bleedJ,
      reversibleJ: l.reversibleJ,
      rcStoredJ: l.rcStoredJ,
      adjustmentsJ: l.adjustmentsJ,
    },
    residualJ,
    relativeError: flow > 0 ? Math.abs(residualJ) / flow : 0,
  };
}
