/**
 * Builds the serial driver from config. `port: "sim"` puts simulated boards on an in-memory
 * line in front of the simulated pack, so the whole BMS runs through the real protocol code.
 */
import type { BmsConfig } from "../../config/schema.js";
import { afeDefaults, simAfeSchema } from "../../config/afe.js";
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { SerialLink } from "../serial.js";
import { type Simulation, createSimulation } from "../sim/index.js";
import { type SerialAfeDriver, createSerialAfeDriver } from "./driver.js";
import { createLinkPair } from "./memory-link.js";
import { type SimBoardNoise, type SimulatedBoards, createSimulatedBoards } from "./sim-board.js";

export const SIM_PORT = "sim";

export interface SerialDriverHandle {
  readonly driver: SerialAfeDriver;
  readonly simulation: Simulation | null;
  /** The simulated boards with port `sim` (to silence one or latch a fault in scenarios). */
  readonly boards: SimulatedBoards | null;
}

export async function createSerialDriverFromConfig(
  config: BmsConfig,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<SerialDriverHandle> {
  const afe = config.afe;
  if (afe.kind !== "serial") throw new BmsError("INTERNAL", "serial factory called for another driver kind");
  const log = deps.logger.child("serial");
  const common = {
    port: afe.port,
    boards: afe.boards,
    clock: deps.clock,
    logger: log,
    replyTimeoutMs: afe.timeoutMs,
    reconnectMs: afe.reconnectMs,
    maxLineBytes: afe.maxLineBytes,
    probeIntervalMs: afe.probeIntervalMs,
    sampleIntervalMs: afe.sampleIntervalMs ?? null,
  };
  if (afe.port !== SIM_PORT) {
    const { openSerialLink } = await import("../node/serial.js");
    const driver = await createSerialAfeDriver({
      ...common,
      openLink: () => openSerialLink({ path: afe.port, baudRate: afe.baudRate }),
    });
    return { driver, simulation: null, boards: null };
  }
  const simulation = simulationBehindBoards(config, deps);
  const pair = createLinkPair(SIM_PORT);
  const boards = createSimulatedBoards({
    link: pair.b,
    pack: simulation.pack,
    clock: deps.clock,
    boards: afe.boards,
    logger: log.child("board"),
    bleedResistorOhm: simulation.bleedResistorOhm,
    noise: simulation.boardNoise,
  });
  const link: SerialLink = pair.a;
  const driver = await createSerialAfeDriver({ ...common, openLink: async () => link });
  return { driver, simulation, boards };
}

/** The simulated pack a serial config's simulated boards measure (also used by `serial-board`). */
export function simulationBehindBoards(
  config: BmsConfig,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Simulation & { readonly bleedResistorOhm: number; readonly boardNoise: SimBoardNoise } {
  const afe = config.afe;
  const overrides = afe.kind === "serial" ? afe.simulation : undefined;
  const simAfe = simAfeSchema.parse({
    ...afeDefaults("sim", config.pack.cellsInSeries),
    ...overrides,
    kind: "sim",
  });
  const simulation = createSimulation({ ...config, afe: simAfe }, { clock: deps.clock, logger: deps.logger });
  // Board ADC noise of the same order as the simulated AFE's defaults (1 mV, 0.1 % of 1C, 0.1 °C).
  const boardNoise: SimBoardNoise = {
    seed: simAfe.seed,
    cellMv: 1,
    currentMa: config.pack.capacityAh,
    tempDeciC: 1,
  };
  return Object.assign(simulation, { bleedResistorOhm: simAfe.bleedResistorOhm, boardNoise });
}
