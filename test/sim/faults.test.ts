import { describe, expect, it } from "vitest";
import { hardwareLimitsFromConfig } from "../../src/bms.js";
import { parseConfig } from "../../src/config/schema.js";
import { isBmsError } from "../../src/core/errors.js";
import { goTo, makeSim, mean, NO_SPREAD } from "./helpers.js";

const limits = (cells: number) => hardwareLimitsFromConfig(parseConfig({ pack: { cellsInSeries: cells } }));

describe("fault injection", () => {
  it("charger runaway: the charger ignores the BMS's CVL and drives the cells past it", () => {
    const { sim, clock } = makeSim({
      afe: { initialSocPct: 97, spread: NO_SPREAD, hardwareProtection: false },
    });
    sim.pack.setFets({ chg: true, dsg: true });
    sim.setBmsLimits({
      cvlMv: 4 * 3450,
      cclMa: 20_000,
      dclMa: 1e5,
      cvlBinding: "",
      cclBinding: "",
      dclBinding: "",
    });
    goTo(sim, clock, 3_600_000);
    expect(Math.max(...sim.physics.bank.vTerm)).toBeLessThan(3.451);
    const id = sim.injectFault({ kind: "charger_runaway", cellVoltageMv: 3800 });
    goTo(sim, clock, 3 * 3_600_000);
    expect(sim.physics.packVoltageV).toBeGreaterThan(4 * 3.6);
    expect(Math.max(...sim.physics.bank.vTerm)).toBeGreaterThan(3.6);
    sim.clearFault(id);
    goTo(sim, clock, 3 * 3_600_000 + 1000);
    expect(sim.pack.currentMa()).toBe(0);
  });

  it("over-current: the extra load flows, and the AFE's OCD opens the discharge FET after its delay", async () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 90, mains: false, outageLoadW: 0 } });
    const lim = limits(4);
    await sim.driver.configure(lim);
    await sim.driver.setFets({ chg: true, dsg: true });
    goTo(sim, clock, 1000);
    sim.injectFault({ kind: "overcurrent", currentA: 150 });
    goTo(sim, clock, 1000 + lim.ocDischargeDelayMs - 10);
    expect(sim.pack.currentMa()).toBeCloseTo(-150_000, 0);
    expect(sim.pack.fets().dsg).toBe(true);
    goTo(sim, clock, 1000 + lim.ocDischargeDelayMs + 10);
    expect(sim.pack.fets().dsg).toBe(false);
    expect(sim.pack.currentMa()).toBe(0);
    const s = await sim.driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toContain("oc_discharge");
    // The charge taken is the over-current for exactly the delay.
    expect(-sim.physics.chargeAs).toBeCloseTo((150 * lim.ocDischargeDelayMs) / 1000, 3);
  });

  it("external short: kA flow for exactly the SC delay, then the hardware opens the discharge FET", async () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 90, mains: false, outageLoadW: 0 } });
    const lim = limits(4);
    await sim.driver.configure(lim);
    await sim.driver.setFets({ chg: true, dsg: true });
    goTo(sim, clock, 10_000);
    sim.injectFault({ kind: "short_circuit", resistanceMilliOhm: 5 });
    goTo(sim, clock, 10_001);
    const chargeAs = -sim.physics.chargeAs;
    const peakA = chargeAs / (lim.shortCircuitDelayUs / 1e6);
    expect(peakA).toBeGreaterThan(1000);
    expect(peakA * 1000).toBeGreaterThan(lim.shortCircuitMa);
    expect(sim.pack.fets().dsg).toBe(false);
    const s = await sim.driver.read();
    expect(s.hardwareFaults.map((f) => f.code)).toEqual(["short_circuit"]);
    await sim.driver.clearFaults(["short_circuit"]);
    clock.advanceTo(10_250);
    expect((await sim.driver.read()).hardwareFaults).toEqual([]);
  });

  it("internal leak: the cell loses X A × t of charge while its neighbours do not", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 80, mains: false, spread: NO_SPREAD } });
    sim.injectFault({ kind: "internal_leak", cell: 1, currentA: 2 });
    goTo(sim, clock, 3_600_000);
    const soc = sim.trueSocPct();
    expect(soc[0]! - soc[1]!).toBeCloseTo(2, 2); // 2 Ah of 100 Ah
    expect(sim.physics.bank.tempC[1]!).toBeGreaterThan(sim.physics.bank.tempC[3]! + 0.5);
  });

  it("open sense wire: the channel reads ≈0, the next one both cells, the stack sum is kept", async () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 60, mains: false } });
    clock.advanceTo(250);
    const before = await sim.driver.read();
    sim.injectFault({ kind: "open_wire", cell: 1 });
    clock.advanceTo(500);
    const after = await sim.driver.read();
    expect(after.cellVoltagesMv[1]!).toBeLessThan(10);
    const b = before.cellVoltagesMv;
    expect(after.cellVoltagesMv[2]!).toBeGreaterThan(b[1]! + b[2]! - 15);
    expect(after.cellVoltagesMv[2]!).toBeLessThan(b[1]! + b[2]! + 15);
    expect(sim.pack.senseVoltagesMv().reduce((x, y) => x + y, 0)).toBeCloseTo(
      sim.physics.packVoltageV * 1000,
      3,
    );
  });

  it("thermistors: open and shorted read their rail values, an offset shifts the reading", async () => {
    const { sim, clock } = makeSim({ afe: { temperatureSensors: 3 } });
    sim.injectFault({ kind: "thermistor", sensor: 0, mode: "open" });
    sim.injectFault({ kind: "thermistor", sensor: 1, mode: "short" });
    const healthy = (await sim.driver.read()).temperaturesDeciC[2]!;
    sim.injectFault({ kind: "thermistor", sensor: 2, mode: "offset", offsetDeciC: 300 });
    clock.advanceTo(250);
    const t = (await sim.driver.read()).temperaturesDeciC;
    expect(t[0]).toBe(-400);
    expect(t[1]).toBe(1500);
    expect(t[2]! - healthy).toBeGreaterThan(290);
    expect(t[2]! - healthy).toBeLessThan(310);
  });

  it("hot ambient: the cells follow towards it with their thermal time constant", () => {
    const { sim, clock } = makeSim({ afe: { mains: false } });
    const id = sim.injectFault({ kind: "ambient", tempC: 50 });
    goTo(sim, clock, 2 * 3_600_000);
    const t = mean(sim.physics.bank.tempC);
    expect(t).toBeGreaterThan(35);
    expect(t).toBeLessThan(50);
    sim.clearFault(id);
    expect(sim.environment.effectiveAmbientC()).toBe(25);
  });

  it("comms loss: the AFE does not answer for the duration, then recovers", async () => {
    const { sim, clock } = makeSim();
    const id = sim.injectFault({ kind: "comms_loss" });
    await expect(sim.driver.read()).rejects.toSatisfy((e: unknown) => isBmsError(e, "AFE_COMMS"));
    await expect(sim.driver.setFets({ chg: true, dsg: true })).rejects.toSatisfy((e: unknown) =>
      isBmsError(e, "AFE_COMMS"),
    );
    expect(sim.pack.commsAvailable()).toBe(false);
    sim.clearFault(id);
    clock.advanceTo(250);
    await expect(sim.driver.read()).resolves.toHaveProperty("cellVoltagesMv");
  });

  it("current-sensor offset: the reading shifts, the truth does not", async () => {
    const sensors = { currentNoiseMa: 0, currentOffsetMa: 0, currentGainPct: 0 };
    const { sim, clock } = makeSim({ afe: { mains: false, sensors } });
    clock.advanceTo(250);
    expect((await sim.driver.read()).packCurrentMa).toBe(0);
    sim.injectFault({ kind: "current_offset", offsetA: 0.5 });
    clock.advanceTo(500);
    expect((await sim.driver.read()).packCurrentMa).toBe(500);
    expect(sim.pack.currentMa()).toBe(0);
  });

  it("weak cell: less capacity and more resistance make it fall faster and sag deeper", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 90, mains: false, spread: NO_SPREAD } });
    sim.injectFault({ kind: "weak_cell", cell: 3, capacityFactor: 0.8, resistanceFactor: 2 });
    sim.pack.setFets({ chg: true, dsg: true });
    sim.setCurrentA(-40);
    goTo(sim, clock, 3_600_000);
    const soc = sim.trueSocPct();
    expect(90 - soc[3]!).toBeCloseTo((90 - soc[0]!) / 0.8, 1);
    const v = sim.physics.bank.vTerm;
    expect(v[3]!).toBeLessThan(v[0]! - 0.01);
  });

  it("rejects a fault on a cell or thermistor that does not exist", () => {
    const { sim } = makeSim();
    expect(() => sim.injectFault({ kind: "open_wire", cell: 4 })).toThrow(/cell 4 does not exist/);
    expect(() => sim.injectFault({ kind: "thermistor", sensor: 9, mode: "open" })).toThrow(/thermistor 9/);
  });
});

