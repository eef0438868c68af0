/**
 * `startModbus`: the register map and PDU engine behind TCP (and RTU when enabled), reading
 * only the latest snapshot and queueing requests. The lead's `run` passes the `Bms`.
 */
import type { BmsConfig } from "../config/schema.js";
import type { BmsEvent } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import type { SerialLinkFactory } from "../hal/serial.js";
import type { Clock } from "../time/clock.js";
import { buildMap, type RegisterMap } from "./map.js";
import { type BmsSource, type EngineStats, ModbusEngine } from "./pdu.js";
import { type RtuServer, type RtuStats, startRtu } from "./rtu.js";
import { startTcp, type TcpServer } from "./tcp.js";

export interface ModbusSource extends BmsSource {
  onEvent?(listener: (e: BmsEvent) => void): () => void;
  /** When present (the `Bms` has it), the register image is rendered right after each tick. */
  onSnapshot?(listener: (s: BmsSnapshot) => void): () => void;
}

export interface ModbusDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Serial link factory for RTU (defaults to the serialport adapter, loaded lazily). */
  readonly openSerial?: SerialLinkFactory;
}

export interface ModbusHandle {
  readonly engine: ModbusEngine;
  readonly map: RegisterMap;
  /** The port TCP really listens on (useful with port 0), when TCP is enabled. */
  readonly tcpPort?: number;
  readonly tcpHost?: string;
  readonly rtuPath?: string;
  stats(): { engine: EngineStats; tcpClients: number; rtu: RtuStats | null };
  close(): Promise<void>;
}

export async function startModbus(
  source: ModbusSource,
  config: BmsConfig,
  deps: ModbusDeps,
): Promise<ModbusHandle> {
  const log = deps.logger.child("modbus");
  const map = buildMap(config);
  const engine = new ModbusEngine(map, source, log);
  const mb = config.modbus;
  let tcp: TcpServer | null = null;
  let rtu: RtuServer | null = null;
  try {
    if (mb.tcp.enabled)
      tcp = await startTcp(
        engine,
        {
          host: mb.tcp.host,
          port: mb.tcp.port,
          unitId: mb.unitId,
          allowWriteFrom: mb.tcp.allowWriteFrom,
          maxClients: mb.tcp.maxClients,
        },
        log,
      );
    if (mb.rtu.enabled) {
      const open = deps.openSerial ?? (await import("../hal/node/serial.js")).openSerialLink;
      rtu = await startRtu(
        engine,
        {
          path: mb.rtu.path,
          baudRate: mb.rtu.baudRate,
          parity: mb.rtu.parity,
          stopBits: mb.rtu.stopBits,
          unitId: mb.unitId,
          allowWrites: mb.rtu.allowWrites,
        },
        open,
        log,
      );
    }
  } catch (err) {
    await tcp?.close();
    throw err;
  }
  // Rendering off the tick (setImmediate) and ahead of the first read keeps the cost of a new
  // snapshot out of both the loop's timing and the reply latency.
  let pending = false;
  const offSnapshot = source.onSnapshot?.(() => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      engine.image();
    });
  });
  return {
    engine,
    map,
    ...(tcp ? { tcpPort: tcp.port, tcpHost: tcp.host } : {}),
    ...(rtu ? { rtuPath: rtu.path } : {}),
    stats: () => ({
      engine: { ...engine.stats },
      tcpClients: tcp?.clients ?? 0,
      rtu: rtu ? { ...rtu.stats } : null,
    }),
    close: async () => {
      offSnapshot?.();
      await Promise.all([tcp?.close(), rtu?.close()]);
    },
  };
}
