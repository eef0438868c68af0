import { describe, expect, it } from "vitest";
import { isBmsError } from "../../src/core/errors.js";
import { createMemoryLogger } from "../../src/core/logger.js";
import { encodeFrame } from "../../src/hal/serial/codec.js";
import { type SerialAfeDriver, createSerialAfeDriver } from "../../src/hal/serial/driver.js";
import { type MemoryLink, createLinkPair } from "../../src/hal/serial/memory-link.js";
import { createSimulatedBoards } from "../../src/hal/serial/sim-board.js";
import { ManualClock, flushMicrotasks } from "../../src/time/clock.js";
import { fakePack, settle, tamper } from "./helpers.js";

const BOARDS = [
  { address: 1, cells: 4 },
  { address: 2, cells: 3 },
];
const REPLY_TIMEOUT_MS = 100;

async function setup(rewrite?: (line: string) => string[]) {
  const clock = new ManualClock(1000);
  const pk = fakePack(7, 3);
  const driverSide = createLinkPair("bus");
  let boardSide: { a: MemoryLink; b: MemoryLink } | null = null;
  if (rewrite) {
    boardSide = createLinkPair("boards");
    tamper(driverSide.b, boardSide.a, rewrite);
  }
  const boards = createSimulatedBoards({
    link: boardSide ? boardSide.b : driverSide.b,
    pack: pk.pack,
    clock,
    boards: BOARDS,
    maxBalancing: 2,
  });
  const driver = await settle(
    clock,
    createSerialAfeDriver({
      port: "bus",
      boards: BOARDS,
      openLink: async () => driverSide.a,
      clock,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
    }),
  );
  return { clock, pk, driverSide, boards, driver };
}

function expectTruth(
  driver: SerialAfeDriver,
  s: Awaited<ReturnType<SerialAfeDriver["read"]>>,
  pk: ReturnType<typeof fakePack>,
) {
  expect(s.cellVoltagesMv).toEqual(pk.state.voltagesMv);
  expect(s.temperaturesDeciC).toEqual(pk.state.tempsDeciC);
  expect(s.packCurrentMa).toBe(pk.state.currentMa);
  expect(s.channelErrors).toBeUndefined();
  expect(driver.diagnostics().boards.every((b) => b.state === "ok")).toBe(true);
}

