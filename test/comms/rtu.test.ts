import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc16, withCrc } from "../../src/comms/crc.js";
import { RtuFramer, requestLength, t35Ms } from "../../src/comms/rtu.js";
import { type ModbusHandle, startModbus } from "../../src/comms/server.js";
import { silentLogger } from "../../src/core/logger.js";
import type { SerialLink } from "../../src/hal/serial.js";
import { openSerialLink } from "../../src/hal/node/serial.js";
import { pdu } from "./fixture.js";
import { realLoop, run } from "./helpers.js";

const frame = (unit: number, p: Uint8Array) => withCrc(Uint8Array.of(unit, ...p));

describe("RTU framer", () => {
  it("uses 3.5 characters of 11 bits, fixed 1.75 ms above 19200 baud", () => {
    expect(t35Ms(9600)).toBeCloseTo(4.01, 2);
    expect(t35Ms(19200)).toBeCloseTo(2.005, 3);
    expect(t35Ms(115200)).toBe(1.75);
  });

  it("finds frame lengths from the function code", () => {
    expect(requestLength(frame(1, pdu.read(3, 0, 1)), 8)).toBe(8);
    expect(requestLength(frame(1, pdu.writeN(48, [1, 2])), 6)).toBe(0);
    expect(requestLength(frame(1, pdu.writeN(48, [1, 2])), 7)).toBe(13);
    expect(requestLength(frame(1, Uint8Array.of(0x2b, 0x0e, 1, 0)), 7)).toBe(7);
    expect(requestLength(Uint8Array.of(1, 0x41), 2)).toBe(-1);
  });

  it("joins split frames and splits merged ones", () => {
    const got: string[] = [];
    const f = new RtuFramer({ gapMs: 2, staleMs: 20 }, (fr) => got.push(Buffer.from(fr).toString("hex")));
    const a = frame(1, pdu.read(3, 0, 4));
    const b = frame(1, pdu.writeN(48, [1]));
    f.push(a.subarray(0, 3), 0);
    f.push(a.subarray(3), 0.5);
    f.push(Uint8Array.of(...a, ...b), 10);
    expect(got).toEqual([a, a, b].map((x) => Buffer.from(x).toString("hex")));
  });

  it("drops a bad-CRC frame and everything up to the next 3.5-character silence", () => {
    const got: Uint8Array[] = [];
    const f = new RtuFramer({ gapMs: 2, staleMs: 20 }, (fr) => got.push(fr));
    const bad = frame(1, pdu.write1(48, 1));
    bad[7]! ^= 0xff;
    const good = frame(1, pdu.read(3, 0, 1));
    f.push(bad, 0);
    f.push(good, 1); // too soon: still part of the noise
    expect(got).toEqual([]);
    f.push(good, 5);
    expect(got.length).toBe(1);
    expect(f.stats.crcErrors).toBe(1);
  });

  it("discards a stale partial frame", () => {
    const got: Uint8Array[] = [];
    const f = new RtuFramer({ gapMs: 2, staleMs: 20 }, (fr) => got.push(fr));
    const good = frame(1, pdu.read(3, 0, 1));
    f.push(good.subarray(0, 5), 0);
    f.push(good, 100);
    expect(got.length).toBe(1);
    expect(f.stats.resyncs).toBe(1);
  });

  it("accepts an unknown function code once its CRC is valid", () => {
    const got: Uint8Array[] = [];
    const f = new RtuFramer({ gapMs: 2, staleMs: 20 }, (fr) => got.push(fr));
    f.push(frame(1, Uint8Array.of(0x41, 1, 2, 3)), 0);
    expect(got.length).toBe(1);
  });
});

