import { describe, expect, it } from "vitest";
import { crc16 } from "../../src/comms/crc.js";
import { buildMap } from "../../src/comms/map.js";
import { ModbusEngine } from "../../src/comms/pdu.js";
import { RtuFramer } from "../../src/comms/rtu.js";
import { silentLogger } from "../../src/core/logger.js";
import { Prng } from "../../src/hal/sim/prng.js";
import { FakeSource, fixtureSnapshot, pdu, testConfig } from "./fixture.js";

/** The simulator's seeded generator, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

const SEEDS = [
  pdu.read(3, 0, 64),
  pdu.read(4, 40070, 64),
  pdu.read(3, 256, 125),
  pdu.write1(48, 1),
  pdu.write1(2, 5),
  pdu.writeN(48, [1, 2, 100, 200, 300]),
  pdu.writeN(40089, [1, 1]),
  Uint8Array.of(0x2b, 0x0e, 1, 0),
];

function mutate(r: () => number, base: Uint8Array): Uint8Array {
  const b = Array.from(base);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(r() * 5);
    const i = Math.floor(r() * (b.length + 1));
    if (op === 0 && b.length > 0) b[i % b.length] = Math.floor(r() * 256);
    else if (op === 1 && b.length > 0) b[i % b.length]! ^= 1 << Math.floor(r() * 8);
    else if (op === 2) b.splice(i, 0, Math.floor(r() * 256));
    else if (op === 3 && b.length > 0) b.splice(i % b.length, 1);
    else if (op === 4) b.length = Math.floor(r() * (b.length + 1));
  }
  return Uint8Array.from(b);
}

function frames(seed: number, count: number): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    if (r() < 0.5) {
      const len = Math.floor(r() * 260);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      // Bias towards known function codes so the deeper paths get exercised too.
      if (len > 0 && r() < 0.6) b[0] = [3, 4, 6, 16, 0x2b][Math.floor(r() * 5)]!;
      out.push(b);
    } else out.push(mutate(r, SEEDS[Math.floor(r() * SEEDS.length)]!));
  }
  return out;
}

/** Plain checks (not `expect`, which would dominate the run time at 10⁵ frames); throws on a bad reply. */
function checkReply(req: Uint8Array, reply: Uint8Array | null): void {
  if (reply === null) return;
  const bad = (why: string) => {
    throw new Error(
      `${why}: request ${Buffer.from(req).toString("hex")} reply ${Buffer.from(reply).toString("hex")}`,
    );
  };
  if (reply.length < 2 || reply.length > 253) bad("reply length");
  if (reply[0]! & 0x80) {
    if (reply[0] !== (req[0]! | 0x80)) bad("exception function code");
    if (![1, 2, 3, 6].includes(reply[1]!)) bad("exception code");
  } else if (reply[0] !== req[0]) bad("function code");
}

describe("fuzz: random and mutated frames", () => {
  it("100 000 frames with writes refused: no crash, no request, no state change", () => {
    const config = testConfig();
    const source = new FakeSource(fixtureSnapshot(config));
    const engine = new ModbusEngine(buildMap(config), source, silentLogger);
    const before = JSON.stringify({ ...engine.server, rejectedWrites: 0 });
    const snapBefore = JSON.stringify(source.snapshot);
    for (const f of frames(0xb35, 100_000))
      checkReply(f, engine.handle(f, { source: "fuzz", writeAllowed: false }));
    expect(source.requests).toEqual([]);
    expect(engine.stats.acceptedWrites).toBe(0);
    expect(JSON.stringify({ ...engine.server, rejectedWrites: 0 })).toBe(before);
    expect(JSON.stringify(source.snapshot)).toBe(snapBefore);
    expect(engine.stats.requests).toBeGreaterThan(50_000);
  });

  it("30 000 frames with writes allowed: only well-formed writes to writable points are queued", () => {
    const config = testConfig();
    const source = new FakeSource(fixtureSnapshot(config));
    const engine = new ModbusEngine(buildMap(config), source, silentLogger);
    let wellFormedWrites = 0;
    for (const f of frames(0x5eed, 30_000)) {
      const queued = source.requests.length;
      const reply = engine.handle(f, { source: "fuzz", writeAllowed: true });
      checkReply(f, reply);
      if (source.requests.length > queued) {
        // The oracle: a request appears only for a normal reply to FC06/FC16 at a writable address.
        expect(reply && (reply[0] === 6 || reply[0] === 16)).toBe(true);
        const addr = (f[1]! << 8) | f[2]!;
        const qty = f[0] === 6 ? 1 : (f[3]! << 8) | f[4]!;
        for (let i = 0; i < qty; i++) expect(engine.map.writable.has(addr + i)).toBe(true);
        wellFormedWrites++;
      }
    }
    // Some mutated writes survive as valid ones (the oracle above ran on them); AlmRst = 0 is a no-op.
    expect(wellFormedWrites).toBeGreaterThan(0);
    expect(wellFormedWrites).toBeLessThanOrEqual(engine.stats.acceptedWrites);
    expect(
      source.requests.every((r) =>
        ["alarm_reset", "remote_connect", "heartbeat", "set_limits"].includes(r.kind),
      ),
    ).toBe(true);
  });

  it("RTU framer fed random byte streams never emits a frame with a bad CRC", () => {
    const r = rng(42);
    const seen: Uint8Array[] = [];
    const framer = new RtuFramer({ gapMs: 2, staleMs: 20 }, (f) => seen.push(f));
    let t = 0;
    for (let k = 0; k < 20_000; k++) {
      const len = 1 + Math.floor(r() * 40);
      const chunk = new Uint8Array(len);
      for (let i = 0; i < len; i++) chunk[i] = Math.floor(r() * 256);
      t += r() < 0.3 ? 5 : 0.1;
      framer.push(chunk, t);
    }
    for (const f of seen) {
      const crc = crc16(f, 0, f.length - 2);
      expect(f[f.length - 2]! | (f[f.length - 1]! << 8)).toBe(crc);
    }
    expect(framer.stats.crcErrors + framer.stats.resyncs).toBeGreaterThan(100);
  });
});
