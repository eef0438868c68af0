/**
 * End to end over real pseudo-terminals: socat joins two ptys, the real `serialport` opens
 * both, simulated boards answer on one end and the driver (and the whole Bms loop) reads on
 * the other. Real time is used here on purpose, with short bounded waits.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { silentLogger } from "../../src/core/logger.js";
import { openSerialLink } from "../../src/hal/node/serial.js";
import type { SerialLink } from "../../src/hal/serial.js";
import { encodeFrame } from "../../src/hal/serial/codec.js";
import { type SerialAfeDriver, createSerialAfeDriver } from "../../src/hal/serial/driver.js";
import { type SimulatedBoards, createSimulatedBoards } from "../../src/hal/serial/sim-board.js";
import { RealClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";
import { fakePack } from "./helpers.js";
import { type PtyPair, hasSocat, startPtyPair } from "./socat.js";

const BAUD = 115200;
const BOARDS = [
  { address: 1, cells: 8 },
  { address: 2, cells: 8 },
];
const RECONNECT_MS = 200;
/** Stated recovery bound: device back → first good read (reopen period + open + one poll). */
const RECOVERY_BOUND_MS = 1000;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  stepMs = 10,
): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await wait(stepMs);
  }
  return performance.now() - t0;
}

describe.skipIf(!hasSocat)("serial driver over socat pseudo-terminals", { timeout: 10_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ups-bms-serial-"));
  const ctrlPath = join(dir, "ctrl");
  const boardPath = join(dir, "board");
  const clock = new RealClock();
  const pk = fakePack(16, 4);
  let pair: PtyPair;
  let boardLink: SerialLink;
  let boards: SimulatedBoards;
  let driver: SerialAfeDriver;

  beforeAll(async () => {
    pair = await startPtyPair(ctrlPath, boardPath);
    boardLink = await openSerialLink({ path: boardPath, baudRate: BAUD });
    boards = createSimulatedBoards({
      link: boardLink,
      pack: pk.pack,
      clock,
      boards: BOARDS,
      maxBalancing: 4,
    });
    driver = await createSerialAfeDriver({
      port: ctrlPath,
      boards: BOARDS,
      openLink: () => openSerialLink({ path: ctrlPath, baudRate: BAUD }),
      clock,
      replyTimeoutMs: 150,
      reconnectMs: RECONNECT_MS,
    });
  });

  afterAll(async () => {
    await driver?.close();
    boards?.close();
    await boardLink?.close();
    await pair?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("parses the two pty paths from socat", () => {
    expect(pair.ptys[0]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pair.ptys[1]).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pair.ptys[0]).not.toBe(pair.ptys[1]);
  });

  it("the Bms loop reads the boards' values end to end", async () => {
    expect(driver.capabilities).toMatchObject({
      cellCount: 16,
      temperatureSensorCount: 4,
      controlsFets: true,
    });
    const config = parseConfig({
      pack: { cellsInSeries: 16 },
      afe: { kind: "serial", port: ctrlPath, baudRate: BAUD, boards: BOARDS, timeoutMs: 150 },
    });
    const bms = createBms(config, { clock, logger: silentLogger, driver });
    await bms.start();
    const snap = await bms.tick();
    expect(snap).not.toBeNull();
    expect(snap!.measurements.cellVoltagesMv).toEqual(pk.state.voltagesMv);
    expect(snap!.measurements.temperaturesDeciC).toEqual(pk.state.tempsDeciC);
    expect(snap!.measurements.packCurrentMa).toBe(pk.state.currentMa);
    await driver.setBalancing([3, 12]);
    expect(pk.bleeders()).toEqual([3, 12]);
    expect((await driver.read()).balancingCells).toEqual([3, 12]);
    await driver.setBalancing([]);
  });

  it("bad input on the wire is counted and never used as data", async () => {
    const before = driver.diagnostics();
    let seed = 99;
    const junk = Buffer.from(
      Array.from({ length: 400 }, () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed & 0xff;
      }),
    );
    const good = encodeFrame({ dir: "from_board", address: 1, seq: 1, type: "ACK", fields: {} });
    const lines = [
      Buffer.concat([junk, Buffer.from("\n")]),
      `${"X".repeat(10_240)}\n`,
      `${good.slice(0, -3)}00\n`, // wrong checksum
      encodeFrame({ dir: "from_board", address: 2, seq: 3, type: "WHAT", fields: {} }), // unknown type
      encodeFrame({ dir: "from_board", address: 9, seq: 60_000, type: "ACK", fields: {} }), // nobody asked board 9
    ];
    for (const l of lines) await boardLink.write(l);
    const total = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
    await until(() => driver.diagnostics().bytesReceived >= before.bytesReceived + total, 3000);
    for (let i = 0; i < 3; i++) {
      const s = await driver.read();
      expect(s.cellVoltagesMv).toEqual(pk.state.voltagesMv);
      expect(s.channelErrors).toBeUndefined();
    }
    const e = driver.diagnostics().errors;
    const b = before.errors;
    expect(e.overlong - b.overlong).toBe(1);
    expect(e.checksum - b.checksum).toBeGreaterThanOrEqual(1);
    expect(e.unknownType - b.unknownType).toBe(1);
    expect(e.unsolicited - b.unsolicited).toBeGreaterThanOrEqual(1);
    expect(e.format + e.nonAscii + e.resynced - (b.format + b.nonAscii + b.resynced)).toBeGreaterThan(0);
  });

  it("recovers after the port vanishes and comes back (socat killed and restarted)", async () => {
    const reconnectsBefore = driver.diagnostics().reconnects;
    const truncatedBefore = driver.diagnostics().errors.truncatedAtDisconnect;
    const disconnectsBefore = driver.diagnostics().disconnects;
    const half = "<1,5,MEAS,v=3300;33"; // half a line, then the device goes away
    const bytesBefore = driver.diagnostics().bytesReceived;
    await boardLink.write(half);
    await until(() => driver.diagnostics().bytesReceived >= bytesBefore + half.length, 2000);
    await pair.stop();
    // the driver notices on its next poll and reports AFE_COMMS instead of data
    await expect(driver.read()).rejects.toMatchObject({ code: "AFE_COMMS" });
    await until(() => driver.diagnostics().disconnects > disconnectsBefore, 2000);
    expect(driver.diagnostics().connected).toBe(false);
    expect(driver.diagnostics().errors.truncatedAtDisconnect).toBe(truncatedBefore + 1);
    await expect(driver.read()).rejects.toMatchObject({ code: "AFE_COMMS" });

    pair = await startPtyPair(ctrlPath, boardPath);
    const back = performance.now();
    await boardLink.close();
    boardLink = await openSerialLink({ path: boardPath, baudRate: BAUD });
    boards.attach(boardLink);
    const recoveryMs = await until(
      async () => {
        try {
          const s = await driver.read();
          return s.cellVoltagesMv.every((v, i) => v === pk.state.voltagesMv[i]);
        } catch {
          return false;
        }
      },
      RECOVERY_BOUND_MS * 3,
      20,
    );
    const d = driver.diagnostics();
    expect(d.reconnects).toBe(reconnectsBefore + 1);
    expect(d.connected).toBe(true);
    expect(performance.now() - back).toBeLessThan(RECOVERY_BOUND_MS);
    console.log(
      `serial pty recovery: ${Math.round(recoveryMs)} ms after the device returned (bound ${RECOVERY_BOUND_MS} ms)`,
    );
  });
});
