import { describe, expect, it } from "vitest";
import { BmsError, isBmsError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { crc8 } from "../../src/hal/bq769x0/crc.js";
import { createBq769x0Driver } from "../../src/hal/bq769x0/driver.js";
import { Bq769x0Emulator } from "../../src/hal/bq769x0/emulator.js";
import { REG, STAT } from "../../src/hal/bq769x0/registers.js";
import { ManualClock } from "../../src/time/clock.js";
import { LIMITS, bq769x0Rig } from "./helpers.js";
import { TestPack } from "./pack-double.js";

const lsbMv = (gainCode: number) => (365 + gainCode) / 1000;

describe("bq769x0 driver on the register-level emulator", () => {
  it("waits for the first scan, then reads cells within one ADC step, for several trims", async () => {
    for (const [gainCode, offsetMv] of [
      [0, -25],
      [31, 40],
      [12, -128],
      [7, 127],
    ] as const) {
      const { driver, pack, clock } = await bq769x0Rig({ emulator: { gainCode, offsetMv } });
      expect(clock.nowMs()).toBeGreaterThanOrEqual(800);
      expect(driver.adcTrim).toEqual({ gainUv: 365 + gainCode, offsetMv });
      pack.cellsMv = pack.cellsMv.map((_, i) => 2600 + 70 * i);
      clock.advance(250);
      const s = await driver.read();
      s.cellVoltagesMv.forEach((mv, i) => {
        expect(Math.abs(mv - (2600 + 70 * i))).toBeLessThanOrEqual(lsbMv(gainCode) / 2 + 0.5);
      });
      const sum = pack.cellsMv.reduce((a, b) => a + b, 0);
      expect(Math.abs((s.packVoltageMv ?? 0) - sum)).toBeLessThanOrEqual(4 * lsbMv(gainCode));
    }
  });

  it("maps 3- and 4-cell groups onto the right VC inputs", async () => {
    const r3 = await bq769x0Rig({ variant: "bq76920", cells: 3 });
    r3.pack.cellsMv = [3100, 3200, 3300];
    r3.clock.advance(250);
    expect((await r3.driver.read()).cellVoltagesMv.map((v) => Math.round(v / 10) * 10)).toEqual([
      3100, 3200, 3300,
    ]);
    // The shorted inputs VC3/VC4 read about 0 V in the chip.
    expect((r3.emu.peek(REG.VC1_HI + 4) << 8) | r3.emu.peek(REG.VC1_HI + 5)).toBe(0);
    const r9 = await bq769x0Rig({ variant: "bq76940", cells: 9 });
    r9.pack.cellsMv = r9.pack.cellsMv.map((_, i) => 3000 + 10 * i);
    r9.clock.advance(250);
    const s = await r9.driver.read();
    expect(s.cellVoltagesMv.map((v) => Math.round(v / 10) * 10)).toEqual(r9.pack.cellsMv);
  });

  it("reads the coulomb counter as signed current and acknowledges CC_READY", async () => {
    const { driver, pack, clock, emu } = await bq769x0Rig();
    for (const ma of [-12_000, 7_500, -150, 0]) {
      pack.current = ma;
      // The counter reports the last complete 250 ms window.
      clock.advance(500);
      const s = await driver.read();
      expect(Math.abs((s.packCurrentMa ?? Number.NaN) - ma)).toBeLessThanOrEqual(8.44);
      expect(emu.peek(REG.SYS_STAT) & STAT.CC_READY).toBe(0);
    }
  });

  it("reads thermistors through the NTC divider", async () => {
    const { driver, pack, clock } = await bq769x0Rig();
    pack.tempsDeciC = [250, 452, -103];
    clock.advance(2000);
    const s = await driver.read();
    s.temperaturesDeciC.forEach((t, i) => {
      expect(Math.abs((t ?? Number.NaN) - (pack.tempsDeciC[i] ?? 0))).toBeLessThanOrEqual(2);
    });
    expect(s.temperaturesDeciC).toHaveLength(3);
  });

  it("latches OV after its delay, opens CHG only, ignores CHG-on while latched, and clears by write-1", async () => {
    const { driver, pack, clock } = await bq769x0Rig();
    const applied = await driver.configure(LIMITS);
    expect(applied.applied.cellOvDelayMs).toBe(1000);
    await driver.setFets({ chg: true, dsg: true });
    expect(pack.fetState).toEqual({ chg: true, dsg: true });
    pack.cellsMv[7] = 3700;
    clock.advance(500);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    clock.advance(600);
    let s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "cell_ov", source: "OV" }]);
    expect(s.fets).toEqual({ chg: false, dsg: true });
    expect(pack.fetState).toEqual({ chg: false, dsg: true });
    await driver.setFets({ chg: true, dsg: true });
    expect((await driver.read()).fets.chg).toBe(false);
    // Cleared while the condition persists: latches again after a full delay.
    await driver.clearFaults(["cell_ov"]);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    clock.advance(1100);
    expect((await driver.read()).hardwareFaults.map((f) => f.code)).toEqual(["cell_ov"]);
    pack.cellsMv[7] = 3400;
    await driver.clearFaults(["cell_uv"]);
    expect((await driver.read()).hardwareFaults.map((f) => f.code)).toEqual(["cell_ov"]);
    await driver.clearFaults(["cell_ov"]);
    clock.advance(3000);
    await driver.setFets({ chg: true, dsg: true });
    s = await driver.read();
    expect(s.hardwareFaults).toEqual([]);
    expect(s.fets).toEqual({ chg: true, dsg: true });
  });

  it("latches SCD and OCD from the shunt voltage and opens DSG", async () => {
    const { driver, pack, clock } = await bq769x0Rig();
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    pack.current = -60_000; // above OCD (50 A → 50 mV at 1 mΩ), below SCD
    clock.advance(250);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    clock.advance(250);
    let s = await driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toEqual(["oc_discharge"]);
    expect(s.fets).toEqual({ chg: true, dsg: false });
    await driver.clearFaults(["oc_discharge"]);
    pack.current = -150_000;
    clock.advance(1);
    s = await driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toContain("short_circuit");
    // A charge current never trips the discharge comparators.
    await driver.clearFaults(["short_circuit", "oc_discharge"]);
    pack.current = 150_000;
    clock.advance(2000);
    expect((await driver.read()).hardwareFaults).toEqual([]);
  });

  it("trips UV on a low cell but never on the shorted inputs of a partial group", async () => {
    const { driver, pack, clock } = await bq769x0Rig({ variant: "bq76920", cells: 3 });
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    clock.advance(5000);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    pack.cellsMv[1] = 2400;
    clock.advance(1100);
    const s = await driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toEqual(["cell_uv"]);
    expect(s.fets).toEqual({ chg: true, dsg: false });
  });

  it("reports DEVICE_XREADY as a sensor fault with both FETs and all bleeders off", async () => {
    const { driver, pack, emu } = await bq769x0Rig();
    await driver.setFets({ chg: true, dsg: true });
    await driver.setBalancing([0, 2]);
    emu.injectXready();
    const s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "sensor_fault", source: "DEVICE_XREADY" }]);
    expect(s.fets).toEqual({ chg: false, dsg: false });
    expect(s.balancingCells).toEqual([]);
    expect(pack.bleeders).toEqual([]);
  });

  it("keeps the FET state the chip already had when a host restarts", async () => {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = new TestPack(15);
    const emu = new Bq769x0Emulator({
      pack,
      clock,
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 1,
    });
    const opts = {
      variant: "bq76940" as const,
      cellsConnected: 15,
      senseResistorMilliOhm: 1,
      clock,
      logger: silentLogger,
    };
    const first = await createBq769x0Driver(emu, opts);
    await first.setFets({ chg: false, dsg: true });
    const logged = pack.fetLog.length;
    const second = await createBq769x0Driver(emu, opts);
    expect((await second.read()).fets).toEqual({ chg: false, dsg: true });
    // The discharge path never opened during the second start-up.
    expect(pack.fetLog.slice(logged - 1).every((f) => f.dsg)).toBe(true);
  });

  it("fails start-up with a clear AFE_COMMS error when CRC framing or address is wrong", async () => {
    await expect(bq769x0Rig({ crc: false, driverCrc: true })).rejects.toMatchObject({ code: "AFE_COMMS" });
    await expect(bq769x0Rig({ crc: true, driverCrc: false })).rejects.toMatchObject({ code: "AFE_COMMS" });
    await expect(bq769x0Rig({ emulator: { address: 0x18 } })).rejects.toThrow(/answering as configured/);
    // A non-CRC part with a non-CRC driver works.
    const r = await bq769x0Rig({ crc: false });
    r.clock.advance(250);
    expect((await r.driver.read()).cellVoltagesMv[0]).toBeCloseTo(3300, -1);
  });

  it("enters SHIP on the SHUT_A/SHUT_B sequence and stops answering until booted", async () => {
    const { driver, emu, pack, clock } = await bq769x0Rig();
    await driver.setFets({ chg: true, dsg: true });
    for (const v of [0x18, 0x19, 0x1a])
      await emu.writeI2cBlock(0x08, REG.SYS_CTRL1, 2, crcPair(REG.SYS_CTRL1, v));
    expect(emu.shipMode).toBe(true);
    expect(pack.fetState).toEqual({ chg: false, dsg: false });
    await expect(driver.read()).rejects.toMatchObject({ code: "BUS_NACK" });
    emu.boot();
    clock.advance(1000);
    expect((await driver.read()).fets).toEqual({ chg: false, dsg: false });
  });
});

