/**
 * The simulated pack: a series string of cells with their thermal network, the UPS environment on
 * its terminals, the FETs, the bleeders and (optionally) a hardware-protection guard. Physics
 * advances lazily to the time it is asked about, in sub-steps that end at scheduled events,
 * profile rows and hardware trips. Implements PackPort: the truth at the chip's pins.
 */
import type { FetState } from "../../core/fets.js";
import type { PackPort } from "../pack.js";
import { CellBank, type StringSums } from "./cell.js";
import type { UpsEnvironment } from "./environment.js";
import { SensorFaultState, THERMISTOR_OPEN_DECI_C, THERMISTOR_SHORT_DECI_C } from "./faults.js";
import { EnergyLedger, type LedgerReport, ledgerReport } from "./ledger.js";
import { type CellModel, ocvIntegralAt } from "./presets.js";
import { ThermalNetwork } from "./thermal.js";

export interface SimPackOptions {
  readonly model: CellModel;
  readonly cells: number;
  readonly env: UpsEnvironment;
  readonly bleedOhm: number;
  readonly thermistorCells: readonly number[];
  readonly initialTempC: number;
  readonly maxStepMs: number;
  readonly startMs: number;
}

/**
 * Something that enforces protections at the pins while physics runs (the SimAfe's hardware
 * protection; a chip emulator may plug in its own). Sub-steps are cut so trips land on time.
 */
export interface PackGuard {
  /** The longest sub-step (≤ dtS) before this current would trip something. */
  limitStep(currentA: number, dtS: number): number;
  /** Accounts a finished sub-step; true when something tripped (the pack then re-reads the blocks). */
  afterStep(currentA: number, dtS: number, maxCellV: number, minCellV: number): boolean;
  blocksCharge(): boolean;
  blocksDischarge(): boolean;
}

interface Scheduled {
  readonly tMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

export interface Extremes {
  minCellV: number;
  maxCellV: number;
  minTempC: number;
  maxTempC: number;
}

export class SimPack implements PackPort {
  readonly cellCount: number;
  readonly temperatureSensorCount: number;
  readonly model: CellModel;
  readonly bank: CellBank;
  readonly thermal: ThermalNetwork;
  readonly env: UpsEnvironment;
  readonly ledger = new EnergyLedger();
  readonly sensorFaults: SensorFaultState;
  readonly thermistorCells: readonly number[];
  readonly maxStepMs: number;
  guard: PackGuard | null = null;
  /** Called with the simulated time of each guard trip (after the FETs were opened). */
  onGuardTrip: ((tMs: number) => void) | null = null;

  private tMs: number;
  private commanded: FetState = { chg: false, dsg: false };
  private effective: FetState = { chg: false, dsg: false };
  private readonly sums: StringSums = { eEnd: 0, rEnd: 0, eAvg: 0, rAvg: 0 };
  private lastDtS = Number.NaN;
  private a1 = 0;
  private a2 = 0;
  private g1 = 0;
  private g2 = 0;
  private queue: Scheduled[] = [];
  private seq = 0;
  private storedStartJ = 0;

  /** ∫I dt since start, A·s (what an ideal coulomb counter would see). */
  chargeAs = 0;
  currentA = 0;
  /** Mean pack voltage over the last sub-step, V. */
  packVoltageV = 0;
  readonly extremes: Extremes = {
    minCellV: Number.POSITIVE_INFINITY,
    maxCellV: Number.NEGATIVE_INFINITY,
    minTempC: Number.POSITIVE_INFINITY,
    maxTempC: Number.NEGATIVE_INFINITY,
  };
  private stepMaxV = 0;
  private stepMinV = 0;
  /** Sub-steps integrated (for benchmarks). */
  steps = 0;

