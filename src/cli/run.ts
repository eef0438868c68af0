/**
 * `ups-bms run [--config FILE] [--duration S] [--quiet]`: the BMS on real time.
 * With no config it runs the built-in default, a simulated 16-cell LFP 100 Ah pack on float.
 */
import { startModbus } from "../comms/server.js";
import { loadConfigFile } from "../config/load.js";
import { type PersistedState, type StateFile, createStateFile } from "../monitor/persist.js";
import { createRecorder } from "../record/recorder.js";
import type { Logger } from "../core/logger.js";
import { type BmsConfig, parseConfig } from "../config/schema.js";
import { createLogger } from "../core/logger.js";
import { createAfeDriver } from "../hal/factory.js";
import { connectUpsToBms } from "../hal/sim/index.js";
import { RealClock } from "../time/clock.js";
import { createBms } from "../wiring.js";
import { numberFlag, parseCommandArgs } from "./args.js";
import { statusLine } from "./status.js";

const USAGE = "ups-bms run [--config FILE] [--duration S] [--quiet] [--no-modbus]";

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: "string", short: "c" },
      duration: { type: "string", short: "d" },
      quiet: { type: "boolean", short: "q" },
      "no-modbus": { type: "boolean" },
    },
    USAGE,
  );
  if (positionals.length > 0) {
    const { BmsError } = await import("../core/errors.js");
    throw new BmsError("USAGE", `unexpected argument ${JSON.stringify(positionals[0])}; usage: ${USAGE}`);
  }
  const durationS = numberFlag("duration", values.duration, Number.POSITIVE_INFINITY);
  const configPath = typeof values.config === "string" ? values.config : undefined;
  const config: BmsConfig = configPath ? await loadConfigFile(configPath) : parseConfig({});
  const logger = createLogger("bms", config.log.level);
  const clock = new RealClock();

  const { driver, simulation } = await createAfeDriver(config, { clock, logger });
  // The recorder first: the state it persisted (estimator, latched faults) seeds the stages.
  const recorder = createRecorder(config, { logger, clock });
  const restored = recorder.restore();
  if (restored) logger.info(`restored state saved at ${new Date(restored.savedAtMs).toISOString()}`);
  // The atomic state file, when configured, is written after every anchor: it is the
  // newer source of the estimator state.
  const stateFile = config.monitor.persistPath
    ? createStateFile(config.monitor.persistPath, (e) => logger.warn(e.message))
    : null;
  const fileState = stateFile ? await loadStateFile(stateFile, logger) : null;
  recorder.onProblem((e) => logger.error(`recording: ${JSON.stringify(e)}`));
  const bms = createBms(config, {
    clock,
    logger,
    driver,
    restored: { monitor: fileState ?? restored?.monitor, protection: restored?.protection },
    ...(stateFile ? { monitorStateSink: stateFile } : {}),
  });
  recorder.attach(bms);
  // On the simulated pack the UPS's charger reads the limits the BMS publishes, as a real
  // cooperative UPS does over its BMS link.
  if (simulation) connectUpsToBms(simulation, bms);
  // A database that cannot be written is a `recording` warning in the snapshot and on Modbus;
  // it never stops the loop.
  let recordingFault = false;
  bms.onSnapshot(() => {
    const bad = !recorder.healthy;
    if (bad === recordingFault) return;
    recordingFault = bad;
    bms.setExternalFault("recording", bad, recorder.lastError?.message ?? "");
  });
  bms.onEvent((e) => {
    if (
      e.type === "fault" ||
      e.type === "state" ||
      e.type === "error" ||
      e.type === "command" ||
      e.type === "estimate"
    )
      logger.info(() => JSON.stringify(e));
  });
  let modbus: Awaited<ReturnType<typeof startModbus>> | null = null;
  try {
    // Before the first tick, so a busy port fails the start instead of a running pack.
    modbus = values["no-modbus"] ? null : await startModbus(bms, config, { logger });
  } catch (err) {
    await driver.close();
    await recorder.close();
    throw err;
  }
  await bms.start();

  const t0 = clock.nowMs();
  let lastPrintS = -1;
  if (!values.quiet) {
    bms.onSnapshot((s) => {
      const elapsedS = (s.timestampMs - t0) / 1000;
      if (Math.floor(elapsedS) <= lastPrintS) return;
      lastPrintS = Math.floor(elapsedS);
      process.stdout.write(`${statusLine(s, elapsedS)}\n`);
    });
  }

  let stopReason = "duration reached";
  const onSignal = (sig: NodeJS.Signals) => {
    stopReason = `signal ${sig}`;
    bms.stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const timer = Number.isFinite(durationS) ? setTimeout(() => bms.stop(), durationS * 1000) : null;

  try {
    await bms.run();
  } finally {
    if (timer) clearTimeout(timer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await modbus?.close();
    await bms.shutdown(stopReason);
    if (stateFile) {
      stateFile.save(bms.exportState().monitor as PersistedState);
      await stateFile.flush();
    }
    await recorder.close();
  }
  const st = bms.loopStats;
  logger.info(
    `stopped (${stopReason}): ${st.ticks} ticks, ${st.overruns} overruns, ${st.tickErrors} tick errors; FETs open, bleeders off`,
  );
  return 0;
}

async function loadStateFile(file: StateFile, logger: Logger): Promise<PersistedState | null> {
  try {
    return await file.load();
  } catch (err) {
    // An unreadable file is not a reason not to protect the pack: start from the voltages.
    logger.warn(`${(err as Error).message}; starting the estimator from the cell voltages`);
    return null;
  }
}
