// AFE driver figures on the register-level emulators: host CPU per read, bus traffic per read
// (and the wire time it costs at the chip's I2C speed), and a CRC-error soak.
// Run after `npx tsc -p tsconfig.build.json`. CPU figures are from a shared 2-core machine.
import { silentLogger } from "../../dist/core/logger.js";
import { createBq769x0Driver } from "../../dist/hal/bq769x0/driver.js";
import { Bq769x0Emulator } from "../../dist/hal/bq769x0/emulator.js";
import { createStackDriver, splitPack } from "../../dist/hal/bq769x0/stack.js";
import { createBq76952Driver } from "../../dist/hal/bq769x2/driver.js";
import { Bq76952Emulator } from "../../dist/hal/bq769x2/emulator.js";
import { parseConfig } from "../../dist/config/schema.js";
import { createAfeDriver } from "../../dist/hal/factory.js";
import { ManualClock } from "../../dist/time/clock.js";

function testPack(cells, thermistors = 3) {
  let fets = { chg: false, dsg: false };
  const cellsMv = Array.from({ length: cells }, (_, i) => 3300 + (i % 7) * 5);
  return {
    cellCount: cells,
    temperatureSensorCount: thermistors,
    cellsMv,
    current: -20_000,
    advanceTo() {},
    senseVoltagesMv() {
      return cellsMv;
    },
    currentMa() {
      return this.current;
    },
    thermistorDeciC: () => 250,
    dieTempDeciC: () => 300,
    commsAvailable: () => true,
    setFets(f) {
      fets = f;
    },
    fets: () => fets,
    setBleeders() {},
  };
}

/** Counts transactions and wire bytes (address byte, register byte, data/CRC bytes, repeated start). */
function meter(inner) {
  const m = { transactions: 0, wireBytes: 0 };
  const bus = {
    async readI2cBlock(a, c, len, buf) {
      m.transactions++;
      m.wireBytes += 3 + len; // addr+W, reg, addr+R, data
      return inner.readI2cBlock(a, c, len, buf);
    },
    async writeI2cBlock(a, c, len, buf) {
      m.transactions++;
      m.wireBytes += 2 + len;
      return inner.writeI2cBlock(a, c, len, buf);
    },
    i2cRead: (a, l, b) => inner.i2cRead(a, l, b),
    i2cWrite: (a, l, b) => inner.i2cWrite(a, l, b),
    close: () => inner.close(),
  };
  return { bus, m };
}

async function timeReads(driver, clock, n, afterWarmUp = () => {}) {
  // Warm the JIT first: the loop runs for days, its steady state is what counts.
  for (let i = 0; i < n / 2; i++) {
    clock.advance(250);
    await driver.read();
  }
  afterWarmUp();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    clock.advance(250);
    await driver.read();
  }
  return ((performance.now() - t0) * 1000) / n;
}

const wireMs = (bytes, khz) => (bytes * 9) / khz; // 9 clocks per byte incl. ACK

/** Host CPU and bus traffic of one read, averaged over N reads, as result fields named for the chip. */
async function busCost(chip, driver, clock, m, kHz, N) {
  const us = await timeReads(driver, clock, N, () => {
    m.transactions = 0;
    m.wireBytes = 0;
  });
  return {
    [`${chip}ReadUs`]: Math.round(us),
    [`${chip}TransactionsPerRead`]: m.transactions / N,
    [`${chip}WireBytesPerRead`]: m.wireBytes / N,
    [`${chip}WireMsPerReadAt${kHz}kHz`]: +wireMs(m.wireBytes / N, kHz).toFixed(2),
  };
}

