/**
 * A register-level bq76920/30/40 behind the I2cBus port, driven by a PackPort. The real driver
 * runs on it unchanged, so tests exercise the very bytes that go to a chip: CRC framing, ADC
 * quantisation with the factory gain/offset trim, latched protections with their delays,
 * write-1-to-clear, FET and bleeder side effects, and injected bus faults.
 */
import type { Clock } from "../../time/clock.js";
import type { I2cBus } from "../i2c.js";
import type { PackPort } from "../pack.js";
import { BusFaults, type InjectedCounts, nackError } from "./bus-faults.js";
import { crc8 } from "./crc.js";
import {
  type Bq769x0Variant,
  CC_LSB_NV,
  CTRL1,
  CTRL2,
  DELAY_DIS_MS,
  OCD_DELAY_MS,
  OCD_THRESH_MV,
  OV_CODE_BASE,
  OV_DELAY_MS,
  PROTECT1_RSNS,
  REG,
  SCAN_PERIOD_MS,
  SCD_DELAY_US,
  SCD_THRESH_MV,
  STAT,
  TEMP_PERIOD_MS,
  UV_CODE_BASE,
  UV_DELAY_MS,
  UV_MINQUAL_CODE,
  VARIANTS,
  adcGainUv,
  deciCToDieCode,
  deciCToTsCode,
  gainRegisters,
  mvToCellCode,
  vcInputs,
} from "./registers.js";

export interface Bq769x0EmulatorOptions {
  readonly pack: PackPort;
  readonly clock: Clock;
  readonly variant: Bq769x0Variant;
  readonly cellsConnected: number;
  readonly address?: number;
  readonly crc?: boolean;
  /** Factory trim: 5-bit gain code (GAIN = 365 + code µV/LSB) and signed offset, mV. */
  readonly gainCode?: number;
  readonly offsetMv?: number;
  readonly senseResistorMilliOhm: number;
  readonly thermistorBeta?: number;
  /** First pack thermistor wired to TS1 (for stacked chips). */
  readonly thermistorOffset?: number;
  /** The datasheet does not say; by default a FET-on write is ignored while its fault is latched. */
  readonly ignoreFetOnWhileFault?: boolean;
  /** Seed of the injected-fault random stream. */
  readonly seed?: number;
  /** Pack advance step while catching up with the clock, ms (comparator time resolution). */
  readonly stepMs?: number;
  /** Gaussian noise on each cell conversion, σ in mV (0: none). */
  readonly adcNoiseMv?: number;
}

const REG_FILE_SIZE = 0x5a;

export class Bq769x0Emulator implements I2cBus {
  readonly address: number;
  readonly crc: boolean;
  readonly faults: BusFaults;

  private readonly pack: PackPort;
  private readonly clock: Clock;
  private readonly variant: Bq769x0Variant;
  private readonly inputs: readonly number[];
  private readonly offsetMv: number;
  private readonly gainCode: number;
  private readonly senseMilliOhm: number;
  private readonly beta: number;
  private readonly thermistorOffset: number;
  private readonly ignoreFetOnWhileFault: boolean;
  private readonly stepMs: number;
  private readonly adcNoiseMv: number;

  private regs = new Uint8Array(REG_FILE_SIZE);
  private mode: "normal" | "ship" = "normal";
  private shutStep = 0;
  private pointer = 0;
  private lastSyncMs: number;
  private bootMs: number;
  private lastScanMs: number;
  private lastTempMs: number;
  private cells: { atMs: number; cellMv: number[]; codes: number[]; gainUv: number } = {
    atMs: Number.NEGATIVE_INFINITY,
    cellMv: [],
    codes: [],
    gainUv: 380,
  };
  private ccChargeMaMs = 0;
  private ccWindowMs = 0;
  private timers = { ov: 0, uv: 0, ocd: 0, scd: 0 };
  private alertListener: ((high: boolean) => void) | null = null;
  private alertHigh = false;

