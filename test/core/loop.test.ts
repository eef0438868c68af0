import { describe, expect, it } from "vitest";
import { Bms, MAX_CONSECUTIVE_TICK_ERRORS } from "../../src/bms.js";
import { parseConfig } from "../../src/config/schema.js";
import { BmsError } from "../../src/core/errors.js";
import { createMemoryLogger } from "../../src/core/logger.js";
import type { BmsEvent } from "../../src/core/events.js";
import type { MonitorStage } from "../../src/core/stages.js";
import { createBalancer } from "../../src/balance/balancer.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { createProtection } from "../../src/protection/protection.js";
import { ManualClock, flushMicrotasks } from "../../src/time/clock.js";
import { FakeAfe } from "../helpers/fake-afe.js";

function setup(options: { monitor?: (m: MonitorStage) => MonitorStage; periodMs?: number } = {}) {
  const config = parseConfig({ loop: { periodMs: options.periodMs ?? 250 } });
  const clock = new ManualClock(1_000, { autoAdvance: true });
  const driver = new FakeAfe(clock);
  const { logger, lines } = createMemoryLogger();
  const monitor = createMonitor(config);
  const bms = new Bms({
    config,
    driver,
    clock,
    logger,
    monitor: options.monitor ? options.monitor(monitor) : monitor,
    protection: createProtection(config),
    balance: createBalancer(config, driver.capabilities.balancing),
  });
  const events: BmsEvent[] = [];
  bms.onEvent((e) => events.push(e));
  return { config, clock, driver, bms, events, lines };
}

describe("control loop timing", () => {
  it("runs 100,000 ticks on the absolute grid even when each read takes a varying time", async () => {
    const { bms, driver, clock } = setup();
    // Each read consumes 0–240 ms of the 250 ms period (deterministic pseudo-random jitter).
    let seed = 7;
    driver.onRead = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      clock.advance((seed % 241) | 0);
    };
    await bms.start();
    await bms.run({ maxTicks: 100_000 });
    expect(driver.readTimes).toHaveLength(100_000);
    const bad = driver.readTimes.findIndex((t, k) => t !== 1_000 + k * 250);
    expect(bad).toBe(-1);
    expect(bms.loopStats.overruns).toBe(0);
    expect(bms.loopStats.ticks).toBe(100_000);
  });

  it("counts an overrun, skips the missed slots and stays on the grid", async () => {
    const { bms, driver, clock } = setup();
    driver.onRead = (n) => {
      if (n === 10) clock.advance(600); // this tick takes 2.4 periods
    };
    await bms.start();
    await bms.run({ maxTicks: 20 });
    expect(bms.loopStats.overruns).toBe(1);
    expect(bms.loopStats.skippedTicks).toBe(2);
    // Tick 10 started at 1000 + 2500; the next free slot is 1000 + 13 * 250.
    expect(driver.readTimes[11]).toBe(1_000 + 13 * 250);
    for (const t of driver.readTimes) expect((t - 1_000) % 250).toBe(0);
  });

  it("sleeps until the deadline with a manual clock and wakes exactly on it", async () => {
    const config = parseConfig({});
    const clock = new ManualClock(0);
    const driver = new FakeAfe(clock);
    const bms = new Bms({
      config,
      driver,
      clock,
      logger: createMemoryLogger().logger,
      monitor: createMonitor(config),
      protection: createProtection(config),
      balance: createBalancer(config, driver.capabilities.balancing),
    });
    const done = bms.run({ maxTicks: 3 });
    await flushMicrotasks();
    expect(driver.readTimes).toEqual([0]);
    clock.advance(249);
    await flushMicrotasks();
    expect(driver.readTimes).toEqual([0]);
    clock.advance(1);
    await flushMicrotasks();
    expect(driver.readTimes).toEqual([0, 250]);
    clock.advance(250);
    await done;
    expect(driver.readTimes).toEqual([0, 250, 500]);
  });
});

