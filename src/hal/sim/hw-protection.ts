/**
 * The protections a real AFE enforces by itself: short circuit (µs), discharge and charge
 * over-current (ms), cell over- and under-voltage. Each has a delay; a trip latches, opens the FET
 * of its direction and stays until the host clears it. The pack asks `limitStep` before each
 * sub-step so that a trip lands at its exact time (a 200 µs short is not smeared over 250 ms).
 */
import type { FaultCode, HardwareFault } from "../../core/faults.js";
import type { HardwareLimits } from "../afe.js";
import type { PackGuard } from "./pack.js";

interface Timer {
  readonly code: FaultCode;
  readonly source: string;
  readonly blocksCharge: boolean;
  accS: number;
}

export const SIM_HARDWARE_PROTECTIONS: readonly FaultCode[] = [
  "short_circuit",
  "oc_discharge",
  "oc_charge",
  "cell_ov",
  "cell_uv",
];

export class HardwareProtection implements PackGuard {
  private limits: HardwareLimits | null = null;
  private readonly timers: Timer[] = [
    { code: "short_circuit", source: "SCD", blocksCharge: false, accS: 0 },
    { code: "oc_discharge", source: "OCD", blocksCharge: false, accS: 0 },
    { code: "oc_charge", source: "OCC", blocksCharge: true, accS: 0 },
    { code: "cell_ov", source: "OV", blocksCharge: true, accS: 0 },
    { code: "cell_uv", source: "UV", blocksCharge: false, accS: 0 },
  ];
  private readonly latched = new Set<FaultCode>();
  private latchedList: readonly HardwareFault[] = [];
  /** Codes latched by the last afterStep that returned true. */
  lastTrips: FaultCode[] = [];

  configure(limits: HardwareLimits): void {
    this.limits = limits;
  }

  get faults(): readonly HardwareFault[] {
    return this.latchedList;
  }

  blocksCharge(): boolean {
    for (const t of this.timers) if (t.blocksCharge && this.latched.has(t.code)) return true;
    return false;
  }

  blocksDischarge(): boolean {
    for (const t of this.timers) if (!t.blocksCharge && this.latched.has(t.code)) return true;
    return false;
  }

  clear(codes: readonly FaultCode[]): void {
    let changed = false;
    for (const c of codes) changed = this.latched.delete(c) || changed;
    if (changed) this.publish();
  }

  private publish(): void {
    this.latchedList = this.timers
      .filter((t) => this.latched.has(t.code))
      .map((t) => ({ code: t.code, source: t.source }));
  }

  private delayS(k: number): number {
    const l = this.limits!;
    switch (k) {
      case 0:
        return l.shortCircuitDelayUs / 1e6;
      case 1:
        return l.ocDischargeDelayMs / 1000;
      case 2:
        return l.ocChargeDelayMs / 1000;
      case 3:
        return l.cellOvDelayMs / 1000;
      default:
        return l.cellUvDelayMs / 1000;
    }
  }

  private over(k: number, iA: number, maxCellV: number, minCellV: number): boolean {
    const l = this.limits!;
    switch (k) {
      case 0:
        return -iA * 1000 >= l.shortCircuitMa;
      case 1:
        return -iA * 1000 >= l.ocDischargeMa;
      case 2:
        return iA * 1000 >= l.ocChargeMa;
      case 3:
        return maxCellV * 1000 >= l.cellOvMv;
      default:
        return minCellV * 1000 <= l.cellUvMv;
    }
  }

  /** Shortens a sub-step so that a current trip happens exactly at its delay. */
  limitStep(iA: number, dtS: number): number {
    if (this.limits === null) return dtS;
    let dt = dtS;
    for (let k = 0; k < 3; k++) {
      const t = this.timers[k]!;
      if (this.latched.has(t.code) || !this.over(k, iA, 0, 1e9)) continue;
      const left = this.delayS(k) - t.accS;
      if (left < dt) dt = Math.max(left, 1e-7);
    }
    return dt;
  }

  /** Accounts a finished sub-step; true when something tripped (the pack then opens FETs). */
  afterStep(iA: number, dtS: number, maxCellV: number, minCellV: number): boolean {
    if (this.limits === null) return false;
    let tripped = false;
    let trips: FaultCode[] | null = null;
    for (let k = 0; k < this.timers.length; k++) {
      const t = this.timers[k]!;
      if (this.latched.has(t.code)) continue;
      if (!this.over(k, iA, maxCellV, minCellV)) {
        t.accS = 0;
        continue;
      }
      t.accS += dtS;
      if (t.accS >= this.delayS(k) - 1e-9) {
        t.accS = 0;
        this.latched.add(t.code);
        tripped = true;
        if (trips === null) trips = [];
        trips.push(t.code);
      }
    }
    if (tripped) {
      this.publish();
      this.lastTrips = trips ?? [];
    }
    return tripped;
  }
}