describe("serial driver over an in-memory line", { timeout: 5000 }, () => {
  it("declares capabilities from the boards' INFO and reads the pack end to end", async () => {
    const { driver, pk } = await setup();
    expect(driver.capabilities).toMatchObject({
      cellCount: 7,
      temperatureSensorCount: 3,
      measuresCurrent: true,
      controlsFets: true,
      // unequal boards (4 + 3 cells): one pack-wide group at the smaller per-board limit
      balancing: { groupSize: 7, maxPerGroup: 2, maxSimultaneous: 2, bleedResistorOhm: 33 },
    });
    const s = await driver.read();
    expectTruth(driver, s, pk);
    expect(s.fets).toEqual({ chg: false, dsg: true });
    pk.state.voltagesMv[5] = 3456;
    expect((await driver.read()).cellVoltagesMv[5]).toBe(3456);
  });

  it("splits balancing and FET commands across boards", async () => {
    const { driver, pk } = await setup();
    await driver.setBalancing([1, 5]);
    expect(pk.bleeders()).toEqual([1, 5]);
    await driver.setFets({ chg: true, dsg: true });
    expect(pk.pack.fets()).toEqual({ chg: true, dsg: true });
    const s = await driver.read();
    expect(s.balancingCells).toEqual([1, 5]);
    expect(s.fets).toEqual({ chg: true, dsg: true });
    // board 2 allows 2 bleeders: three is refused with a reason, not silently trimmed
    await expect(driver.setBalancing([4, 5, 6])).rejects.toMatchObject({ code: "PROTOCOL" });
    expect(driver.diagnostics().errors.naks).toBe(1);
    // board 1 accepted "none of mine"; board 2 refused and kept cell 5; no retry on each read
    expect((await driver.read()).balancingCells).toEqual([5]);
    await driver.read();
    expect(driver.diagnostics().errors.naks).toBe(1);
  });

  it("marks a silent board's cells in channelErrors and backs off polling it", async () => {
    const { driver, pk, boards, clock } = await setup();
    await driver.read();
    boards.setSilent(2, true);
    const s = await settle(clock, driver.read());
    expect(s.cellVoltagesMv.slice(0, 4)).toEqual(pk.state.voltagesMv.slice(0, 4));
    expect(s.cellVoltagesMv.slice(4).every(Number.isNaN)).toBe(true);
    expect(s.channelErrors?.map((e) => e.channel)).toEqual(["afe", "cell:4", "cell:5", "cell:6", "temp:2"]);
    expect(s.channelErrors?.[0]?.reason).toMatch(/^board 2 silent \d+ ms$/);
    for (let i = 0; i < 5; i++) await settle(clock, driver.read());
    const d = driver.diagnostics();
    // three misses, then polled once per second only: the loop is not stalled every tick
    expect(d.errors.timeouts).toBe(3);
    expect(d.boards[1]).toMatchObject({ address: 2, state: "silent", consecutiveMisses: 3 });
    boards.setSilent(2, false);
    clock.advance(1000);
    expectTruth(driver, await driver.read(), pk);
  });

  it("several dead boards cost at most one reply timeout per read, and each is still probed", async () => {
    const clock = new ManualClock(0);
    const three = [
      { address: 1, cells: 3 },
      { address: 2, cells: 2 },
      { address: 3, cells: 2 },
    ];
    const pk = fakePack(7, 0);
    const pair = createLinkPair();
    const boards = createSimulatedBoards({ link: pair.b, pack: pk.pack, clock, boards: three });
    const driver = await createSerialAfeDriver({
      port: "bus",
      boards: three,
      openLink: async () => pair.a,
      clock,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      probeIntervalMs: 1000,
    });
    boards.setSilent(2, true);
    boards.setSilent(3, true);
    for (let i = 0; i < 3; i++) {
      await settle(clock, driver.read());
      clock.advance(250);
    }
    let worst = 0;
    for (let i = 0; i < 16; i++) {
      const before = driver.diagnostics().errors.timeouts;
      const t0 = clock.nowMs();
      const s = await settle(clock, driver.read());
      worst = Math.max(worst, driver.diagnostics().errors.timeouts - before);
      expect(clock.nowMs() - t0).toBeLessThanOrEqual(REPLY_TIMEOUT_MS + 10);
      expect(s.cellVoltagesMv.slice(0, 3)).toEqual(pk.state.voltagesMv.slice(0, 3));
      clock.advance(250);
    }
    expect(worst).toBe(1);
    boards.setSilent(3, false);
    let back = -1;
    for (let i = 0; i < 12 && back < 0; i++) {
      const s = await settle(clock, driver.read());
      if (Number.isFinite(s.cellVoltagesMv[5])) back = i;
      clock.advance(250);
    }
    // probed within two probe intervals (two silent boards take turns)
    expect(back).toBeGreaterThanOrEqual(0);
    expect(back * 250).toBeLessThanOrEqual(2000);
  });

  it("reports latched board faults and clears them on request; heartbeats are acknowledged", async () => {
    const { driver, boards } = await setup();
    boards.latchFault(2, 0);
    boards.latchFault(1, 4);
    let s = await driver.read();
    expect(s.hardwareFaults).toEqual([
      { code: "short_circuit", source: "board1:SCD" },
      { code: "cell_ov", source: "board2:OV" },
    ]);
    await driver.clearFaults(["cell_ov"]);
    s = await driver.read();
    expect(s.hardwareFaults).toEqual([{ code: "short_circuit", source: "board1:SCD" }]);
    expect(await driver.heartbeat()).toBe(2);
  });

  it("asks the boards for a sampling period and warns when one refuses", async () => {
    const clock = new ManualClock(0);
    const pk = fakePack(7, 3);
    const pair = createLinkPair();
    createSimulatedBoards({ link: pair.b, pack: pk.pack, clock, boards: BOARDS });
    const { logger, lines } = createMemoryLogger();
    await createSerialAfeDriver({
      port: "bus",
      boards: BOARDS,
      openLink: async () => pair.a,
      clock,
      logger,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      sampleIntervalMs: 5,
    });
    expect(lines.filter((l) => l.level === "warn" && /sample rate 5 ms/.test(l.text))).toHaveLength(2);
  });

  it("throws AFE_COMMS when no board answers", async () => {
    const { driver, pk, clock } = await setup();
    pk.setComms(false);
    const err = await settle(clock, driver.read()).catch((e: unknown) => e);
    expect(isBmsError(err, "AFE_COMMS")).toBe(true);
    expect((err as Error).message).toMatch(/board 1 silent .*board 2 silent/);
  });

  it("fails to start when a configured board never answers INFO", async () => {
    const clock = new ManualClock(0);
    const pk = fakePack(7, 0);
    const pair = createLinkPair();
    createSimulatedBoards({ link: pair.b, pack: pk.pack, clock, boards: [{ address: 1, cells: 7 }] });
    const p = createSerialAfeDriver({
      port: "bus",
      boards: [
        { address: 1, cells: 4 },
        { address: 9, cells: 3 },
      ],
      openLink: async () => pair.a,
      clock,
      replyTimeoutMs: 50,
    });
    // board 1 reports 7 cells where the config says 4: a config error, named by path
    await expect(settle(clock, p)).rejects.toMatchObject({
      code: "CONFIG_INVALID",
      path: "afe.boards.0.cells",
    });
  });
});

