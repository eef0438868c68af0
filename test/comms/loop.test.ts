import { describe, expect, it } from "vitest";
import { buildMap } from "../../src/comms/map.js";
import { ModbusEngine } from "../../src/comms/pdu.js";
import { startModbus } from "../../src/comms/server.js";
import { silentLogger } from "../../src/core/logger.js";
import { pdu, regsOf } from "./fixture.js";
import { realLoop } from "./helpers.js";

const caller = { source: "test", writeAllowed: true };

describe("engine on the real loop (ManualClock)", () => {
  it("controller heartbeat: accepted, taken by the loop, supervised with the configured timeout", async () => {
    const loop = await realLoop({ modbus: { heartbeatTimeoutMs: 5000 } });
    const engine = new ModbusEngine(buildMap(loop.config), loop.bms, silentLogger);
    const read = (addr: number, qty: number) => regsOf(engine.handle(pdu.read(3, addr, qty), caller)!);
    expect((read(5, 1)[0]! >> 12) & 1).toBe(0); // no controller yet
    expect(read(6, 2)).toEqual([0, 0]);
    engine.handle(pdu.write1(2, 4242), caller);
    engine.handle(pdu.write1(50, 100), caller);
    await loop.tick();
    expect(loop.bms.snapshot!.remote.lastHeartbeatMs).not.toBeNull();
    expect(read(2, 1)).toEqual([4242]);
    expect((read(5, 1)[0]! >> 12) & 1).toBe(1);
    expect(read(50, 1)).toEqual([100]);
    // 6 s without a heartbeat: set-point expires, COMMUNICATION_ERROR (Evt1 bit 0) is raised.
    await loop.tick(24);
    expect((read(5, 1)[0]! >> 12) & 1).toBe(0);
    expect(read(50, 1)).toEqual([0xffff]);
    expect(read(40096, 2)[1]! & 1).toBe(1);
    expect(read(6, 2)[1]! & 1).toBe(1);
    // A new heartbeat clears it on the next tick.
    engine.handle(pdu.write1(40089, 4243), caller);
    await loop.tick();
    expect(read(40096, 2)[1]! & 1).toBe(0);
  });

  it("battery heartbeat Hb counts loop seconds", async () => {
    const loop = await realLoop();
    const engine = new ModbusEngine(buildMap(loop.config), loop.bms, silentLogger);
    const hb = () => regsOf(engine.handle(pdu.read(3, 1, 1), caller)!)[0]!;
    const first = hb();
    await loop.tick(8); // 2 s at 250 ms
    expect(hb() - first).toBe(2);
    expect(regsOf(engine.handle(pdu.read(3, 40088, 1), caller)!)[0]).toBe(hb());
  });

  it("renders the register image after each tick, before any read", async () => {
    const loop = await realLoop({ modbus: { tcp: { enabled: false } } });
    const h = await startModbus(loop.bms, loop.config, { logger: silentLogger });
    try {
      const before = h.engine.stats.renders;
      await loop.tick();
      await new Promise((r) => setImmediate(r));
      expect(h.engine.stats.renders).toBe(before + 1);
      // The read finds that render: built from the latest snapshot, nothing rendered again.
      expect(h.engine.image().snapshot).toBe(loop.bms.snapshot);
      expect(h.engine.stats.renders).toBe(before + 1);
    } finally {
      await h.close();
    }
  });
});
