/**
 * A small independent "truth" pack for monitor tests: the equivalent circuit of
 * cell-model.md §2.1 (2 RC pairs, Plett hysteresis) per cell, a constant-power load or a
 * CC/CV charger, and a sensor front end with seeded noise, gain error and offset.
 */
import { CELL_PRESETS, type CellPresetId, ocvMv } from "../../src/config/cells.js";
import type { Sample } from "../../src/hal/afe.js";
import { Prng } from "../../src/hal/sim/prng.js";

/** A uniform [0, 1) stream from the simulator's seeded generator, so a failure replays from its seed. */
export function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

export function gauss(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
}

export type Load =
  | { readonly kind: "rest" }
  | { readonly kind: "power"; readonly watts: number }
  | { readonly kind: "charge"; readonly cellMv: number; readonly maxA: number };

export interface SensorErrors {
  readonly noiseMv: number;
  readonly noiseMa: number;
  readonly gain: number;
  readonly offsetMa: number;
}

export class TruthPack {
  readonly preset;
  readonly soc: number[];
  readonly v1: number[];
  readonly v2: number[];
  readonly h: number[];
  currentA = 0;
  private readonly rnd: () => number;

  constructor(
    id: CellPresetId,
    readonly n: number,
    readonly capacityAh: number,
    socPct: number,
    seed = 1,
    readonly r0Scale = 1,
  ) {
    this.preset = CELL_PRESETS[id];
    this.soc = new Array(n).fill(socPct);
    this.v1 = new Array(n).fill(0);
    this.v2 = new Array(n).fill(0);
    this.h = new Array(n).fill(-this.preset.hysteresisMv / 1000);
    this.rnd = prng(seed);
  }

  private r0(i: number): number {
    const s = this.soc[i]!;
    const f =
      s < 10 ? 1.5 - (0.3 * Math.max(0, s - 5)) / 5 : s < 20 ? 1.2 : s < 30 ? 1.2 - (0.2 * (s - 20)) / 10 : 1;
    return (this.preset.r0MilliOhm / 1000) * f * this.r0Scale;
  }

  /** Terminal voltage of cell i at a current, V. */
  cellV(i: number, iA: number): number {
    const p = this.preset;
    const soc = this.soc[i]!;
    // Past empty the voltage collapses (the table stops at 0 %).
    const collapse = soc < 0 ? soc * 0.1 : 0;
    const ocv = ocvMv(p.ocv, soc) / 1000 + collapse + p.hysteresisMv / 1000 + this.h[i]!;
    return ocv + iA * this.r0(i) + this.v1[i]! + this.v2[i]!;
  }

  packV(iA: number): number {
    let v = 0;
    for (let i = 0; i < this.n; i++) v += this.cellV(i, iA);
    return v;
  }

  meanSoc(): number {
    return this.soc.reduce((a, b) => a + b, 0) / this.n;
  }

  minCellV(): number {
    let m = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.n; i++) m = Math.min(m, this.cellV(i, this.currentA));
    return m;
  }

  private solve(load: Load): number {
    if (load.kind === "rest") return 0;
    if (load.kind === "power") {
      let i = -load.watts / this.packV(0);
      for (let k = 0; k < 4; k++) i = -load.watts / this.packV(i);
      return i;
    }
    // CV limited by the highest cell, CC below it.
    let worst = Number.POSITIVE_INFINITY;
    for (let c = 0; c < this.n; c++) {
      const v0 = this.cellV(c, 0);
      worst = Math.min(worst, (load.cellMv / 1000 - v0) / this.r0(c));
    }
    return Math.max(0, Math.min(load.maxA, worst));
  }

  step(dtS: number, load: Load): void {
    const p = this.preset;
    const iA = this.solve(load);
    this.currentA = iA;
    const a1 = Math.exp(-dtS / p.tau1S);
    const a2 = Math.exp(-dtS / p.tau2S);
    for (let c = 0; c < this.n; c++) {
      const eta = iA > 0 ? p.coulombicEfficiency : 1;
      this.soc[c] = Math.min(
        100,
        Math.max(-5, this.soc[c]! + (eta * iA * dtS * 100) / (3600 * this.capacityAh)),
      );
      this.v1[c] = a1 * this.v1[c]! + (p.r1MilliOhm / 1000) * (1 - a1) * iA;
      this.v2[c] = a2 * this.v2[c]! + (p.r2MilliOhm / 1000) * (1 - a2) * iA;
      if (p.hysteresisMv > 0 && iA !== 0) {
        const m = p.hysteresisMv / 1000;
        const k = Math.exp(-Math.abs((iA * p.hysteresisGamma * dtS) / (3600 * this.capacityAh)));
        this.h[c] = k * this.h[c]! + (1 - k) * (iA > 0 ? m : -m);
      }
    }
  }

  sample(tMs: number, e: SensorErrors, temps: readonly (number | null)[] = [250, 250]): Sample {
    const cells: number[] = [];
    let sum = 0;
    for (let c = 0; c < this.n; c++) {
      const v = Math.round(this.cellV(c, this.currentA) * 1000 + e.noiseMv * gauss(this.rnd));
      cells.push(v);
      sum += v;
    }
    return {
      timestampMs: tMs,
      cellVoltagesMv: cells,
      packVoltageMv: sum,
      packCurrentMa: Math.round(this.currentA * 1000 * e.gain + e.offsetMa + e.noiseMa * gauss(this.rnd)),
      temperaturesDeciC: temps,
      boardTempDeciC: 300,
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: [],
    };
  }
}
