/**
 * Public entry of the monitor: the stage factory, and a helper that wires the atomic
 * state file from `monitor.persistPath` (restore on start, save on the monitor's schedule).
 */
import type { BmsConfig } from "../config/schema.js";
import { isBmsError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { MonitorStage } from "../core/stages.js";
import { createMonitor, type MonitorOptions } from "./monitor.js";
import { createStateFile, type StateFile } from "./persist.js";

export { createMonitor, type MonitorOptions } from "./monitor.js";
export { createStateFile, type PersistedState, type StateFile, type StateSink } from "./persist.js";
export { parseReplayCsv } from "./csv.js";
export { replay } from "./replay.js";

/**
 * The monitor with its state file. An unreadable file is logged and the estimator starts
 * from the voltage, as it would on first install; it is never a reason not to start.
 * Call `stateFile.flush()` at shutdown after a final `stateFile.save(monitor.exportState())`.
 */
export async function createPersistentMonitor(
  config: BmsConfig,
  options: { readonly logger: Logger } & Omit<MonitorOptions, "stateSink" | "logger">,
): Promise<{ monitor: MonitorStage; stateFile: StateFile | null }> {
  const path = config.monitor.persistPath;
  const log = options.logger.child("monitor");
  if (path === "") return { monitor: createMonitor(config, options), stateFile: null };
  const stateFile = createStateFile(path, (err) => log.warn(err.message));
  let restoredState: unknown = options.restoredState;
  if (restoredState === undefined) {
    try {
      restoredState = await stateFile.load();
      if (restoredState) log.info(`estimator state restored from ${path}`);
    } catch (err) {
      if (!isBmsError(err, "PERSIST")) throw err;
      log.warn(`${err.message}; starting from the cell voltages`);
    }
  }
  const monitor = createMonitor(config, { ...options, restoredState, stateSink: stateFile });
  return { monitor, stateFile };
}
