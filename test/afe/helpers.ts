import { silentLogger } from "../../src/core/logger.js";
import type { HardwareLimits } from "../../src/hal/afe.js";
import { createBq769x0Driver } from "../../src/hal/bq769x0/driver.js";
import { Bq769x0Emulator, type Bq769x0EmulatorOptions } from "../../src/hal/bq769x0/emulator.js";
import type { Bq769x0Variant } from "../../src/hal/bq769x0/registers.js";
import type { I2cBus } from "../../src/hal/i2c.js";
import { ManualClock } from "../../src/time/clock.js";
import { TestPack } from "./pack-double.js";

export const LIMITS: HardwareLimits = {
  cellOvMv: 3650,
  cellOvDelayMs: 1000,
  cellUvMv: 2500,
  cellUvDelayMs: 1000,
  ocDischargeMa: 50_000,
  ocDischargeDelayMs: 320,
  shortCircuitMa: 100_000,
  shortCircuitDelayUs: 200,
  ocChargeMa: 20_000,
  ocChargeDelayMs: 1000,
};

export interface BusCall {
  op: "readI2cBlock" | "writeI2cBlock" | "i2cRead" | "i2cWrite";
  command: number;
  bytes: number[];
}

/** Records every transaction that reaches the emulator (failed ones included). */
export function spyBus(inner: I2cBus): { bus: I2cBus; calls: BusCall[] } {
  const calls: BusCall[] = [];
  const bus: I2cBus = {
    async readI2cBlock(a, command, length, buffer) {
      calls.push({ op: "readI2cBlock", command, bytes: [length] });
      return inner.readI2cBlock(a, command, length, buffer);
    },
    async writeI2cBlock(a, command, length, buffer) {
      calls.push({ op: "writeI2cBlock", command, bytes: [...buffer.subarray(0, length)] });
      return inner.writeI2cBlock(a, command, length, buffer);
    },
    async i2cRead(a, length, buffer) {
      calls.push({ op: "i2cRead", command: -1, bytes: [length] });
      return inner.i2cRead(a, length, buffer);
    },
    async i2cWrite(a, length, buffer) {
      calls.push({ op: "i2cWrite", command: -1, bytes: [...buffer.subarray(0, length)] });
      return inner.i2cWrite(a, length, buffer);
    },
    close: () => inner.close(),
  };
  return { bus, calls };
}

export async function bq769x0Rig(
  options: {
    variant?: Bq769x0Variant;
    cells?: number;
    cellMv?: number;
    crc?: boolean;
    driverCrc?: boolean;
    emulator?: Partial<Bq769x0EmulatorOptions>;
  } = {},
) {
  const variant = options.variant ?? "bq76940";
  const cells = options.cells ?? 15;
  const clock = new ManualClock(0, { autoAdvance: true });
  const pack = new TestPack(cells, { cellMv: options.cellMv ?? 3300 });
  const emu = new Bq769x0Emulator({
    pack,
    clock,
    variant,
    cellsConnected: cells,
    senseResistorMilliOhm: 1,
    crc: options.crc ?? true,
    ...options.emulator,
  });
  const spy = spyBus(emu);
  const driver = await createBq769x0Driver(spy.bus, {
    variant,
    cellsConnected: cells,
    senseResistorMilliOhm: 1,
    crc: options.driverCrc ?? options.crc ?? true,
    clock,
    logger: silentLogger,
  });
  return { clock, pack, emu, driver, calls: spy.calls };
}
