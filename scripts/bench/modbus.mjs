/**
 * Modbus benchmarks (loopback and a pty only): TCP reads/s of a full 125-register block from
 * one client (sequential and pipelined raw-socket clients; pymodbus' own server measured with
 * the same client for comparison), the control loop's tick timing while a client polls flat
 * out, and RTU turnaround (request end → reply start) on a socat pty pair.
 * Bounded in count and time. Run: npx tsc -p tsconfig.build.json && node scripts/bench/modbus.mjs
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const dist = new URL("../../dist/", import.meta.url);
const load = (p) => import(new URL(p, dist).href);

const PY = "/usr/bin/python3";

/** The raw client runs in a worker thread so it does not share the server's event loop. */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const { port, addr, qty, window, maxReads, maxMs } = workerData;
const req = (tid) => { const b = Buffer.alloc(12); b.writeUInt16BE(tid & 0xffff, 0); b.writeUInt16BE(0, 2); b.writeUInt16BE(6, 4); b[6] = 1; b[7] = 3; b.writeUInt16BE(addr, 8); b.writeUInt16BE(qty, 10); return b; };
const s = net.connect(port, "127.0.0.1", () => {
  s.setNoDelay(true);
  let sent = 0, done = 0, bad = 0, buf = Buffer.alloc(0);
  const t0 = performance.now();
  const pump = () => { const batch = []; while (sent - done < window && sent < maxReads) batch.push(req(sent++)); if (batch.length) s.write(Buffer.concat(batch)); };
  s.on("data", (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    let off = 0;
    while (buf.length - off >= 7) { const len = buf.readUInt16BE(off + 4); if (buf.length - off < 6 + len) break; if (buf[off + 8] !== 2 * qty) bad++; off += 6 + len; done++; }
    buf = buf.subarray(off);
    const ms = performance.now() - t0;
    if (done >= maxReads || ms > maxMs) { if (done === sent || ms > maxMs + 2000) { s.destroy(); parentPort.postMessage({ reads: done, ms, bad }); } return; }
    pump();
  });
  pump();
});
s.on("error", (e) => parentPort.postMessage({ error: e.message }));
`;

function client(opts) {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: opts });
    w.once("message", (m) => {
      w.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve({ ...m, perS: (m.reads / m.ms) * 1000 });
    });
    w.once("error", reject);
  });
}

const pct = (xs, p) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pymodbusServer(port) {
  const dir = mkdtempSync(join(tmpdir(), "bench-py-"));
  const file = join(dir, "srv.py");
  writeFileSync(
    file,
    [
      "import asyncio, sys",
      "from pymodbus.server import StartAsyncTcpServer",
      "from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext, ModbusServerContext",
      "store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, list(range(300))), zero_mode=True)",
      "ctx = ModbusServerContext(slaves=store, single=True)",
      "asyncio.run(StartAsyncTcpServer(context=ctx, address=('127.0.0.1', int(sys.argv[1]))))",
    ].join("\n"),
  );
  const p = spawn(PY, [file, String(port)], { stdio: "ignore" });
  const net = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) break;
    await sleep(100);
  }
  return {
    stop: () => {
      p.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Compiles the libmodbus client; null when gcc or libmodbus-dev is missing. */
function buildLibmodbusClient() {
  if (!existsSync("/usr/include/modbus/modbus.h")) return null;
  const dir = mkdtempSync(join(tmpdir(), "bench-lm-"));
  const exe = join(dir, "client");
  const src = new URL("./libmodbus-client.c", import.meta.url).pathname;
  return new Promise((resolve) => {
    const cc = spawn("gcc", ["-O2", "-o", exe, src, "-lmodbus"], { stdio: "ignore" });
    cc.on("error", () => resolve(null));
    cc.on("close", (code) => resolve(code === 0 ? exe : null));
  });
}

function runLibmodbus(exe, port, addr, seconds) {
  return new Promise((resolve, reject) => {
    const p = spawn(exe, ["127.0.0.1", String(port), String(addr), String(seconds)]);
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.on("close", (code) => {
      const [reads, bad, s] = out.trim().split(" ").map(Number);
      if (code !== 0 || !(s > 0)) reject(new Error(`libmodbus client exited ${code}`));
      else resolve({ reads, bad, perS: reads / s });
    });
  });
}

const ECHO = `
const net = require("node:net");
const reply = Buffer.alloc(259); reply[5] = 253; reply[6] = 1; reply[7] = 3; reply[8] = 250;
const srv = net.createServer((s) => { s.setNoDelay(true); s.on("data", (d) => { const r = Buffer.from(reply); r[0] = d[0]; r[1] = d[1]; s.write(r); }); });
srv.listen(0, "127.0.0.1", () => process.stdout.write(String(srv.address().port) + "\\n"));
`;

async function libmodbusComparison(ourPort) {
  const exe = await buildLibmodbusClient();
  if (!exe) {
    console.log("libmodbus client: skipped (needs gcc and libmodbus-dev)");
    return {};
  }
  const out = {};
  const ours = await runLibmodbus(exe, ourPort, 40000, 3);
  out.libmodbusClientOursReadsPerS = Math.round(ours.perS);
  let py = "n/a";
  try {
    const pyPort = 20000 + Math.floor(Math.random() * 20000);
    const srv = await pymodbusServer(pyPort);
    try {
      const r = await runLibmodbus(exe, pyPort, 0, 3);
      out.libmodbusClientPymodbusReadsPerS = Math.round(r.perS);
      py = r.perS.toFixed(0);
    } finally {
      srv.stop();
    }
  } catch {}
  const echo = spawn(process.execPath, ["-e", ECHO]);
  const echoPort = await new Promise((r) => echo.stdout.once("data", (d) => r(Number(String(d).trim()))));
  const floor = await runLibmodbus(exe, echoPort, 0, 3);
  echo.kill();
  out.libmodbusClientEchoFloorReadsPerS = Math.round(floor.perS);
  console.log(
    `libmodbus client, sequential 125-register reads/s: ups-bms ${ours.perS.toFixed(0)} (${ours.bad} bad), pymodbus ${py}, ` +
      `do-nothing echo server ${floor.perS.toFixed(0)} (the platform's round-trip floor)`,
  );
  return out;
}

