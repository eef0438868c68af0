/**
 * AfeDriver for one bq76920/30/40 over an I2cBus. Start-up follows the datasheet sequence
 * (CC_CFG, ADC and CC on, factory trim read back) but keeps the FET bits the chip already has:
 * a restarted host must not drop a UPS load.
 */
import { BmsError } from "../../core/errors.js";
import type { FaultCode, HardwareFault } from "../../core/faults.js";
import type { FetState } from "../../core/fets.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type {
  AfeCapabilities,
  AfeDriver,
  AppliedHardwareLimits,
  HardwareLimits,
  ReadFlags,
  Sample,
} from "../afe.js";
import { READ_ALL } from "../afe.js";
import type { I2cBus } from "../i2c.js";
import { Bq769x0Interface, type BusStats } from "./interface.js";
import { type AdcTrim, decodeProtection, encodeProtection, quantisationNotes } from "./protect.js";
import {
  type Bq769x0Variant,
  CC_CFG_VALUE,
  CTRL1,
  CTRL2,
  REG,
  STAT,
  VARIANTS,
  adcGainUv,
  adcOffsetMv,
  ccToMa,
  cellCodeToMv,
  cellsPerGroup,
  tsCodeToDeciC,
  vcInputs,
} from "./registers.js";

export interface Bq769x0DriverOptions {
  readonly variant: Bq769x0Variant;
  readonly cellsConnected: number;
  readonly address?: number;
  readonly crc?: boolean;
  readonly senseResistorMilliOhm: number;
  readonly thermistorBeta?: number;
  readonly bleedResistorOhm?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Attempts per bus operation, first try included (CRC errors and NACKs are retried). */
  readonly maxAttempts?: number;
  /** Wait for the chip's first full scan after start-up (skip only when it is known to be running). */
  readonly waitForFirstScan?: boolean;
}

/** SYS_STAT fault bits and the fault code each one raises. */
const FAULT_BITS: readonly { bit: number; source: string; code: FaultCode }[] = [
  { bit: STAT.OV, source: "OV", code: "cell_ov" },
  { bit: STAT.UV, source: "UV", code: "cell_uv" },
  { bit: STAT.OCD, source: "OCD", code: "oc_discharge" },
  { bit: STAT.SCD, source: "SCD", code: "short_circuit" },
  // Internal chip fault and an external override of ALERT: the readings or the chip's state
  // cannot be trusted, and the chip has opened both FETs.
  { bit: STAT.DEVICE_XREADY, source: "DEVICE_XREADY", code: "sensor_fault" },
  { bit: STAT.OVRD_ALERT, source: "OVRD_ALERT", code: "sensor_fault" },
];

const HARDWARE_PROTECTIONS: readonly FaultCode[] = ["cell_ov", "cell_uv", "oc_discharge", "short_circuit"];

export class Bq769x0Driver implements AfeDriver {
  readonly capabilities: AfeCapabilities;
  private readonly io: Bq769x0Interface;
  private readonly bus: I2cBus;
  private readonly variant: Bq769x0Variant;
  private readonly inputs: readonly number[];
  private readonly senseMilliOhm: number;
  private readonly beta: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly groups: readonly (readonly number[])[];
  private trim: AdcTrim = { gainUv: 380, offsetMv: 0 };
  private ctrl2: number = CTRL2.CC_EN;
  private lastCellsMv: readonly number[];
  private lastTemps: readonly (number | null)[];
  private lastPackMv: number | null = null;
  private lastCurrentMa: number | null = null;

  constructor(bus: I2cBus, options: Bq769x0DriverOptions) {
    this.bus = bus;
    this.variant = options.variant;
    this.inputs = vcInputs(options.variant, options.cellsConnected);
    this.senseMilliOhm = options.senseResistorMilliOhm;
    this.beta = options.thermistorBeta ?? 3435;
    this.clock = options.clock;
    this.log = options.logger;
    this.io = new Bq769x0Interface(bus, {
      address: options.address ?? 0x08,
      crc: options.crc ?? true,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      logger: options.logger,
    });
    const perGroup = cellsPerGroup(options.variant, options.cellsConnected);
    let first = 0;
    this.groups = perGroup.map((n) => {
      const g = Array.from({ length: n }, (_, i) => first + i);
      first += n;
      return g;
    });
    const n = options.cellsConnected;
    const uniform = perGroup.every((g) => g === perGroup[0]);
    // Uneven partial groups cannot be described by one group size: declare the whole chip one
    // group, which is stricter than the chip needs but never looser.
    const groupSize = uniform ? (perGroup[0] ?? n) : n;
    const maxPerGroup = Math.ceil(groupSize / 2);
    this.capabilities = {
      model: options.variant,
      cellCount: n,
      temperatureSensorCount: VARIANTS[options.variant].thermistors,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: false,
      balancing: {
        groupSize,
        adjacentAllowed: false,
        maxSimultaneous: maxPerGroup * Math.ceil(n / groupSize),
        maxPerGroup,
        // The chip pauses its bleeders for every measurement slice itself.
        measurementPauseMs: 0,
        bleedResistorOhm: options.bleedResistorOhm ?? 33,
      },
      hardwareProtections: HARDWARE_PROTECTIONS,
      controlsFets: true,
    };
    this.lastCellsMv = Array.from({ length: n }, () => Number.NaN);
    this.lastTemps = Array.from({ length: VARIANTS[options.variant].thermistors }, () => null);
  }

