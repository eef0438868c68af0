/**
 * SimAfe: an AfeDriver over the simulated pack. It converts on a fixed period (cells sampled at
 * the conversion instant, current averaged over the period like a coulomb counter), adds the
 * sensor model's errors, enforces hardware protections, and fails like a chip when its bus is
 * down (injected comms loss).
 */
import { BmsError } from "../../core/errors.js";
import type { FaultCode } from "../../core/faults.js";
import type { FetState } from "../../core/fets.js";
import type { Clock } from "../../time/clock.js";
import type {
  AfeCapabilities,
  AfeDriver,
  AppliedHardwareLimits,
  HardwareLimits,
  ReadFlags,
  Sample,
} from "../afe.js";
import { type HardwareProtection, SIM_HARDWARE_PROTECTIONS } from "./hw-protection.js";
import type { SimPack } from "./pack.js";
import type { SensorModel } from "./sensors.js";

export class SimAfe implements AfeDriver {
  readonly capabilities: AfeCapabilities;
  private readonly pack: SimPack;
  private readonly sensors: SensorModel;
  private readonly clock: Clock;
  private readonly hw: HardwareProtection | null;
  private lastConvMs = Number.NEGATIVE_INFINITY;
  private lastChargeAs = 0;
  private sample: Sample | null = null;
  private balancing: readonly number[] = [];
  private closed = false;

  constructor(pack: SimPack, sensors: SensorModel, clock: Clock, hw: HardwareProtection | null) {
    this.pack = pack;
    this.sensors = sensors;
    this.clock = clock;
    this.hw = hw;
    const n = pack.cellCount;
    this.capabilities = {
      model: "sim",
      cellCount: n,
      temperatureSensorCount: pack.temperatureSensorCount,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: true,
      balancing: {
        groupSize: n,
        adjacentAllowed: true,
        maxSimultaneous: n,
        maxPerGroup: n,
        measurementPauseMs: 0,
        bleedResistorOhm: pack.bank.bleedOhm,
      },
      hardwareProtections: hw === null ? [] : SIM_HARDWARE_PROTECTIONS,
      controlsFets: true,
    };
  }

  private ensureBus(what: string): void {
    if (this.closed) throw new BmsError("AFE_COMMS", `simulated AFE is closed (${what})`);
    if (!this.pack.commsAvailable())
      throw new BmsError("AFE_COMMS", `simulated AFE does not answer (${what}): injected comms loss`);
  }

  async configure(limits: HardwareLimits): Promise<AppliedHardwareLimits> {
    this.ensureBus("configure");
    if (this.hw === null) return { applied: {}, notes: ["simulated AFE: hardware protection disabled"] };
    this.hw.configure(limits);
    return { applied: { ...limits }, notes: [] };
  }

  async read(_flags?: ReadFlags): Promise<Sample> {
    this.ensureBus("read");
    const period = this.sensors.settings.adcPeriodMs;
    const convMs = Math.floor(this.clock.nowMs() / period) * period;
    if (convMs > this.lastConvMs || this.sample === null) {
      this.pack.advanceTo(convMs);
      this.sample = this.convert(convMs);
    }
    return this.sample;
  }

  private convert(convMs: number): Sample {
    const pack = this.pack;
    const s = this.sensors;
    const n = pack.cellCount;
    const cells = new Array<number>(n);
    let sumMv = 0;
    for (let i = 0; i < n; i++) {
      cells[i] = s.cellMv(i, pack.senseVoltageV(i) * 1000);
      sumMv += pack.bank.vTerm[i]! * 1000;
    }
    const dtS = (convMs - this.lastConvMs) / 1000;
    const avgA = Number.isFinite(dtS) && dtS > 0 ? (pack.chargeAs - this.lastChargeAs) / dtS : pack.currentA;
    this.lastConvMs = convMs;
    this.lastChargeAs = pack.chargeAs;
    const faults = pack.sensorFaults;
    const temps = new Array<number>(pack.temperatureSensorCount);
    for (let k = 0; k < temps.length; k++) {
      const t = pack.thermistorDeciC(k);
      temps[k] = faults.thermistorMode[k] !== 0 ? t : s.tempDeciC(k, t);
    }
    return {
      timestampMs: convMs,
      cellVoltagesMv: cells,
      packVoltageMv: s.packMv(sumMv),
      packCurrentMa: s.currentMa(avgA * 1000, faults.currentOffsetA * 1000),
      temperaturesDeciC: temps,
      boardTempDeciC: Math.round(pack.dieTempDeciC()),
      hardwareFaults: this.hw?.faults ?? [],
      fets: pack.fets(),
      balancingCells: this.balancing,
    };
  }

  async setFets(fets: FetState): Promise<void> {
    this.ensureBus("setFets");
    this.pack.advanceTo(this.clock.nowMs());
    this.pack.setFets(fets);
  }

  async setBalancing(cells: readonly number[]): Promise<void> {
    this.ensureBus("setBalancing");
    for (const c of cells)
      if (!Number.isInteger(c) || c < 0 || c >= this.pack.cellCount)
        throw new BmsError("INTERNAL", `no cell ${c} to balance (pack has ${this.pack.cellCount})`);
    this.pack.advanceTo(this.clock.nowMs());
    this.pack.setBleeders(cells);
    this.balancing = this.pack.bleedingCells();
  }

  async clearFaults(codes: readonly FaultCode[]): Promise<void> {
    this.ensureBus("clearFaults");
    this.pack.advanceTo(this.clock.nowMs());
    this.hw?.clear(codes);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
