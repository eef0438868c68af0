/**
 * AfeDriver for a bq76952 over an I2cBus. The chip protects and switches its FETs by itself;
 * the host configures it in CONFIG_UPDATE mode, can only force FETs off (or lift that), and
 * drives balancing through CB_ACTIVE_CELLS.
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
import type { BusStats } from "../bq769x0/interface.js";
import type { I2cBus } from "../i2c.js";
import { Bq769x2Interface } from "./interface.js";
import { type Bq76952Settings, decodeSettings, encodeSettings, settingsNotes } from "./protect.js";
import {
  BATTERY_STATUS_CFGUPDATE,
  CHG_FET_PROTECTIONS_A,
  CMD,
  DA_CONFIG_MA_CV,
  DEVICE_NUMBER_BQ76952,
  DM,
  type DmSetting,
  DSG_FET_PROTECTIONS_A,
  ENABLED_A_MASK,
  FET_OPTIONS_DEFAULT,
  FET_STATUS,
  MFG_STATUS_FET_EN,
  POWER_CONFIG_NO_SLEEP,
  SAFETY_A,
  SAFETY_B,
  SAFETY_C,
  SUBCMD,
  TS_CONFIG_THERMISTOR,
  cellInputs,
  deciKelvinToDeciC,
} from "./registers.js";

export interface Bq76952DriverOptions {
  readonly cellsConnected: number;
  readonly senseResistorMilliOhm: number;
  readonly address?: number;
  readonly crc?: boolean;
  readonly bleedResistorOhm?: number;
  /** Bleeders on at once (written to Cell Balance Max Cells). */
  readonly maxBalancingCells?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxAttempts?: number;
}

/** CC2 in 10 mA and stack voltage in 10 mV (DA Configuration 0x06, as LibreSolar uses). */
const DA_CONFIG = DA_CONFIG_MA_CV + 1;
const CC2_UNIT_MA = 10;
const STACK_UNIT_MV = 10;

const FAULTS: readonly { reg: "A" | "B" | "C"; bit: number; source: string; code: FaultCode }[] = [
  { reg: "A", bit: SAFETY_A.COV, source: "SS_A.COV", code: "cell_ov" },
  { reg: "A", bit: SAFETY_A.CUV, source: "SS_A.CUV", code: "cell_uv" },
  { reg: "A", bit: SAFETY_A.OCC, source: "SS_A.OCC", code: "oc_charge" },
  { reg: "A", bit: SAFETY_A.OCD1, source: "SS_A.OCD1", code: "oc_discharge" },
  { reg: "A", bit: SAFETY_A.OCD2, source: "SS_A.OCD2", code: "oc_discharge" },
  { reg: "A", bit: SAFETY_A.SCD, source: "SS_A.SCD", code: "short_circuit" },
  { reg: "B", bit: SAFETY_B.OTC, source: "SS_B.OTC", code: "ot_charge" },
  { reg: "B", bit: SAFETY_B.OTD, source: "SS_B.OTD", code: "ot_discharge" },
  { reg: "B", bit: SAFETY_B.OTINT, source: "SS_B.OTINT", code: "board_ot" },
  { reg: "B", bit: SAFETY_B.OTF, source: "SS_B.OTF", code: "board_ot" },
  { reg: "B", bit: SAFETY_B.UTC, source: "SS_B.UTC", code: "ut_charge" },
  { reg: "B", bit: SAFETY_B.UTD, source: "SS_B.UTD", code: "ut_discharge" },
  { reg: "C", bit: SAFETY_C.COVL, source: "SS_C.COVL", code: "cell_ov" },
  { reg: "C", bit: SAFETY_C.OCDL, source: "SS_C.OCDL", code: "oc_discharge" },
  { reg: "C", bit: SAFETY_C.OCD3, source: "SS_C.OCD3", code: "oc_discharge" },
  { reg: "C", bit: SAFETY_C.SCDL, source: "SS_C.SCDL", code: "short_circuit" },
  { reg: "C", bit: SAFETY_C.HWDF, source: "SS_C.HWDF", code: "afe_comms" },
];

export class Bq76952Driver implements AfeDriver {
  readonly capabilities: AfeCapabilities;
  private readonly io: Bq769x2Interface;
  private readonly bus: I2cBus;
  private readonly inputs: readonly number[];
  private readonly senseMilliOhm: number;
  private readonly maxBalancing: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private balancing: readonly number[] = [];
  /** Host-off overrides as last sent (null: unknown after a host restart). */
  private hostOff: { chg: boolean; dsg: boolean } | null = null;
  private lastCellsMv: readonly number[];
  private lastTemps: readonly (number | null)[] = [null, null, null];
  private lastPackMv: number | null = null;
  private lastCurrentMa: number | null = null;
  private lastBoardDeciC: number | null = null;

