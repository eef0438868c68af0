import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createBq769x0Driver } from "../../src/hal/bq769x0/driver.js";
import { Bq769x0Emulator } from "../../src/hal/bq769x0/emulator.js";
import { busStatsOf, createStackDriver, splitPack } from "../../src/hal/bq769x0/stack.js";
import { ManualClock } from "../../src/time/clock.js";
import { LIMITS, bq769x0Rig } from "./helpers.js";
import { TestPack } from "./pack-double.js";

async function stackRig() {
  const clock = new ManualClock(0, { autoAdvance: true });
  const pack = new TestPack(45, { thermistors: 9 });
  const views = splitPack(
    pack,
    [0, 1, 2].map(() => ({ cells: 15, thermistors: 3 })),
  );
  const chips = [];
  for (const [k, view] of views.entries()) {
    const emu = new Bq769x0Emulator({
      pack: view,
      clock,
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 1,
      offsetMv: k === 1 ? -40 : 12,
      gainCode: 5 + 10 * k,
    });
    chips.push(
      await createBq769x0Driver(emu, {
        variant: "bq76940",
        cellsConnected: 15,
        senseResistorMilliOhm: 1,
        clock,
        logger: silentLogger,
      }),
    );
  }
  return { clock, pack, driver: createStackDriver(chips) };
}

describe("three stacked bq76940 for 45 cells", () => {
  it("reads all cells and thermistors in string order", async () => {
    const { clock, pack, driver } = await stackRig();
    pack.cellsMv = pack.cellsMv.map((_, i) => 3000 + 10 * i);
    pack.tempsDeciC = pack.tempsDeciC.map((_, i) => 200 + 10 * i);
    clock.advance(2000);
    const s = await driver.read();
    expect(driver.capabilities.cellCount).toBe(45);
    expect(driver.capabilities.balancing?.groupSize).toBe(5);
    expect(s.cellVoltagesMv.map((v) => Math.round(v / 10) * 10)).toEqual(pack.cellsMv);
    expect(s.temperaturesDeciC.map((t) => Math.round((t ?? 0) / 10) * 10)).toEqual(pack.tempsDeciC);
    const sum = pack.cellsMv.reduce((a, b) => a + b, 0);
    expect(Math.abs((s.packVoltageMv ?? 0) - sum)).toBeLessThan(15);
  });

  it("offsets bleeders per chip and treats the chips' FETs as in series", async () => {
    const { clock, pack, driver } = await stackRig();
    await driver.setBalancing([0, 2, 16, 44]);
    expect([...pack.bleeders].sort((a, b) => a - b)).toEqual([0, 2, 16, 44]);
    expect((await driver.read()).balancingCells).toEqual([0, 2, 16, 44]);
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    expect(pack.fetState).toEqual({ chg: true, dsg: true });
    pack.cellsMv[40] = 3800; // top chip trips OV
    clock.advance(1500);
    const s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "cell_ov", source: "chip2.OV" }]);
    expect(s.fets).toEqual({ chg: false, dsg: true });
    expect(pack.fetState).toEqual({ chg: false, dsg: true });
  });

  it("reports the weakest applied limit across chips with per-chip notes", async () => {
    const { driver } = await stackRig();
    const r = await driver.configure(LIMITS);
    expect(r.applied.cellOvMv).toBeLessThanOrEqual(LIMITS.cellOvMv);
    expect(r.applied.cellUvMv).toBeGreaterThanOrEqual(LIMITS.cellUvMv);
    expect(r.notes.some((n) => n.startsWith("chip 2: "))).toBe(true);
  });
});

describe("bus counters", () => {
  it("sums the chips' counters and reads a single chip's directly", async () => {
    const { driver } = await stackRig();
    const s = busStatsOf(driver);
    expect(s?.transactions).toBeGreaterThan(0);
    expect(s?.failures).toBe(0);
    const one = await bq769x0Rig();
    one.emu.injectNackBurst(2);
    await one.driver.read();
    expect(busStatsOf(one.driver)).toMatchObject({ nacks: 2, retries: 2 });
  });
});
