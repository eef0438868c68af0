import { describe, expect, it } from "vitest";
import { CELL_PRESETS } from "../../src/config/cells.js";
import { goTo, makeSim, mean, NO_SPREAD } from "./helpers.js";

const LIMITS = (cells: number, cclMa: number) => ({
  cvlMv: 3450 * cells,
  cclMa,
  dclMa: 100_000,
  cvlBinding: "test",
  cclBinding: "test",
  dclBinding: "test",
});

describe("FETs and the body diode", () => {
  it("an open charge FET blocks charging; closing it lets the charger's current in", () => {
    const { sim, clock } = makeSim({
      afe: { initialSocPct: 50, chargerCooperative: false, chargerMaxCurrentA: 20, spread: NO_SPREAD },
    });
    sim.pack.setFets({ chg: false, dsg: true });
    goTo(sim, clock, 10_000);
    expect(sim.pack.currentMa()).toBe(0);
    const soc0 = mean(sim.trueSocPct());
    sim.pack.setFets({ chg: true, dsg: true });
    goTo(sim, clock, 20_000);
    expect(sim.pack.currentMa()).toBeCloseTo(20_000, 3);
    expect(mean(sim.trueSocPct())).toBeGreaterThan(soc0);
  });

  it("an open discharge FET blocks the outage load; an open charge FET still carries it through its body diode", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 80, mains: false, outageLoadW: 1000 } });
    sim.pack.setFets({ chg: true, dsg: false });
    goTo(sim, clock, 5000);
    expect(sim.pack.currentMa()).toBe(0);
    sim.pack.setFets({ chg: false, dsg: true });
    goTo(sim, clock, 10_000);
    const iA = -sim.pack.currentMa() / 1000;
    const vBus = sim.physics.packVoltageV - sim.environment.bodyDiodeV;
    expect(iA).toBeGreaterThan(0);
    expect(iA * vBus).toBeCloseTo(1000, 0);
    // The diode's loss heats the board.
    expect(sim.environment.lastFetHeatW).toBeGreaterThan(0.6 * iA);
  });

  it("a bench current source is blocked in the direction of an open FET", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 50, mains: false } });
    sim.pack.setFets({ chg: false, dsg: true });
    sim.setCurrentA(10);
    goTo(sim, clock, 1000);
    expect(sim.pack.currentMa()).toBe(0);
    sim.setCurrentA(-10);
    goTo(sim, clock, 2000);
    expect(sim.pack.currentMa()).toBeCloseTo(-10_000, 6);
  });
});

describe("UPS environment", () => {
  it("the constant-power load draws P = V·I from the pack", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 70, mains: false, outageLoadW: 800 } });
    sim.pack.setFets({ chg: true, dsg: true });
    for (let t = 1000; t <= 600_000; t += 1000) {
      goTo(sim, clock, t);
      const p = (-sim.pack.currentMa() / 1000) * sim.physics.packVoltageV;
      expect(p).toBeCloseTo(800, 6);
    }
  });

  it("a cooperative charger waits for the BMS's limits, then obeys its CCL; a plain one does not", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 40, chargerMaxCurrentA: 20 } });
    sim.pack.setFets({ chg: true, dsg: true });
    goTo(sim, clock, 5000);
    expect(sim.pack.currentMa()).toBe(0);
    sim.setBmsLimits(LIMITS(4, 5000));
    goTo(sim, clock, 10_000);
    expect(sim.pack.currentMa()).toBeCloseTo(5000, 3);
    sim.setCharger({ cooperative: false });
    goTo(sim, clock, 15_000);
    expect(sim.pack.currentMa()).toBeCloseTo(20_000, 3);
  });

  it("CC/CV: the charger holds its voltage and the current tapers", () => {
    const { sim, clock } = makeSim({
      pack: { chemistry: "nmc" },
      afe: {
        initialSocPct: 85,
        chargerCooperative: false,
        chargerMaxCurrentA: 1.5,
        chargerCellVoltageMv: 4100,
      },
    });
    sim.pack.setFets({ chg: true, dsg: true });
    goTo(sim, clock, 4 * 3_600_000);
    const i = sim.pack.currentMa();
    expect(i).toBeGreaterThan(0);
    expect(i).toBeLessThan(300);
    expect(sim.physics.packVoltageV).toBeCloseTo(4 * 4.1, 2);
  });

  it("replays a current profile row by row, then hands back to the UPS", async () => {
    const { parseCurrentProfileCsv } = await import("../../src/hal/sim/profile.js");
    const { sim, clock } = makeSim({ afe: { initialSocPct: 50, mains: false, outageLoadW: 0 } });
    sim.pack.setFets({ chg: true, dsg: true });
    const profile = parseCurrentProfileCsv("time_s,current_a\n0,-5\n10,3\n25,-8\n", "t.csv");
    goTo(sim, clock, 1000);
    sim.playProfile(profile);
    const seen: number[] = [];
    for (const t of [1500, 10_900, 11_100, 25_900, 26_100, 40_900, 41_100]) {
      goTo(sim, clock, t);
      seen.push(Math.round(sim.pack.currentMa()));
    }
    // The last row lasts as long as the step before it (15 s), then the UPS (0 W load) takes over.
    expect(seen, JSON.stringify(seen)).toEqual([-5000, -5000, 3000, 3000, -8000, -8000, 0]);
    expect(sim.physics.chargeAs).toBeCloseTo(-5 * 10 + 3 * 15 - 8 * 15, 6);
  });
});