  constructor(bus: I2cBus, options: Bq76952DriverOptions) {
    this.bus = bus;
    this.inputs = cellInputs(options.cellsConnected);
    this.senseMilliOhm = options.senseResistorMilliOhm;
    this.maxBalancing = Math.max(1, Math.min(16, options.maxBalancingCells ?? 4));
    this.clock = options.clock;
    this.log = options.logger;
    this.io = new Bq769x2Interface(bus, {
      address: options.address ?? 0x08,
      crc: options.crc ?? false,
      clock: options.clock,
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
      logger: options.logger,
    });
    const n = options.cellsConnected;
    this.capabilities = {
      model: "bq76952",
      cellCount: n,
      temperatureSensorCount: 3,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: true,
      balancing: {
        // Host balancing: the whole chip is one group and neighbours are refused.
        groupSize: n,
        adjacentAllowed: false,
        maxSimultaneous: this.maxBalancing,
        maxPerGroup: this.maxBalancing,
        measurementPauseMs: 0,
        bleedResistorOhm: options.bleedResistorOhm ?? 100,
      },
      hardwareProtections: ["cell_ov", "cell_uv", "oc_charge", "oc_discharge", "short_circuit"],
      controlsFets: true,
    };
    this.lastCellsMv = Array.from({ length: n }, () => Number.NaN);
  }

  get busStats(): Readonly<BusStats> {
    return this.io.stats;
  }

