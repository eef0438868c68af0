/**
 * Lumped thermal network: one node per cell (heat capacity, resistance to ambient, conductance to
 * its neighbours in the string) and one node for the BMS board (FETs, bleed resistors, AFE die).
 * Each node relaxes exactly (exponentially) towards its steady state given its neighbours' present
 * temperatures, so any step length is stable.
 */
export interface ThermalParams {
  readonly cellCapacityJPerK: number;
  readonly cellToAmbientKPerW: number;
  readonly neighbourWPerK: number;
  readonly boardCapacityJPerK: number;
  readonly boardToAmbientKPerW: number;
}

export class ThermalNetwork {
  readonly n: number;
  readonly params: ThermalParams;
  boardC: number;
  private lastDt = Number.NaN;
  private decayInner = 0;
  private decayEnd = 0;
  private decaySingle = 0;
  private decayBoard = 0;

  constructor(n: number, params: ThermalParams, startC: number) {
    this.n = n;
    this.params = params;
    this.boardC = startC;
  }

  private factors(dtS: number): void {
    if (dtS === this.lastDt) return;
    this.lastDt = dtS;
    const p = this.params;
    const ga = 1 / p.cellToAmbientKPerW;
    const c = p.cellCapacityJPerK;
    this.decaySingle = Math.exp((-dtS * ga) / c);
    this.decayEnd = Math.exp((-dtS * (ga + p.neighbourWPerK)) / c);
    this.decayInner = Math.exp((-dtS * (ga + 2 * p.neighbourWPerK)) / c);
    this.decayBoard = Math.exp(-dtS / (p.boardToAmbientKPerW * p.boardCapacityJPerK));
  }

  /** Advances cell temperatures (in place) and the board node by `dtS`. */
  step(dtS: number, tempC: Float64Array, heatW: Float64Array, boardHeatW: number, ambientC: number): void {
    this.factors(dtS);
    const p = this.params;
    const ga = 1 / p.cellToAmbientKPerW;
    const gn = p.neighbourWPerK;
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const t = tempC[i]!;
      let g = ga;
      let flow = ga * ambientC + heatW[i]!;
      if (i > 0) {
        g += gn;
        flow += gn * tempC[i - 1]!;
      }
      if (i < n - 1) {
        g += gn;
        flow += gn * tempC[i + 1]!;
      }
      const target = flow / g;
      const decay = n === 1 ? this.decaySingle : i === 0 || i === n - 1 ? this.decayEnd : this.decayInner;
      tempC[i] = target + (t - target) * decay;
    }
    const bTarget = ambientC + boardHeatW * p.boardToAmbientKPerW;
    this.boardC = bTarget + (this.boardC - bTarget) * this.decayBoard;
  }
}
