/**
 * Typed register access to one bq769x0 over an I2cBus: CRC framing, retries and counters.
 * Every attempt is a complete transaction that re-sends the register pointer, because a
 * bare re-read after a CRC error would read the registers that follow (LibreSolar #53/#55).
 */
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { type BusStats, emptyBusStats, withBusRetry } from "../bus-retry.js";
import type { I2cBus } from "../i2c.js";
import { crc8 } from "./crc.js";

export { type BusStats, emptyBusStats } from "../bus-retry.js";

/** Longest data run per transaction: i2c-bus block transfers carry at most 32 bytes on the wire. */
const MAX_WIRE_BYTES = 32;

export interface InterfaceOptions {
  readonly address: number;
  readonly crc: boolean;
  /** Attempts per operation (first try included). */
  readonly maxAttempts?: number;
  readonly logger?: Logger;
}

export class Bq769x0Interface {
  readonly stats: BusStats = emptyBusStats();
  private readonly address: number;
  private readonly crc: boolean;
  private readonly maxAttempts: number;
  private readonly logger: Logger | undefined;

  constructor(
    private readonly bus: I2cBus,
    options: InterfaceOptions,
  ) {
    this.address = options.address;
    this.crc = options.crc;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.logger = options.logger;
  }

  /** Data bytes one read transaction can return. */
  get maxReadBytes(): number {
    return this.crc ? MAX_WIRE_BYTES / 2 : MAX_WIRE_BYTES;
  }

  /**
   * Reads `count` consecutive registers. 16-bit pairs are never split across transactions, so
   * every HI/LO pair is atomic (the chip latches a pair only within one auto-increment read).
   */
  async readRegisters(reg: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(count);
    let done = 0;
    while (done < count) {
      let n = Math.min(this.maxReadBytes, count - done);
      if (n < count - done && n % 2 === 1) n--;
      out.set(await this.readAtomic(reg + done, n), done);
      done += n;
    }
    return out;
  }

  async readRegister(reg: number): Promise<number> {
    return (await this.readAtomic(reg, 1))[0] ?? 0;
  }

  /** Writes consecutive registers in one transaction (auto-increment). */
  async writeRegisters(reg: number, values: readonly number[]): Promise<void> {
    const wire: number[] = [];
    values.forEach((v, i) => {
      const d = v & 0xff;
      wire.push(d);
      if (this.crc) wire.push(i === 0 ? crc8([this.address << 1, reg, d]) : crc8([d]));
    });
    const buf = Buffer.from(wire);
    await this.withRetry(`write 0x${hex(reg)}`, async () => {
      await this.bus.writeI2cBlock(this.address, reg, buf.length, buf);
    });
  }

  async writeRegister(reg: number, value: number): Promise<void> {
    await this.writeRegisters(reg, [value]);
  }

  private async readAtomic(reg: number, count: number): Promise<Uint8Array> {
    const wireLen = this.crc ? count * 2 : count;
    return this.withRetry(`read 0x${hex(reg)}+${count}`, async () => {
      const buf = Buffer.alloc(wireLen);
      const { bytesRead } = await this.bus.readI2cBlock(this.address, reg, wireLen, buf);
      if (bytesRead !== wireLen)
        throw new BmsError("BUS_IO", `short read at 0x${hex(reg)}: ${bytesRead} of ${wireLen} bytes`);
      if (!this.crc) return new Uint8Array(buf);
      const data = new Uint8Array(count);
      for (let i = 0; i < count; i++) {
        const d = buf[2 * i] ?? 0;
        // The first CRC covers the read address byte; later ones cover their data byte alone.
        const want = i === 0 ? crc8([(this.address << 1) | 1, d]) : crc8([d]);
        if (want !== buf[2 * i + 1])
          throw new BmsError("BUS_CRC", `CRC mismatch reading 0x${hex(reg + i)}`, {
            details: { address: this.address, reg: reg + i },
          });
        data[i] = d;
      }
      return data;
    });
  }

  private withRetry<T>(what: string, op: () => Promise<T>): Promise<T> {
    return withBusRetry(what, op, {
      chip: "bq769x0",
      address: this.address,
      maxAttempts: this.maxAttempts,
      stats: this.stats,
      logger: this.logger,
      countTransactions: true,
    });
  }
}

const hex = (n: number): string => n.toString(16).padStart(2, "0");