function crcPair(reg: number, v: number): Buffer {
  return Buffer.from([v, crc8([0x10, reg, v])]);
}

describe("bq769x0 wire format", () => {
  it("sends the datasheet bytes for SYS_CTRL2 = 0x40 (CRC 0x24)", async () => {
    const { driver, calls } = await bq769x0Rig();
    calls.length = 0;
    await driver.setFets({ chg: false, dsg: false });
    expect(calls).toEqual([{ op: "writeI2cBlock", command: 0x05, bytes: [0x40, 0x24] }]);
  });

  it("never splits a HI/LO pair across transactions", async () => {
    const { driver, calls, clock } = await bq769x0Rig();
    calls.length = 0;
    clock.advance(250);
    await driver.read();
    const reads = calls.filter((c) => c.op === "readI2cBlock" && c.command >= REG.VC1_HI && c.command < 0x34);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    for (const r of reads) {
      expect((r.command - REG.VC1_HI) % 2).toBe(0);
      expect(((r.bytes[0] ?? 0) / 2) % 2).toBe(0); // data bytes (wire/2) even
    }
  });

  it("re-sends the register pointer on every retry", async () => {
    const { driver, calls, emu } = await bq769x0Rig();
    emu.injectNackBurst(2);
    calls.length = 0;
    await driver.read();
    expect(calls.slice(0, 3).map((c) => [c.op, c.command])).toEqual([
      ["readI2cBlock", REG.SYS_STAT],
      ["readI2cBlock", REG.SYS_STAT],
      ["readI2cBlock", REG.SYS_STAT],
    ]);
    expect(calls.some((c) => c.op === "i2cRead")).toBe(false);
    expect(driver.busStats.nacks).toBe(2);
    expect(driver.busStats.retries).toBe(2);
  });
});