/** A socat pseudo-terminal pair: the server on A, the test's master on B. */
describe("Modbus RTU over a socat pty pair", () => {
  let dir: string;
  let socat: ChildProcess;
  let server: ModbusHandle;
  // Opened only after the mbpoll test: two readers on one pty would steal each other's replies.
  let master: SerialLink | null = null;
  let loop: Awaited<ReturnType<typeof realLoop>>;
  let ttyB: string;
  const rx: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "ups-bms-rtu-"));
    const ttyA = join(dir, "ttyA");
    ttyB = join(dir, "ttyB");
    socat = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${ttyA}`, `pty,raw,echo=0,link=${ttyB}`], {
      stdio: "ignore",
    });
    for (let i = 0; i < 200 && !(existsSync(ttyA) && existsSync(ttyB)); i++)
      await new Promise((r) => setTimeout(r, 10));
    loop = await realLoop({
      modbus: {
        tcp: { enabled: false },
        rtu: { enabled: true, path: ttyA, baudRate: 19200, parity: "none" },
      },
    });
    server = await startModbus(loop.bms, loop.config, { logger: silentLogger });
  });

  afterAll(async () => {
    await master?.close();
    await server?.close();
    socat?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Sends raw bytes and collects the reply: until `expectBytes` have arrived (bounded by 3 s),
   * or for `silenceMs` when no reply is expected.
   */
  async function exchange(bytes: Uint8Array, expectBytes = 0, silenceMs = 300): Promise<number[]> {
    if (!master) {
      master = await openSerialLink({ path: ttyB, baudRate: 19200 });
      master.onData((c) => rx.push(...c));
    }
    rx.length = 0;
    await master.write(bytes);
    const until = Date.now() + (expectBytes > 0 ? 3000 : silenceMs);
    while (Date.now() < until && (expectBytes === 0 || rx.length < expectBytes))
      await new Promise((r) => setTimeout(r, 5));
    return [...rx];
  }

  it("mbpoll reads the UPS block and the SunSpec marker over RTU", async () => {
    const base = ["-m", "rtu", "-b", "19200", "-P", "none", "-a", "1", "-0", "-1", "-o", "1"];
    const ups = await run("mbpoll", [...base, "-r", "0", "-c", "64", ttyB]);
    expect(ups.code).toBe(0);
    expect(ups.stdout).toMatch(/\[0\]:\s+1\b/);
    expect(ups.stdout).toMatch(/\[40\]:\s+16\b/);
    const marker = await run("mbpoll", [...base, "-r", "40000", "-c", "2", "-t", "4:hex", ttyB]);
    expect(marker.stdout).toMatch(/\[40000\]:\s+0x5375/);
    const bad = await run("mbpoll", [...base, "-r", "700", "-c", "125", ttyB]);
    expect(bad.stdout + bad.stderr).toMatch(/Illegal data address/i);
  });

  it("pymodbus walks the SunSpec chain over RTU", async () => {
    const walk = fileURLToPath(new URL("./sunspec_walk.py", import.meta.url));
    const r = await run("/usr/bin/python3", [walk, "rtu", ttyB, "1"], 30_000);
    expect(r.stderr).not.toMatch(/Traceback/);
    const out = JSON.parse(r.stdout);
    expect(out.models.map((m: number[]) => m[0])).toEqual([1, 802, 805, 0xffff]);
    expect(out.m802.SoC).toBeCloseTo(loop.bms.snapshot!.estimates.reportedSocPct, 1);
    expect(out.cellsV.length).toBe(16);
    expect(out.write).toBe("ok");
    expect(out.pastEnd).toBe(2);
  });

  it("answers a valid frame with a CRC-correct reply", async () => {
    const reply = await exchange(frame(1, pdu.read(3, 40000, 2)), 9);
    expect(reply.slice(0, 7)).toEqual([1, 3, 4, 0x53, 0x75, 0x6e, 0x53]);
    const crc = crc16(Uint8Array.from(reply), 0, 7);
    expect(reply.slice(7)).toEqual([crc & 0xff, crc >> 8]);
  });

  it("ignores a write with a corrupted CRC: no reply, nothing queued", async () => {
    const queued = loop.bms.requests.length;
    const bad = frame(1, pdu.write1(48, 1));
    bad[6]! ^= 0x5a;
    expect(await exchange(bad)).toEqual([]);
    expect(loop.bms.requests.length).toBe(queued);
    expect(server.stats().rtu!.crcErrors).toBeGreaterThanOrEqual(1);
    // The line recovers at the next frame after a silence.
    expect((await exchange(frame(1, pdu.read(3, 0, 1)), 7)).slice(0, 2)).toEqual([1, 3]);
  });

  it("stays silent for other units and executes broadcasts without replying", async () => {
    expect(await exchange(frame(7, pdu.read(3, 0, 1)))).toEqual([]);
    expect(server.stats().rtu!.otherUnit).toBe(1);
    const queued = loop.bms.requests.length;
    expect(await exchange(frame(0, pdu.write1(48, 1)))).toEqual([]);
    expect(loop.bms.requests.length).toBe(queued + 1);
    expect(await exchange(frame(0, pdu.read(3, 0, 1)))).toEqual([]);
  });

  it("answers two back-to-back frames sent in one write", async () => {
    const a = frame(1, pdu.read(3, 0, 1));
    const reply = await exchange(Uint8Array.of(...a, ...a), 14);
    expect(reply.length).toBe(14);
    expect([reply[0], reply[1], reply[7], reply[8]]).toEqual([1, 3, 1, 3]);
  });

  it("answers exceptions with the function code's high bit", async () => {
    expect((await exchange(frame(1, pdu.read(3, 0, 200)), 5)).slice(0, 3)).toEqual([1, 0x83, 3]);
    expect((await exchange(frame(1, Uint8Array.of(0x41, 0, 0)), 5)).slice(0, 3)).toEqual([1, 0xc1, 1]);
  });
});