describe("bad input never reaches the monitor as data", { timeout: 5000 }, () => {
  const rand = (seed: number) => () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };

  it("random bytes between replies are counted and ignored", async () => {
    const r = rand(7);
    const { driver, pk, driverSide, clock } = await setup();
    for (let i = 0; i < 50; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(r() * 60) }, () => Math.floor(r() * 256));
      await driverSide.b.write(junk);
      // junk without a newline is dropped at the reply's start byte, so the reply survives
      expectTruth(driver, await settle(clock, driver.read()), pk);
    }
    const e = driver.diagnostics().errors;
    expect(e.format + e.checksum + e.nonAscii + e.resynced).toBeGreaterThan(20);
  });

  it("a 10 kB line without newline is dropped and counted", async () => {
    const { driver, pk, driverSide, clock } = await setup();
    await driverSide.b.write("A".repeat(10_240));
    expectTruth(driver, await settle(clock, driver.read()), pk);
    expect(driver.diagnostics().errors.overlong).toBe(1);
  });

  it("a reply with a wrong checksum is not used", async () => {
    let corrupt = false;
    const { driver, pk, clock } = await setup((line) => {
      if (!corrupt || !line.includes("MEAS") || !line.startsWith("<2")) return [`${line}\n`];
      return [`${line.replace(/v=3(\d)/, (_m, d: string) => `v=3${(Number(d) + 1) % 10}`)}\n`];
    });
    corrupt = true;
    const s = await settle(clock, driver.read());
    expect(s.cellVoltagesMv.slice(4).every(Number.isNaN)).toBe(true);
    expect(s.cellVoltagesMv.slice(0, 4)).toEqual(pk.state.voltagesMv.slice(0, 4));
    expect(driver.diagnostics().errors.checksum).toBe(1);
  });

  it("out-of-order and duplicated sequence numbers are counted, the right reply is used", async () => {
    const { driver, pk } = await setup((line) => {
      if (!line.includes("MEAS")) return [`${line}\n`];
      const m = /^<(\d+),(\d+),(.*)\*[0-9A-F]{4}$/.exec(line)!;
      const fields = Object.fromEntries(
        m[3]!
          .split(",")
          .slice(1)
          .map((kv) => kv.split("=") as [string, string]),
      );
      const stale = encodeFrame({
        dir: "from_board",
        address: Number(m[1]),
        seq: Number(m[2]) + 1000,
        type: "MEAS",
        fields: { ...fields, v: fields.v!.replace(/\d+/, "1") },
      });
      // stale first, then the real reply, then the real reply again
      return [stale, `${line}\n`, `${line}\n`];
    });
    const before = driver.diagnostics().errors;
    expectTruth(driver, await driver.read(), pk);
    const e = driver.diagnostics().errors;
    expect(e.outOfOrder - before.outOfOrder).toBe(2);
    expect(e.duplicate - before.duplicate).toBe(2);
  });

  it("an unknown message type and a reply from another address are counted, not used", async () => {
    let mode: "none" | "unknown" | "other" = "none";
    const { driver, pk, clock } = await setup((line) => {
      if (mode === "none" || !line.startsWith("<2,") || !line.includes("MEAS")) return [`${line}\n`];
      const m = /^<2,(\d+),MEAS,(.*)\*[0-9A-F]{4}$/.exec(line)!;
      const fields = Object.fromEntries(m[2]!.split(",").map((kv) => kv.split("=") as [string, string]));
      if (mode === "unknown")
        return [encodeFrame({ dir: "from_board", address: 2, seq: Number(m[1]), type: "ZZTOP", fields: {} })];
      return [encodeFrame({ dir: "from_board", address: 3, seq: Number(m[1]), type: "MEAS", fields })];
    });
    mode = "unknown";
    let s = await settle(clock, driver.read());
    expect(Number.isNaN(s.cellVoltagesMv[4])).toBe(true);
    mode = "other";
    s = await settle(clock, driver.read());
    expect(Number.isNaN(s.cellVoltagesMv[4])).toBe(true);
    const e = driver.diagnostics().errors;
    expect(e.unknownType).toBe(1);
    expect(e.wrongAddress).toBe(1);
    mode = "none";
    expectTruth(driver, await driver.read(), pk);
  });

  it("an echo of our own request (RS-485 adapter echo) is counted, not taken as a reply", async () => {
    const { driver, pk, driverSide } = await setup();
    driverSide.b.onData((chunk) => void driverSide.b.write(chunk));
    expectTruth(driver, await driver.read(), pk);
    expect(driver.diagnostics().errors.echo).toBe(2);
  });
});