  constructor(options: Bq769x0EmulatorOptions) {
    this.pack = options.pack;
    this.clock = options.clock;
    this.variant = options.variant;
    this.inputs = vcInputs(options.variant, options.cellsConnected);
    this.address = options.address ?? 0x08;
    this.crc = options.crc ?? true;
    this.gainCode = (options.gainCode ?? 15) & 0x1f;
    this.offsetMv = Math.max(-128, Math.min(127, Math.round(options.offsetMv ?? 0)));
    this.senseMilliOhm = options.senseResistorMilliOhm;
    this.beta = options.thermistorBeta ?? 3435;
    this.thermistorOffset = options.thermistorOffset ?? 0;
    this.ignoreFetOnWhileFault = options.ignoreFetOnWhileFault ?? true;
    this.stepMs = Math.max(1, options.stepMs ?? 10);
    this.adcNoiseMv = Math.max(0, options.adcNoiseMv ?? 0);
    this.faults = new BusFaults(options.seed ?? 1);
    const now = this.clock.nowMs();
    this.lastSyncMs = now;
    this.bootMs = now;
    this.lastScanMs = now;
    this.lastTempMs = now;
    this.reset();
  }

  // ---- test and scenario controls -------------------------------------------------------

  /** NACKs the next `count` transactions (reads and writes); 0 ends a burst. */
  injectNackBurst(count: number): void {
    this.faults.setNackBurst(count);
  }

  /** Probability (0..1) that a transaction has one CRC byte corrupted on the wire. */
  setCrcErrorRate(rate: number): void {
    this.faults.setCrcErrorRate(rate);
  }

  /** A stuck bus (SDA held low): every transaction times out until released. */
  setStuck(stuck: boolean): void {
    this.faults.setStuck(stuck);
  }

  get injected(): InjectedCounts {
    return this.faults.injected;
  }

  /** Latches DEVICE_XREADY (internal chip fault): FETs and bleeders off. */
  injectXready(): void {
    this.sync();
    this.latch(STAT.DEVICE_XREADY);
  }

  /** ALERT driven high from outside (e.g. a secondary protector): latches OVRD_ALERT. */
  injectOverrideAlert(): void {
    this.sync();
    this.latch(STAT.OVRD_ALERT);
  }

  /** TS1 boot pulse: from SHIP back to NORMAL with reset register values. */
  boot(): void {
    this.sync();
    this.mode = "normal";
    this.bootMs = this.clock.nowMs();
    this.reset();
  }

  get shipMode(): boolean {
    return this.mode === "ship";
  }

  /** ALERT pin level (OR of all SYS_STAT bits); the listener sees every edge. */
  onAlert(listener: (high: boolean) => void): void {
    this.alertListener = listener;
  }

  /** Raw register value (after bringing the chip up to date), for white-box tests. */
  peek(reg: number): number {
    this.sync();
    return this.regs[reg] ?? 0;
  }

  // ---- I2cBus ---------------------------------------------------------------------------

