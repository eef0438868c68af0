import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSerialDriverFromConfig } from "../../src/hal/serial/factory.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";
import { settle } from "./helpers.js";

const example = JSON.parse(readFileSync(new URL("../../examples/serial-sim.json", import.meta.url), "utf8"));

describe("a silent board as the monitor sees it", { timeout: 10_000 }, () => {
  it("board 2's cells become sensor faults; board 1's cells stay good; no board makes the read fail", async () => {
    const config = parseConfig(example);
    const clock = new ManualClock(0);
    const h = await createSerialDriverFromConfig(config, { clock, logger: silentLogger });
    const bms = createBms(config, { clock, logger: silentLogger, driver: h.driver });
    await bms.start();
    const tick = async () => {
      const s = await settle(clock, bms.tick());
      clock.advance(config.loop.periodMs);
      return s;
    };
    for (let i = 0; i < 3; i++) await tick();
    h.boards!.setSilent(2, true);
    let snap = await tick();
    const channels = new Set(snap!.measurements.sensorFaults.map((f) => f.channel));
    for (let c = 8; c < 16; c++) expect(channels.has(`cell:${c}`)).toBe(true);
    for (let c = 0; c < 8; c++) expect(channels.has(`cell:${c}`)).toBe(false);
    expect(snap!.measurements.cellVoltagesMv.slice(0, 8).every(Number.isFinite)).toBe(true);

    h.boards!.setSilent(1, true);
    snap = await tick();
    expect(
      snap!.measurements.sensorFaults.some((f) => f.channel === "afe" && /no board answered/.test(f.detail)),
    ).toBe(true);
    await h.driver.close();
  });
});
