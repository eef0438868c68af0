import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { openBq769x0 } from "../../src/hal/bq769x0/open.js";
import { createAfeDriver } from "../../src/hal/factory.js";
import { ManualClock } from "../../src/time/clock.js";
import type { BmsError } from "../../src/core/errors.js";
import type { AfeDriver } from "../../src/hal/afe.js";
import { createBms } from "../../src/wiring.js";
import { TestPack } from "./pack-double.js";

const example = (name: string) =>
  parseConfig(JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8")));

describe("the whole BMS on emulated bq76940 chips", () => {
  it("runs examples/bq76940-sim.json: valid readings that follow the simulated pack", async () => {
    const config = example("bq76940-sim.json");
    const clock = new ManualClock(0, { autoAdvance: true });
    const { driver, simulation } = await createAfeDriver(config, { clock, logger: silentLogger });
    expect(simulation).not.toBeNull();
    const bms = createBms(config, { clock, logger: silentLogger, driver });
    await bms.start();
    expect(bms.appliedLimits?.applied.cellOvMv).toBeLessThanOrEqual(config.protection.cellOv.trip!.limit);
    for (let i = 0; i < 40; i++) {
      clock.advance(250);
      await bms.tick();
    }
    const snap = bms.snapshot!;
    expect(snap.measurements.valid).toBe(true);
    const truth = simulation!.pack.senseVoltagesMv();
    snap.measurements.cellVoltagesMv.forEach((mv, i) => {
      expect(Math.abs(mv - (truth[i] ?? 0))).toBeLessThan(3);
    });
    expect(snap.measurements.hardwareFaults).toEqual([]);
    expect(bms.loopStats.tickErrors).toBe(0);
  });

  it("runs a 45-cell string on three stacked chips", async () => {
    const config = parseConfig({ pack: { cellsInSeries: 45, chemistry: "lfp" }, afe: { kind: "bq769x0" } });
    const clock = new ManualClock(0, { autoAdvance: true });
    const { driver, simulation } = await createAfeDriver(config, { clock, logger: silentLogger });
    expect(driver.capabilities.cellCount).toBe(45);
    const bms = createBms(config, { clock, logger: silentLogger, driver });
    await bms.start();
    for (let i = 0; i < 12; i++) {
      clock.advance(250);
      await bms.tick();
    }
    const cells = bms.snapshot!.measurements.cellVoltagesMv;
    expect(cells).toHaveLength(45);
    const truth = simulation!.pack.senseVoltagesMv();
    expect(Math.max(...cells.map((mv, i) => Math.abs(mv - (truth[i] ?? 0))))).toBeLessThan(3);
  });
});

describe("a stuck bus under the loop", () => {
  it("fails every read at once as a bus error the monitor sees, without stalling the loop", async () => {
    const config = parseConfig({ pack: { cellsInSeries: 15, chemistry: "lfp" }, afe: { kind: "bq769x0" } });
    if (config.afe.kind !== "bq769x0") throw new Error("unreachable");
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = new TestPack(15, { cellMv: 3300 });
    const { driver, emulators } = await openBq769x0(config.afe, { clock, logger: silentLogger, pack });
    // Watch what the loop hands the monitor (the read's error), whatever protection then does.
    const seen: (BmsError | null)[] = [];
    const watched: AfeDriver = {
      capabilities: driver.capabilities,
      configure: (l) => driver.configure(l),
      read: async (f) => {
        try {
          const s = await driver.read(f);
          seen.push(null);
          return s;
        } catch (err) {
          seen.push(err as BmsError);
          throw err;
        }
      },
      setFets: (f) => driver.setFets(f),
      setBalancing: (c) => driver.setBalancing(c),
      clearFaults: (c) => driver.clearFaults(c),
      close: () => driver.close(),
    };
    const bms = createBms(config, { clock, logger: silentLogger, driver: watched });
    await bms.start();
    for (let i = 0; i < 8; i++) {
      clock.advance(250);
      await bms.tick();
    }
    expect(seen.every((e) => e === null)).toBe(true);
    emulators[0]!.setStuck(true);
    seen.length = 0;
    const ticks = Math.ceil(config.protection.afeCommsDelayMs / config.loop.periodMs) + 1;
    for (let i = 0; i < ticks; i++) {
      clock.advance(250);
      await bms.tick(); // resolves: a stuck bus never hangs the loop
    }
    // Every tick within the afe_comms delay handed the monitor a bus timeout (its readError).
    expect(seen).toHaveLength(ticks);
    for (const e of seen) expect(e?.code).toBe("BUS_TIMEOUT");
    expect(emulators[0]!.injected.timeouts).toBeGreaterThanOrEqual(ticks);
    emulators[0]!.setStuck(false);
    clock.advance(250);
    await bms.tick();
    expect(seen.at(-1)).toBeNull();
  });
});

describe("the whole BMS on an emulated bq76952", () => {
  it("runs a 16-cell pack with valid readings that follow the simulated pack", async () => {
    const config = parseConfig({ pack: { cellsInSeries: 16, chemistry: "lfp" }, afe: { kind: "bq76952" } });
    const clock = new ManualClock(0, { autoAdvance: true });
    const { driver, simulation } = await createAfeDriver(config, { clock, logger: silentLogger });
    const bms = createBms(config, { clock, logger: silentLogger, driver });
    await bms.start();
    for (let i = 0; i < 20; i++) {
      clock.advance(250);
      await bms.tick();
    }
    const snap = bms.snapshot!;
    expect(snap.measurements.valid).toBe(true);
    const truth = simulation!.pack.senseVoltagesMv();
    snap.measurements.cellVoltagesMv.forEach((mv, i) => {
      expect(Math.abs(mv - (truth[i] ?? 0))).toBeLessThanOrEqual(1);
    });
    expect(bms.loopStats.tickErrors).toBe(0);
  });
});

describe("emulated bq76940 on the full simulated pack", () => {
  it("measures an outage discharge and trips SCD on an injected short, opening DSG in the pack", async () => {
    const config = parseConfig({
      pack: { cellsInSeries: 15, chemistry: "lfp" },
      afe: {
        kind: "bq769x0",
        senseResistorMilliOhm: 0.5,
        simulation: { mains: false, outageLoadW: 2400, realTime: false },
      },
    });
    const clock = new ManualClock(0, { autoAdvance: true });
    const { driver, simulation } = await createAfeDriver(config, { clock, logger: silentLogger });
    const sim = simulation!;
    const bms = createBms(config, { clock, logger: silentLogger, driver });
    await bms.start();
    for (let i = 0; i < 20; i++) {
      clock.advance(250);
      await bms.tick();
    }
    const m = bms.snapshot!.measurements;
    const truthMa = sim.truth().currentMa;
    expect(truthMa).toBeLessThan(-10_000);
    expect(Math.abs(m.packCurrentMa - truthMa)).toBeLessThan(0.02 * Math.abs(truthMa));
    expect(sim.pack.fets().dsg).toBe(true);
    const chargeBeforeAs = sim.physics.chargeAs;
    sim.injectFault({ kind: "short_circuit", resistanceMilliOhm: 20 });
    clock.advance(250);
    await bms.tick();
    // The comparator acts within one emulator step (10 ms), not one loop period later: a
    // 20 mΩ short on 48 V draws kA, so a whole 250 ms period would take hundreds of As.
    const drawnAs = chargeBeforeAs - sim.physics.chargeAs;
    expect(drawnAs).toBeLessThan(60);
    clock.advance(250);
    const snap = await bms.tick();
    expect(snap?.measurements.hardwareFaults.map((f) => f.code)).toContain("short_circuit");
    expect(sim.pack.fets().dsg).toBe(false);
  });
});
