/**
 * The UPS around the pack: mains, a CC/CV float charger (cooperative: obeys the BMS's published
 * CVL/CCL), the constant-power inverter load during outages, bench current sources (constant
 * steps or a replayed profile) and the external faults that act on the bus (runaway charger,
 * overload, short circuit, ambient).
 *
 * FETs and the body diode: the pack has back-to-back charge and discharge FETs. A direction flows
 * only when its own FET is closed; when the other FET is open, the current passes that FET's body
 * diode and loses `bodyDiodeV` (the bus sees a lower voltage, the board heats). So an open charge
 * FET blocks charging but the pack can still carry the UPS load, and vice versa.
 */
import type { ChargeLimits } from "../../core/limits.js";
import type { StringSums } from "./cell.js";
import type { ProfileCursor } from "./profile.js";

export interface ChargerSettings {
  /** CV set point per cell, mV (the charger regulates cells × this). */
  cellVoltageMv: number;
  maxCurrentA: number;
  /** Obeys the BMS's published CVL/CCL (and waits for them before charging). */
  cooperative: boolean;
}

export type CurrentSource =
  | { readonly kind: "constant"; readonly currentA: number }
  | { readonly kind: "profile"; readonly cursor: ProfileCursor };

export interface FetsNow {
  readonly chg: boolean;
  readonly dsg: boolean;
}

export class UpsEnvironment {
  readonly cells: number;
  mains: boolean;
  readonly charger: ChargerSettings;
  /** Constant-power inverter load carried by the pack while mains is off, W. */
  loadW: number;
  ambientC: number;
  source: CurrentSource | null = null;
  bmsLimits: ChargeLimits | null = null;
  bodyDiodeV = 0.7;
  /** FET channel resistance (both in series), Ω; heats the board only. */
  fetOhm = 0.002;

  // Faults acting on the bus.
  runawayCellMv: number | null = null;
  extraLoadA = 0;
  shortOhm: number | null = null;
  ambientOverrideC: number | null = null;

  /** Board heat from FETs/diodes over the last solve, W. */
  lastFetHeatW = 0;

  constructor(cells: number, mains: boolean, charger: ChargerSettings, loadW: number, ambientC: number) {
    this.cells = cells;
    this.mains = mains;
    this.charger = charger;
    this.loadW = loadW;
    this.ambientC = ambientC;
  }

  effectiveAmbientC(): number {
    return this.ambientOverrideC ?? this.ambientC;
  }

  /** The charger's set point now (pack volts) and its current limit (A), after cooperation and faults. */
  chargerTarget(): { voltageV: number; currentA: number } {
    const c = this.charger;
    if (this.runawayCellMv !== null)
      return { voltageV: (this.runawayCellMv * this.cells) / 1000, currentA: c.maxCurrentA };
    let v = (c.cellVoltageMv * this.cells) / 1000;
    let i = c.maxCurrentA;
    if (c.cooperative) {
      const l = this.bmsLimits;
      if (l === null) return { voltageV: v, currentA: 0 };
      v = Math.min(v, l.cvlMv / 1000);
      i = Math.min(i, Math.max(0, l.cclMa / 1000));
    }
    return { voltageV: v, currentA: i };
  }

  /** String current for the next sub-step, A, positive charging. */
  solve(s: StringSums, fets: FetsNow, tS: number): number {
    let iA: number;
    if (this.shortOhm !== null) {
      iA = -s.eAvg / (s.rAvg + this.shortOhm);
    } else if (this.source !== null) {
      iA = this.sourceCurrent(tS);
    } else if (this.mains) {
      const ch = this.chargerTarget();
      const diode = fets.dsg ? 0 : this.bodyDiodeV;
      const iCv = (ch.voltageV - diode - s.eEnd) / s.rEnd;
      let out = iCv + this.extraLoadA;
      if (out > ch.currentA) out = ch.currentA;
      if (out < 0) out = 0;
      iA = out - this.extraLoadA;
    } else {
      const e = s.eAvg - (fets.chg ? 0 : this.bodyDiodeV);
      const r = s.rAvg;
      const p = this.loadW;
      let mag = 0;
      if (p > 0 && e > 0) {
        const disc = e * e - 4 * r * p;
        // Beyond the pack's maximum power the inverter collapses the bus to half its EMF.
        mag = disc >= 0 ? (e - Math.sqrt(disc)) / (2 * r) : e / (2 * r);
      }
      iA = -(mag + this.extraLoadA);
    }
    if ((iA > 0 && !fets.chg) || (iA < 0 && !fets.dsg)) iA = 0;
    const diodeOn = (iA > 0 && !fets.dsg) || (iA < 0 && !fets.chg);
    this.lastFetHeatW = iA * iA * this.fetOhm + (diodeOn ? Math.abs(iA) * this.bodyDiodeV : 0);
    return iA;
  }

  private sourceCurrent(tS: number): number {
    const src = this.source!;
    if (src.kind === "constant") return src.currentA;
    const i = src.cursor.currentAt(tS);
    if (i === null) {
      this.source = null;
      return 0;
    }
    return i;
  }

  /** Next time the environment itself changes the current (profile rows), s. */
  nextChangeS(tS: number): number {
    return this.source?.kind === "profile" ? this.source.cursor.nextChangeS(tS) : Number.POSITIVE_INFINITY;
  }
}
