/**
 * `ups-bms modbus …`: check a running BMS over Modbus with an independent client
 * (src/comms/client.ts: modbus-serial, loaded lazily), TCP by default or RTU with --rtu.
 *   ups-bms modbus status [--host H] [--port P] [--unit U] [--json]
 *   ups-bms modbus cells | reset-alarms | connect | disconnect | heartbeat [VALUE]
 */
import { decodeUpsBlock, evt1Names, faultNames, statusFlagNames } from "../comms/decode.js";
import {
  type ModbusClient,
  type ModbusTarget,
  modbusFailure as fail,
  openModbusClient,
} from "../comms/client.js";
import { parseCommandArgs, rangedFlag, usageError } from "./args.js";

const USAGE = `usage: ups-bms modbus <status|cells|reset-alarms|connect|disconnect|heartbeat [VALUE]>
  [--host 127.0.0.1] [--port 1502] [--unit 1] [--timeout 2000]
  [--rtu /dev/ttyUSB0 [--baud 19200] [--parity even|odd|none] [--stop-bits 1|2]] [--json]`;

function int(v: string | boolean | undefined, name: string, def: number, min: number, max: number): number {
  return rangedFlag(name, v, { integer: true, min, max }) ?? def;
}

/** The target and client options the flags name; flag errors come before loading the client. */
function connect(values: Readonly<Record<string, string | boolean | undefined>>): Promise<ModbusClient> {
  const unitId = int(values.unit, "unit", 1, 0, 255);
  const timeoutMs = int(values.timeout, "timeout", 2000, 50, 60_000);
  let target: ModbusTarget;
  if (typeof values.rtu === "string") {
    const parity = typeof values.parity === "string" ? values.parity : "even";
    if (parity !== "even" && parity !== "odd" && parity !== "none")
      throw usageError("--parity must be even, odd or none", USAGE);
    target = {
      kind: "rtu",
      path: values.rtu,
      baudRate: int(values.baud, "baud", 19200, 300, 4_000_000),
      parity,
      stopBits: int(values["stop-bits"], "stop-bits", 1, 1, 2),
    };
  } else {
    const host = typeof values.host === "string" ? values.host : "127.0.0.1";
    target = { kind: "tcp", host, port: int(values.port, "port", 1502, 1, 65535) };
  }
  return openModbusClient(target, { unitId, timeoutMs });
}

const fmt = (v: number | null, scale: number, digits: number, unit: string): string =>
  v === null ? "n/a" : `${(v * scale).toFixed(digits)} ${unit}`;