describe("bq769x0 bus faults", () => {
  it("rides out 1 % corrupted CRC bytes with no false trip, counting every one", async () => {
    const { driver, pack, clock, emu } = await bq769x0Rig();
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    emu.setCrcErrorRate(0.01);
    pack.cellsMv = pack.cellsMv.map((_, i) => 3300 + 10 * i);
    pack.current = -5000;
    for (let i = 0; i < 1500; i++) {
      clock.advance(250);
      const s = await driver.read();
      expect(s.hardwareFaults).toEqual([]);
      expect(Math.max(...s.cellVoltagesMv)).toBeLessThan(3300 + 140 + 2);
      expect(Math.min(...s.cellVoltagesMv)).toBeGreaterThan(3300 - 2);
      expect(s.fets).toEqual({ chg: true, dsg: true });
      if (i % 10 === 0) await driver.setFets({ chg: true, dsg: true });
    }
    const st = driver.busStats;
    expect(emu.injected.corruptedCrc).toBeGreaterThan(20);
    expect(st.crcErrors + st.nacks).toBe(emu.injected.corruptedCrc);
    expect(st.failures).toBe(0);
  });

  it("gives up after its attempts on a long NACK burst with BUS_NACK, then recovers", async () => {
    const { driver, emu } = await bq769x0Rig();
    emu.injectNackBurst(50);
    await expect(driver.read()).rejects.toMatchObject({ code: "BUS_NACK" });
    expect(driver.busStats.failures).toBe(1);
    emu.injectNackBurst(0);
    await expect(driver.read()).resolves.toBeDefined();
  });

  it("throws BUS_TIMEOUT at once on a stuck bus, without retrying, and recovers when released", async () => {
    const { driver, emu } = await bq769x0Rig();
    emu.setStuck(true);
    const before = driver.busStats.transactions;
    const err = await driver.read().catch((e: unknown) => e);
    expect(isBmsError(err, "BUS_TIMEOUT")).toBe(true);
    expect(driver.busStats.transactions - before).toBe(1);
    await expect(driver.setFets({ chg: false, dsg: false })).rejects.toBeInstanceOf(BmsError);
    emu.setStuck(false);
    await expect(driver.read()).resolves.toBeDefined();
  });

  it("answers with NACKs while the pack reports the chip unreachable", async () => {
    const { driver, pack } = await bq769x0Rig();
    pack.comms = false;
    await expect(driver.read()).rejects.toMatchObject({ code: "BUS_NACK" });
    pack.comms = true;
    await expect(driver.read()).resolves.toBeDefined();
  });
});

