/**
 * Driver choice is data: one exhaustive switch over `afe.kind`. Drivers that need native
 * modules load them lazily inside their own factories.
 */
import { afeDefaults } from "../config/afe.js";
import type { BmsConfig } from "../config/schema.js";
import { BmsError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Clock } from "../time/clock.js";
import type { AfeDriver } from "./afe.js";
import { type Simulation, createSimulation } from "./sim/index.js";

export interface DriverHandle {
  readonly driver: AfeDriver;
  /** Present when the pack is simulated (the default), for scenario control and truth. */
  readonly simulation: Simulation | null;
}

export async function createAfeDriver(
  config: BmsConfig,
  deps: { readonly clock: Clock; readonly logger: Logger },
): Promise<DriverHandle> {
  const afe = config.afe;
  switch (afe.kind) {
    case "sim": {
      const simulation = createSimulation(config, deps);
      return { driver: simulation.driver, simulation };
    }
    case "bq769x0": {
      const { openBq769x0 } = await import("./bq769x0/open.js");
      if (afe.bus !== "emulator") return { driver: (await openBq769x0(afe, deps)).driver, simulation: null };
      const { VARIANTS } = await import("./bq769x0/registers.js");
      const thermistors = VARIANTS[afe.variant].thermistors * afe.chips;
      const simulation = createSimulation(simulatedPackConfig(config, thermistors), deps);
      const setup = await openBq769x0(afe, { ...deps, pack: simulation.pack });
      return { driver: setup.driver, simulation };
    }
    case "bq76952": {
      const { openBq76952 } = await import("./bq769x2/open.js");
      if (afe.bus !== "emulator") return { driver: (await openBq76952(afe, deps)).driver, simulation: null };
      const simulation = createSimulation(simulatedPackConfig(config, 3), deps);
      const setup = await openBq76952(afe, { ...deps, pack: simulation.pack });
      return { driver: setup.driver, simulation };
    }
    case "serial": {
      const { createSerialDriverFromConfig } = await import("./serial/factory.js");
      return createSerialDriverFromConfig(config, deps);
    }
    default: {
      const never: never = afe;
      throw new BmsError("CONFIG_INVALID", `unknown driver kind ${JSON.stringify(never)}`, {
        path: "afe.kind",
      });
    }
  }
}

/**
 * The simulated pack behind emulated chips: the same pack section, the simulator's defaults
 * with the user's `afe.simulation` overrides, one thermistor per chip TS input, and the
 * simulator's own hardware protection off (the emulated chip is the hardware protection).
 */
function simulatedPackConfig(config: BmsConfig, thermistors: number): BmsConfig {
  const afe = config.afe;
  const overrides = afe.kind === "bq769x0" || afe.kind === "bq76952" ? (afe.simulation ?? {}) : {};
  const base = afeDefaults("sim", config.pack.cellsInSeries);
  if (base.kind !== "sim") throw new BmsError("INTERNAL", "sim defaults are not of kind sim");
  return {
    ...config,
    afe: { ...base, temperatureSensors: thermistors, hardwareProtection: false, ...overrides, kind: "sim" },
  };
}
