/**
 * Hardware-in-the-loop: runs only when BMS_TEST_I2C_BUS names a bus (e.g. `1` for /dev/i2c-1)
 * with a booted bq769x0 on it. Read-only: it never switches FETs or bleeders.
 *   BMS_TEST_BQ_VARIANT (bq76940), BMS_TEST_CELLS (15), BMS_TEST_I2C_ADDRESS (0x08), BMS_TEST_CRC (1)
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { createBq769x0Driver } from "../../src/hal/bq769x0/driver.js";
import type { Bq769x0Variant } from "../../src/hal/bq769x0/registers.js";
import { openI2cBus } from "../../src/hal/node/i2c.js";
import { RealClock } from "../../src/time/clock.js";

const busEnv = process.env.BMS_TEST_I2C_BUS;

describe.skipIf(!busEnv)("bq769x0 on real hardware (BMS_TEST_I2C_BUS)", () => {
  it("reads plausible cells, current and status", async () => {
    const bus = await openI2cBus(Number(busEnv), { timeoutMs: 500 });
    try {
      const driver = await createBq769x0Driver(bus, {
        variant: (process.env.BMS_TEST_BQ_VARIANT ?? "bq76940") as Bq769x0Variant,
        cellsConnected: Number(process.env.BMS_TEST_CELLS ?? 15),
        address: Number(process.env.BMS_TEST_I2C_ADDRESS ?? 0x08),
        crc: (process.env.BMS_TEST_CRC ?? "1") !== "0",
        senseResistorMilliOhm: 1,
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
