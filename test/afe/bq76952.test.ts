import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { createBq76952Driver } from "../../src/hal/bq769x2/driver.js";
import { Bq76952Emulator } from "../../src/hal/bq769x2/emulator.js";
import { Bq769x2Interface } from "../../src/hal/bq769x2/interface.js";
import { CMD, DM, SUBCMD, transferChecksum } from "../../src/hal/bq769x2/registers.js";
import { ManualClock } from "../../src/time/clock.js";
import { LIMITS, spyBus } from "./helpers.js";
import { TestPack } from "./pack-double.js";

async function rig(options: { cells?: number; crc?: boolean; senseMilliOhm?: number } = {}) {
  const cells = options.cells ?? 10;
  const senseResistorMilliOhm = options.senseMilliOhm ?? 0.5;
  const clock = new ManualClock(0, { autoAdvance: true });
  const pack = new TestPack(cells, { cellMv: 3300 });
  const emu = new Bq76952Emulator({
    pack,
    clock,
    cellsConnected: cells,
    senseResistorMilliOhm,
    crc: options.crc ?? false,
  });
  const spy = spyBus(emu);
  const driver = await createBq76952Driver(spy.bus, {
    cellsConnected: cells,
    senseResistorMilliOhm,
    crc: options.crc ?? false,
    maxBalancingCells: 3,
    clock,
    logger: silentLogger,
  });
  return { clock, pack, emu, driver, calls: spy.calls };
}

const subcommandsSent = (calls: { op: string; command: number; bytes: number[] }[], sub: number) =>
  calls.filter(
    (c) =>
      c.op === "writeI2cBlock" &&
      c.command === CMD.SUBCMD_LO &&
      c.bytes[0] === (sub & 0xff) &&
      c.bytes[1] === sub >> 8,
  ).length;

describe("bq76952 wire format", () => {
  it("matches the SDG CRC vectors for a subcommand write and a cell read", async () => {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = new TestPack(16, { cellMv: 0x0b68 });
    const emu = new Bq76952Emulator({ pack, clock, cellsConnected: 16, senseResistorMilliOhm: 1, crc: true });
    const spy = spyBus(emu);
    const io = new Bq769x2Interface(spy.bus, { address: 0x08, crc: true, clock });
    await io.subcommand(SUBCMD.FET_ENABLE);
    expect(spy.calls[0]).toEqual({ op: "writeI2cBlock", command: 0x3e, bytes: [0x22, 0x63, 0x00, 0x00] });
    const wire = Buffer.alloc(4);
    await emu.readI2cBlock(0x08, CMD.CELL1_VOLTAGE, 4, wire);
    expect([...wire]).toEqual([0x68, 0x33, 0x0b, 0x31]);
    expect(await io.readU16(CMD.CELL1_VOLTAGE)).toBe(0x0b68);
  });

  it("computes the TRM data-memory checksum example", () => {
    // Cell 1 Gain (0x9180) = 0x307A: checksum 0x44, length 6.
    expect(transferChecksum(0x9180, [0x7a, 0x30])).toBe(0x44);
  });
});

