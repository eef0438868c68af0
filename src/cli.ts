#!/usr/bin/env node
/**
 * The `ups-bms` command. Each subcommand lives in src/cli/<name>.ts and is loaded on demand,
 * so `config check` never pays for (or fails on) the native modules a driver needs.
 * Exit codes: 0 success, 1 runtime failure, 2 usage or config error.
 */
import { readFileSync } from "node:fs";
import { BmsError, toBmsError } from "./core/errors.js";

type CommandModule = { main(argv: string[]): Promise<number> };

const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  run: {
    summary: "run the BMS (default: simulated 16-cell LFP pack on float)",
    load: () => import("./cli/run.js"),
  },
  sim: {
    summary: "run a scenario in simulated time, as fast as the CPU allows (JSON Lines out)",
    load: () => import("./cli/sim.js"),
  },
  modbus: {
    summary: "read a running BMS over Modbus (status, cells) or send alarm reset / connect / heartbeat",
    load: () => import("./cli/modbus.js"),
  },
  replay: {
    summary: "run the SOC estimator on a recorded CSV (time, current, voltages) and print its estimates",
    load: () => import("./cli/replay.js"),
  },
  log: {
    summary: "read the recorded history: events, export --csv, trips",
    load: () => import("./cli/log.js"),
  },
  "serial-board": {
    summary: "play a simulated serial cell-monitor board on a serial device or pty",
    load: () => import("./cli/serial-board.js"),
  },
  config: {
    summary: "check a config file, print the schema or the resolved config",
    load: () => import("./cli/config.js"),
  },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `usage: ups-bms <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nups-bms <command> --help for a command's options\n`;
}

export async function cliMain(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`ups-bms: unknown command ${JSON.stringify(name)}; try ups-bms --help\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    rest.splice(0, rest.length, "--help");
  }
  try {
    return await (await cmd.load()).main(rest);
  } catch (err) {
    const e = toBmsError(err);
    if (e.details?.helpShown) return 0;
    const where = e.path && !e.message.includes(e.path) ? ` (${e.path})` : "";
    process.stderr.write(`ups-bms ${name}: ${e.message}${where}\n`);
    if (process.env.UPS_BMS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return e instanceof BmsError && e.isUsage ? 2 : 1;
  }
}

cliMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ups-bms: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
