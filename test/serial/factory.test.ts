import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { createAfeDriver } from "../../src/hal/factory.js";
import { SerialAfeDriver } from "../../src/hal/serial/driver.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";

const example = JSON.parse(readFileSync(new URL("../../examples/serial-sim.json", import.meta.url), "utf8"));

describe("serial driver from config", () => {
  it("examples/serial-sim.json runs the loop through simulated boards on the simulated pack", async () => {
    const config = parseConfig(example);
    const clock = new ManualClock(0);
    const handle = await createAfeDriver(config, { clock, logger: silentLogger });
    expect(handle.driver).toBeInstanceOf(SerialAfeDriver);
    expect(handle.simulation).not.toBeNull();
    expect(handle.driver.capabilities).toMatchObject({ cellCount: 16, temperatureSensorCount: 4 });
    const bms = createBms(config, { clock, logger: silentLogger, driver: handle.driver });
    await bms.start();
    for (let i = 0; i < 4; i++) {
      const snap = await bms.tick();
      expect(snap).not.toBeNull();
      const truth = handle.simulation!.pack.senseVoltagesMv();
      const got = snap!.measurements.cellVoltagesMv;
      expect(got).toHaveLength(16);
      // board ADC noise is 1 mV sigma, truncated at 3 sigma, then rounded
      for (const [i, v] of got.entries()) expect(Math.abs(v - truth[i]!)).toBeLessThanOrEqual(3.5);
      clock.advance(config.loop.periodMs);
    }
    expect((handle.driver as SerialAfeDriver).diagnostics().errors.timeouts).toBe(0);
    await handle.driver.close();
  });

  it("rejects duplicate board addresses with a path", () => {
    const bad = {
      ...example,
      afe: {
        ...example.afe,
        boards: [
          { address: 1, cells: 8 },
          { address: 1, cells: 8 },
        ],
      },
    };
    expect(() => parseConfig(bad)).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", path: "afe.boards.1.address" }),
    );
  });
});