export async function bench() {
  const out = {};
  const N = 2000;

  {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = testPack(15);
    const emu = new Bq769x0Emulator({
      pack,
      clock,
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 0.5,
    });
    const { bus, m } = meter(emu);
    const driver = await createBq769x0Driver(bus, {
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 0.5,
      clock,
      logger: silentLogger,
    });
    Object.assign(out, await busCost("bq76940", driver, clock, m, 100, N));
    console.log(
      `bq76940 (CRC): ${out.bq76940ReadUs} µs host CPU per read, ${out.bq76940TransactionsPerRead} transactions, ` +
        `${out.bq76940WireBytesPerRead} bytes ≈ ${out.bq76940WireMsPerReadAt100kHz} ms on a 100 kHz bus`,
    );
  }

  {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = testPack(45, 9);
    const views = splitPack(
      pack,
      [0, 1, 2].map(() => ({ cells: 15, thermistors: 3 })),
    );
    const chips = [];
    for (const view of views) {
      const emu = new Bq769x0Emulator({
        pack: view,
        clock,
        variant: "bq76940",
        cellsConnected: 15,
        senseResistorMilliOhm: 0.5,
      });
      chips.push(
        await createBq769x0Driver(emu, {
          variant: "bq76940",
          cellsConnected: 15,
          senseResistorMilliOhm: 0.5,
          clock,
          logger: silentLogger,
        }),
      );
    }
    const us = await timeReads(createStackDriver(chips), clock, N);
    out.stack3xBq76940ReadUs = Math.round(us);
    console.log(`3× bq76940 (45 cells): ${out.stack3xBq76940ReadUs} µs host CPU per read`);
  }

  {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = testPack(16);
    const emu = new Bq76952Emulator({ pack, clock, cellsConnected: 16, senseResistorMilliOhm: 0.5 });
    const { bus, m } = meter(emu);
    const t0 = performance.now();
    const driver = await createBq76952Driver(bus, {
      cellsConnected: 16,
      senseResistorMilliOhm: 0.5,
      clock,
      logger: silentLogger,
    });
    out.bq76952InitTransactions = m.transactions;
    out.bq76952InitMs = +(performance.now() - t0).toFixed(1);
    Object.assign(out, await busCost("bq76952", driver, clock, m, 400, N));
    console.log(
      `bq76952: init ${out.bq76952InitTransactions} transactions; ${out.bq76952ReadUs} µs host CPU per read, ` +
        `${out.bq76952TransactionsPerRead} transactions, ${out.bq76952WireBytesPerRead} bytes ≈ ` +
        `${out.bq76952WireMsPerReadAt400kHz} ms on a 400 kHz bus`,
    );
  }

  for (const [label, afe, cells] of [
    ["bq76940 on the full simulated pack", { kind: "bq769x0" }, 15],
    ["3× bq76940 on the full simulated pack", { kind: "bq769x0" }, 45],
    ["bq76952 on the full simulated pack", { kind: "bq76952" }, 16],
  ]) {
    const config = parseConfig({ pack: { cellsInSeries: cells, chemistry: "lfp" }, afe });
    const clock = new ManualClock(0, { autoAdvance: true });
    const { driver } = await createAfeDriver(config, { clock, logger: silentLogger });
    const us = await timeReads(driver, clock, N);
    out[`${afe.kind}x${cells}SimReadUs`] = Math.round(us);
    console.log(`${label} (${cells} cells): ${Math.round(us)} µs per 250 ms read, physics included`);
  }

  {
    const clock = new ManualClock(0, { autoAdvance: true });
    const pack = testPack(15);
    const emu = new Bq769x0Emulator({
      pack,
      clock,
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 0.5,
      seed: 42,
    });
    const driver = await createBq769x0Driver(emu, {
      variant: "bq76940",
      cellsConnected: 15,
      senseResistorMilliOhm: 0.5,
      clock,
      logger: silentLogger,
    });
    emu.setCrcErrorRate(0.01);
    const SOAK = 20_000;
    let maxErrMv = 0;
    let failedReads = 0;
    for (let i = 0; i < SOAK; i++) {
      clock.advance(250);
      try {
        const s = await driver.read();
        s.cellVoltagesMv.forEach((mv, k) => {
          maxErrMv = Math.max(maxErrMv, Math.abs(mv - pack.cellsMv[k]));
        });
      } catch {
        failedReads++;
      }
    }
    const st = driver.busStats;
    out.crcSoakReads = SOAK;
    out.crcSoakInjected = emu.injected.corruptedCrc;
    out.crcSoakDetected = st.crcErrors + st.nacks;
    out.crcSoakRetries = st.retries;
    out.crcSoakFailedReads = failedReads;
    out.crcSoakMaxCellErrorMv = maxErrMv;
    console.log(
      `CRC soak (1 % of transactions corrupted, ${SOAK} reads ≈ ${((SOAK * 0.25) / 3600).toFixed(1)} h of loop): ` +
        `${out.crcSoakInjected} injected, ${out.crcSoakDetected} detected, ${out.crcSoakRetries} retries, ` +
        `${failedReads} failed reads, worst cell error ${maxErrMv} mV`,
    );
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await bench();