describe("bq769x0 external ALERT override", () => {
  it("latches OVRD_ALERT as a sensor fault with both FETs off, cleared by write-1", async () => {
    const { driver, emu } = await bq769x0Rig();
    const edges: boolean[] = [];
    emu.onAlert((high) => edges.push(high));
    await driver.setFets({ chg: true, dsg: true });
    emu.injectOverrideAlert();
    const s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "sensor_fault", source: "OVRD_ALERT" }]);
    expect(s.fets).toEqual({ chg: false, dsg: false });
    await driver.clearFaults(["sensor_fault"]);
    await driver.setFets({ chg: true, dsg: true });
    expect((await driver.read()).fets).toEqual({ chg: true, dsg: true });
    expect(edges[0]).toBe(true);
    expect(emu.peek(REG.SYS_STAT) & 0x3f).toBe(0);
  });
});

describe("bq769x0 emulator ADC noise", () => {
  it("adds seeded Gaussian noise of the configured σ to cell conversions", async () => {
    const { driver, clock } = await bq769x0Rig({ emulator: { adcNoiseMv: 2 } });
    const xs: number[] = [];
    for (let i = 0; i < 200; i++) {
      clock.advance(250);
      xs.push((await driver.read()).cellVoltagesMv[3] ?? 0);
    }
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 3300)).toBeLessThan(0.6);
    expect(sd).toBeGreaterThan(1.5);
    expect(sd).toBeLessThan(2.6);
  });
});
