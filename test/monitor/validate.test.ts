import { describe, expect, it } from "vitest";
import { BmsError } from "../../src/core/errors.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { lfpConfig, sample } from "./helpers.js";

const kinds = (out: { measurements: { sensorFaults: readonly { channel: string; kind: string }[] } }) =>
  out.measurements.sensorFaults.map((f) => `${f.channel}/${f.kind}`);

describe("first-valid-sample gate", () => {
  it("is invalid before any sample and after a failed read", () => {
    const m = createMonitor(lfpConfig());
    const a = m.update({ nowMs: 0, sample: null, readError: null });
    expect(a.measurements.valid).toBe(false);
    expect(kinds(a)).toContain("afe/missing");
    expect(a.estimates.ready).toBe(false);
    const b = m.update({ nowMs: 250, sample: null, readError: new BmsError("AFE_COMMS", "nack") });
    expect(b.measurements.valid).toBe(false);
    expect(kinds(b)).toContain("afe/driver");
  });

  it("stays closed while the cells are implausible, opens once link, cells and current are clean", () => {
    const m = createMonitor(lfpConfig());
    const bad = m.update({
      nowMs: 0,
      sample: sample(0, { cellVoltagesMv: [3300, 6553, 3302, 3299] }),
      readError: null,
    });
    expect(bad.measurements.valid).toBe(false);
    expect(kinds(bad)).toEqual(["cell:1/range"]);
    const noTemp = m.update({
      nowMs: 250,
      sample: sample(250, { temperaturesDeciC: [null, 250] }),
      readError: null,
    });
    // A dead thermistor does not hold the gate: it is a flag protection acts on (sensor_fault),
    // while the cells it needs are protected from the first clean sample.
    expect(noTemp.measurements.valid).toBe(true);
    expect(kinds(noTemp)).toEqual(["temp:0/missing"]);
    const ok = m.update({ nowMs: 500, sample: sample(500), readError: null });
    expect(ok.measurements.valid).toBe(true);
    expect(ok.measurements.sensorFaults).toEqual([]);
    expect(ok.estimates.ready).toBe(true);
    // After the gate, a channel fault is a flag for protection, not an invalid tick.
    const later = m.update({
      nowMs: 750,
      sample: sample(750, { cellVoltagesMv: [3300, 6553, 3302, 3299] }),
      readError: null,
    });
    expect(later.measurements.valid).toBe(true);
    expect(kinds(later)).toEqual(["cell:1/range"]);
    expect(later.measurements.cellVoltagesMv[1]).toBe(6553);
  });

  it("goes invalid when the sample is stale or the read fails, and back when fresh", () => {
    const m = createMonitor(lfpConfig());
    m.update({ nowMs: 0, sample: sample(0), readError: null });
    const stale = m.update({ nowMs: 5000, sample: sample(0), readError: null });
    expect(stale.measurements.valid).toBe(false);
    expect(kinds(stale)).toContain("afe/stale");
    const failed = m.update({ nowMs: 5250, sample: null, readError: new BmsError("BUS_TIMEOUT", "timeout") });
    expect(failed.measurements.valid).toBe(false);
    // The last values are still shown (never substituted), flagged as old.
    expect(failed.measurements.cellVoltagesMv).toEqual([3300, 3301, 3302, 3299]);
    expect(failed.measurements.sampleAgeMs).toBe(5250);
    expect(m.update({ nowMs: 5500, sample: sample(5500), readError: null }).measurements.valid).toBe(true);
  });

  it("rejects a sample with the wrong number of cells", () => {
    const m = createMonitor(lfpConfig());
    const out = m.update({
      nowMs: 0,
      sample: sample(0, { cellVoltagesMv: [3300, 3300, 3300] }),
      readError: null,
    });
    expect(out.measurements.valid).toBe(false);
    expect(kinds(out)).toContain("afe/missing");
  });
});