describe("port loss and return", { timeout: 5000 }, () => {
  it("a half-written line at unplug is discarded; the port is reopened on the clock", async () => {
    const clock = new ManualClock(0);
    const pk = fakePack(7, 3);
    let pair = createLinkPair("usb0");
    const boards = createSimulatedBoards({ link: pair.b, pack: pk.pack, clock, boards: BOARDS });
    let present = true;
    const driver = await createSerialAfeDriver({
      port: "usb0",
      boards: BOARDS,
      openLink: async () => {
        if (!present) throw new Error("ENOENT");
        pair = createLinkPair("usb0");
        boards.attach(pair.b);
        return pair.a;
      },
      clock,
      replyTimeoutMs: 100,
      reconnectMs: 500,
    });
    await driver.setBalancing([2]);
    expectTruth(driver, await driver.read(), pk);
    await pair.b.write("<1,77,MEAS,v=3300;33");
    present = false;
    pair.a.unplug();
    pk.pack.setBleeders([]);
    await expect(driver.read()).rejects.toMatchObject({ code: "AFE_COMMS" });
    expect(driver.diagnostics()).toMatchObject({ connected: false, disconnects: 1 });
    expect(driver.diagnostics().errors.truncatedAtDisconnect).toBe(1);
    // two reopen attempts while the device is away, the third one finds it
    for (const back of [false, false, true]) {
      present = back;
      clock.advance(500);
      await flushMicrotasks();
    }
    const d = driver.diagnostics();
    expect(d).toMatchObject({ connected: true, reconnects: 1, failedReopens: 2, lastOutageMs: 1500 });
    const s = await driver.read();
    expect(s.cellVoltagesMv).toEqual(pk.state.voltagesMv);
    // commanded bleeders are sent again after the reopen
    expect(pk.bleeders()).toEqual([2]);
  });
});
