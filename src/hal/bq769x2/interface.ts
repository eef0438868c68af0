/**
 * Typed access to one bq76952 over an I2cBus: direct commands, subcommands and data memory
 * (address to 0x3E/0x3F, poll until echoed, data through the 0x40 buffer with checksum and
 * length in 0x60/0x61). Optional CRC framing. Every retry repeats the whole sequence.
 */
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import { crc8 } from "../bq769x0/crc.js";
import { type BusStats, emptyBusStats, withBusRetry } from "../bus-retry.js";
import type { I2cBus } from "../i2c.js";
import { CMD, type DmSetting, transferChecksum } from "./registers.js";

export interface Bq769x2InterfaceOptions {
  readonly address: number;
  readonly crc: boolean;
  readonly clock: Clock;
  readonly maxAttempts?: number;
  /** Polls of 0x3E/0x3F (1 ms apart) before a subcommand counts as timed out. */
  readonly maxPolls?: number;
  readonly logger?: Logger;
}

export class Bq769x2Interface {
  readonly stats: BusStats = emptyBusStats();
  private readonly address: number;
  private readonly crc: boolean;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly maxPolls: number;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly bus: I2cBus,
    options: Bq769x2InterfaceOptions,
  ) {
    this.address = options.address;
    this.crc = options.crc;
    this.clock = options.clock;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxPolls = options.maxPolls ?? 20;
    this.logger = options.logger;
  }

  /** Reads `count` bytes of direct-command space; 16-bit values never straddle transactions. */
  async directRead(cmd: number, count: number): Promise<Uint8Array> {
    return this.withRetry(`read 0x${hex(cmd)}+${count}`, () => this.rawRead(cmd, count));
  }

  async readU16(cmd: number): Promise<number> {
    const b = await this.directRead(cmd, 2);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }

  async directWrite(cmd: number, data: readonly number[]): Promise<void> {
    await this.withRetry(`write 0x${hex(cmd)}`, () => this.rawWrite(cmd, data));
  }

  /** A command-only subcommand (e.g. ALL_FETS_OFF). */
  async subcommand(sub: number): Promise<void> {
    await this.directWrite(CMD.SUBCMD_LO, [sub & 0xff, (sub >> 8) & 0xff]);
  }

  /** A subcommand or data-memory read: returns the data bytes, checksum verified. */
  async subcommandRead(sub: number): Promise<Uint8Array> {
    return this.withRetry(`subcommand 0x${hex(sub, 4)}`, async () => {
      await this.rawWrite(CMD.SUBCMD_LO, [sub & 0xff, (sub >> 8) & 0xff]);
      await this.waitEcho(sub);
      const tail = await this.rawRead(CMD.BUFFER_CHECKSUM, 2);
      const length = tail[1] ?? 0;
      if (length < 4 || length > 36)
        throw new BmsError("BUS_CRC", `subcommand 0x${hex(sub, 4)}: bad length ${length}`);
      const data = length > 4 ? await this.rawRead(CMD.TRANSFER_BUFFER, length - 4) : new Uint8Array(0);
      if (transferChecksum(sub, data) !== tail[0])
        throw new BmsError("BUS_CRC", `subcommand 0x${hex(sub, 4)}: buffer checksum mismatch`);
      return data;
    });
  }

  /** A data-carrying subcommand or data-memory write, committed by checksum and length. */
  async subcommandWrite(sub: number, data: readonly number[]): Promise<void> {
    await this.withRetry(`subcommand write 0x${hex(sub, 4)}`, async () => {
      await this.rawWrite(CMD.SUBCMD_LO, [sub & 0xff, (sub >> 8) & 0xff]);
      await this.rawWrite(CMD.TRANSFER_BUFFER, data);
      await this.rawWrite(CMD.BUFFER_CHECKSUM, [transferChecksum(sub, data), data.length + 4]);
    });
  }

  async readSetting(s: DmSetting): Promise<Uint8Array> {
    return (await this.subcommandRead(s.addr)).slice(0, s.size);
  }

  async readSettingInt(s: DmSetting): Promise<number> {
    const b = await this.readSetting(s);
    let v = 0;
    for (let i = b.length - 1; i >= 0; i--) v = v * 256 + (b[i] ?? 0);
    return v;
  }

  async writeSetting(s: DmSetting, value: number): Promise<void> {
    const bytes: number[] = [];
    for (let i = 0; i < s.size; i++) bytes.push(Math.floor(value / 256 ** i) & 0xff);
    await this.subcommandWrite(s.addr, bytes);
  }

  async writeSettingFloat(s: DmSetting, value: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    await this.subcommandWrite(s.addr, [...b]);
  }

  /** The chip echoes the subcommand in 0x3E/0x3F once its result is in the buffer. */
  private async waitEcho(sub: number): Promise<void> {
    for (let poll = 0; poll < this.maxPolls; poll++) {
      const echo = await this.rawRead(CMD.SUBCMD_LO, 2);
      if ((echo[0] ?? 0) === (sub & 0xff) && (echo[1] ?? 0) === ((sub >> 8) & 0xff)) return;
      await this.clock.sleepUntil(this.clock.nowMs() + 1);
    }
    throw new BmsError("BUS_TIMEOUT", `subcommand 0x${hex(sub, 4)} not done after ${this.maxPolls} polls`);
  }

  private async rawRead(cmd: number, count: number): Promise<Uint8Array> {
    const perTransaction = this.crc ? 16 : 32;
    const out = new Uint8Array(count);
    for (let done = 0; done < count; ) {
      let n = Math.min(perTransaction, count - done);
      if (n < count - done && n % 2 === 1) n--;
      out.set(await this.readOnce(cmd + done, n), done);
      done += n;
    }
    return out;
  }

  private async readOnce(cmd: number, count: number): Promise<Uint8Array> {
    this.stats.transactions++;
    const wireLen = this.crc ? 2 * count : count;
    const buf = Buffer.alloc(wireLen);
    const { bytesRead } = await this.bus.readI2cBlock(this.address, cmd, wireLen, buf);
    if (bytesRead !== wireLen) throw new BmsError("BUS_IO", `short read at 0x${hex(cmd)}`);
    if (!this.crc) return new Uint8Array(buf);
    const data = new Uint8Array(count);
    const a = this.address << 1;
    for (let i = 0; i < count; i++) {
      const d = buf[2 * i] ?? 0;
      // Unlike the bq769x0, the first CRC covers everything since the first START.
      const want = i === 0 ? crc8([a, cmd, a | 1, d]) : crc8([d]);
      if (want !== buf[2 * i + 1]) throw new BmsError("BUS_CRC", `CRC mismatch reading 0x${hex(cmd + i)}`);
      data[i] = d;
    }
    return data;
  }

  private async rawWrite(cmd: number, data: readonly number[]): Promise<void> {
    this.stats.transactions++;
    const wire: number[] = [];
    data.forEach((v, i) => {
      const d = v & 0xff;
      wire.push(d);
      if (this.crc) wire.push(i === 0 ? crc8([this.address << 1, cmd, d]) : crc8([d]));
    });
    await this.bus.writeI2cBlock(this.address, cmd, wire.length, Buffer.from(wire));
  }

  private withRetry<T>(what: string, op: () => Promise<T>): Promise<T> {
    return withBusRetry(what, op, {
      chip: "bq76952",
      address: this.address,
      maxAttempts: this.maxAttempts,
      stats: this.stats,
      logger: this.logger,
      countTransactions: false,
    });
  }
}

const hex = (n: number, width = 2): string => n.toString(16).padStart(width, "0");
