/**
 * A register-level bq76952 behind the I2cBus port, driven by a PackPort: direct commands
 * computed at read time from the pack truth, the 0x3E/0x3F subcommand engine with busy time,
 * checksum/length-committed buffer writes, data memory that only accepts writes in
 * CONFIG_UPDATE, alert → fault → autonomous recovery protections, FET control by the chip
 * with host-off overrides, and host balancing. Details the TRM leaves open are marked.
 */
import type { Clock } from "../../time/clock.js";
import { BusFaults, type InjectedCounts, nackError } from "../bq769x0/bus-faults.js";
import { crc8 } from "../bq769x0/crc.js";
import type { I2cBus } from "../i2c.js";
import type { PackPort } from "../pack.js";
import {
  ALARM,
  BATTERY_STATUS_CFGUPDATE,
  CELL_STEP_MV,
  CHG_FET_PROTECTIONS_A,
  CMD,
  CURRENT_STEP_MV,
  DELAY_UNIT_MS,
  DM,
  DSG_FET_PROTECTIONS_A,
  FET_STATUS,
  MFG_STATUS_FET_EN,
  SAFETY_A,
  SCD_DELAY_UNIT_US,
  SCD_THRESH_MV,
  SUBCMD,
  TS_CONFIG_THERMISTOR,
  cellInputs,
  deciCToDeciKelvin,
  transferChecksum,
} from "./registers.js";

export interface Bq76952EmulatorOptions {
  readonly pack: PackPort;
  readonly clock: Clock;
  readonly cellsConnected: number;
  readonly senseResistorMilliOhm: number;
  readonly address?: number;
  readonly crc?: boolean;
  /** FET_EN in Mfg Status at power-up (an unprogrammed part starts in FET test mode: false). */
  readonly fetEnabledAtPowerUp?: boolean;
  readonly seed?: number;
  /** Pack advance step while catching up with the clock, ms (protection time resolution). */
  readonly stepMs?: number;
}

/** CC Gain that makes CC2 read true for a given shunt (TRM: 7.5684 / R[mΩ]). */
const ccGainFor = (senseMilliOhm: number): number => 7.5684 / senseMilliOhm;

const DM_DEFAULTS: readonly [number, number, number][] = [
  // [address, size, value]
  [DM.POWER_CONFIG.addr, 2, 0x2982],
  [DM.TS1_CONFIG.addr, 1, 0x07],
  [DM.TS2_CONFIG.addr, 1, 0x00],
  [DM.TS3_CONFIG.addr, 1, 0x07],
  [DM.DA_CONFIG.addr, 1, 0x05],
  [DM.VCELL_MODE.addr, 2, 0x0000],
  [DM.FET_OPTIONS.addr, 1, 0x0d],
  [DM.ENABLED_PROTECTIONS_A.addr, 1, SAFETY_A.COV | SAFETY_A.SCD],
  [DM.CHG_FET_PROTECTIONS_A.addr, 1, CHG_FET_PROTECTIONS_A],
  [DM.DSG_FET_PROTECTIONS_A.addr, 1, DSG_FET_PROTECTIONS_A],
  [DM.CB_MAX_CELLS.addr, 1, 1],
  [DM.CUV_THRESHOLD.addr, 1, 50],
  [DM.CUV_DELAY.addr, 2, 74],
  [DM.COV_THRESHOLD.addr, 1, 86],
  [DM.COV_DELAY.addr, 2, 74],
  [DM.CUV_HYSTERESIS.addr, 1, 2],
  [DM.COV_HYSTERESIS.addr, 1, 2],
  [DM.OCC_THRESHOLD.addr, 1, 2],
  [DM.OCC_DELAY.addr, 1, 4],
  [DM.OCD1_THRESHOLD.addr, 1, 4],
  [DM.OCD1_DELAY.addr, 1, 1],
  [DM.SCD_THRESHOLD.addr, 1, 0],
  [DM.SCD_DELAY.addr, 1, 2],
  [DM.RECOVERY_TIME.addr, 1, 3],
];
const DM_CC_GAIN_DEFAULT = 7.4768;
const DM_FIRST = 0x9180;
const DM_LAST = 0x93ff;

type Timed = "cov" | "cuv" | "occ" | "ocd1" | "scd";
const BITS: Readonly<Record<Timed, number>> = {
  cov: SAFETY_A.COV,
  cuv: SAFETY_A.CUV,
  occ: SAFETY_A.OCC,
  ocd1: SAFETY_A.OCD1,
  scd: SAFETY_A.SCD,
};