describe("bq76952 driver on the emulator", () => {
  it("identifies the chip and writes the board settings in one CONFIG_UPDATE", async () => {
    const { emu, driver, calls, pack } = await rig();
    expect(emu.setting(DM.VCELL_MODE.addr, 2)).toBe(0x81ff); // cells on VC1–VC9 and VC16
    expect(emu.setting(DM.CB_MAX_CELLS.addr, 1)).toBe(3);
    expect(emu.setting(DM.TS2_CONFIG.addr, 1)).toBe(0x07);
    expect(emu.inConfigUpdate).toBe(false);
    expect(subcommandsSent(calls, SUBCMD.SET_CFGUPDATE)).toBe(1);
    expect(pack.fetState).toEqual({ chg: false, dsg: false });
    expect(driver.capabilities.balancing).toMatchObject({ adjacentAllowed: false, maxSimultaneous: 3 });
  });

  it("reads cells on the wired inputs, calibrated current, stack voltage and temperatures", async () => {
    const { pack, driver, clock } = await rig();
    pack.cellsMv = pack.cellsMv.map((_, i) => 3200 + 11 * i);
    pack.current = -23_456;
    pack.tempsDeciC = [215, 333, -50];
    pack.dieDeciC = 412;
    clock.advance(250);
    const s = await driver.read();
    expect(s.cellVoltagesMv).toEqual(pack.cellsMv);
    expect(Math.abs((s.packCurrentMa ?? 0) - pack.current)).toBeLessThanOrEqual(10);
    const sum = pack.cellsMv.reduce((a, b) => a + b, 0);
    expect(Math.abs((s.packVoltageMv ?? 0) - sum)).toBeLessThanOrEqual(10);
    s.temperaturesDeciC.forEach((t, i) => {
      expect(t).toBe(pack.tempsDeciC[i]);
    });
    expect(s.boardTempDeciC).toBe(412);
  });

  it("applies limits rounded to the safe side and skips CONFIG_UPDATE when they are already set", async () => {
    const { driver, emu, calls } = await rig();
    const r = await driver.configure(LIMITS);
    expect(r.applied.cellOvMv).toBeLessThanOrEqual(LIMITS.cellOvMv);
    expect(LIMITS.cellOvMv - (r.applied.cellOvMv ?? 0)).toBeLessThan(50.6);
    expect(r.applied.cellUvMv).toBeGreaterThanOrEqual(LIMITS.cellUvMv);
    expect(r.applied.ocChargeMa).toBeLessThanOrEqual(LIMITS.ocChargeMa);
    expect(r.applied.shortCircuitMa).toBeLessThanOrEqual(LIMITS.shortCircuitMa);
    expect(r.applied.cellOvDelayMs).toBeLessThanOrEqual(LIMITS.cellOvDelayMs);
    expect(emu.setting(DM.COV_THRESHOLD.addr, 1)).toBe(Math.floor(3650 / 50.6));
    expect(r.notes.some((n) => n.startsWith("cell OV 3650 mV →"))).toBe(true);
    const before = subcommandsSent(calls, SUBCMD.SET_CFGUPDATE);
    const again = await driver.configure(LIMITS);
    expect(again.applied).toEqual(r.applied);
    expect(subcommandsSent(calls, SUBCMD.SET_CFGUPDATE)).toBe(before);
  });

  it("raises COV after its delay, opens CHG, and recovers by itself", async () => {
    const { driver, pack, clock } = await rig();
    await driver.configure({ ...LIMITS, cellOvDelayMs: 500 });
    await driver.setFets({ chg: true, dsg: true });
    expect(pack.fetState).toEqual({ chg: true, dsg: true });
    pack.cellsMv[9] = 3700;
    clock.advance(300);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    clock.advance(300);
    let s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "cell_ov", source: "SS_A.COV" }]);
    expect(s.fets).toEqual({ chg: false, dsg: true });
    // Re-asserting the same host state sends nothing that could pulse a FET.
    await driver.setFets({ chg: true, dsg: true });
    expect((await driver.read()).fets.chg).toBe(false);
    pack.cellsMv[9] = 3400;
    clock.advance(3100);
    s = await driver.read();
    expect(s.hardwareFaults).toEqual([]);
    expect(s.fets).toEqual({ chg: true, dsg: true });
  });

  it("raises SCD on a discharge short and never on the shorted unused inputs", async () => {
    const { driver, pack, clock } = await rig();
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    clock.advance(5000);
    expect((await driver.read()).hardwareFaults).toEqual([]);
    pack.current = -250_000; // 125 mV at 0.5 mΩ, above the 50 mV SCD step
    clock.advance(1);
    const s = await driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toContain("short_circuit");
    expect(s.fets.dsg).toBe(false);
  });

  it("switches FETs with host-off overrides only on real changes", async () => {
    const { driver, pack, calls } = await rig();
    for (const want of [
      { chg: true, dsg: true },
      { chg: false, dsg: true },
      { chg: false, dsg: false },
      { chg: true, dsg: false },
      { chg: true, dsg: true },
    ]) {
      await driver.setFets(want);
      expect(pack.fetState).toEqual(want);
    }
    const n = calls.length;
    await driver.setFets({ chg: true, dsg: true });
    expect(calls.length).toBe(n);
  });

  it("balances through CB_ACTIVE_CELLS, refusing neighbours and too many bleeders", async () => {
    const { driver, pack } = await rig();
    await driver.setBalancing([0, 2, 9]);
    expect(pack.bleeders).toEqual([0, 2, 9]);
    expect((await driver.read()).balancingCells).toEqual([0, 2, 9]);
    await expect(driver.setBalancing([3, 4])).rejects.toMatchObject({ code: "INTERNAL" });
    await expect(driver.setBalancing([0, 2, 4, 6])).rejects.toMatchObject({ code: "INTERNAL" });
    expect(pack.bleeders).toEqual([0, 2, 9]);
    await driver.setBalancing([]);
    expect(pack.bleeders).toEqual([]);
  });

  it("ignores data-memory writes outside CONFIG_UPDATE and writes with a bad checksum", async () => {
    const clock = new ManualClock(0, { autoAdvance: true });
    const emu = new Bq76952Emulator({
      pack: new TestPack(16),
      clock,
      cellsConnected: 16,
      senseResistorMilliOhm: 1,
    });
    const io = new Bq769x2Interface(emu, { address: 0x08, crc: false, clock });
    await io.writeSetting(DM.COV_THRESHOLD, 70);
    expect(emu.setting(DM.COV_THRESHOLD.addr, 1)).toBe(86);
    expect(emu.rejectedWrites.outsideConfigUpdate).toBe(1);
    await io.subcommand(SUBCMD.SET_CFGUPDATE);
    clock.advance(3);
    await io.readU16(CMD.BATTERY_STATUS);
    await emu.writeI2cBlock(0x08, CMD.SUBCMD_LO, 2, Buffer.from([0x78, 0x92]));
    await emu.writeI2cBlock(0x08, CMD.TRANSFER_BUFFER, 1, Buffer.from([70]));
    await emu.writeI2cBlock(0x08, CMD.BUFFER_CHECKSUM, 2, Buffer.from([0x00, 5]));
    expect(emu.setting(DM.COV_THRESHOLD.addr, 1)).toBe(86);
    expect(emu.rejectedWrites.badChecksum).toBe(1);
    await io.writeSetting(DM.COV_THRESHOLD, 70);
    expect(emu.setting(DM.COV_THRESHOLD.addr, 1)).toBe(70);
  });

  it("rides out 1 % corrupted CRC bytes in CRC mode and counts them", async () => {
    const { driver, emu, pack, clock } = await rig({ crc: true });
    await driver.configure(LIMITS);
    await driver.setFets({ chg: true, dsg: true });
    emu.setCrcErrorRate(0.01);
    for (let i = 0; i < 600; i++) {
      clock.advance(250);
      const s = await driver.read();
      expect(s.hardwareFaults).toEqual([]);
      expect(s.cellVoltagesMv).toEqual(pack.cellsMv);
    }
    const st = driver.busStats;
    expect(emu.injected.corruptedCrc).toBeGreaterThan(10);
    expect(st.crcErrors + st.nacks).toBe(emu.injected.corruptedCrc);
    expect(st.failures).toBe(0);
  });

  it("throws BUS_TIMEOUT on a stuck bus and a clear error when no bq76952 answers", async () => {
    const { driver, emu } = await rig();
    emu.setStuck(true);
    await expect(driver.read()).rejects.toMatchObject({ code: "BUS_TIMEOUT" });
    emu.setStuck(false);
    await expect(driver.read()).resolves.toBeDefined();
    const clock = new ManualClock(0, { autoAdvance: true });
    const other = new Bq76952Emulator({
      pack: new TestPack(16),
      clock,
      cellsConnected: 16,
      senseResistorMilliOhm: 1,
    });
    await expect(
      createBq76952Driver(other, {
        cellsConnected: 16,
        senseResistorMilliOhm: 1,
        address: 0x10,
        clock,
        logger: silentLogger,
      }),
    ).rejects.toMatchObject({ code: "AFE_COMMS" });
  });
});
