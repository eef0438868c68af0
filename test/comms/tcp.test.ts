import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ModbusHandle, startModbus } from "../../src/comms/server.js";
import { createMemoryLogger, silentLogger } from "../../src/core/logger.js";
import { pdu } from "./fixture.js";
import { RawClient, realLoop, run } from "./helpers.js";

const PY = "/usr/bin/python3";
const WALK = fileURLToPath(new URL("./sunspec_walk.py", import.meta.url));
const regs = (reply: Buffer) =>
  Array.from({ length: reply[1]! / 2 }, (_, i) => reply.readUInt16BE(2 + 2 * i));

describe("Modbus TCP with the real loop and real clients", () => {
  let loop: Awaited<ReturnType<typeof realLoop>>;
  let server: ModbusHandle;
  let port: number;
  const mem = createMemoryLogger("t", "info");

  beforeAll(async () => {
    loop = await realLoop({ modbus: { tcp: { port: 0, maxClients: 3 } } });
    server = await startModbus(loop.bms, loop.config, { logger: mem.logger });
    port = server.tcpPort!;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("listens on an ephemeral port on 127.0.0.1", () => {
    expect(port).toBeGreaterThan(0);
    expect(server.tcpHost).toBe("127.0.0.1");
  });

  it("answers pipelined requests in one segment, in order, with matching transaction ids", async () => {
    const c = await RawClient.open(port);
    try {
      const replies = [c.expect(101), c.expect(102), c.expect(103)];
      c.write(
        Buffer.concat([
          RawClient.adu(101, 1, pdu.read(3, 0, 64)),
          RawClient.adu(102, 1, pdu.read(4, 40000, 2)),
          RawClient.adu(103, 1, pdu.read(3, 64, 1)),
        ]),
      );
      const [a, b, e] = await Promise.all(replies);
      expect(a![1]).toBe(128);
      expect(regs(b!)).toEqual([0x5375, 0x6e53]);
      expect([...e!]).toEqual([0x83, 0x02]);
      // The UPS block reflects the loop's snapshot.
      const snap = loop.bms.snapshot!;
      expect(regs(a!)[12]).toBe(Math.round(snap.estimates.reportedSocPct * 10));
      expect(regs(a!)[47]).toBe(snap.seq);
    } finally {
      c.close();
    }
  });

  it("ignores other unit ids and non-Modbus protocol ids, answers units 1, 0 and 255", async () => {
    const c = await RawClient.open(port);
    try {
      expect(await c.request(1, 9, pdu.read(3, 0, 1), 300)).toBeNull();
      const p = c.expect(2, 300);
      c.write(RawClient.adu(2, 1, pdu.read(3, 0, 1), 0x1234));
      expect(await p).toBeNull();
      for (const unit of [1, 0, 255])
        expect((await c.request(10 + unit, unit, pdu.read(3, 0, 1)))![0]).toBe(3);
    } finally {
      c.close();
    }
  });

  it("closes a connection that sends an impossible MBAP length", async () => {
    const c = await RawClient.open(port);
    const bad = RawClient.adu(5, 1, pdu.read(3, 0, 1));
    bad.writeUInt16BE(1000, 4);
    c.write(bad);
    for (let i = 0; i < 50 && !c.closed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(c.closed).toBe(true);
  });

  it("refuses clients beyond maxClients", async () => {
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.open(port)));
    try {
      for (const [i, c] of clients.entries()) expect((await c.request(i, 1, pdu.read(3, 0, 1)))![0]).toBe(3);
      const extra = await RawClient.open(port);
      for (let i = 0; i < 50 && !extra.closed; i++) await new Promise((r) => setTimeout(r, 10));
      expect(extra.closed).toBe(true);
    } finally {
      for (const c of clients) c.close();
      // Let the server see the disconnects before the next test connects.
      for (let i = 0; i < 100 && server.stats().tcpClients > 0; i++)
        await new Promise((r) => setTimeout(r, 10));
    }
  });

  it("mbpoll reads the SunSpec marker and model 802, and gets exceptions for bad requests", async () => {
    const base = ["-m", "tcp", "-p", String(port), "-a", "1", "-0", "-1", "-o", "2"];
    const marker = await run("mbpoll", [...base, "-r", "40000", "-c", "4", "-t", "4:hex", "127.0.0.1"]);
    expect(marker.stdout + marker.stderr).toMatch(/0x5375/);
    expect(marker.code).toBe(0);
    expect(marker.stdout).toMatch(/\[40000\]:\s+0x5375/);
    expect(marker.stdout).toMatch(/\[40001\]:\s+0x6E53/);
    expect(marker.stdout).toMatch(/\[40002\]:\s+0x0001/);
    expect(marker.stdout).toMatch(/\[40003\]:\s+0x0042/);
    const ncyc = await run("mbpoll", [...base, "-r", "40070", "-c", "64", "-t", "3", "127.0.0.1"]);
    expect(ncyc.code).toBe(0);
    expect(ncyc.stdout).toMatch(/\[40070\]:\s+802/);
    const outside = await run("mbpoll", [...base, "-r", "64", "-c", "1", "127.0.0.1"]);
    expect(outside.code).not.toBe(0);
    expect(outside.stdout + outside.stderr).toMatch(/Illegal data address/i);
    const badValue = await run("mbpoll", [...base, "-r", "48", "127.0.0.1", "7"]);
    expect(badValue.code).not.toBe(0);
    expect(badValue.stdout + badValue.stderr).toMatch(/Illegal data value/i);
    const readOnly = await run("mbpoll", [...base, "-r", "12", "127.0.0.1", "1"]);
    expect(readOnly.stdout + readOnly.stderr).toMatch(/Illegal data address/i);
  });

  it("an mbpoll write becomes a request that the next tick turns into a command event", async () => {
    const before = loop.events.length;
    const queued = loop.bms.requests.length;
    const w = await run("mbpoll", [
      "-m",
      "tcp",
      "-p",
      String(port),
      "-a",
      "1",
      "-0",
      "-1",
      "-r",
      "49",
      "127.0.0.1",
      "2",
    ]);
    expect(w.code).toBe(0);
    expect(loop.bms.requests.length).toBe(queued + 1);
    await loop.tick();
    const cmd = loop.events.slice(before).find((e) => e.type === "command");
    expect(cmd).toMatchObject({ type: "command", command: "remote_connect", accepted: true });
    expect(loop.bms.snapshot!.remote.disconnectRequested).toBe(true);
    const c = await RawClient.open(port);
    try {
      expect(regs((await c.request(1, 1, pdu.read(3, 49, 1)))!)).toEqual([2]);
      expect(regs((await c.request(2, 1, pdu.read(3, 40092, 1)))!)).toEqual([1]); // 802 State: disconnected
      await c.request(3, 1, pdu.write1(49, 1));
    } finally {
      c.close();
    }
    await loop.tick();
    expect(loop.bms.snapshot!.remote.disconnectRequested).toBe(false);
    expect(
      mem.lines.some((l) => l.text.includes("write accepted") && l.text.includes("remote_connect")),
    ).toBe(true);
  });

  it("pymodbus walks the SunSpec chain and decodes model 802 with its scale factors", async () => {
    await loop.tick();
    const snap = loop.bms.snapshot!;
    const r = await run(PY, [WALK, "127.0.0.1", String(port), "1"], 20_000);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.base).toBe(40000);
    expect(out.models.map((m: number[]) => m[0])).toEqual([1, 802, 805, 0xffff]);
    expect(out.models[1]).toEqual([802, 40070, 62]);
    const m = out.m802;
    expect(m.SoC).toBeCloseTo(snap.estimates.reportedSocPct, 1);
    expect(m.V).toBeCloseTo(snap.measurements.packVoltageMv / 1000, 2);
    expect(m.A).toBeCloseTo(snap.measurements.packCurrentMa / 1000, 1);
    expect(m.CellVMax).toBeCloseTo(snap.measurements.cells.maxMv / 1000, 3);
    expect(m.AChaMax).toBeCloseTo(snap.protection.limits.cclMa / 1000, 1);
    expect(m.ADisChaMax).toBeCloseTo(snap.protection.limits.dclMa / 1000, 1);
    expect(m.VMax).toBeCloseTo(snap.protection.limits.cvlMv / 1000, 2);
    expect(m.AHRtg).toBeCloseTo(loop.config.pack.capacityAh, 2);
    expect(m.Typ).toBe(4);
    expect(out.cellsV.length).toBe(loop.config.pack.cellsInSeries);
    for (const [i, v] of (out.cellsV as number[]).entries())
      expect(v).toBeCloseTo(snap.measurements.cellVoltagesMv[i]! / 1000, 3);
    expect(out.write).toBe("ok");
    expect(out.pastEnd).toBe(2);
    expect(out.deviceId["0"]).toBe("ups-bms");
  });
});

