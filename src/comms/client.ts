/**
 * An independent Modbus client (modbus-serial, loaded lazily so commands that do not talk
 * Modbus never load it) for checking a running BMS from outside: TCP or RTU.
 */
import { BmsError } from "../core/errors.js";

/** The part of modbus-serial's client this project uses. */
export interface ModbusClient {
  setID(id: number): void;
  setTimeout(ms: number): void;
  connectTCP(host: string, options: { port: number }): Promise<void>;
  connectRTUBuffered(
    path: string,
    options: { baudRate: number; parity: string; stopBits: number; dataBits: number },
  ): Promise<void>;
  readHoldingRegisters(addr: number, len: number): Promise<{ data: number[] }>;
  writeRegister(addr: number, value: number): Promise<unknown>;
  close(cb?: () => void): void;
}

export type ModbusTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | {
      readonly kind: "rtu";
      readonly path: string;
      readonly baudRate: number;
      readonly parity: "even" | "odd" | "none";
      readonly stopBits: number;
    };

export interface ModbusClientOptions {
  readonly unitId: number;
  readonly timeoutMs: number;
}

const EXCEPTION_TEXT: Record<number, string> = {
  1: "illegal function (or writes refused: local mode / client not in allowWriteFrom)",
  2: "illegal data address",
  3: "illegal data value",
  6: "server busy",
};

/** Turns a client failure into a COMMS BmsError, naming a Modbus exception where there is one. */
export function modbusFailure(err: unknown, what: string): never {
  const e = err as { modbusCode?: number; message?: string; errno?: string };
  if (typeof e.modbusCode === "number")
    throw new BmsError(
      "COMMS",
      `${what}: exception 0x0${e.modbusCode.toString(16)} ${EXCEPTION_TEXT[e.modbusCode] ?? ""}`.trim(),
      { cause: err },
    );
  throw new BmsError("COMMS", `${what}: ${e.message ?? String(err)}`, { cause: err });
}

/** Loads modbus-serial and connects to `target`; a missing module is NATIVE_MODULE_MISSING. */
export async function openModbusClient(
  target: ModbusTarget,
  options: ModbusClientOptions,
): Promise<ModbusClient> {
  let mod: { default: new () => ModbusClient };
  try {
    mod = (await import("modbus-serial")) as unknown as { default: new () => ModbusClient };
  } catch (err) {
    throw new BmsError(
      "NATIVE_MODULE_MISSING",
      "the modbus-serial client is not installed (npm install modbus-serial)",
      { cause: err },
    );
  }
  const client = new mod.default();
  try {
    if (target.kind === "rtu")
      await client.connectRTUBuffered(target.path, {
        baudRate: target.baudRate,
        parity: target.parity,
        stopBits: target.stopBits,
        dataBits: 8,
      });
    else await client.connectTCP(target.host, { port: target.port });
  } catch (err) {
    modbusFailure(err, "cannot connect");
  }
  client.setID(options.unitId);
  client.setTimeout(options.timeoutMs);
  return client;
}
