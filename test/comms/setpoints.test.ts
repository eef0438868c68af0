/**
 * One clock for remote set-points, end to end: Modbus TCP → request queue → protection → the
 * register image, on the real loop over a simulated pack with a manual clock.
 */
import { describe, expect, it } from "vitest";
import { startModbus } from "../../src/comms/server.js";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsEvent } from "../../src/core/events.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";
import { pdu, regsOf } from "./fixture.js";
import { RawClient } from "./helpers.js";

const NONE = 0xffff;

describe("remote set-points through the real loop", () => {
  it("a RemoteCCL write shows after a tick, lowers the CCL, and both expire together", async () => {
    const timeoutMs = 5000;
    const config = parseConfig({
      pack: { serialNumber: "SETPOINTS-1" },
      modbus: { heartbeatTimeoutMs: timeoutMs, tcp: { host: "127.0.0.1", port: 0 } },
    });
    const clock = new ManualClock(1_000);
    const sim = createSimulation(config, { clock, logger: silentLogger });
    const bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
    const events: BmsEvent[] = [];
    bms.onEvent((e) => events.push(e));
    await bms.start();
    const server = await startModbus(bms, config, { logger: silentLogger, clock });
    const client = await RawClient.open(server.tcpPort!);
    let tid = 0;
    const call = async (req: Uint8Array) => {
      const reply = await client.request(++tid, config.modbus.unitId, req);
      expect(reply).not.toBeNull();
      return reply!;
    };
    const read = async (addr: number) => regsOf(await call(pdu.read(3, addr, 1)))[0]!;
    const tick = async () => {
      await bms.tick();
      clock.advance(config.loop.periodMs);
    };
    const snap = () => bms.snapshot!;
    try {
      for (let i = 0; i < 3; i++) await tick();
      const localMa = snap().protection.limits.cclMa;
      expect(localMa).toBeGreaterThanOrEqual(400);
      const deciA = Math.floor(localMa / 200); // half the local limit, in register units
      expect(await read(50)).toBe(NONE);

      await call(pdu.write1(50, deciA));
      // Writes take effect on the next tick: until then nothing is applied, nothing shown.
      expect(await read(50)).toBe(NONE);
      expect(snap().protection.remote?.cclMa).toBeNull();
      await tick();
      expect(snap().protection.remote?.cclMa).toBe(deciA * 100);
      expect(snap().protection.limits.cclMa).toBe(deciA * 100);
      expect(snap().protection.limits.cclBinding).toBe("remote");
      expect(await read(50)).toBe(deciA);
      expect(await read(29)).toBe(deciA);

      // Heartbeats every 2 s keep it in force well past the timeout.
      for (let t = 0; t < 3 * timeoutMs; t += config.loop.periodMs) {
        if (t % 2000 === 0) await call(pdu.write1(2, t % 65536));
        await tick();
      }
      expect(await read(50)).toBe(deciA);
      expect(snap().protection.limits.cclMa).toBe(deciA * 100);

      // Heartbeats stop: the register and protection drop the set-point on the same tick.
      let expiredAfterMs = -1;
      for (let t = 0; t <= 2 * timeoutMs; t += config.loop.periodMs) {
        await tick();
        const shown = await read(50);
        const applied = snap().protection.remote!;
        expect(shown === NONE).toBe(applied.cclMa === null);
        expect(applied.expired).toBe(applied.cclMa === null);
        if (shown === NONE) {
          expiredAfterMs = applied.heartbeatAgeMs;
          break;
        }
      }
      expect(expiredAfterMs).toBeGreaterThan(timeoutMs);
      expect(expiredAfterMs).toBeLessThanOrEqual(timeoutMs + config.loop.periodMs);
      expect(events.some((e) => e.type === "command" && e.command === "set_limits" && !e.accepted)).toBe(
        true,
      );
      expect(regsOf(await call(pdu.read(3, 6, 2)))[1]! & 1).toBe(1); // COMMUNICATION_ERROR
      // The limit then recovers from the remote cap at the local ramp, and the register follows.
      const holdMs = config.protection.charge.increaseHoldMs;
      for (
        let t = 0;
        t < holdMs + 60_000 && snap().protection.limits.cclMa <= deciA * 100;
        t += config.loop.periodMs
      )
        await tick();
      expect(snap().protection.limits.cclMa).toBeGreaterThan(deciA * 100);
      expect(await read(29)).toBe(Math.round(snap().protection.limits.cclMa / 100));
      expect(await read(50)).toBe(NONE);
    } finally {
      client.close();
      await server.close();
      await bms.stop();
    }
  }, 20_000);
});