export class Bq76952Emulator implements I2cBus {
  readonly address: number;
  readonly crc: boolean;
  readonly faults: BusFaults;
  /** Data-memory writes ignored because the chip was not in CONFIG_UPDATE, or bad checksum/length. */
  readonly rejectedWrites = { outsideConfigUpdate: 0, badChecksum: 0 };

  private readonly pack: PackPort;
  private readonly clock: Clock;
  private readonly inputs: readonly number[];
  private readonly senseMilliOhm: number;
  private readonly fetEnAtPowerUp: boolean;
  private readonly stepMs: number;

  private dm = new Map<number, number>();
  private cfgUpdate = false;
  private fetEn: boolean;
  private hostChgOff = false;
  private hostDsgOff = false;
  private cbMask = 0;
  private subcmd = 0;
  private subLo = 0;
  private busyUntilMs = Number.NEGATIVE_INFINITY;
  private pendingAction: (() => void) | null = null;
  private buffer = new Uint8Array(32);
  private bufferLen = 0;
  private checksumIn = 0;
  private alertA = 0;
  private statusA = 0;
  private alarmStatus = 0;
  private alarmEnable = 0xf800;
  private timers: Record<Timed, number> = { cov: 0, cuv: 0, occ: 0, ocd1: 0, scd: 0 };
  private recovery: Record<Timed, number> = { cov: 0, cuv: 0, occ: 0, ocd1: 0, scd: 0 };
  private lastSyncMs: number;
  private chg = false;
  private dsg = false;
  private lastBleed = "";

  constructor(options: Bq76952EmulatorOptions) {
    this.pack = options.pack;
    this.clock = options.clock;
    this.inputs = cellInputs(options.cellsConnected);
    this.senseMilliOhm = options.senseResistorMilliOhm;
    this.address = options.address ?? 0x08;
    this.crc = options.crc ?? false;
    this.fetEnAtPowerUp = options.fetEnabledAtPowerUp ?? false;
    this.stepMs = Math.max(1, options.stepMs ?? 10);
    this.fetEn = this.fetEnAtPowerUp;
    this.faults = new BusFaults(options.seed ?? 1);
    this.lastSyncMs = this.clock.nowMs();
    this.loadDefaults();
    this.applyOutputs();
  }

  get injected(): InjectedCounts {
    return this.faults.injected;
  }

  get inConfigUpdate(): boolean {
    return this.cfgUpdate;
  }