export async function bench() {
  const { parseConfig } = await load("config/schema.js");
  const { startModbus } = await load("comms/server.js");
  const { createSimulation } = await load("hal/sim/index.js");
  const { createBms } = await load("wiring.js");
  const { RealClock } = await load("time/clock.js");
  const { silentLogger } = await load("core/logger.js");
  const results = {};
  const load1 = () => loadavg()[0].toFixed(1);
  console.log(
    `modbus bench (loopback / pty; load average ${load1()}: other processes share the CPU, figures are under load)`,
  );
  results.loadAverageAtStart = +load1();

  // --- TCP throughput: our server, with a real snapshot from the simulated loop.
  const config = parseConfig({ loop: { periodMs: 20 }, modbus: { tcp: { port: 0 } } });
  const clock = new RealClock();
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
  await bms.start();
  await bms.tick();
  const server = await startModbus(bms, config, { logger: silentLogger });
  const port = server.tcpPort;
  const full = { port, addr: 40000, qty: 125, maxReads: 200_000, maxMs: 3000 };
  const seq = await client({ ...full, window: 1 });
  const pipe = await client({ ...full, window: 16 });
  console.log(
    `tcp ups-bms  sequential: ${seq.perS.toFixed(0)} reads/s of 125 registers (${seq.reads} in ${seq.ms.toFixed(0)} ms, ${seq.bad} bad)`,
  );
  console.log(
    `tcp ups-bms  pipelined(16): ${pipe.perS.toFixed(0)} reads/s (${pipe.reads} in ${pipe.ms.toFixed(0)} ms, ${pipe.bad} bad)`,
  );
  results.tcpSequentialReadsPerS = Math.round(seq.perS);
  results.tcpPipelinedReadsPerS = Math.round(pipe.perS);

  // --- The same client against pymodbus' own server, for comparison.
  try {
    const pyPort = 20000 + Math.floor(Math.random() * 20000);
    const py = await pymodbusServer(pyPort);
    try {
      const pyFull = { port: pyPort, addr: 0, qty: 125, maxReads: 100_000, maxMs: 3000 };
      const pySeq = await client({ ...pyFull, window: 1 });
      const pyPipe = await client({ ...pyFull, window: 16 });
      console.log(
        `tcp pymodbus sequential: ${pySeq.perS.toFixed(0)} reads/s; pipelined(16): ${pyPipe.perS.toFixed(0)} reads/s`,
      );
      results.pymodbusSequentialReadsPerS = Math.round(pySeq.perS);
      results.pymodbusPipelinedReadsPerS = Math.round(pyPipe.perS);
    } finally {
      py.stop();
    }
  } catch (err) {
    console.log(`tcp pymodbus: skipped (${err.message})`);
  }

  // --- The reference client (libmodbus, C), if it can be built here, against our
  // server, pymodbus and a trivial echo server in its own process (the platform's floor: the
  // round trip of a server that does no work at all).
  Object.assign(results, await libmodbusComparison(port));

  // --- Loop tick timing at a 20 ms period: idle, then with a client polling flat out.
  const measureTicks = async (ms) => {
    const starts = [];
    const cpu = [];
    const off = bms.onSnapshot((s) => {
      starts.push(s.timestampMs);
      cpu.push(s.loop.lastTickMs);
    });
    await sleep(ms);
    off();
    const jitter = [];
    for (let i = 1; i < starts.length; i++)
      jitter.push(Math.abs(starts[i] - starts[i - 1] - config.loop.periodMs));
    return {
      ticks: starts.length,
      jitterP50: pct(jitter, 50),
      jitterP99: pct(jitter, 99),
      cpuP99: pct(cpu, 99),
    };
  };
  const running = bms.run();
  const idle = await measureTicks(3000);
  const [loaded, hammer] = await Promise.all([
    measureTicks(3000),
    // A real master polls request by request; flat out, with no pause between requests.
    client({ ...full, window: 1, maxReads: 1_000_000, maxMs: 3000 }),
  ]);
  bms.stop();
  await running;
  console.log(
    `loop 20 ms idle:    ${idle.ticks} ticks, start jitter p50 ${idle.jitterP50.toFixed(2)} / p99 ${idle.jitterP99.toFixed(2)} ms, tick CPU p99 ${idle.cpuP99.toFixed(2)} ms`,
  );
  console.log(
    `loop 20 ms polled:  ${loaded.ticks} ticks, start jitter p50 ${loaded.jitterP50.toFixed(2)} / p99 ${loaded.jitterP99.toFixed(2)} ms, tick CPU p99 ${loaded.cpuP99.toFixed(2)} ms (sequential client flat out at ${hammer.perS.toFixed(0)} reads/s)`,
  );
  results.tickJitterP99IdleMs = +idle.jitterP99.toFixed(3);
  results.tickJitterP99PolledMs = +loaded.jitterP99.toFixed(3);
  results.tickCpuP99IdleMs = +idle.cpuP99.toFixed(3);
  results.tickCpuP99PolledMs = +loaded.cpuP99.toFixed(3);
  results.readsPerSWhileLooping = Math.round(hammer.perS);
  await server.close();

  // --- RTU turnaround on a socat pty pair, master in a separate Python process.
  const dir = mkdtempSync(join(tmpdir(), "bench-rtu-"));
  const ttyA = join(dir, "ttyA");
  const ttyB = join(dir, "ttyB");
  const socat = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], {
    stdio: "ignore",
  });
  try {
    for (let i = 0; i < 200 && !(existsSync(ttyA) && existsSync(ttyB)); i++) await sleep(10);
    const rtuConfig = parseConfig({
      modbus: {
        tcp: { enabled: false },
        rtu: { enabled: true, path: ttyA, baudRate: 19200, parity: "none" },
      },
    });
    const rtu = await startModbus(bms, rtuConfig, { logger: silentLogger });
    const master = [
      "import serial, time, json, sys",
      "def crc(b):",
      "    c = 0xFFFF",
      "    for x in b:",
      "        c ^= x",
      "        for _ in range(8):",
      "            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1",
      "    return bytes([c & 0xFF, c >> 8])",
      "s = serial.Serial(sys.argv[1], 19200, timeout=1)",
      "req = bytes([1, 3, 0, 0, 0, 64]); req += crc(req)",
      "lat = []; bad = 0; t_end = time.perf_counter() + 5",
      "for i in range(int(sys.argv[2])):",
      "    if time.perf_counter() > t_end: break",
      "    s.reset_input_buffer(); s.write(req); s.flush()",
      "    t0 = time.perf_counter(); first = s.read(1); t1 = time.perf_counter()",
      "    rest = s.read(132)",
      "    if len(first) + len(rest) != 133 or crc((first + rest)[:-2]) != (first + rest)[-2:]: bad += 1",
      "    lat.append((t1 - t0) * 1000); time.sleep(0.003)",
      "print(json.dumps({'lat': lat, 'bad': bad}))",
    ].join("\n");
    const out = await new Promise((resolve, reject) => {
      const p = spawn(PY, ["-c", master, ttyB, "1000"]);
      let so = "";
      p.stdout.on("data", (d) => (so += d));
      const t = setTimeout(() => p.kill("SIGKILL"), 20_000);
      p.on("close", () => {
        clearTimeout(t);
        if (so) resolve(JSON.parse(so));
        else reject(new Error("rtu master failed"));
      });
    });
    await rtu.close();
    const lat = out.lat;
    console.log(
      `rtu 19200 pty:      ${lat.length} requests, turnaround p50 ${pct(lat, 50).toFixed(2)} ms, p90 ${pct(lat, 90).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms, ${out.bad} bad replies`,
    );
    results.rtuTurnaroundP50Ms = +pct(lat, 50).toFixed(3);
    results.rtuTurnaroundP90Ms = +pct(lat, 90).toFixed(3);
    results.rtuTurnaroundP99Ms = +pct(lat, 99).toFixed(3);
    console.log(`(load average now ${load1()})`);
    results.rtuBadReplies = out.bad;
  } catch (err) {
    console.log(`rtu: skipped (${err.message})`);
  } finally {
    socat.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  await bms.shutdown("bench done");
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  bench().then((r) => console.log(JSON.stringify(r)));
}