  constructor(o: SimPackOptions) {
    this.cellCount = o.cells;
    this.temperatureSensorCount = o.thermistorCells.length;
    this.model = o.model;
    this.env = o.env;
    this.thermistorCells = o.thermistorCells;
    this.maxStepMs = o.maxStepMs;
    this.tMs = o.startMs;
    this.bank = new CellBank(o.model, o.cells, o.bleedOhm);
    this.bank.tempC.fill(o.initialTempC);
    this.thermal = new ThermalNetwork(
      o.cells,
      {
        cellCapacityJPerK: o.model.thermalCapacityJPerK,
        cellToAmbientKPerW: o.model.thermalResistanceKPerW,
        neighbourWPerK: 1 / (2 * o.model.thermalResistanceKPerW),
        boardCapacityJPerK: 100,
        boardToAmbientKPerW: 4,
      },
      o.env.effectiveAmbientC(),
    );
    this.sensorFaults = new SensorFaultState(o.cells, o.thermistorCells.length);
  }

  /** Call once the initial state (SOC, hysteresis, spread) is set: books the starting energy. */
  start(): void {
    this.bank.settle();
    this.storedStartJ = this.storedChemJ();
    this.packVoltageV = 0;
    for (let i = 0; i < this.cellCount; i++) this.packVoltageV += this.bank.vTerm[i]!;
    this.updateExtremes();
  }

  get nowMs(): number {
    return this.tMs;
  }

  storedChemJ(): number {
    let e = 0;
    for (let i = 0; i < this.cellCount; i++)
      e += this.bank.qAs[i]! * ocvIntegralAt(this.model, this.bank.z[i]!);
    return e;
  }

  ledgerReport(): LedgerReport {
    return ledgerReport(this.ledger, this.storedStartJ, this.storedChemJ());
  }

  /** Scales one cell's capacity, keeping its SOC, and books the stored-energy jump. */
  changeCapacity(cell: number, factor: number): void {
    const f = ocvIntegralAt(this.model, this.bank.z[cell]!);
    const before = this.bank.qAs[cell]! * f;
    this.bank.qAs[cell] = this.bank.qAs[cell]! * factor;
    this.ledger.adjustmentsJ += this.bank.qAs[cell]! * f - before;
  }

  /** Runs `fn` when simulated time reaches `atMs` (at once if already past, on the next advance). */
  schedule(atMs: number, fn: () => void): void {
    const item = { tMs: atMs, seq: this.seq++, fn };
    let i = this.queue.length;
    while (i > 0 && this.queue[i - 1]!.tMs > atMs) i--;
    this.queue.splice(i, 0, item);
  }

  private runDue(): void {
    while (this.queue.length > 0 && this.queue[0]!.tMs <= this.tMs) this.queue.shift()!.fn();
  }

  advanceTo(nowMs: number): void {
    this.runDue();
    while (this.tMs < nowMs) {
      let endMs = Math.min(nowMs, this.tMs + this.maxStepMs);
      const next = this.queue[0];
      if (next !== undefined && next.tMs < endMs) endMs = next.tMs;
      const envNext = this.env.nextChangeS(this.tMs / 1000) * 1000;
      if (envNext > this.tMs && envNext < endMs) endMs = envNext;
      const dtS = this.step((endMs - this.tMs) / 1000);
      this.tMs = dtS * 1000 >= endMs - this.tMs ? endMs : this.tMs + dtS * 1000;
      this.runDue();
    }
  }

  private factors(dtS: number): void {
    if (dtS === this.lastDtS) return;
    this.lastDtS = dtS;
    const m = this.model;
    const x1 = -dtS / m.tau1S;
    const x2 = -dtS / m.tau2S;
    this.a1 = Math.exp(x1);
    this.a2 = Math.exp(x2);
    // τ(1 − a)/Δt, via expm1 so that tiny steps keep their precision.
    this.g1 = -Math.expm1(x1) / -x1;
    this.g2 = -Math.expm1(x2) / -x2;
  }