describe("Modbus TCP write access", () => {
  it("refuses writes from a client address outside allowWriteFrom (0x01) and logs it", async () => {
    const loop = await realLoop({ modbus: { tcp: { port: 0, allowWriteFrom: ["10.0.0.0/8"] } } });
    const mem = createMemoryLogger("t", "info");
    const server = await startModbus(loop.bms, loop.config, { logger: mem.logger });
    const c = await RawClient.open(server.tcpPort!);
    try {
      expect([...(await c.request(1, 1, pdu.write1(48, 1)))!]).toEqual([0x86, 0x01]);
      expect(loop.bms.requests.length).toBe(0);
      expect(server.stats().engine.rejectedWrites).toBe(1);
      expect(mem.lines.some((l) => l.level === "warn" && l.text.includes("not allowed"))).toBe(true);
    } finally {
      c.close();
      await server.close();
    }
  });

  it("reports a busy port as a COMMS error", async () => {
    const loop = await realLoop({ modbus: { tcp: { port: 0 } } });
    const a = await startModbus(loop.bms, loop.config, { logger: silentLogger });
    const cfg = {
      ...loop.config,
      modbus: { ...loop.config.modbus, tcp: { ...loop.config.modbus.tcp, port: a.tcpPort! } },
    };
    await expect(startModbus(loop.bms, cfg, { logger: silentLogger })).rejects.toMatchObject({
      code: "COMMS",
    });
    await a.close();
  });
});