describe("cell physics", () => {
  it("LFP hysteresis: after charging the rested voltage sits ≈2M above the discharge branch", () => {
    const base = { afe: { mains: false, spread: NO_SPREAD, sensors: {} } };
    const a = makeSim({ afe: { ...base.afe, initialSocPct: 45 } });
    const b = makeSim({ afe: { ...base.afe, initialSocPct: 55 } });
    for (const [s, i] of [
      [a, 10],
      [b, -10],
    ] as const) {
      s.sim.pack.setFets({ chg: true, dsg: true });
      s.sim.setCurrentA(i);
      goTo(s.sim, s.clock, 1800_000); // 5 Ah
      s.sim.setCurrentA(0);
      goTo(s.sim, s.clock, 1800_000 + 4 * 3_600_000);
    }
    const gapMv = (mean(a.sim.physics.bank.vTerm) - mean(b.sim.physics.bank.vTerm)) * 1000;
    expect(mean(a.sim.trueSocPct())).toBeCloseTo(mean(b.sim.trueSocPct()), 0);
    expect(gapMv).toBeGreaterThan(2 * CELL_PRESETS["lfp-100ah"].hysteresisMv - 3);
    expect(gapMv).toBeLessThan(2 * CELL_PRESETS["lfp-100ah"].hysteresisMv + 3);
  });

  it("resistance follows Arrhenius: the instant drop of a current step at 0 °C is e^(Ea/R·ΔT⁻¹) larger", () => {
    const drop = (tempDeciC: number) => {
      const { sim, clock } = makeSim({
        afe: { initialSocPct: 60, mains: false, ambientDeciC: tempDeciC, spread: NO_SPREAD },
      });
      sim.pack.setFets({ chg: true, dsg: true });
      sim.setCurrentA(0);
      goTo(sim, clock, 1000);
      const v0 = sim.physics.bank.vTerm[0]!;
      sim.setCurrentA(-50);
      goTo(sim, clock, 1001);
      return v0 - sim.physics.bank.vTerm[0]!;
    };
    const ratio = drop(0) / drop(250);
    const expected = Math.exp((25_000 / 8.314462618) * (1 / 273.15 - 1 / 298.15));
    expect(ratio).toBeGreaterThan(expected * 0.97);
    expect(ratio).toBeLessThan(expected * 1.03);
  });

  it("cold derates the usable capacity (LFP: ≈65 % at −10 °C)", () => {
    const deliveredAh = (tempDeciC: number) => {
      const { sim, clock } = makeSim({
        afe: {
          initialSocPct: 100,
          mains: false,
          ambientDeciC: tempDeciC,
          spread: NO_SPREAD,
          hardwareProtection: false,
          maxStepMs: 10_000,
          cellOverrides: { thermalResistanceKPerW: 0.01 },
        },
      });
      sim.pack.setFets({ chg: true, dsg: true });
      sim.setCurrentA(-10);
      let t = 0;
      while (Math.min(...sim.physics.bank.vTerm) > 2.7) {
        t += 10_000;
        goTo(sim, clock, t);
      }
      return -sim.physics.chargeAs / 3600;
    };
    const ratio = deliveredAh(-100) / deliveredAh(250);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(0.72);
  });

  it("self-discharge: 1.5 %/month at 25 °C, doubling per +10 K", () => {
    const lossPct = (tempDeciC: number) => {
      const { sim, clock } = makeSim({
        afe: {
          initialSocPct: 80,
          mains: false,
          ambientDeciC: tempDeciC,
          spread: NO_SPREAD,
          maxStepMs: 10_000,
        },
      });
      goTo(sim, clock, 30 * 86_400_000);
      return 80 - mean(sim.trueSocPct());
    };
    // (At 35 °C the self-discharge's own heat warms the cell a few hundredths of a kelvin.)
    expect(lossPct(250)).toBeCloseTo(1.5, 2);
    expect(lossPct(350)).toBeCloseTo(3.0, 1);
  });

  it("coulombic efficiency: charge in exceeds the stored gain by (1 − η)", () => {
    const { sim, clock } = makeSim({ afe: { initialSocPct: 30, mains: false, spread: NO_SPREAD } });
    sim.pack.setFets({ chg: true, dsg: true });
    sim.setCurrentA(20);
    goTo(sim, clock, 3_600_000);
    const gainAh = ((mean(sim.trueSocPct()) - 30) / 100) * 100;
    const selfDischargeAh = (100 * 0.015) / (30 * 24);
    expect((gainAh + selfDischargeAh) / 20).toBeCloseTo(CELL_PRESETS["lfp-100ah"].coulombicEfficiency, 5);
  });

  it("a bleeder drains its cell by V/R and warms it", () => {
    const { sim, clock } = makeSim({
      afe: { initialSocPct: 60, mains: false, spread: NO_SPREAD, bleedResistorOhm: 10 },
    });
    sim.pack.setBleeders([2]);
    goTo(sim, clock, 3_600_000);
    const soc = sim.trueSocPct();
    const drainedAh = ((soc[0]! - soc[2]!) / 100) * 100;
    const expectAh = sim.physics.bank.vTerm[2]! / 10; // 1 h
    expect(drainedAh).toBeCloseTo(expectAh, 2);
    const t = sim.physics.bank.tempC;
    expect(t[2]!).toBeGreaterThan(t[0]! + 0.1);
    expect(sim.physics.thermal.boardC).toBeGreaterThan(25.1);
  });

  it("lumped thermal: at steady state each cell sits heat × R_th above ambient", () => {
    const { sim, clock } = makeSim({
      afe: {
        initialSocPct: 50,
        mains: false,
        spread: NO_SPREAD,
        cellOverrides: { capacityAh: 1000, thermalCapacityJPerK: 200, thermalResistanceKPerW: 3 },
      },
    });
    sim.pack.setFets({ chg: true, dsg: true });
    sim.setCurrentA(-30);
    goTo(sim, clock, 6000_000);
    const b = sim.physics.bank;
    for (let i = 0; i < 4; i++) expect(b.tempC[i]! - 25).toBeCloseTo(b.heatW[i]! * 3, 1);
    expect(b.tempC[1]! - 25).toBeGreaterThan(1);
  });
});

describe("seeded spread", () => {
  it("the same seed gives the same pack, another seed a different one", () => {
    const a = makeSim({ afe: { seed: 7 } }, 8).sim.trueSocPct();
    const b = makeSim({ afe: { seed: 7 } }, 8).sim.trueSocPct();
    const c = makeSim({ afe: { seed: 8 } }, 8).sim.trueSocPct();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // Initial SOC spread is uniform ±2 % around 100 % (clamped): every cell within it.
    for (const s of a) expect(s).toBeGreaterThanOrEqual(98);
  });
});