  /** A data-memory value as the chip holds it (white-box tests). */
  setting(addr: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.dm.get(addr + i) ?? 0);
    return v;
  }

  // ---- I2cBus --------------------------------------------------------------------------

  async readI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    this.begin(address, length);
    const cmd = command & 0x7f;
    const space = this.directSpace();
    const at = (r: number): number => space[r] ?? 0;
    if (!this.crc) {
      for (let i = 0; i < length; i++) buffer[i] = at(cmd + i);
      return { bytesRead: length, buffer };
    }
    const a = this.address << 1;
    const corruptAt = this.faults.rollCorruption()
      ? Math.floor(this.faults.random() * Math.floor(length / 2))
      : -1;
    for (let i = 0; 2 * i < length; i++) {
      const d = at(cmd + i);
      buffer[2 * i] = d;
      if (2 * i + 1 < length) {
        const c = i === 0 ? crc8([a, cmd, a | 1, d]) : crc8([d]);
        buffer[2 * i + 1] = i === corruptAt ? c ^ 0x5a : c;
      }
    }
    return { bytesRead: length, buffer };
  }

  async writeI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    this.begin(address, length);
    this.write(command & 0x7f, buffer.subarray(0, length));
    return { bytesWritten: length, buffer };
  }

  async i2cWrite(address: number, length: number, buffer: Buffer) {
    this.begin(address, length);
    if (length > 1) this.write((buffer[0] ?? 0) & 0x7f, buffer.subarray(1, length));
    return { bytesWritten: length, buffer };
  }

  /** Reads without a register pointer are not used with this chip (CRC coverage undocumented). */
  async i2cRead(address: number, length: number, buffer: Buffer) {
    this.begin(address, length);
    buffer.fill(0xff, 0, length);
    return { bytesRead: length, buffer };
  }

  async close(): Promise<void> {}

  setNackBurst(count: number): void {
    this.faults.setNackBurst(count);
  }
  setCrcErrorRate(rate: number): void {
    this.faults.setCrcErrorRate(rate);
  }
  setStuck(stuck: boolean): void {
    this.faults.setStuck(stuck);
  }

  // ---- plumbing --------------------------------------------------------------------------

  private begin(address: number, length: number): void {
    this.faults.checkBus(address, length);
    this.sync();
    if (address !== this.address) throw nackError(address, "no device at this address");
    if (!this.pack.commsAvailable()) throw nackError(address, "device not responding");
    this.faults.checkNack(address);
  }

  private write(cmd: number, payload: Uint8Array): void {
    const data: number[] = [];
    if (this.crc) {
      if (payload.length < 2) return;
      const corrupt = this.faults.rollCorruption();
      for (let i = 0; 2 * i + 1 < payload.length; i++) {
        const d = payload[2 * i] ?? 0;
        const want = i === 0 ? crc8([this.address << 1, cmd, d]) : crc8([d]);
        if (corrupt || want !== payload[2 * i + 1]) {
          this.faults.injected.droppedWrites++;
          throw nackError(this.address, `bad CRC on write to 0x${cmd.toString(16)}`);
        }
        data.push(d);
      }
    } else data.push(...payload);
    data.forEach((d, i) => {
      this.writeByte(cmd + i, d);
    });
  }

  private writeByte(reg: number, d: number): void {
    if (reg === CMD.SUBCMD_LO) this.subLo = d;
    else if (reg === CMD.SUBCMD_HI) this.startSubcommand(this.subLo | (d << 8));
    else if (reg >= CMD.TRANSFER_BUFFER && reg < CMD.BUFFER_CHECKSUM)
      this.buffer[reg - CMD.TRANSFER_BUFFER] = d;
    else if (reg === CMD.BUFFER_CHECKSUM) this.checksumIn = d;
    else if (reg === CMD.BUFFER_LENGTH) this.commit(d);
    else if (reg === CMD.ALARM_STATUS) this.alarmStatus &= ~d;
    else if (reg === CMD.ALARM_STATUS + 1) this.alarmStatus &= ~(d << 8);
    else if (reg === CMD.ALARM_ENABLE) this.alarmEnable = (this.alarmEnable & 0xff00) | d;
    else if (reg === CMD.ALARM_ENABLE + 1) this.alarmEnable = (this.alarmEnable & 0x00ff) | (d << 8);
  }

  // ---- subcommands ------------------------------------------------------------------------

  private startSubcommand(sub: number): void {
    const now = this.clock.nowMs();
    this.subcmd = sub;
    this.busyUntilMs = now + 1; // TRM: ~50 µs–2 ms; [UNVERIFIED] per-command values
    this.pendingAction = null;
    const reply = (bytes: readonly number[]): void => {
      this.buffer = new Uint8Array(32);
      this.buffer.set(bytes.slice(0, 32));
      this.bufferLen = Math.min(32, bytes.length);
    };
    switch (sub) {
      case SUBCMD.DEVICE_NUMBER:
        reply([0x95, 0x76]);
        return;
      case SUBCMD.FW_VERSION:
        reply([0x76, 0x95, 0x01, 0x00, 0x00, 0x00]);
        return;
      case SUBCMD.MFG_STATUS:
        reply([this.fetEn ? MFG_STATUS_FET_EN : 0, 0]);
        return;
      case SUBCMD.CB_ACTIVE_CELLS:
        reply([this.cbMask & 0xff, this.cbMask >> 8]);
        return;
      case SUBCMD.FET_ENABLE:
        this.fetEn = !this.fetEn;
        break;
      case SUBCMD.SET_CFGUPDATE:
        this.busyUntilMs = now + 2;
        this.pendingAction = () => {
          this.cfgUpdate = true;
          this.cbMask = 0;
        };
        break;
      case SUBCMD.EXIT_CFGUPDATE:
        this.pendingAction = () => {
          this.cfgUpdate = false;
        };
        break;
      case SUBCMD.ALL_FETS_OFF:
        this.hostChgOff = true;
        this.hostDsgOff = true;
        break;
      case SUBCMD.ALL_FETS_ON:
        this.hostChgOff = false;
        this.hostDsgOff = false;
        break;
      case SUBCMD.CHG_PCHG_OFF:
        this.hostChgOff = true;
        break;
      case SUBCMD.DSG_PDSG_OFF:
        this.hostDsgOff = true;
        break;
      case SUBCMD.RESET:
        this.busyUntilMs = now + 5;
        this.pendingAction = () => {
          // RAM settings are lost on reset unless programmed to OTP.
          this.loadDefaults();
          this.cfgUpdate = false;
          this.fetEn = this.fetEnAtPowerUp;
          this.hostChgOff = false;
          this.hostDsgOff = false;
          this.cbMask = 0;
        };
        break;
      default:
        if (sub >= DM_FIRST && sub <= DM_LAST) {
          const bytes: number[] = [];
          for (let i = 0; i < 32; i++) bytes.push(this.dm.get(sub + i) ?? 0);
          reply(bytes);
          return;
        }
    }
    this.applyOutputs();
  }

  /** 0x61 written: check length and checksum, then apply the buffer to the latched address. */
  private commit(length: number): void {
    const n = length - 4;
    const data = this.buffer.slice(0, Math.max(0, n));
    if (n < 0 || n > 32 || transferChecksum(this.subcmd, data) !== this.checksumIn) {
      this.rejectedWrites.badChecksum++;
      return;
    }
    const sub = this.subcmd;
    if (sub === SUBCMD.CB_ACTIVE_CELLS) {
      if (this.cfgUpdate) return;
      const maxCells = this.dm.get(DM.CB_MAX_CELLS.addr) ?? 1;
      let mask = (data[0] ?? 0) | ((data[1] ?? 0) << 8);
      // More bleeders than Cell Balance Max Cells: keep the lowest ones.
      let kept = 0;
      for (let b = 0; b < 16; b++)
        if ((mask >> b) & 1) {
          if (kept >= maxCells) mask &= ~(1 << b);
          else kept++;
        }
      this.cbMask = mask;
      this.applyOutputs();
      return;
    }
    if (sub >= DM_FIRST && sub <= DM_LAST) {
      // [UNVERIFIED strictness] settings outside CONFIG_UPDATE are ignored.
      if (!this.cfgUpdate) {
        this.rejectedWrites.outsideConfigUpdate++;
        return;
      }
      data.forEach((d, i) => {
        this.dm.set(sub + i, d);
      });
    }
  }

  private loadDefaults(): void {
    this.dm = new Map();
    for (const [addr, size, value] of DM_DEFAULTS)
      for (let i = 0; i < size; i++) this.dm.set(addr + i, (value >> (8 * i)) & 0xff);
    const g = Buffer.alloc(4);
    g.writeFloatLE(DM_CC_GAIN_DEFAULT);
    g.forEach((b, i) => {
      this.dm.set(DM.CC_GAIN.addr + i, b);
    });
  }

  private u(addr: number, size = 1): number {
    return this.setting(addr, size);
  }

  private ccGain(): number {
    const b = Buffer.alloc(4);
    for (let i = 0; i < 4; i++) b[i] = this.dm.get(DM.CC_GAIN.addr + i) ?? 0;
    return b.readFloatLE(0);
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Advances the pack in short steps so protections act within a step of a condition's start. */
  private sync(): void {
    const now = this.clock.nowMs();
    let t = this.lastSyncMs;
    const stepMs = Math.max(this.stepMs, (now - t) / 2000);
    do {
      const next = Math.min(now, t + stepMs);
      this.pack.advanceTo(next);
      if (this.pendingAction && next >= this.busyUntilMs) {
        const act = this.pendingAction;
        this.pendingAction = null;
        act();
      }
      if (!this.cfgUpdate) this.runProtections(Math.max(0, next - t));
      this.applyOutputs();
      t = next;
    } while (t < now);
    this.lastSyncMs = Math.max(this.lastSyncMs, now);
  }

  /** Cells the chip protects: those in Vcell Mode (0 means all 16 inputs). */
  private protectedInputs(): number[] {
    const mode = this.u(DM.VCELL_MODE.addr, 2);
    return Array.from({ length: 16 }, (_, i) => i).filter((i) => mode === 0 || (mode >> i) & 1);
  }

  private inputMv(): number[] {
    const pins = this.pack.senseVoltagesMv();
    const out = new Array<number>(16).fill(0);
    this.inputs.forEach((input, cell) => {
      out[input] = pins[cell] ?? 0;
    });
    return out;
  }

  private runProtections(dtMs: number): void {
    const enabled = this.u(DM.ENABLED_PROTECTIONS_A.addr);
    const inputs = this.inputMv();
    const cells = this.protectedInputs().map((i) => inputs[i] ?? 0);
    const maxMv = Math.max(...cells);
    const minMv = Math.min(...cells);
    const senseMv = (this.pack.currentMa() * this.senseMilliOhm) / 1000;
    const covMv = this.u(DM.COV_THRESHOLD.addr) * CELL_STEP_MV;
    const cuvMv = this.u(DM.CUV_THRESHOLD.addr) * CELL_STEP_MV;
    const covHyst = this.u(DM.COV_HYSTERESIS.addr) * CELL_STEP_MV;
    const cuvHyst = this.u(DM.CUV_HYSTERESIS.addr) * CELL_STEP_MV;
    const recoveryMs = this.u(DM.RECOVERY_TIME.addr) * 1000;
    const delay = (addr: number, size = 1): number => DELAY_UNIT_MS * (2 + this.u(addr, size));
    const rules: Record<Timed, { active: boolean; recovered: boolean; delayMs: number }> = {
      cov: {
        active: maxMv >= covMv,
        recovered: maxMv < covMv - covHyst,
        delayMs: delay(DM.COV_DELAY.addr, 2),
      },
      cuv: {
        active: minMv <= cuvMv,
        recovered: minMv > cuvMv + cuvHyst,
        delayMs: delay(DM.CUV_DELAY.addr, 2),
      },
      occ: {
        active: senseMv >= this.u(DM.OCC_THRESHOLD.addr) * CURRENT_STEP_MV,
        recovered: senseMv < this.u(DM.OCC_THRESHOLD.addr) * CURRENT_STEP_MV,
        delayMs: delay(DM.OCC_DELAY.addr),
      },
      ocd1: {
        active: -senseMv >= this.u(DM.OCD1_THRESHOLD.addr) * CURRENT_STEP_MV,
        recovered: -senseMv < this.u(DM.OCD1_THRESHOLD.addr) * CURRENT_STEP_MV,
        delayMs: delay(DM.OCD1_DELAY.addr),
      },
      scd: {
        active: -senseMv >= (SCD_THRESH_MV[this.u(DM.SCD_THRESHOLD.addr) & 0x0f] ?? 0),
        recovered: -senseMv < (SCD_THRESH_MV[this.u(DM.SCD_THRESHOLD.addr) & 0x0f] ?? 0),
        delayMs: (Math.max(1, this.u(DM.SCD_DELAY.addr)) - 1) * (SCD_DELAY_UNIT_US / 1000),
      },
    };
    for (const key of Object.keys(rules) as Timed[]) {
      const bit = BITS[key];
      const r = rules[key];
      if (!(enabled & bit)) {
        this.alertA &= ~bit;
        this.statusA &= ~bit;
        this.timers[key] = 0;
        continue;
      }
      if (this.statusA & bit) {
        // Recovery is autonomous: the condition must stay clear for the recovery time.
        this.recovery[key] = r.recovered ? this.recovery[key] + dtMs : 0;
        if (this.recovery[key] >= recoveryMs) {
          this.statusA &= ~bit;
          this.recovery[key] = 0;
        }
        continue;
      }
      if (!r.active) {
        this.alertA &= ~bit;
        this.timers[key] = 0;
        continue;
      }
      this.alertA |= bit;
      this.timers[key] += dtMs;
      if (this.timers[key] >= r.delayMs) {
        this.alertA &= ~bit;
        this.statusA |= bit;
        this.timers[key] = 0;
        this.recovery[key] = 0;
      }
    }
  }

  /** FETs and bleeders follow the chip's state; the chip, not the host, switches them on. */
  private applyOutputs(): void {
    const blockChg = this.statusA & this.u(DM.CHG_FET_PROTECTIONS_A.addr);
    const blockDsg = this.statusA & this.u(DM.DSG_FET_PROTECTIONS_A.addr);
    const ctrlEn = (this.u(DM.FET_OPTIONS.addr) & 0x08) !== 0;
    const on = this.fetEn && ctrlEn && !this.cfgUpdate;
    const chg = on && !this.hostChgOff && !blockChg;
    const dsg = on && !this.hostDsgOff && !blockDsg;
    if (chg !== this.chg || dsg !== this.dsg) {
      this.chg = chg;
      this.dsg = dsg;
      this.pack.setFets({ chg, dsg });
    }
    const bleed: number[] = [];
    if (!this.cfgUpdate)
      this.inputs.forEach((input, cell) => {
        if ((this.cbMask >> input) & 1) bleed.push(cell);
      });
    const key = bleed.join(",");
    if (key !== this.lastBleed) {
      this.lastBleed = key;
      this.pack.setBleeders(bleed);
    }
    let raw = ALARM.ADSCAN | ALARM.FULLSCAN;
    if (this.statusA) raw |= ALARM.SSA;
    if (this.cbMask && !this.cfgUpdate) raw |= ALARM.CB;
    if (!chg) raw |= ALARM.XCHG;
    if (!dsg) raw |= ALARM.XDSG;
    this.alarmStatus |= raw & this.alarmEnable;
  }

  // ---- direct commands --------------------------------------------------------------------------

  /** The 128-byte direct-command space, computed at the start of a read transaction (atomic). */
  private directSpace(): Uint8Array {
    const s = new Uint8Array(128);
    const put16 = (reg: number, v: number): void => {
      const w = v & 0xffff;
      s[reg] = w & 0xff;
      s[reg + 1] = w >> 8;
    };
    s[CMD.SAFETY_ALERT_A] = this.alertA;
    s[CMD.SAFETY_STATUS_A] = this.statusA;
    put16(CMD.BATTERY_STATUS, this.cfgUpdate ? BATTERY_STATUS_CFGUPDATE : 0);
    const mv = this.inputMv();
    mv.forEach((v, i) => {
      put16(CMD.CELL1_VOLTAGE + 2 * i, Math.round(v));
    });
    const da = this.u(DM.DA_CONFIG.addr);
    const voltUnit = da & 0x04 ? 10 : 1;
    const stack = mv.reduce((a, b) => a + b, 0);
    put16(CMD.STACK_VOLTAGE, Math.round(stack / voltUnit));
    put16(CMD.PACK_VOLTAGE, Math.round((this.dsg || this.chg ? stack : 0) / voltUnit));
    put16(CMD.LD_VOLTAGE, Math.round(stack / voltUnit));
    const ampUnitMa = [0.1, 1, 10, 100][da & 0x03] ?? 1;
    // CC2 is as right as the CC Gain the host calibrated for its shunt.
    const readMa = (this.pack.currentMa() * this.ccGain()) / ccGainFor(this.senseMilliOhm);
    put16(CMD.CC2_CURRENT, Math.max(-32768, Math.min(32767, Math.round(readMa / ampUnitMa))));
    if (this.clock.nowMs() >= this.busyUntilMs) {
      s[CMD.SUBCMD_LO] = this.subcmd & 0xff;
      s[CMD.SUBCMD_HI] = this.subcmd >> 8;
    } else {
      s[CMD.SUBCMD_LO] = 0xff;
      s[CMD.SUBCMD_HI] = 0xff;
    }
    s.set(this.buffer, CMD.TRANSFER_BUFFER);
    s[CMD.BUFFER_CHECKSUM] = transferChecksum(this.subcmd, this.buffer.slice(0, this.bufferLen));
    s[CMD.BUFFER_LENGTH] = this.bufferLen + 4;
    put16(CMD.ALARM_STATUS, this.alarmStatus);
    put16(CMD.ALARM_ENABLE, this.alarmEnable);
    const die = this.pack.dieTempDeciC();
    put16(CMD.INT_TEMPERATURE, deciCToDeciKelvin(die));
    const tsConfigs = [DM.TS1_CONFIG, DM.TS2_CONFIG, DM.TS3_CONFIG];
    tsConfigs.forEach((cfg, i) => {
      const isThermistor = this.u(cfg.addr) === TS_CONFIG_THERMISTOR;
      const t = i < this.pack.temperatureSensorCount ? this.pack.thermistorDeciC(i) : die;
      put16(CMD.TS1_TEMPERATURE + 2 * i, isThermistor ? deciCToDeciKelvin(t) : 0);
    });
    s[CMD.FET_STATUS] = (this.chg ? FET_STATUS.CHG_FET : 0) | (this.dsg ? FET_STATUS.DSG_FET : 0);
    return s;
  }
}
