/**
 * `ups-bms serial-board --port PATH [--boards 1:8,2:8] [--baud N] [--config FILE]`
 * Plays simulated cell-monitor boards (protocol v1) on a real serial device or pty, backed by
 * the simulated pack, to bench-test a controller without a pack. Runs until SIGINT/SIGTERM;
 * reopens the port if it vanishes.
 */
import { loadConfigFile } from "../config/load.js";
import { type BmsConfig, parseConfig } from "../config/schema.js";
import { BmsError } from "../core/errors.js";
import { createLogger } from "../core/logger.js";
import { openSerialLink } from "../hal/node/serial.js";
import type { SerialLink } from "../hal/serial.js";
import { simulationBehindBoards } from "../hal/serial/factory.js";
import { createSimulatedBoards } from "../hal/serial/sim-board.js";
import { RealClock } from "../time/clock.js";
import { noPositionals, parseCommandArgs, rangedFlag, usageError } from "./args.js";

const USAGE =
  "ups-bms serial-board --port PATH [--boards ADDR:CELLS,...] [--baud N] [--config FILE] [--watchdog-ms N]";
const REOPEN_MS = 500;

function parseBoards(text: string): { address: number; cells: number }[] {
  return text.split(",").map((part) => {
    const m = /^(\d{1,3}):(\d{1,2})$/.exec(part.trim());
    if (!m) throw new BmsError("USAGE", `--boards: expected ADDR:CELLS[,ADDR:CELLS...], got "${part}"`);
    return { address: Number(m[1]), cells: Number(m[2]) };
  });
}

export async function main(argv: string[], options: { signal?: AbortSignal } = {}): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      port: { type: "string", short: "p" },
      baud: { type: "string" },
      boards: { type: "string" },
      config: { type: "string", short: "c" },
      "watchdog-ms": { type: "string" },
    },
    USAGE,
  );
  noPositionals(positionals, USAGE);
  const port = values.port;
  if (typeof port !== "string" || port === "") throw usageError("--port is required", USAGE);

  let config: BmsConfig;
  if (typeof values.config === "string") {
    config = await loadConfigFile(values.config);
    if (config.afe.kind !== "serial")
      throw new BmsError("CONFIG_INVALID", `${values.config}: afe.kind must be "serial"`, {
        path: "afe.kind",
      });
  } else {
    const boards = parseBoards(typeof values.boards === "string" ? values.boards : "1:16");
    config = parseConfig({
      pack: { cellsInSeries: boards.reduce((s, b) => s + b.cells, 0) },
      afe: { kind: "serial", port, boards },
    });
  }
  const afe = config.afe;
  if (afe.kind !== "serial") throw new BmsError("INTERNAL", "serial config expected");
  const baudRate = rangedFlag("baud", values.baud, { integer: true, positive: true }) ?? afe.baudRate;
  const watchdogMs = rangedFlag("watchdog-ms", values["watchdog-ms"], { positive: true });

  const logger = createLogger("serial-board", config.log.level);
  const clock = new RealClock();
  // Alone on its port, the simulated UPS cannot hear a controller's published limits: a plain
  // float charger, not a cooperative one that would wait for limits forever.
  const plain = { ...config, afe: { ...afe, simulation: { ...afe.simulation, chargerCooperative: false } } };
  const simulation = simulationBehindBoards(plain, { clock, logger });
  let link: SerialLink = await openSerialLink({ path: port, baudRate });
  const boards = createSimulatedBoards({
    link,
    pack: simulation.pack,
    clock,
    boards: afe.boards,
    logger,
    watchdogMs,
    bleedResistorOhm: simulation.bleedResistorOhm,
    noise: simulation.boardNoise,
  });
  logger.info(
    `boards ${afe.boards.map((b) => `#${b.address} (${b.cells} cells)`).join(", ")} on ${port} at ${baudRate} baud`,
  );

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  options.signal?.addEventListener("abort", onSignal, { once: true });
  const stopped = new Promise<void>((resolve) =>
    stop.signal.addEventListener("abort", () => resolve(), { once: true }),
  );

  // Keep the port: after an unplug, reopen on a fixed period until the device is back.
  const watch = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      const closed = new Promise<void>((resolve) => link.onClose(() => resolve()));
      await Promise.race([closed, stopped]);
      if (stop.signal.aborted) return;
      logger.warn(`${port} closed; reopening every ${REOPEN_MS} ms`);
      while (!stop.signal.aborted) {
        await Promise.race([clock.sleepUntil(clock.nowMs() + REOPEN_MS), stopped]);
        if (stop.signal.aborted) return;
        try {
          link = await openSerialLink({ path: port, baudRate });
          boards.attach(link);
          logger.info(`${port} reopened`);
          break;
        } catch {
          // still away
        }
      }
    }
  };
  await Promise.all([watch(), stopped]);
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  boards.close();
  await link.close();
  const c = boards.counters;
  logger.info(`stopped: ${c.commands} commands, ${c.badLines} bad lines, ${c.naks} rejected`);
  return 0;
}