  /** Identifies the chip and writes the board settings (RAM settings are lost on every reset). */
  async init(): Promise<void> {
    let id: number;
    try {
      const b = await this.io.subcommandRead(SUBCMD.DEVICE_NUMBER);
      id = (b[0] ?? 0) | ((b[1] ?? 0) << 8);
    } catch (err) {
      throw new BmsError(
        "AFE_COMMS",
        `no bq76952 answering as configured (address, CRC on/off, powered?): ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (id !== DEVICE_NUMBER_BQ76952)
      throw new BmsError("AFE_COMMS", `expected a bq76952 (0x7695), the chip says 0x${id.toString(16)}`);
    const mfg = await this.io.subcommandRead(SUBCMD.MFG_STATUS);
    // Leave FET test mode so the chip may drive its FETs; the host-off override keeps them
    // as they are until the loop decides.
    if (!((mfg[0] ?? 0) & MFG_STATUS_FET_EN)) {
      // A fresh part has its FETs off: keep them off until the loop decides.
      await this.io.subcommand(SUBCMD.ALL_FETS_OFF);
      this.hostOff = { chg: true, dsg: true };
      await this.io.subcommand(SUBCMD.FET_ENABLE);
    }
    const vcellMode = this.inputs.reduce((m, i) => m | (1 << i), 0);
    await this.ensureSettings([
      [DM.CC_GAIN, 7.5684 / this.senseMilliOhm],
      [DM.DA_CONFIG, DA_CONFIG],
      [DM.POWER_CONFIG, POWER_CONFIG_NO_SLEEP],
      [DM.FET_OPTIONS, FET_OPTIONS_DEFAULT],
      [DM.VCELL_MODE, vcellMode],
      [DM.CB_MAX_CELLS, this.maxBalancing],
      [DM.TS1_CONFIG, TS_CONFIG_THERMISTOR],
      [DM.TS2_CONFIG, TS_CONFIG_THERMISTOR],
      [DM.TS3_CONFIG, TS_CONFIG_THERMISTOR],
    ]);
    this.log.info(`bq76952: ${this.inputs.length} cells (Vcell Mode 0x${vcellMode.toString(16)})`);
  }

  async configure(limits: HardwareLimits): Promise<AppliedHardwareLimits> {
    const s = encodeSettings(limits, this.senseMilliOhm);
    await this.ensureSettings([
      [DM.COV_THRESHOLD, s.covThreshold],
      [DM.COV_DELAY, s.covDelay],
      [DM.CUV_THRESHOLD, s.cuvThreshold],
      [DM.CUV_DELAY, s.cuvDelay],
      [DM.OCC_THRESHOLD, s.occThreshold],
      [DM.OCC_DELAY, s.occDelay],
      [DM.OCD1_THRESHOLD, s.ocd1Threshold],
      [DM.OCD1_DELAY, s.ocd1Delay],
      [DM.SCD_THRESHOLD, s.scdThreshold],
      [DM.SCD_DELAY, s.scdDelay],
      [DM.ENABLED_PROTECTIONS_A, ENABLED_A_MASK],
      [DM.CHG_FET_PROTECTIONS_A, CHG_FET_PROTECTIONS_A],
      [DM.DSG_FET_PROTECTIONS_A, DSG_FET_PROTECTIONS_A],
    ]);
    const back: Bq76952Settings = {
      covThreshold: await this.io.readSettingInt(DM.COV_THRESHOLD),
      covDelay: await this.io.readSettingInt(DM.COV_DELAY),
      cuvThreshold: await this.io.readSettingInt(DM.CUV_THRESHOLD),
      cuvDelay: await this.io.readSettingInt(DM.CUV_DELAY),
      occThreshold: await this.io.readSettingInt(DM.OCC_THRESHOLD),
      occDelay: await this.io.readSettingInt(DM.OCC_DELAY),
      ocd1Threshold: await this.io.readSettingInt(DM.OCD1_THRESHOLD),
      ocd1Delay: await this.io.readSettingInt(DM.OCD1_DELAY),
      scdThreshold: await this.io.readSettingInt(DM.SCD_THRESHOLD),
      scdDelay: await this.io.readSettingInt(DM.SCD_DELAY),
    };
    const applied = decodeSettings(back, this.senseMilliOhm);
    const notes = settingsNotes(limits, applied);
    notes.push("bq76952 recovers from COV/CUV/OCC/OCD/SCD by itself after its recovery time");
    return { applied, notes };
  }

  async read(flags: ReadFlags = READ_ALL): Promise<Sample> {
    const timestampMs = this.clock.nowMs();
    const safety = await this.io.directRead(CMD.SAFETY_ALERT_A, 6);
    if (flags.cells ?? true) {
      const raw = await this.io.directRead(CMD.CELL1_VOLTAGE, 32);
      this.lastCellsMv = this.inputs.map((i) => i16((raw[2 * i] ?? 0) | ((raw[2 * i + 1] ?? 0) << 8)));
    }
    if ((flags.current ?? true) || (flags.cells ?? true)) {
      const raw = await this.io.directRead(CMD.STACK_VOLTAGE, 8);
      const word = (i: number): number => i16((raw[i] ?? 0) | ((raw[i + 1] ?? 0) << 8));
      this.lastPackMv = word(0) * STACK_UNIT_MV;
      this.lastCurrentMa = word(6) * CC2_UNIT_MA;
    }
    if (flags.temperatures ?? true) {
      const ts = await this.io.directRead(CMD.TS1_TEMPERATURE, 6);
      this.lastTemps = [0, 1, 2].map((i) => {
        const raw = (ts[2 * i] ?? 0) | ((ts[2 * i + 1] ?? 0) << 8);
        return raw === 0 ? null : deciKelvinToDeciC(raw);
      });
      this.lastBoardDeciC = deciKelvinToDeciC(await this.io.readU16(CMD.INT_TEMPERATURE));
    }
    const fet = (await this.io.directRead(CMD.FET_STATUS, 1))[0] ?? 0;
    const status = { A: safety[1] ?? 0, B: safety[3] ?? 0, C: safety[5] ?? 0 };
    const hardwareFaults: HardwareFault[] = FAULTS.filter((f) => status[f.reg] & f.bit).map((f) => ({
      code: f.code,
      source: f.source,
    }));
    return {
      timestampMs,
      cellVoltagesMv: this.lastCellsMv,
      packVoltageMv: this.lastPackMv,
      packCurrentMa: this.lastCurrentMa,
      temperaturesDeciC: this.lastTemps,
      boardTempDeciC: this.lastBoardDeciC,
      hardwareFaults,
      fets: { chg: (fet & FET_STATUS.CHG_FET) !== 0, dsg: (fet & FET_STATUS.DSG_FET) !== 0 },
      balancingCells: this.balancing,
    };
  }

  /**
   * The host can only force FETs off (per path) or lift every override at once (ALL_FETS_ON).
   * Only real changes are sent, so re-asserting a state the chip's own protection overrides
   * never pulses the other path.
   */
  async setFets(fets: FetState): Promise<void> {
    const off = this.hostOff;
    const release = (fets.chg && off?.chg !== false) || (fets.dsg && off?.dsg !== false);
    if (release) {
      await this.io.subcommand(SUBCMD.ALL_FETS_ON);
      this.hostOff = { chg: false, dsg: false };
    }
    const now = this.hostOff;
    if (!fets.chg && !fets.dsg && !(now?.chg && now?.dsg)) {
      await this.io.subcommand(SUBCMD.ALL_FETS_OFF);
      this.hostOff = { chg: true, dsg: true };
      return;
    }
    if (!fets.chg && !now?.chg) {
      await this.io.subcommand(SUBCMD.CHG_PCHG_OFF);
      this.hostOff = { chg: true, dsg: this.hostOff?.dsg ?? false };
    }
    if (!fets.dsg && !now?.dsg) {
      await this.io.subcommand(SUBCMD.DSG_PDSG_OFF);
      this.hostOff = { chg: this.hostOff?.chg ?? false, dsg: true };
    }
  }

  async setBalancing(cells: readonly number[]): Promise<void> {
    const n = this.inputs.length;
    const on = [...new Set(cells)].sort((a, b) => a - b);
    for (const c of on)
      if (!Number.isInteger(c) || c < 0 || c >= n)
        throw new BmsError("INTERNAL", `bq76952: no cell ${c} to balance (0..${n - 1})`);
    for (let i = 1; i < on.length; i++)
      if ((on[i] ?? 0) - (on[i - 1] ?? 0) === 1)
        throw new BmsError("INTERNAL", `bq76952: cells ${on[i - 1]} and ${on[i]} are adjacent`);
    if (on.length > this.maxBalancing)
      throw new BmsError("INTERNAL", `bq76952: ${on.length} bleeders asked, at most ${this.maxBalancing}`);
    const mask = on.reduce((m, c) => m | (1 << (this.inputs[c] ?? 0)), 0);
    await this.io.subcommandWrite(SUBCMD.CB_ACTIVE_CELLS, [mask & 0xff, mask >> 8]);
    this.balancing = on;
  }

  /**
   * Safety Status clears by itself once the condition is gone; only the latched over-current
   * variants need a host command. Alarm Status is acknowledged by writing ones.
   */
  async clearFaults(codes: readonly FaultCode[]): Promise<void> {
    if (codes.includes("oc_discharge")) await this.io.subcommand(SUBCMD.OCDL_RECOVER);
    if (codes.includes("short_circuit")) await this.io.subcommand(SUBCMD.SCDL_RECOVER);
    if (codes.length > 0) await this.io.directWrite(CMD.ALARM_STATUS, [0xff, 0xff]);
  }

  async close(): Promise<void> {
    await this.bus.close();
  }

  /**
   * Writes only the settings that differ from what the chip holds, in one CONFIG_UPDATE
   * session, and verifies them. A restarted host finds them in place and never enters
   * CONFIG_UPDATE, which would open the FETs under a running UPS load.
   */
  private async ensureSettings(wanted: readonly (readonly [DmSetting, number])[]): Promise<void> {
    const differs: (readonly [DmSetting, number])[] = [];
    for (const w of wanted)
      if (!this.sameSetting(w[0], await this.io.readSetting(w[0]), w[1])) differs.push(w);
    if (differs.length === 0) return;
    await this.inConfigUpdate(async () => {
      for (const [setting, value] of differs)
        if (setting === DM.CC_GAIN) await this.io.writeSettingFloat(setting, value);
        else await this.io.writeSetting(setting, value);
    });
    for (const [setting, value] of differs) {
      const back = await this.io.readSetting(setting);
      if (!this.sameSetting(setting, back, value))
        throw new BmsError(
          "AFE_COMMS",
          `bq76952: setting 0x${setting.addr.toString(16)} did not take ${value} (read back ${[...back].join(",")})`,
        );
    }
  }

  private sameSetting(setting: DmSetting, bytes: Uint8Array, value: number): boolean {
    if (setting === DM.CC_GAIN) {
      const got = Buffer.from(bytes).readFloatLE(0);
      return Math.abs(got - value) <= Math.abs(value) * 1e-6;
    }
    let v = 0;
    for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + (bytes[i] ?? 0);
    return v === value;
  }

  /** CONFIG_UPDATE stops protection and opens the FETs: keep it short, and always leave it. */
  private async inConfigUpdate(body: () => Promise<void>): Promise<void> {
    await this.io.subcommand(SUBCMD.SET_CFGUPDATE);
    await this.waitCfgUpdate(true);
    try {
      await body();
    } finally {
      await this.io.subcommand(SUBCMD.EXIT_CFGUPDATE);
      await this.waitCfgUpdate(false);
    }
  }

  private async waitCfgUpdate(want: boolean): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const st = await this.io.readU16(CMD.BATTERY_STATUS);
      if (((st & BATTERY_STATUS_CFGUPDATE) !== 0) === want) return;
      await this.clock.sleepUntil(this.clock.nowMs() + 1);
    }
    throw new BmsError("AFE_COMMS", `bq76952 did not ${want ? "enter" : "leave"} CONFIG_UPDATE`);
  }
}

const i16 = (w: number): number => (w & 0x8000 ? w - 0x10000 : w);

export async function createBq76952Driver(
  bus: I2cBus,
  options: Bq76952DriverOptions,
): Promise<Bq76952Driver> {
  const driver = new Bq76952Driver(bus, options);
  await driver.init();
  return driver;
}
