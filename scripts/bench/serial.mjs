// Serial cell-monitor link: codec throughput, driver CPU per read (in-memory line), read latency
// over real socat pseudo-terminals, and recovery time after the port vanishes and returns.
// Figures are modest samples on a shared machine; run alone for cleaner numbers.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSerialLink } from "../../dist/hal/node/serial.js";
import { decodeLine, encodeFrame } from "../../dist/hal/serial/codec.js";
import { createSerialAfeDriver } from "../../dist/hal/serial/driver.js";
import { createLinkPair } from "../../dist/hal/serial/memory-link.js";
import { createSimulatedBoards } from "../../dist/hal/serial/sim-board.js";
import { ManualClock, RealClock } from "../../dist/time/clock.js";

const BOARDS = [
  { address: 1, cells: 16 },
  { address: 2, cells: 16 },
  { address: 3, cells: 16 },
];

function pack(cells, temps) {
  let fets = { chg: true, dsg: true };
  return {
    cellCount: cells,
    temperatureSensorCount: temps,
    advanceTo() {},
    senseVoltagesMv: () => Array.from({ length: cells }, (_, i) => 3300 + (i % 13)),
    currentMa: () => -5000,
    thermistorDeciC: (i) => 250 + i,
    dieTempDeciC: () => 300,
    commsAvailable: () => true,
    setFets(f) {
      fets = f;
    },
    fets: () => fets,
    setBleeders() {},
  };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

function codecRate() {
  const fields = {
    v: Array.from({ length: 16 }, (_, i) => 3300 + i).join(";"),
    t: "250;251",
    i: "-5000",
    f: "0",
    bal: "0",
    st: "0",
  };
  const n = 20_000;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const line = encodeFrame({ dir: "from_board", address: 1, seq: k % 65536, type: "MEAS", fields });
    if (!decodeLine(line.slice(0, -1)).ok) throw new Error("codec round trip failed");
  }
  const ms = performance.now() - t0;
  return Math.round((n / ms) * 1000);
}

async function memoryRead(boards = BOARDS) {
  const clock = new ManualClock(0);
  const pair = createLinkPair("bench");
  const cells = boards.reduce((n, b) => n + b.cells, 0);
  createSimulatedBoards({ link: pair.b, pack: pack(cells, 6), clock, boards });
  const driver = await createSerialAfeDriver({
    port: "bench",
    boards,
    openLink: async () => pair.a,
    clock,
    replyTimeoutMs: 200,
  });
  const n = 2000;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    await driver.read();
    clock.advance(250);
  }
  const usPerRead = ((performance.now() - t0) * 1000) / n;
  const bytesPerRead = driver.diagnostics().bytesReceived / (n + boards.length);
  await driver.close();
  return { usPerRead, bytesPerRead };
}

function startSocat(a, b) {
  const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let err = "";
    const t = setTimeout(() => reject(new Error("socat did not start")), 5000);
    proc.stderr.on("data", (d) => {
      err += d;
      if ((err.match(/PTY is/g) ?? []).length >= 2 && err.includes("starting data transfer loop")) {
        clearTimeout(t);
        resolve(proc);
      }
    });
  });
}
const stopSocat = (p) =>
  new Promise((resolve) => {
    if (p.exitCode !== null) return resolve();
    p.once("exit", resolve);
    p.kill();
  });

async function ptyFigures(reconnectMs) {
  const dir = mkdtempSync(join(tmpdir(), "ups-bms-serial-bench-"));
  const ctrl = join(dir, "ctrl");
  const boardPath = join(dir, "board");
  const clock = new RealClock();
  let socat = await startSocat(ctrl, boardPath);
  let boardLink = await openSerialLink({ path: boardPath, baudRate: 115200 });
  const boards = createSimulatedBoards({ link: boardLink, pack: pack(48, 6), clock, boards: BOARDS });
  const driver = await createSerialAfeDriver({
    port: ctrl,
    boards: BOARDS,
    openLink: () => openSerialLink({ path: ctrl, baudRate: 115200 }),
    clock,
    replyTimeoutMs: 200,
    reconnectMs,
  });
  const lat = [];
  for (let k = 0; k < 60; k++) {
    const t0 = performance.now();
    await driver.read();
    lat.push(performance.now() - t0);
  }
  const recovery = [];
  for (let k = 0; k < 3; k++) {
    await stopSocat(socat);
    await driver.read().catch(() => {});
    while (driver.diagnostics().connected) await wait(5);
    socat = await startSocat(ctrl, boardPath);
    const back = performance.now();
    await boardLink.close();
    boardLink = await openSerialLink({ path: boardPath, baudRate: 115200 });
    boards.attach(boardLink);
    for (;;) {
      try {
        await driver.read();
        break;
      } catch {
        await wait(10);
      }
    }
    recovery.push(performance.now() - back);
  }
  await driver.close();
  boards.close();
  await boardLink.close();
  await stopSocat(socat);
  rmSync(dir, { recursive: true, force: true });
  return { lat, recovery };
}

export async function bench() {
  const out = {};
  out.codecLinesPerS = codecRate();
  console.log(`codec: ${out.codecLinesPerS} MEAS lines/s encoded+decoded (16 cells)`);
  const mem = await memoryRead();
  out.memoryReadUs = Math.round(mem.usPerRead);
  console.log(`driver read, 3 boards x 16 cells, in-memory line: ${out.memoryReadUs} us CPU per read`);
  const big = await memoryRead(Array.from({ length: 8 }, (_, k) => ({ address: k + 1, cells: 32 })));
  out.memoryReadUs256 = Math.round(big.usPerRead);
  out.wireMsPerReadAt115200_256 = Number((((big.bytesPerRead + 15 * 8) * 10) / 115.2).toFixed(1));
  console.log(
    `driver read, 8 boards x 32 cells (256): ${out.memoryReadUs256} us CPU per read; wire time at 115200 baud ${out.wireMsPerReadAt115200_256} ms`,
  );
  // A pty ignores the baud rate; on a real line the bytes take time (10 bits per byte, requests ~15 B each).
  out.wireMsPerReadAt115200 = Number((((mem.bytesPerRead + 15 * BOARDS.length) * 10) / 115.2).toFixed(1));
  console.log(`wire time per read at 115200 baud (3 x 16 cells, computed): ${out.wireMsPerReadAt115200} ms`);
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status !== 0) {
    console.log("socat not found: pty figures skipped");
    return out;
  }
  for (const reconnectMs of [200, 500]) {
    const { lat, recovery } = await ptyFigures(reconnectMs);
    if (reconnectMs === 200) {
      out.ptyReadMedianMs = Number(pct(lat, 50).toFixed(2));
      out.ptyReadP95Ms = Number(pct(lat, 95).toFixed(2));
      console.log(
        `pty read (3 boards x 16 cells; a pty has no baud limit): median ${out.ptyReadMedianMs} ms, p95 ${out.ptyReadP95Ms} ms`,
      );
    }
    out[`recoveryMaxMs_reconnect${reconnectMs}`] = Math.round(Math.max(...recovery));
    console.log(
      `recovery after replug, reconnectMs ${reconnectMs}: ${recovery.map((x) => Math.round(x)).join(", ")} ms (3 trials)`,
    );
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