describe("control loop containment and actuation", () => {
  it("contains a throwing stage: counts it, stops charging at once, opens discharge only when failures persist", async () => {
    let failing = false;
    const { bms, driver, events } = setup({
      monitor: (m) => ({
        update: (i) => {
          if (failing) throw new BmsError("INTERNAL", "estimator exploded");
          return m.update(i);
        },
        exportState: () => m.exportState(),
      }),
    });
    await bms.start();
    await bms.run({ maxTicks: 5 });
    expect(driver.fets).toEqual({ chg: true, dsg: true });
    failing = true;
    await bms.run({ maxTicks: 1 });
    expect(bms.loopStats.tickErrors).toBe(1);
    expect(driver.fets).toEqual({ chg: false, dsg: true });
    expect(events.some((e) => e.type === "error" && e.message === "estimator exploded")).toBe(true);
    await bms.run({ maxTicks: MAX_CONSECUTIVE_TICK_ERRORS - 1 });
    expect(driver.fets).toEqual({ chg: false, dsg: false });
    failing = false;
    await bms.run({ maxTicks: 2 });
    expect(driver.fets).toEqual({ chg: true, dsg: true });
    expect(bms.loopStats.tickErrors).toBe(MAX_CONSECUTIVE_TICK_ERRORS);
  });

  it("treats a failing read as missing data: no decision, no crash", async () => {
    const { bms, driver } = setup();
    driver.onRead = () => {
      throw new BmsError("BUS_NACK", "no ack");
    };
    await bms.start();
    await bms.run({ maxTicks: 4 });
    expect(bms.loopStats.tickErrors).toBe(0);
    const s = bms.snapshot!;
    expect(s.measurements.valid).toBe(false);
    expect(s.measurements.sensorFaults.some((f) => f.channel === "afe")).toBe(true);
    expect(s.protection.state).toBe("init");
    expect(driver.fets).toEqual({ chg: false, dsg: false });
  });

  it("a command the driver refuses (bus down) is not a tick failure; it is sent again when the driver answers", async () => {
    const { bms, driver, events } = setup();
    await bms.start();
    await bms.run({ maxTicks: 2 });
    const sent = driver.calls.fets.length;
    const realSetFets = driver.setFets.bind(driver);
    driver.setFets = async () => {
      throw new BmsError("AFE_COMMS", "bus down");
    };
    bms.request({ kind: "remote_connect", connect: false, source: "test" });
    await bms.run({ maxTicks: 12 });
    expect(bms.loopStats.tickErrors).toBe(0);
    expect(bms.loopStats.actuationErrors).toBe(12);
    expect(events.filter((e) => e.type === "error" && e.where === "actuate")).toHaveLength(1);
    driver.setFets = realSetFets;
    await bms.run({ maxTicks: 1 });
    expect(driver.calls.fets.length).toBe(sent + 1);
    expect(driver.fets).toEqual({ chg: false, dsg: false });
  });

  it("never commands FETs before any reading: a failing first read at boot keeps the UPS load up", async () => {
    const { bms, driver } = setup();
    driver.fets = { chg: false, dsg: true }; // as the hardware holds them after a controller restart
    driver.currentMa = -20_000; // the load is on the pack
    let failing = true;
    driver.onRead = () => {
      if (failing) throw new BmsError("BUS_NACK", "no ack");
    };
    await bms.start();
    await bms.run({ maxTicks: 3 });
    expect(driver.calls.fets).toEqual([]);
    expect(driver.fets.dsg).toBe(true);
    failing = false;
    await bms.run({ maxTicks: 2 });
    expect(bms.snapshot!.measurements.valid).toBe(true);
    expect(driver.fets.dsg).toBe(true);
    expect(driver.calls.fets.every((f) => f.dsg)).toBe(true);
  });

  it("a dead thermistor at boot is a sensor fault, not a blind controller: cells are protected, discharge stays closed", async () => {
    const { bms, driver } = setup();
    driver.temperaturesDeciC = [250, null];
    driver.currentMa = -20_000;
    await bms.start();
    await bms.run({ maxTicks: 40 }); // 10 s, past the sensor-fault delay
    const s = bms.snapshot!;
    expect(s.measurements.valid).toBe(true);
    expect(s.protection.state).not.toBe("init");
    expect(s.protection.faults.some((f) => f.code === "sensor_fault")).toBe(true);
    expect(driver.fets.dsg).toBe(true);
    expect(driver.fets.chg).toBe(false);
  });

  it("takes queued requests on the next tick, each as a command event", async () => {
    const { bms, driver, events } = setup();
    await bms.start();
    await bms.run({ maxTicks: 2 });
    bms.request({ kind: "remote_connect", connect: false, source: "test" });
    expect(driver.fets).toEqual({ chg: true, dsg: true });
    await bms.run({ maxTicks: 1 });
    expect(driver.fets).toEqual({ chg: false, dsg: false });
    expect(events.some((e) => e.type === "command" && e.command === "remote_connect")).toBe(true);
    expect(bms.snapshot?.remote.disconnectRequested).toBe(true);
  });

  it("shows an external problem (recording) as a warning fault with events, never blocking a path", async () => {
    const { bms, driver, events } = setup();
    await bms.start();
    await bms.run({ maxTicks: 2 });
    bms.setExternalFault("recording", true, "disk full");
    await bms.run({ maxTicks: 1 });
    const f = bms.snapshot!.protection.faults.find((x) => x.code === "recording");
    expect(f).toMatchObject({
      level: "warning",
      blocksCharge: false,
      blocksDischarge: false,
      detail: "disk full",
    });
    expect(driver.fets).toEqual({ chg: true, dsg: true });
    bms.setExternalFault("recording", false);
    await bms.run({ maxTicks: 1 });
    expect(bms.snapshot!.protection.faults.some((x) => x.code === "recording")).toBe(false);
    const actions = events
      .filter((e) => e.type === "fault" && e.code === "recording")
      .map((e) => e.type === "fault" && e.action);
    expect(actions).toEqual(["raised", "cleared"]);
  });

  it("publishes one frozen snapshot per tick", async () => {
    const { bms } = setup();
    const seen: number[] = [];
    bms.onSnapshot((s) => {
      expect(Object.isFrozen(s)).toBe(true);
      seen.push(s.seq);
    });
    await bms.start();
    await bms.run({ maxTicks: 3 });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("shuts down into the safe state and closes the driver", async () => {
    const { bms, driver, events } = setup();
    await bms.start();
    await bms.run({ maxTicks: 3 });
    await bms.shutdown("test");
    expect(driver.fets).toEqual({ chg: false, dsg: false });
    expect(driver.calls.balancing.at(-1)).toEqual([]);
    expect(driver.calls.closed).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "lifecycle", what: "stop", detail: "test" });
  });
});