function statusLines(d: ReturnType<typeof decodeUpsBlock>): string[] {
  const state: Record<number, string> = { 1: "disconnected", 2: "initializing", 3: "connected", 99: "FAULT" };
  const chaSt: Record<number, string> = {
    1: "off",
    2: "empty",
    3: "discharging",
    4: "charging",
    5: "full",
    6: "holding",
  };
  return [
    `state        ${state[d.State ?? 0] ?? "unknown"} (${chaSt[d.ChaSt ?? 0] ?? "unknown"})`,
    `soc / soh    ${fmt(d.SoC!, 0.1, 1, "%")} / ${fmt(d.SoH!, 0.1, 1, "%")}`,
    `pack         ${fmt(d.PackV!, 0.1, 1, "V")}  ${fmt(d.PackA!, 0.1, 1, "A")} (+ = charging)  ${fmt(d.PackW!, 1, 0, "W")}`,
    `cells        max ${fmt(d.CellVMax!, 1, 0, "mV")} (#${d.CellVMaxIdx ?? "?"})  min ${fmt(d.CellVMin!, 1, 0, "mV")} (#${d.CellVMinIdx ?? "?"})  of ${d.CellCount ?? "?"}`,
    `temperature  max ${fmt(d.TempMax!, 0.1, 1, "°C")}  min ${fmt(d.TempMin!, 0.1, 1, "°C")}  board ${fmt(d.BoardTemp!, 0.1, 1, "°C")}`,
    `limits       CVL ${fmt(d.CVL!, 0.1, 1, "V")}  CCL ${fmt(d.CCL!, 0.1, 1, "A")}  DCL ${fmt(d.DCL!, 0.1, 1, "A")}`,
    `remaining    ${fmt(d.RemainingWh!, 1, 0, "Wh")}  runtime ${d.RuntimeMin === null ? "n/a" : `${d.RuntimeMin} min`}`,
    `flags        ${statusFlagNames(d.StatusFlags ?? 0).join(", ") || "none"}`,
    `alarms       ${evt1Names(d.Alarms ?? 0).join(", ") || "none"}`,
    `faults       ${faultNames(d.ActiveFaults ?? 0).join(", ") || "none"}${d.LatchedFaults ? ` (latched: ${faultNames(d.LatchedFaults).join(", ")})` : ""}`,
  ];
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      host: { type: "string" },
      port: { type: "string" },
      unit: { type: "string" },
      timeout: { type: "string" },
      rtu: { type: "string" },
      baud: { type: "string" },
      parity: { type: "string" },
      "stop-bits": { type: "string" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  const [cmd, arg] = positionals;
  const known = ["status", "cells", "reset-alarms", "connect", "disconnect", "heartbeat"];
  if (!cmd || !known.includes(cmd))
    throw usageError(`unknown or missing modbus command ${cmd ?? ""}`.trim(), USAGE);
  const json = values.json === true;
  const client = await connect(values);
  try {
    if (cmd === "status") {
      const regs = await client.readHoldingRegisters(0, 64).catch((e) => fail(e, "read 0–63"));
      const d = decodeUpsBlock(regs.data);
      process.stdout.write(json ? `${JSON.stringify(d)}\n` : `${statusLines(d).join("\n")}\n`);
    } else if (cmd === "cells") {
      const n = (await client.readHoldingRegisters(40, 2).catch((e) => fail(e, "read cell count"))).data;
      const cells: number[] = [];
      for (let a = 0; a < n[0]!; a += 125)
        cells.push(
          ...(
            await client
              .readHoldingRegisters(256 + a, Math.min(125, n[0]! - a))
              .catch((e) => fail(e, "read cells"))
          ).data,
        );
      const temps =
        n[1]! > 0
          ? (
              await client
                .readHoldingRegisters(512, Math.min(125, n[1]!))
                .catch((e) => fail(e, "read temperatures"))
            ).data.map((t) => (t & 0x8000 ? t - 0x10000 : t))
          : [];
      if (json) process.stdout.write(`${JSON.stringify({ cellsMv: cells, tempsDeciC: temps })}\n`);
      else {
        const lines = [
          ...cells.map((v, i) => `cell ${String(i + 1).padStart(3)}  ${v === 0xffff ? "n/a" : `${v} mV`}`),
          ...temps.map(
            (t, i) =>
              `temp ${String(i + 1).padStart(3)}  ${t === -32768 ? "n/a" : `${(t / 10).toFixed(1)} °C`}`,
          ),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
    } else {
      const [addr, value, what] =
        cmd === "reset-alarms"
          ? [48, 1, "alarm reset"]
          : cmd === "connect"
            ? [49, 1, "connect"]
            : cmd === "disconnect"
              ? [49, 2, "disconnect"]
              : [
                  2,
                  int(arg, "heartbeat value", Math.floor(Date.now() / 1000) % 65536, 0, 65535),
                  "heartbeat",
                ];
      await client.writeRegister(addr as number, value as number).catch((e) => fail(e, `${what} refused`));
      process.stdout.write(
        json
          ? `${JSON.stringify({ ok: true, command: cmd })}\n`
          : `${what}: accepted (takes effect on the next tick)\n`,
      );
    }
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
  return 0;
}
