/**
 * Hardware-in-the-loop: runs only when BMS_TEST_I2C_BUS names a bus (e.g. `1` for /dev/i2c-1)
 * with a booted bq769x0 on it. Read-only: it never switches FETs or bleeders.
 *   BMS_TEST_AFE (bq769x0 | bq76952), BMS_TEST_BQ_VARIANT (bq76940), BMS_TEST_CELLS (15 / 16),
 *   BMS_TEST_I2C_ADDRESS (0x08), BMS_TEST_CRC (1 for bq769x0, 0 for bq76952), BMS_TEST_SHUNT_MOHM (1)
 * The bq76952 run rewrites its RAM settings (as every start-up does) but no FET or bleeder state.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { createBq769x0Driver } from "../../src/hal/bq769x0/driver.js";
import { createBq76952Driver } from "../../src/hal/bq769x2/driver.js";
import type { Bq769x0Variant } from "../../src/hal/bq769x0/registers.js";
import { openI2cBus } from "../../src/hal/node/i2c.js";
import { RealClock } from "../../src/time/clock.js";

const busEnv = process.env.BMS_TEST_I2C_BUS;
const chip = process.env.BMS_TEST_AFE ?? "bq769x0";

describe.skipIf(!busEnv || chip !== "bq76952")("bq76952 on real hardware (BMS_TEST_I2C_BUS)", () => {
  it("identifies the chip and reads plausible cells", async () => {
    const bus = await openI2cBus(Number(busEnv), { timeoutMs: 500 });
    try {
      const driver = await createBq76952Driver(bus, {
        cellsConnected: Number(process.env.BMS_TEST_CELLS ?? 16),
        address: Number(process.env.BMS_TEST_I2C_ADDRESS ?? 0x08),
        crc: (process.env.BMS_TEST_CRC ?? "0") !== "0",
        senseResistorMilliOhm: Number(process.env.BMS_TEST_SHUNT_MOHM ?? 1),
        clock: new RealClock(),
        logger: createLogger("hil", "info"),
      });
      const s = await driver.read();
      for (const mv of s.cellVoltagesMv) {
        expect(mv).toBeGreaterThan(1000);
        expect(mv).toBeLessThan(5000);
      }
      expect(driver.busStats.failures).toBe(0);
      console.log(JSON.stringify({ sample: s, busStats: driver.busStats }));
    } finally {
      await bus.close();
    }
  });
});

describe.skipIf(!busEnv || chip !== "bq769x0")("bq769x0 on real hardware (BMS_TEST_I2C_BUS)", () => {
  it("reads plausible cells, current and status", async () => {
    const bus = await openI2cBus(Number(busEnv), { timeoutMs: 500 });
    try {
      const driver = await createBq769x0Driver(bus, {
        variant: (process.env.BMS_TEST_BQ_VARIANT ?? "bq76940") as Bq769x0Variant,
        cellsConnected: Number(process.env.BMS_TEST_CELLS ?? 15),
        address: Number(process.env.BMS_TEST_I2C_ADDRESS ?? 0x08),
        crc: (process.env.BMS_TEST_CRC ?? "1") !== "0",
        senseResistorMilliOhm: Number(process.env.BMS_TEST_SHUNT_MOHM ?? 1),
        clock: new RealClock(),
        logger: createLogger("hil", "info"),
      });
      const s = await driver.read();
      for (const mv of s.cellVoltagesMv) {
        expect(mv).toBeGreaterThan(1000);
        expect(mv).toBeLessThan(5000);
      }
      expect(driver.busStats.failures).toBe(0);
      console.log(JSON.stringify({ sample: s, busStats: driver.busStats, trim: driver.adcTrim }));
    } finally {
      await bus.close();
    }
  });
});