  async readI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }> {
    this.begin(address, length);
    this.pointer = command & 0xff;
    return { bytesRead: this.readInto(length, buffer), buffer };
  }

  async i2cRead(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }> {
    this.begin(address, length);
    return { bytesRead: this.readInto(length, buffer), buffer };
  }

  async writeI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }> {
    this.begin(address, length);
    this.write(command & 0xff, buffer.subarray(0, length));
    return { bytesWritten: length, buffer };
  }

  async i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }> {
    this.begin(address, length);
    if (length < 1) return { bytesWritten: 0, buffer };
    const reg = buffer[0] ?? 0;
    if (length === 1) this.pointer = reg;
    else this.write(reg, buffer.subarray(1, length));
    return { bytesWritten: length, buffer };
  }

  async close(): Promise<void> {}

  // ---- transaction plumbing --------------------------------------------------------------

  private begin(address: number, length: number): void {
    this.faults.checkBus(address, length);
    this.sync();
    if (address !== this.address) throw nackError(address, "no device at this address");
    if (!this.pack.commsAvailable()) throw nackError(address, "device not responding");
    if (this.mode === "ship") throw nackError(address, "chip in SHIP mode");
    this.faults.checkNack(address);
  }

  /** Reads from a snapshot taken at the start of the transaction: HI/LO pairs stay atomic. */
  private readInto(length: number, buffer: Buffer): number {
    const snap = this.regs.slice();
    const at = (r: number): number => snap[r] ?? 0;
    if (!this.crc) {
      for (let i = 0; i < length; i++) buffer[i] = at(this.pointer + i);
      return length;
    }
    const corruptAt = this.faults.rollCorruption()
      ? Math.floor(this.faults.random() * Math.floor(length / 2))
      : -1;
    for (let i = 0; 2 * i < length; i++) {
      const d = at(this.pointer + i);
      buffer[2 * i] = d;
      if (2 * i + 1 < length) {
        let c = i === 0 ? crc8([(this.address << 1) | 1, d]) : crc8([d]);
        if (i === corruptAt) c ^= 0x5a;
        buffer[2 * i + 1] = c;
      }
    }
    return length;
  }

  private write(reg: number, payload: Uint8Array): void {
    const data: number[] = [];
    if (this.crc) {
      // A CRC part expects (data, crc) pairs; a lone byte without CRC is ignored.
      if (payload.length < 2) return;
      const corrupt = this.faults.rollCorruption();
      for (let i = 0; 2 * i + 1 < payload.length; i++) {
        const d = payload[2 * i] ?? 0;
        const want = i === 0 ? crc8([this.address << 1, reg, d]) : crc8([d]);
        if (corrupt || want !== payload[2 * i + 1]) {
          this.injected.droppedWrites++;
          throw nackError(this.address, `bad CRC on write to 0x${reg.toString(16)}`);
        }
        data.push(d);
      }
    } else {
      data.push(...payload);
    }
    data.forEach((d, i) => {
      this.writeRegister(reg + i, d);
    });
  }

  // ---- register semantics ----------------------------------------------------------------

  private reset(): void {
    this.regs = new Uint8Array(REG_FILE_SIZE);
    this.regs[REG.SYS_CTRL1] = CTRL1.ADC_EN; // set automatically on entering NORMAL
    this.regs[REG.OV_TRIP] = 0xac;
    this.regs[REG.UV_TRIP] = 0x97;
    const g = gainRegisters(this.gainCode);
    this.regs[REG.ADCGAIN1] = g.adcGain1;
    this.regs[REG.ADCGAIN2] = g.adcGain2;
    this.regs[REG.ADCOFFSET] = this.offsetMv & 0xff;
    this.timers = { ov: 0, uv: 0, ocd: 0, scd: 0 };
    this.shutStep = 0;
    this.ccChargeMaMs = 0;
    this.ccWindowMs = 0;
    const now = this.clock.nowMs();
    this.lastScanMs = now;
    this.lastTempMs = now - TEMP_PERIOD_MS;
    this.applyFets();
    this.applyBleeders();
    this.updateAlert();
  }

  private writeRegister(reg: number, value: number): void {
    const v = value & 0xff;
    switch (reg) {
      case REG.SYS_STAT: {
        this.regs[REG.SYS_STAT] = (this.regs[REG.SYS_STAT] ?? 0) & ~v;
        // Clearing a fault restarts its delay: a persisting condition re-latches later.
        if (v & STAT.OV) this.timers.ov = 0;
        if (v & STAT.UV) this.timers.uv = 0;
        if (v & STAT.OCD) this.timers.ocd = 0;
        if (v & STAT.SCD) this.timers.scd = 0;
        this.updateAlert();
        return;
      }
      case REG.CELLBAL1:
      case REG.CELLBAL2:
      case REG.CELLBAL3: {
        const m = v & 0x1f;
        if ((m & (m << 1)) !== 0) this.injected.adjacentBalancing++;
        this.regs[reg] = m;
        this.applyBleeders();
        return;
      }
      case REG.SYS_CTRL1: {
        const prev = this.regs[REG.SYS_CTRL1] ?? 0;
        this.regs[REG.SYS_CTRL1] = (prev & 0xe0) | (v & 0x1b);
        this.stepShutSequence(v & (CTRL1.SHUT_A | CTRL1.SHUT_B));
        return;
      }
      case REG.SYS_CTRL2: {
        let next = v;
        // CC_ONESHOT is only meaningful while CC_EN = 0.
        if (next & CTRL2.CC_EN) next &= ~CTRL2.CC_ONESHOT;
        if (this.ignoreFetOnWhileFault) {
          const stat = this.regs[REG.SYS_STAT] ?? 0;
          const both = stat & (STAT.DEVICE_XREADY | STAT.OVRD_ALERT);
          if (both || stat & STAT.OV) next &= ~CTRL2.CHG_ON;
          if (both || stat & (STAT.UV | STAT.OCD | STAT.SCD)) next &= ~CTRL2.DSG_ON;
        }
        this.regs[REG.SYS_CTRL2] = next;
        this.applyFets();
        return;
      }
      case REG.PROTECT1:
        this.regs[reg] = v & 0x9f;
        return;
      case REG.PROTECT2:
        this.regs[reg] = v & 0x7f;
        return;
      case REG.PROTECT3:
        this.regs[reg] = v & 0xf0;
        return;
      case REG.OV_TRIP:
      case REG.UV_TRIP:
        this.regs[reg] = v;
        return;
      case REG.CC_CFG:
        this.regs[reg] = v & 0x3f;
        return;
      default:
        return; // read-only or reserved
    }
  }

  /** SHIP needs (SHUT_A, SHUT_B) = (0,0) → (0,1) → (1,0) in consecutive writes. */
  private stepShutSequence(shut: number): void {
    if (shut === 0) this.shutStep = 1;
    else if (shut === CTRL1.SHUT_B && this.shutStep === 1) this.shutStep = 2;
    else if (shut === CTRL1.SHUT_A && this.shutStep === 2) {
      this.regs[REG.SYS_CTRL2] = (this.regs[REG.SYS_CTRL2] ?? 0) & ~(CTRL2.CHG_ON | CTRL2.DSG_ON);
      this.applyFets();
      this.mode = "ship";
      this.shutStep = 0;
    } else this.shutStep = 0;
  }

  private latch(bits: number): void {
    const stat = this.regs[REG.SYS_STAT] ?? 0;
    this.regs[REG.SYS_STAT] = stat | bits;
    let ctrl2 = this.regs[REG.SYS_CTRL2] ?? 0;
    if (bits & (STAT.OV | STAT.DEVICE_XREADY | STAT.OVRD_ALERT)) ctrl2 &= ~CTRL2.CHG_ON;
    if (bits & (STAT.UV | STAT.OCD | STAT.SCD | STAT.DEVICE_XREADY | STAT.OVRD_ALERT)) ctrl2 &= ~CTRL2.DSG_ON;
    if (ctrl2 !== this.regs[REG.SYS_CTRL2]) {
      this.regs[REG.SYS_CTRL2] = ctrl2;
      this.applyFets();
    }
    if (bits & STAT.DEVICE_XREADY) {
      this.regs[REG.CELLBAL1] = 0;
      this.regs[REG.CELLBAL2] = 0;
      this.regs[REG.CELLBAL3] = 0;
      this.applyBleeders();
    }
    this.updateAlert();
  }

  private updateAlert(): void {
    const high = (this.regs[REG.SYS_STAT] ?? 0) !== 0;
    if (high !== this.alertHigh) {
      this.alertHigh = high;
      this.alertListener?.(high);
    }
  }

  private applyFets(): void {
    const c = this.regs[REG.SYS_CTRL2] ?? 0;
    const chg = (c & CTRL2.CHG_ON) !== 0;
    const dsg = (c & CTRL2.DSG_ON) !== 0;
    const cur = this.pack.fets();
    if (cur.chg !== chg || cur.dsg !== dsg) this.pack.setFets({ chg, dsg });
  }

  private applyBleeders(): void {
    const cells: number[] = [];
    this.inputs.forEach((input, cell) => {
      const reg = REG.CELLBAL1 + Math.floor(input / 5);
      if (((this.regs[reg] ?? 0) >> (input % 5)) & 1) cells.push(cell);
    });
    this.pack.setBleeders(cells);
  }

  // ---- time: conversions and protections --------------------------------------------------

  /**
   * Brings the chip up to clock time: pack physics, protection timers, ADC scans. The pack is
   * advanced in short steps so the comparators catch a short or an over-current within a step
   * of its start, not one bus transaction later.
   */
  private sync(): void {
    const now = this.clock.nowMs();
    let t = this.lastSyncMs;
    if (now <= t) {
      this.pack.advanceTo(now);
      return;
    }
    // Bounded work however far the clock jumped.
    const stepMs = Math.max(this.stepMs, (now - t) / 2000);
    while (t < now) {
      const next = Math.min(now, t + stepMs);
      this.pack.advanceTo(next);
      if (this.mode === "normal") this.evaluate(next, next - t, next >= now);
      t = next;
    }
    this.lastSyncMs = now;
  }

  private evaluate(atMs: number, dtMs: number, final: boolean): void {
    const scanDue = atMs - this.lastScanMs >= SCAN_PERIOD_MS;
    // Cell comparisons have delays of 250 ms and more: 50 ms resolution is plenty, and cheaper.
    if (final || scanDue || atMs - this.cells.atMs >= 50) {
      const pinMv = this.pack.senseVoltagesMv();
      const cellMv = this.inputs.map((_, i) => pinMv[i] ?? 0);
      const gainUv = adcGainUv(this.regs[REG.ADCGAIN1] ?? 0, this.regs[REG.ADCGAIN2] ?? 0);
      const codes = cellMv.map((mv) => mvToCellCode(mv, gainUv, this.offsetMv));
      this.cells = { atMs, cellMv, codes, gainUv };
    }
    const currentMa = this.pack.currentMa();
    this.runProtections(atMs, dtMs, this.cells.codes, currentMa);
    this.ccChargeMaMs += currentMa * dtMs;
    this.ccWindowMs += dtMs;

    if (scanDue) {
      this.lastScanMs += Math.floor((atMs - this.lastScanMs) / SCAN_PERIOD_MS) * SCAN_PERIOD_MS;
      this.scan(atMs, this.cells.cellMv, this.cells.codes, this.cells.gainUv);
    }
  }

  private runProtections(atMs: number, dtMs: number, codes: readonly number[], currentMa: number): void {
    const stat = this.regs[REG.SYS_STAT] ?? 0;
    const p1 = this.regs[REG.PROTECT1] ?? 0;
    const p2 = this.regs[REG.PROTECT2] ?? 0;
    const p3 = this.regs[REG.PROTECT3] ?? 0;
    const delayDis = ((this.regs[REG.SYS_CTRL2] ?? 0) & CTRL2.DELAY_DIS) !== 0;
    const rsns = p1 & PROTECT1_RSNS ? 1 : 0;
    const senseMv = (-currentMa * this.senseMilliOhm) / 1000; // discharge direction only
    const step = (key: keyof typeof this.timers, bit: number, active: boolean, delayMs: number): void => {
      if (stat & bit || !active) {
        this.timers[key] = 0;
        return;
      }
      this.timers[key] += dtMs;
      if (this.timers[key] >= (delayDis ? DELAY_DIS_MS : delayMs)) {
        this.timers[key] = 0;
        this.latch(bit);
      }
    };
    // The current comparators run in NORMAL mode regardless of ADC_EN.
    step(
      "scd",
      STAT.SCD,
      senseMv >= (SCD_THRESH_MV[rsns]?.[p1 & 0x07] ?? 0),
      (SCD_DELAY_US[(p1 >> 3) & 3] ?? 0) / 1000,
    );
    step(
      "ocd",
      STAT.OCD,
      senseMv >= (OCD_THRESH_MV[rsns]?.[p2 & 0x0f] ?? 0),
      OCD_DELAY_MS[(p2 >> 4) & 7] ?? 0,
    );
    const adcOn = ((this.regs[REG.SYS_CTRL1] ?? 0) & CTRL1.ADC_EN) !== 0 && this.dataValid(atMs);
    const ovCode = OV_CODE_BASE | ((this.regs[REG.OV_TRIP] ?? 0) << 4);
    const uvCode = UV_CODE_BASE | ((this.regs[REG.UV_TRIP] ?? 0) << 4);
    const ov = adcOn && codes.some((c) => c >= ovCode);
    const uv = adcOn && codes.some((c) => c >= UV_MINQUAL_CODE && c < uvCode);
    step("ov", STAT.OV, ov, OV_DELAY_MS[(p3 >> 4) & 3] ?? 0);
    step("uv", STAT.UV, uv, UV_DELAY_MS[(p3 >> 6) & 3] ?? 0);
  }

  private dataValid(atMs: number): boolean {
    return atMs - this.bootMs >= VARIANTS[this.variant].firstDataMs;
  }

  private scan(now: number, cellMv: readonly number[], codes: readonly number[], gainUv: number): void {
    const ctrl1 = this.regs[REG.SYS_CTRL1] ?? 0;
    if (ctrl1 & CTRL1.ADC_EN && this.dataValid(now)) {
      // Shorted (unused) inputs sit at 0 V; the ADC still adds its offset.
      for (let input = 0; input < 15; input++) {
        const idx = this.inputs.indexOf(input);
        const code =
          idx < 0
            ? mvToCellCode(0, gainUv, this.offsetMv)
            : this.adcNoiseMv > 0
              ? mvToCellCode((cellMv[idx] ?? 0) + this.gaussian() * this.adcNoiseMv, gainUv, this.offsetMv)
              : (codes[idx] ?? 0);
        this.put16(REG.VC1_HI + 2 * input, input < VARIANTS[this.variant].groups * 5 ? code : 0);
      }
      const sumMv = cellMv.reduce((a, b) => a + b, 0);
      const bat = Math.round(((sumMv - this.inputs.length * this.offsetMv) * 1000) / (4 * gainUv));
      this.put16(REG.BAT_HI, Math.max(0, Math.min(0xffff, bat)));
    }
    const ctrl2 = this.regs[REG.SYS_CTRL2] ?? 0;
    if (ctrl2 & (CTRL2.CC_EN | CTRL2.CC_ONESHOT)) {
      const meanMa = this.ccWindowMs > 0 ? this.ccChargeMaMs / this.ccWindowMs : this.pack.currentMa();
      const cc = Math.round((meanMa * this.senseMilliOhm * 1000) / CC_LSB_NV);
      this.put16(REG.CC_HI, Math.max(-32768, Math.min(32767, cc)) & 0xffff);
      if (ctrl2 & CTRL2.CC_ONESHOT) this.regs[REG.SYS_CTRL2] = ctrl2 & ~CTRL2.CC_ONESHOT;
      this.regs[REG.SYS_STAT] = (this.regs[REG.SYS_STAT] ?? 0) | STAT.CC_READY;
      this.updateAlert();
    }
    this.ccChargeMaMs = 0;
    this.ccWindowMs = 0;
    if (now - this.lastTempMs >= TEMP_PERIOD_MS && this.dataValid(now)) {
      this.lastTempMs = now;
      const external = (ctrl1 & CTRL1.TEMP_SEL) !== 0;
      const n = VARIANTS[this.variant].thermistors;
      for (let i = 0; i < n; i++) {
        const idx = this.thermistorOffset + i;
        const deciC =
          external && idx < this.pack.temperatureSensorCount
            ? this.pack.thermistorDeciC(idx)
            : this.pack.dieTempDeciC();
        this.put16(REG.TS1_HI + 2 * i, external ? deciCToTsCode(deciC, this.beta) : deciCToDieCode(deciC));
      }
    }
  }

  /** Standard normal deviate from the seeded stream (Box–Muller). */
  private gaussian(): number {
    const u = Math.max(1e-12, this.faults.random());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.faults.random());
  }

  private put16(reg: number, value: number): void {
    this.regs[reg] = (value >> 8) & 0xff;
    this.regs[reg + 1] = value & 0xff;
  }
}
