/**
 * `ups-bms sim --scenario FILE [--config FILE] [--every S]`: runs a scenario on the simulated
 * pack with the full BMS in simulated time and writes JSON Lines to stdout (logs go to stderr).
 */
import { BmsError } from "../core/errors.js";
import { createLogger } from "../core/logger.js";
import { runScenario, type SimLine } from "../scenario/runner.js";
import { loadScenarioFile, readJsonFile } from "../hal/sim/scenario-file.js";
import { noPositionals, parseCommandArgs, rangedFlag, usageError } from "./args.js";

const USAGE = "ups-bms sim --scenario FILE [--config FILE] [--every S]";

interface Args {
  scenario: string;
  config: string | null;
  everyS: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const { values, positionals } = parseCommandArgs(
    argv,
    { scenario: { type: "string" }, config: { type: "string" }, every: { type: "string" } },
    USAGE,
  );
  noPositionals(positionals, USAGE);
  const scenario = values.scenario;
  if (typeof scenario !== "string") throw usageError("--scenario is required", USAGE);
  return {
    scenario,
    config: typeof values.config === "string" ? values.config : null,
    everyS: rangedFlag("every", values.every, { positive: true }),
  };
}

/** Buffers lines so that a long run is not one syscall per record. */
function lineWriter() {
  let buf: string[] = [];
  let size = 0;
  const flush = () => {
    if (buf.length === 0) return;
    process.stdout.write(buf.join(""));
    buf = [];
    size = 0;
  };
  const write = (line: SimLine) => {
    const s = `${JSON.stringify(line)}\n`;
    buf.push(s);
    size += s.length;
    if (size > 65_536) flush();
  };
  return { write, flush };
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const { scenario, profiles } = loadScenarioFile(args.scenario);
  const baseConfig = args.config === null ? undefined : readJsonFile(args.config, "CONFIG_INVALID");
  const out = lineWriter();
  const logger = createLogger("bms", "warn");
  try {
    await runScenario({
      scenario,
      baseConfig,
      ...(args.everyS === undefined ? {} : { everyS: args.everyS }),
      profiles,
      write: out.write,
      logger,
    });
  } catch (err) {
    if (err instanceof BmsError && err.code === "SCENARIO_INVALID" && !err.message.startsWith(args.scenario))
      throw new BmsError("SCENARIO_INVALID", `${args.scenario}: ${err.message}`, {
        ...(err.path === undefined ? {} : { path: err.path }),
        cause: err,
      });
    throw err;
  } finally {
    out.flush();
  }
  await new Promise<void>((r) => process.stdout.write("", () => r()));
  return 0;
}