describe("channel checks", () => {
  const run = (over: Parameters<typeof sample>[1], cfg = lfpConfig()) => {
    const m = createMonitor(cfg);
    m.update({ nowMs: 0, sample: sample(0), readError: null });
    return m.update({ nowMs: 250, sample: sample(250, over), readError: null });
  };

  it("recognises the open-wire pattern and names both cells", () => {
    const out = run({ cellVoltagesMv: [3300, 20, 6580, 3299], packVoltageMv: 13199 });
    expect(kinds(out)).toEqual(["cell:1/open_wire", "cell:2/open_wire"]);
  });

  it("flags a pack voltage that disagrees with the sum of cells", () => {
    expect(kinds(run({ packVoltageMv: 14500 }))).toEqual(["pack_voltage/pack_mismatch"]);
    expect(kinds(run({ packVoltageMv: 13300 }))).toEqual([]);
  });

  it("flags current out of range or missing", () => {
    expect(kinds(run({ packCurrentMa: 5_000_000 }))).toEqual(["current/range"]);
    expect(kinds(run({ packCurrentMa: Number.NaN }))).toEqual(["current/missing"]);
    // A driver without a current sensor reports null: a capability, not a fault.
    const none = run({ packCurrentMa: null });
    expect(kinds(none)).toEqual([]);
    expect(none.measurements.valid).toBe(true);
  });

  it("flags temperature range, missing sensors and spread, blaming the outlier", () => {
    expect(kinds(run({ temperaturesDeciC: [250, -500] }))).toEqual(["temp:1/range"]);
    expect(kinds(run({ temperaturesDeciC: [250, 260, 700] }))).toEqual(["temp:2/temp_spread"]);
    expect(kinds(run({ boardTempDeciC: 2000 }))).toEqual(["board_temp/range"]);
  });

  it("flags a stuck cell when configured", () => {
    const cfg = lfpConfig({ monitor: { plausibility: { stuckAfterMs: 1000 } } });
    const m = createMonitor(cfg);
    let last = m.update({ nowMs: 0, sample: sample(0), readError: null });
    for (let t = 250; t <= 1500; t += 250) {
      const cells = [
        3300 + (t % 500 === 0 ? 1 : 0),
        3301,
        3302 + (t % 500 === 0 ? 1 : 0),
        3299 - (t % 500 === 0 ? 1 : 0),
      ];
      const temps = [250 + (t % 500 === 0 ? 1 : 0), 251 - (t % 500 === 0 ? 1 : 0)];
      last = m.update({
        nowMs: t,
        sample: sample(t, { cellVoltagesMv: cells, packVoltageMv: null, temperaturesDeciC: temps }),
        readError: null,
      });
    }
    expect(kinds(last)).toEqual(["cell:1/stuck"]);
  });

  it("passes driver channel errors through", () => {
    const out = run({ channelErrors: [{ channel: "cell:3", reason: "board 2 silent" }] });
    expect(out.measurements.sensorFaults).toEqual([
      { channel: "cell:3", kind: "driver", detail: "board 2 silent" },
    ]);
  });
});

describe("statistics", () => {
  it("reports min/max/mean/delta with indices, power and temperatures", () => {
    const m = createMonitor(lfpConfig());
    const out = m.update({
      nowMs: 0,
      sample: sample(0, {
        cellVoltagesMv: [3300, 3310, 3290, 3305],
        packVoltageMv: 13205,
        packCurrentMa: -10_000,
        temperaturesDeciC: [240, 270],
      }),
      readError: null,
    });
    const c = out.measurements.cells;
    expect([c.minMv, c.minIndex, c.maxMv, c.maxIndex, c.deltaMv]).toEqual([3290, 2, 3310, 1, 20]);
    expect(c.meanMv).toBeCloseTo(3301.25, 6);
    expect(out.measurements.packPowerW).toBeCloseTo(-132.05, 6);
    expect([out.measurements.minTempDeciC, out.measurements.minTempIndex]).toEqual([240, 0]);
    expect([out.measurements.maxTempDeciC, out.measurements.maxTempIndex]).toEqual([270, 1]);
  });

  it("counts charge and energy in and out and equivalent cycles", () => {
    const cfg = lfpConfig();
    const m = createMonitor(cfg);
    let last = m.update({ nowMs: 0, sample: sample(0), readError: null });
    // 1 h at −50 A then 0.5 h at +20 A, 1 s samples.
    for (let t = 1; t <= 5400; t++) {
      const i = t <= 3600 ? -50_000 : 20_000;
      last = m.update({ nowMs: t * 1000, sample: sample(t * 1000, { packCurrentMa: i }), readError: null });
    }
    const k = last.estimates.counters;
    expect(k.chargeOutAh).toBeCloseTo(50, 6);
    expect(k.chargeInAh).toBeCloseTo(10, 6);
    expect(k.energyOutWh).toBeCloseTo(50 * 13.202, 3);
    expect(k.equivalentCycles).toBeCloseTo(50 / cfg.pack.capacityAh, 6);
  });
});
