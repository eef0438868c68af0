/**
 * Through the real loop: the plan reaches the driver, every command obeys the declared
 * limits, and a protection trip switches the bleeders off.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import type { AfeDriver, BalancingCapabilities, Sample } from "../../src/hal/afe.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";
import { BQ769X0, LFP, violation } from "./helpers.js";

function fakeDriver(clock: ManualClock, caps: BalancingCapabilities) {
  const state = {
    cellsMv: [3420, 3455, 3450, 3440, 3420, 3460, 3458, 3421, 3420, 3420, 3447, 3446, 3420, 3420, 3441, 3420],
    currentMa: 2000,
    bleeding: [] as readonly number[],
    commands: [] as (readonly number[])[],
  };
  const driver: AfeDriver = {
    capabilities: {
      model: "fake",
      cellCount: 16,
      temperatureSensorCount: 2,
      measuresCurrent: true,
      measuresPackVoltage: true,
      measuresBoardTemp: true,
      balancing: caps,
      hardwareProtections: [],
      controlsFets: true,
    },
    configure: async () => ({ applied: {}, notes: [] }),
    read: async (): Promise<Sample> => ({
      timestampMs: clock.nowMs(),
      cellVoltagesMv: [...state.cellsMv],
      packVoltageMv: state.cellsMv.reduce((a, b) => a + b, 0),
      packCurrentMa: state.currentMa,
      temperaturesDeciC: [250, 260],
      boardTempDeciC: 320,
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: state.bleeding,
    }),
    setFets: async () => {},
    setBalancing: async (cells) => {
      state.bleeding = [...cells];
      state.commands.push([...cells]);
    },
    clearFaults: async () => {},
    close: async () => {},
  };
  return { driver, state };
}

describe("balancing through the loop", () => {
  it("commands only masks the driver allows, and stops on an over-voltage trip", async () => {
    const clock = new ManualClock(0);
    const { driver, state } = fakeDriver(clock, BQ769X0);
    const bms = createBms(LFP, { clock, logger: silentLogger, driver });
    await bms.start();
    for (let k = 0; k < 20; k++) {
      await bms.tick();
      clock.advance(250);
    }
    const snap = bms.snapshot!;
    expect(snap.balance.state).toBe("bleeding");
    expect(state.bleeding.length).toBeGreaterThan(1);
    for (const c of state.commands) expect(violation(c, BQ769X0, LFP.balance.maxSimultaneous)).toBeNull();
    expect(snap.balance.cells).toEqual(state.bleeding);

    state.cellsMv[5] = 3700; // above the LFP OV trip (3650), which trips after its 2 s delay
    const delayTicks = LFP.protection.cellOv.trip!.delayMs / 250;
    for (let k = 0; k <= delayTicks; k++) {
      await bms.tick();
      clock.advance(250);
    }
    expect(bms.snapshot!.protection.faults.some((f) => f.code === "cell_ov" && f.level === "trip")).toBe(
      true,
    );
    expect(bms.snapshot!.balance.state).toBe("blocked");
    expect(state.bleeding).toEqual([]);
  });

  it("a driver without balancing gets no bleeding command but an empty mask", async () => {
    const clock = new ManualClock(0);
    const { driver, state } = fakeDriver(clock, BQ769X0);
    const noBal = { ...driver, capabilities: { ...driver.capabilities, balancing: null } };
    const bms = createBms(LFP, { clock, logger: silentLogger, driver: noBal });
    await bms.start();
    await bms.tick();
    expect(bms.snapshot!.balance.state).toBe("unsupported");
    expect(state.commands.every((c) => c.length === 0)).toBe(true);
  });
});
