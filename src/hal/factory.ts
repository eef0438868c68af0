/**
 * Driver choice is data: one exhaustive switch over `afe.kind`. Drivers that need native
 * modules load them lazily inside their own factories.
 */
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
    case "serial": {
      const { createSerialDriverFromConfig } = await import("./serial/factory.js");
      return createSerialDriverFromConfig(config, deps);
    }
    case "bq769x0":
    case "bq76952":
      throw new BmsError("NOT_SUPPORTED", `the ${afe.kind} driver is not available in this build yet`, {
        path: "afe.kind",
      });
    default: {
      const never: never = afe;
      throw new BmsError("CONFIG_INVALID", `unknown driver kind ${JSON.stringify(never)}`, {
        path: "afe.kind",
      });
    }
  }
}