  /** Bus counters (retries, CRC errors, NACKs, timeouts) since start. */
  get busStats(): Readonly<BusStats> {
    return this.io.stats;
  }

  get adcTrim(): AdcTrim {
    return this.trim;
  }

  /** Checks the chip answers with the configured framing, then enables ADC and coulomb counter. */
  async init(waitForFirstScan = true): Promise<void> {
    try {
      await this.io.writeRegister(REG.CC_CFG, CC_CFG_VALUE);
      const back = await this.io.readRegister(REG.CC_CFG);
      if (back !== CC_CFG_VALUE) throw new BmsError("AFE_COMMS", `CC_CFG read back 0x${back.toString(16)}`);
    } catch (err) {
      throw new BmsError(
        "AFE_COMMS",
        `no ${this.variant} answering as configured (address, CRC on/off, chip booted?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    const [gain1 = 0, offset = 0] = await this.io.readRegisters(REG.ADCGAIN1, 2);
    const gain2 = await this.io.readRegister(REG.ADCGAIN2);
    this.trim = { gainUv: adcGainUv(gain1, gain2), offsetMv: adcOffsetMv(offset) };
    await this.io.writeRegister(REG.SYS_CTRL1, CTRL1.ADC_EN | CTRL1.TEMP_SEL);
    const ctrl2 = await this.io.readRegister(REG.SYS_CTRL2);
    this.ctrl2 = CTRL2.CC_EN | (ctrl2 & (CTRL2.CHG_ON | CTRL2.DSG_ON));
    await this.io.writeRegister(REG.SYS_CTRL2, this.ctrl2);
    this.log.info(
      `${this.variant}: gain ${this.trim.gainUv} µV/LSB, offset ${this.trim.offsetMv} mV, ${this.inputs.length} cells on VC${this.inputs.map((i) => i + 1).join(",")}`,
    );
    // Cell registers are not valid until the first full scan (up to 800 ms on a bq76940).
    if (waitForFirstScan)
      await this.clock.sleepUntil(this.clock.nowMs() + VARIANTS[this.variant].firstDataMs);
  }

  async configure(limits: HardwareLimits): Promise<AppliedHardwareLimits> {
    const regs = encodeProtection(limits, this.trim, this.senseMilliOhm);
    const written = [regs.protect1, regs.protect2, regs.protect3, regs.ovTrip, regs.uvTrip];
    await this.io.writeRegisters(REG.PROTECT1, written);
    const back = await this.io.readRegisters(REG.PROTECT1, 5);
    const mismatch = written.findIndex((v, i) => v !== back[i]);
    if (mismatch >= 0)
      throw new BmsError(
        "AFE_COMMS",
        `${this.variant}: protection register 0x${(REG.PROTECT1 + mismatch).toString(16)} read back 0x${(back[mismatch] ?? 0).toString(16)}, wrote 0x${(written[mismatch] ?? 0).toString(16)}`,
      );
    const [p1 = 0, p2 = 0, p3 = 0, ov = 0, uv = 0] = back;
    const applied = decodeProtection(
      { protect1: p1, protect2: p2, protect3: p3, ovTrip: ov, uvTrip: uv },
      this.trim,
      this.senseMilliOhm,
    );
    const notes = quantisationNotes(limits, applied);
    notes.push(`over-current in charge is not a ${this.variant} hardware protection: software only`);
    return { applied, notes };
  }

  async read(flags: ReadFlags = READ_ALL): Promise<Sample> {
    const timestampMs = this.clock.nowMs();
    const head = await this.io.readRegisters(REG.SYS_STAT, 6);
    const stat = head[0] ?? 0;
    const ctrl2 = head[5] ?? 0;
    if (flags.cells ?? true) {
      const raw = await this.io.readRegisters(REG.VC1_HI, VARIANTS[this.variant].groups * 10);
      this.lastCellsMv = this.inputs.map((input) => {
        const code = (((raw[2 * input] ?? 0) & 0x3f) << 8) | (raw[2 * input + 1] ?? 0);
        return Math.round(cellCodeToMv(code, this.trim.gainUv, this.trim.offsetMv));
      });
    }
    const wantCurrent = flags.current ?? true;
    const wantTemps = flags.temperatures ?? true;
    if (wantCurrent || wantTemps || (flags.cells ?? true)) {
      const raw = await this.io.readRegisters(REG.BAT_HI, 10);
      const u16 = (i: number): number => ((raw[i] ?? 0) << 8) | (raw[i + 1] ?? 0);
      const bat = u16(0);
      this.lastPackMv = Math.round(
        (4 * this.trim.gainUv * bat) / 1000 + this.inputs.length * this.trim.offsetMv,
      );
      if (wantTemps) this.lastTemps = this.lastTemps.map((_, i) => tsCodeToDeciC(u16(2 + 2 * i), this.beta));
      if (wantCurrent) {
        const cc = u16(8);
        this.lastCurrentMa = Math.round(ccToMa(cc >= 0x8000 ? cc - 0x10000 : cc, this.senseMilliOhm));
      }
    }
    // CC_READY keeps ALERT high until acknowledged.
    if (stat & STAT.CC_READY) await this.io.writeRegister(REG.SYS_STAT, STAT.CC_READY);
    const hardwareFaults: HardwareFault[] = FAULT_BITS.filter((f) => stat & f.bit).map((f) => ({
      code: f.code,
      source: f.source,
    }));
    const balancingCells: number[] = [];
    this.inputs.forEach((input, cell) => {
      if (((head[1 + Math.floor(input / 5)] ?? 0) >> (input % 5)) & 1) balancingCells.push(cell);
    });
    return {
      timestampMs,
      cellVoltagesMv: this.lastCellsMv,
      packVoltageMv: this.lastPackMv,
      packCurrentMa: this.lastCurrentMa,
      temperaturesDeciC: this.lastTemps,
      boardTempDeciC: null,
      hardwareFaults,
      fets: { chg: (ctrl2 & CTRL2.CHG_ON) !== 0, dsg: (ctrl2 & CTRL2.DSG_ON) !== 0 },
      balancingCells,
    };
  }

  async setFets(fets: FetState): Promise<void> {
    this.ctrl2 = CTRL2.CC_EN | (fets.chg ? CTRL2.CHG_ON : 0) | (fets.dsg ? CTRL2.DSG_ON : 0);
    await this.io.writeRegister(REG.SYS_CTRL2, this.ctrl2);
  }

  async setBalancing(cells: readonly number[]): Promise<void> {
    const n = this.inputs.length;
    const on = new Set(cells);
    for (const c of on)
      if (!Number.isInteger(c) || c < 0 || c >= n)
        throw new BmsError("INTERNAL", `${this.variant}: no cell ${c} to balance (0..${n - 1})`);
    const size = this.capabilities.balancing?.groupSize ?? n;
    for (const c of on)
      if (on.has(c + 1) && Math.floor(c / size) === Math.floor((c + 1) / size))
        throw new BmsError("INTERNAL", `${this.variant}: cells ${c} and ${c + 1} are adjacent in one group`);
    const masks = [0, 0, 0];
    for (const c of on) {
      const input = this.inputs[c] ?? 0;
      const g = Math.floor(input / 5);
      masks[g] = (masks[g] ?? 0) | (1 << (input % 5));
    }
    await this.io.writeRegisters(REG.CELLBAL1, masks.slice(0, VARIANTS[this.variant].groups));
  }

  async clearFaults(codes: readonly FaultCode[]): Promise<void> {
    const mask = FAULT_BITS.filter((f) => codes.includes(f.code)).reduce((m, f) => m | f.bit, 0);
    if (mask !== 0) await this.io.writeRegister(REG.SYS_STAT, mask);
  }

  async close(): Promise<void> {
    await this.bus.close();
  }

  /** Cells of each 5-input group, as 0-based cell indices. */
  get cellGroups(): readonly (readonly number[])[] {
    return this.groups;
  }
}

/** Opens a driver on a bus: checks the chip, reads its trim and waits for its first scan. */
export async function createBq769x0Driver(
  bus: I2cBus,
  options: Bq769x0DriverOptions,
): Promise<Bq769x0Driver> {
  const driver = new Bq769x0Driver(bus, options);
  await driver.init(options.waitForFirstScan ?? true);
  return driver;
}
