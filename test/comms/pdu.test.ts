import { describe, expect, it } from "vitest";
import { buildMap } from "../../src/comms/map.js";
import { type Caller, EXC, ModbusEngine } from "../../src/comms/pdu.js";
import { createMemoryLogger } from "../../src/core/logger.js";
import { FakeSource, fixtureSnapshot, pdu, regsOf, testConfig } from "./fixture.js";

const ALLOWED: Caller = { source: "test:allowed", writeAllowed: true };
const DENIED: Caller = { source: "test:denied", writeAllowed: false };

function setup(o: { remoteMode?: boolean } = {}) {
  const config = testConfig();
  const source = new FakeSource(fixtureSnapshot(config, o));
  const { logger, lines } = createMemoryLogger();
  const engine = new ModbusEngine(buildMap(config), source, logger);
  return { config, source, engine, lines };
}

const exc = (reply: Uint8Array | null) => (reply && reply[0]! & 0x80 ? reply[1] : null);

describe("PDU engine: reads", () => {
  it("answers FC03 and FC04 with the same registers", () => {
    const { engine } = setup();
    const a = engine.handle(pdu.read(3, 40070, 64), ALLOWED)!;
    const b = engine.handle(pdu.read(4, 40070, 64), ALLOWED)!;
    expect(a[0]).toBe(3);
    expect(b[0]).toBe(4);
    expect(a[1]).toBe(128);
    expect(regsOf(a)).toEqual(regsOf(b));
    expect(regsOf(a)[0]).toBe(802);
  });

  it("serves 125 registers and refuses 0, 126 and 2000 with 0x03 before checking the address", () => {
    const { engine } = setup();
    expect(engine.handle(pdu.read(3, 256, 125), ALLOWED)!.length).toBe(252);
    for (const qty of [0, 126, 2000]) {
      expect(exc(engine.handle(pdu.read(3, 256, qty), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
      // Even at an address that does not exist: quantity is checked first.
      expect(exc(engine.handle(pdu.read(3, 9000, qty), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    }
  });

  it("refuses addresses outside the blocks with 0x02", () => {
    const { engine } = setup();
    for (const [addr, qty] of [
      [64, 1],
      [60, 10],
      [800, 1],
      [39999, 1],
      [40244, 1],
      [65535, 1],
    ] as const)
      expect(exc(engine.handle(pdu.read(3, addr, qty), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS);
  });

  it("answers unsupported functions with 0x01 and malformed PDUs with 0x03", () => {
    const { engine } = setup();
    for (const fc of [1, 2, 5, 7, 8, 15, 17, 22, 23, 0x41])
      expect(exc(engine.handle(Uint8Array.of(fc, 0, 0, 0, 1), ALLOWED))).toBe(EXC.ILLEGAL_FUNCTION);
    expect(exc(engine.handle(Uint8Array.of(3, 0, 0, 0), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(Uint8Array.of(3, 0, 0, 0, 1, 9), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(Uint8Array.of(6, 0, 2, 0), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(engine.handle(Uint8Array.of(), ALLOWED)).toBeNull();
    expect(engine.handle(Uint8Array.of(0x83, 2), ALLOWED)).toBeNull();
  });

  it("reports device identification (FC43/14)", () => {
    const { engine, config } = setup();
    const r = engine.handle(Uint8Array.of(0x2b, 0x0e, 1, 0), ALLOWED)!;
    expect([...r.subarray(0, 7)]).toEqual([0x2b, 0x0e, 1, 0x82, 0, 0, 3]);
    const objs: string[] = [];
    for (let i = 7, k = 0; k < r[6]!; k++) {
      const len = r[i + 1]!;
      objs.push(Buffer.from(r.subarray(i + 2, i + 2 + len)).toString("latin1"));
      i += 2 + len;
    }
    expect(objs[0]).toBe("ups-bms");
    expect(objs[1]).toBe(config.pack.name);
    expect(objs[2]).toMatch(/^\d+\.\d+\.\d+/);
    expect(engine.handle(Uint8Array.of(0x2b, 0x0e, 2, 0), ALLOWED)![6]).toBe(5);
    expect(engine.handle(Uint8Array.of(0x2b, 0x0e, 4, 5), ALLOWED)![6]).toBe(1);
    expect(exc(engine.handle(Uint8Array.of(0x2b, 0x0e, 4, 0x33), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS);
    expect(exc(engine.handle(Uint8Array.of(0x2b, 0x0e, 9, 0), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(Uint8Array.of(0x2b, 0x0d, 1, 0), ALLOWED))).toBe(EXC.ILLEGAL_FUNCTION);
  });

  it("serves every read from one snapshot: a swap between requests never mixes values", () => {
    const { engine, source, config } = setup();
    for (let k = 1; k <= 50; k++) {
      const cycles = 65_535 + k * 65_537; // both 16-bit halves change every time
      source.snapshot = {
        ...fixtureSnapshot(config, { seq: k }),
        estimates: {
          ...fixtureSnapshot(config).estimates,
          counters: { ...fixtureSnapshot(config).estimates.counters, equivalentCycles: cycles },
        },
      };
      const r = regsOf(engine.handle(pdu.read(3, 38, 10), ALLOWED)!);
      expect(r[0]! * 65536 + r[1]!).toBe(cycles);
      expect(r[9]).toBe(k); // SnapshotSeq from the same image
    }
  });
});

describe("PDU engine: writes", () => {
  it("turns accepted writes into requests and echoes the request", () => {
    const { engine, source } = setup();
    expect([...engine.handle(pdu.write1(48, 1), ALLOWED)!]).toEqual([...pdu.write1(48, 1)]);
    expect(engine.handle(pdu.write1(49, 2), ALLOWED)![0]).toBe(6);
    expect(engine.handle(pdu.write1(40089, 77), ALLOWED)![0]).toBe(6);
    expect(source.requests).toEqual([
      { kind: "alarm_reset", source: "test:allowed" },
      { kind: "remote_connect", connect: false, source: "test:allowed" },
      { kind: "heartbeat", value: 77, source: "test:allowed" },
    ]);
    expect(regsOf(engine.handle(pdu.read(3, 2, 1), ALLOWED)!)).toEqual([77]);
    expect(engine.stats.acceptedWrites).toBe(3);
    expect(regsOf(engine.handle(pdu.read(3, 44, 1), ALLOWED)!)).toEqual([3]);
  });

  it("FC16 is all-or-nothing and merges set-points into one request", () => {
    const { engine, source, config } = setup();
    const ok = engine.handle(pdu.writeN(50, [150, 500, 200]), ALLOWED)!;
    expect([...ok]).toEqual([16, 0, 50, 0, 3]);
    expect(source.requests).toEqual([
      { kind: "set_limits", source: "test:allowed", cclMa: 15_000, dclMa: 50_000, socReservePct: 20 },
    ]);
    // Writes take effect on the next tick: until protection applies them the registers say none.
    expect(regsOf(engine.handle(pdu.read(3, 50, 3), ALLOWED)!)).toEqual([0xffff, 0xffff, 0xffff]);
    source.snapshot = fixtureSnapshot(config, {
      seq: 2,
      remote: { cclMa: 15_000, dclMa: 50_000, socReservePct: 20, heard: true },
    });
    expect(regsOf(engine.handle(pdu.read(3, 50, 3), ALLOWED)!)).toEqual([150, 500, 200]);
    // A bad last value refuses the whole write: nothing queued, nothing stored.
    expect(exc(engine.handle(pdu.writeN(48, [1, 2, 100, 99, 5000]), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    // A read-only register inside the range: 0x02, nothing queued.
    expect(exc(engine.handle(pdu.writeN(47, [0, 1]), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS);
    expect(source.requests.length).toBe(1);
    expect(regsOf(engine.handle(pdu.read(3, 50, 3), ALLOWED)!)).toEqual([150, 500, 200]);
  });

  it("checks FC16 quantity and byte count first (0x03)", () => {
    const { engine, source } = setup();
    const bad = pdu.writeN(48, [1]);
    bad[5] = 4; // byte count disagrees with the quantity
    expect(exc(engine.handle(bad, ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(pdu.writeN(9000, Array(124).fill(0)), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(Uint8Array.of(16, 0, 48, 0, 0, 0), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(source.requests).toEqual([]);
  });

  it("refuses writes to read-only points (0x02) and out-of-range values (0x03)", () => {
    const { engine, source, lines } = setup();
    expect(exc(engine.handle(pdu.write1(12, 1), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS);
    expect(exc(engine.handle(pdu.write1(40081, 1), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS);
    expect(exc(engine.handle(pdu.write1(40121, 1), ALLOWED))).toBe(EXC.ILLEGAL_DATA_ADDRESS); // SetInvState
    expect(exc(engine.handle(pdu.write1(48, 2), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(pdu.write1(49, 0), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(exc(engine.handle(pdu.write1(52, 1001), ALLOWED))).toBe(EXC.ILLEGAL_DATA_VALUE);
    expect(source.requests).toEqual([]);
    expect(engine.stats.rejectedWrites).toBe(6);
    expect(lines.filter((l) => l.level === "warn" && l.text.includes("write refused")).length).toBe(6);
    expect(regsOf(engine.handle(pdu.read(3, 45, 1), ALLOWED)!)).toEqual([6]);
  });

  it("accepts writes only in remote mode and from allowed clients", () => {
    const local = setup({ remoteMode: false });
    expect(exc(local.engine.handle(pdu.write1(48, 1), ALLOWED))).toBe(EXC.ILLEGAL_FUNCTION);
    expect(local.source.requests).toEqual([]);
    expect(regsOf(local.engine.handle(pdu.read(3, 40087, 1), ALLOWED)!)).toEqual([1]); // LocRemCtl = local
    const remote = setup();
    expect(exc(remote.engine.handle(pdu.write1(48, 1), DENIED))).toBe(EXC.ILLEGAL_FUNCTION);
    expect(remote.source.requests).toEqual([]);
    expect(remote.engine.stats.rejectedWrites).toBe(1);
  });

  it("executes broadcasts without replying, and never answers broadcast reads", () => {
    const { engine, source } = setup();
    expect(engine.handle(pdu.write1(48, 1), { ...ALLOWED, broadcast: true })).toBeNull();
    expect(engine.handle(pdu.read(3, 0, 2), { ...ALLOWED, broadcast: true })).toBeNull();
    expect(source.requests).toEqual([{ kind: "alarm_reset", source: "test:allowed" }]);
  });

  it("answers 0x06 when the request queue is full", () => {
    const { engine, source } = setup();
    source.capacity = 0;
    expect(exc(engine.handle(pdu.write1(48, 1), ALLOWED))).toBe(EXC.SERVER_BUSY);
    expect(engine.stats.rejectedWrites).toBe(1);
  });

  it("FC16 is all-or-nothing: a write that needs more queue room than is left queues nothing", () => {
    const { engine, source } = setup();
    const write = pdu.writeN(48, [1, 1, 120, 400]); // alarm reset, connect, CCL, DCL: three requests
    source.capacity = 2;
    expect(exc(engine.handle(write, ALLOWED))).toBe(EXC.SERVER_BUSY);
    expect(source.requests).toEqual([]);
    source.capacity = 3;
    expect(engine.handle(write, ALLOWED)![0]).toBe(16);
    expect(source.requests.map((r) => r.kind).sort()).toEqual([
      "alarm_reset",
      "remote_connect",
      "set_limits",
    ]);
  });

  it("shows the set-points protection applies: none, live value scaled, expired", () => {
    const { engine, source, config } = setup();
    const read = () => regsOf(engine.handle(pdu.read(3, 50, 3), ALLOWED)!);
    const sunspecReserve = () => regsOf(engine.handle(pdu.read(3, 40080, 1), ALLOWED)!);
    expect(read()).toEqual([0xffff, 0xffff, 0xffff]);
    expect(sunspecReserve()).toEqual([0xffff]);
    source.snapshot = fixtureSnapshot(config, {
      seq: 2,
      remote: { cclMa: 12_000, dclMa: null, socReservePct: 25.5, heard: true, heartbeatAgeMs: 250 },
    });
    expect(read()).toEqual([120, 0xffff, 255]);
    expect(sunspecReserve()).toEqual([255]);
    // Expiry is protection's decision: the registers follow it, whatever time the snapshot says.
    source.snapshot = fixtureSnapshot(config, {
      seq: 3,
      timestampMs: 1,
      remote: { heard: true, expired: true, heartbeatAgeMs: config.modbus.heartbeatTimeoutMs + 250 },
    });
    expect(read()).toEqual([0xffff, 0xffff, 0xffff]);
    expect(sunspecReserve()).toEqual([0xffff]);
  });
});