  /** Integrates one sub-step of at most `dtS`; returns the length actually taken. */
  private step(dtS: number): number {
    const tS = this.tMs / 1000;
    this.factors(dtS);
    this.bank.prepare(this.a1, this.a2, this.g1, this.g2, this.sums);
    let iA = this.env.solve(this.sums, this.effective, tS);
    const guard = this.guard;
    if (guard !== null) {
      const dt2 = guard.limitStep(iA, dtS);
      if (dt2 < dtS) {
        dtS = dt2;
        this.factors(dtS);
        this.bank.prepare(this.a1, this.a2, this.g1, this.g2, this.sums);
        iA = this.env.solve(this.sums, this.effective, tS);
      }
    }
    this.packVoltageV = this.bank.commit(iA, dtS, this.a1, this.a2, this.g1, this.g2, this.ledger);
    this.thermal.step(
      dtS,
      this.bank.tempC,
      this.bank.heatW,
      this.env.lastFetHeatW + this.bank.boardBleedW,
      this.env.effectiveAmbientC(),
    );
    this.chargeAs += iA * dtS;
    this.currentA = iA;
    this.steps++;
    this.updateExtremes();
    if (guard?.afterStep(iA, dtS, this.stepMaxV, this.stepMinV)) {
      this.commanded = {
        chg: this.commanded.chg && !guard.blocksCharge(),
        dsg: this.commanded.dsg && !guard.blocksDischarge(),
      };
      this.effective = this.commanded;
      this.onGuardTrip?.(this.tMs + dtS * 1000);
    }
    return dtS;
  }

  private updateExtremes(): void {
    const v = this.bank.vTerm;
    const t = this.bank.tempC;
    let vMin = v[0]!;
    let vMax = vMin;
    let tMin = t[0]!;
    let tMax = tMin;
    for (let i = 1; i < this.cellCount; i++) {
      const x = v[i]!;
      if (x < vMin) vMin = x;
      else if (x > vMax) vMax = x;
      const y = t[i]!;
      if (y < tMin) tMin = y;
      else if (y > tMax) tMax = y;
    }
    this.stepMinV = vMin;
    this.stepMaxV = vMax;
    const e = this.extremes;
    if (vMin < e.minCellV) e.minCellV = vMin;
    if (vMax > e.maxCellV) e.maxCellV = vMax;
    if (tMin < e.minTempC) e.minTempC = tMin;
    if (tMax > e.maxTempC) e.maxTempC = tMax;
  }

  /** Voltage at each channel's sense pins: with the wire on top of cell k open, channel k reads
   * ≈0 and channel k+1 reads the sum of both cells (the stack sum is unchanged). */
  senseVoltageV(i: number): number {
    const open = this.sensorFaults.openWire;
    if (open[i] === 1) return 0;
    const v = this.bank.vTerm[i]!;
    return i > 0 && open[i - 1] === 1 ? v + this.bank.vTerm[i - 1]! : v;
  }

  senseVoltagesMv(): readonly number[] {
    const out = new Array<number>(this.cellCount);
    for (let i = 0; i < this.cellCount; i++) out[i] = this.senseVoltageV(i) * 1000;
    return out;
  }

  currentMa(): number {
    return this.currentA * 1000;
  }

  /** Truth at thermistor `index`, 0.1 °C, with thermistor faults (rail values, offsets) applied. */
  thermistorDeciC(index: number): number {
    const f = this.sensorFaults;
    const mode = f.thermistorMode[index];
    if (mode === 1) return THERMISTOR_OPEN_DECI_C;
    if (mode === 2) return THERMISTOR_SHORT_DECI_C;
    const cell = this.thermistorCells[index] ?? 0;
    return this.bank.tempC[cell]! * 10 + f.thermistorOffsetDeciC[index]!;
  }

  dieTempDeciC(): number {
    return this.thermal.boardC * 10;
  }

  commsAvailable(): boolean {
    return this.sensorFaults.commsLost === 0;
  }

  setFets(fets: FetState): void {
    const g = this.guard;
    this.commanded = {
      chg: fets.chg && !(g?.blocksCharge() ?? false),
      dsg: fets.dsg && !(g?.blocksDischarge() ?? false),
    };
    this.effective = this.commanded;
  }

  fets(): FetState {
    return this.effective;
  }

  setBleeders(cells: readonly number[]): void {
    this.bank.bleeding.fill(0);
    for (const c of cells) if (c >= 0 && c < this.cellCount) this.bank.bleeding[c] = 1;
  }

  bleedingCells(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.cellCount; i++) if (this.bank.bleeding[i] === 1) out.push(i);
    return out;
  }
}
