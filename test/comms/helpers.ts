/** Helpers for integration tests with real peers: processes with bounded time, a raw TCP client, the real loop. */
import { execFile } from "node:child_process";
import { connect, type Socket } from "node:net";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsEvent } from "../../src/core/events.js";
import { silentLogger } from "../../src/core/logger.js";
import { createSimulation } from "../../src/hal/sim/index.js";
import { ManualClock } from "../../src/time/clock.js";
import { createBms } from "../../src/wiring.js";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: "SIGKILL" }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === "number"
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The real loop on a simulated pack with a manual clock; `tick(n)` runs n ticks 250 ms apart. */
export async function realLoop(over: Record<string, unknown> = {}) {
  const config = parseConfig({ pack: { serialNumber: "LOOP-1" }, ...over });
  const clock = new ManualClock(1_000);
  const sim = createSimulation(config, { clock, logger: silentLogger });
  const bms = createBms(config, { clock, logger: silentLogger, driver: sim.driver });
  const events: BmsEvent[] = [];
  bms.onEvent((e) => events.push(e));
  await bms.start();
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      await bms.tick();
      clock.advance(config.loop.periodMs);
    }
  };
  await tick(3);
  return { config, clock, sim, bms, events, tick };
}

/** A minimal raw Modbus TCP client: sends bytes, collects replies by transaction id. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters = new Map<number, (pdu: Buffer) => void>();
  private constructor(private readonly sock: Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 7) {
        const len = this.buf.readUInt16BE(4);
        if (this.buf.length < 6 + len) break;
        const tid = this.buf.readUInt16BE(0);
        const pdu = this.buf.subarray(7, 6 + len);
        this.buf = this.buf.subarray(6 + len);
        this.waiters.get(tid)?.(Buffer.from(pdu));
        this.waiters.delete(tid);
      }
    });
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
  }

  static adu(tid: number, unit: number, pdu: Uint8Array, protocol = 0): Buffer {
    const b = Buffer.alloc(7 + pdu.length);
    b.writeUInt16BE(tid, 0);
    b.writeUInt16BE(protocol, 2);
    b.writeUInt16BE(pdu.length + 1, 4);
    b[6] = unit;
    b.set(pdu, 7);
    return b;
  }

  /** Resolves with the reply PDU, or null after `timeoutMs` without one. */
  expect(tid: number, timeoutMs = 2000): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters.delete(tid);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(tid, (p) => {
        clearTimeout(t);
        resolve(p);
      });
    });
  }

  write(b: Uint8Array): void {
    this.sock.write(b);
  }

  async request(tid: number, unit: number, pdu: Uint8Array, timeoutMs = 2000): Promise<Buffer | null> {
    const p = this.expect(tid, timeoutMs);
    this.write(RawClient.adu(tid, unit, pdu));
    return p;
  }

  get closed(): boolean {
    return this.sock.destroyed;
  }

  close(): void {
    this.sock.destroy();
  }
}
