/** Builds a ready-to-start Bms from a parsed config: the stages of each room plus a driver. */
import { Bms } from "./bms.js";
import { createBalancer } from "./balance/balancer.js";
import type { BmsConfig } from "./config/schema.js";
import type { Logger } from "./core/logger.js";
import type { AfeDriver } from "./hal/afe.js";
import { createMonitor } from "./monitor/monitor.js";
import type { StateSink } from "./monitor/persist.js";
import { createProtection } from "./protection/protection.js";
import type { Clock } from "./time/clock.js";

export interface WiringDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly driver: AfeDriver;
  /** Stage state persisted by the recorder on the last run (estimator, latched faults). */
  readonly restored?: { readonly monitor?: unknown; readonly protection?: unknown } | null;
  /** Receives the estimator state as it changes (the atomic state file, `monitor.persistPath`). */
  readonly monitorStateSink?: StateSink;
}

export function createBms(config: BmsConfig, deps: WiringDeps): Bms {
  return new Bms({
    config,
    driver: deps.driver,
    clock: deps.clock,
    logger: deps.logger,
    monitor: createMonitor(config, {
      restoredState: deps.restored?.monitor,
      stateSink: deps.monitorStateSink,
      logger: deps.logger,
    }),
    protection: createProtection(config, { restored: deps.restored?.protection }),
    balance: createBalancer(config, deps.driver.capabilities.balancing),
  });
}