describe("sensor model", () => {
  it("cells are quantised to the LSB and close to the truth; the current is averaged over the conversion", async () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 60, mains: false, outageLoadW: 0 } });
    await sim.driver.setFets({ chg: true, dsg: true });
    sim.setCurrentA(-20);
    clock.advanceTo(250);
    const s = await sim.driver.read();
    const truth = sim.physics.bank.vTerm;
    s.cellVoltagesMv.forEach((mv, i) => {
      expect(Number.isInteger(mv)).toBe(true);
      expect(Math.abs(mv - truth[i]! * 1000)).toBeLessThan(12);
    });
    expect(Math.abs(s.packCurrentMa! + 20_000)).toBeLessThan(500);
    expect(s.timestampMs).toBe(250);
    // Same conversion period: the same registers.
    expect(await sim.driver.read()).toBe(s);
  });

  it("the current reading is the average over the conversion period (a coulomb counter), stamped with its time", async () => {
    const sensors = { currentNoiseMa: 0, currentOffsetMa: 0, currentGainPct: 0, currentLsbMa: 1 };
    const { sim, clock } = makeSim({ afe: { initialSocPct: 60, mains: false, outageLoadW: 0, sensors } });
    await sim.driver.setFets({ chg: true, dsg: true });
    clock.advanceTo(250);
    await sim.driver.read();
    sim.setCurrentA(-20);
    goTo(sim, clock, 300);
    sim.setCurrentA(-10);
    clock.advanceTo(510);
    const s = await sim.driver.read();
    // Conversion at 500 ms over 250–500 ms: −20 A for 50 ms, then −10 A for 200 ms.
    expect(s.timestampMs).toBe(500);
    expect(s.packCurrentMa).toBe(Math.round(((-20 * 50 - 10 * 200) / 250) * 1000));
  });
});
