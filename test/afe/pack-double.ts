/** A PackPort whose truth the test sets directly; it records what the chip does to it. */
import type { FetState } from "../../src/core/fets.js";
import type { PackPort } from "../../src/hal/pack.js";

export class TestPack implements PackPort {
  readonly cellCount: number;
  readonly temperatureSensorCount: number;
  cellsMv: number[];
  current = 0;
  tempsDeciC: number[];
  dieDeciC = 300;
  comms = true;
  advancedTo = Number.NEGATIVE_INFINITY;
  fetState: FetState = { chg: false, dsg: false };
  bleeders: readonly number[] = [];
  fetLog: FetState[] = [];

  constructor(cells: number, options: { cellMv?: number; thermistors?: number; tempDeciC?: number } = {}) {
    this.cellCount = cells;
    this.temperatureSensorCount = options.thermistors ?? 3;
    this.cellsMv = Array.from({ length: cells }, () => options.cellMv ?? 3300);
    this.tempsDeciC = Array.from({ length: this.temperatureSensorCount }, () => options.tempDeciC ?? 250);
  }

  advanceTo(nowMs: number): void {
    this.advancedTo = Math.max(this.advancedTo, nowMs);
  }
  senseVoltagesMv(): readonly number[] {
    return this.cellsMv;
  }
  currentMa(): number {
    return this.current;
  }
  thermistorDeciC(index: number): number {
    return this.tempsDeciC[index] ?? Number.NaN;
  }
  dieTempDeciC(): number {
    return this.dieDeciC;
  }
  commsAvailable(): boolean {
    return this.comms;
  }
  setFets(fets: FetState): void {
    this.fetState = fets;
    this.fetLog.push(fets);
  }
  fets(): FetState {
    return this.fetState;
  }
  setBleeders(cells: readonly number[]): void {
    this.bleeders = [...cells];
  }
}
