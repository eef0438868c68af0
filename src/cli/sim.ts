/**
 * `ups-bms sim --scenario FILE [--config FILE] [--every S]`: runs a scenario on the simulated
 * pack with the full BMS in simulated time and writes JSON Lines to stdout (logs go to stderr).
 */
import { BmsError } from "../core/errors.js";
import { createLogger } from "../core/logger.js";
import { runScenario, type SimLine } from "../hal/sim/runner.js";
import { loadScenarioFile, readJsonFile } from "../hal/sim/scenario-file.js";

const USAGE = "usage: ups-bms sim --scenario FILE [--config FILE] [--every S]";

interface Args {
  scenario: string;
  config: string | null;
  everyS: number | undefined;
}

function parseArgs(argv: string[]): Args | null {
  let scenario: string | null = null;
  let config: string | null = null;
  let everyS: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BmsError("USAGE", `${a} needs a value. ${USAGE}`);
      return v;
    };
    if (a === "--help" || a === "-h") return null;
    else if (a === "--scenario") scenario = value();
    else if (a === "--config") config = value();
    else if (a === "--every") {
      const v = value();
      everyS = Number(v);
      if (!(everyS > 0))
        throw new BmsError("USAGE", `--every needs a positive number of seconds, got "${v}"`);
    } else throw new BmsError("USAGE", `unknown argument "${a}". ${USAGE}`);
  }
  if (scenario === null) throw new BmsError("USAGE", `--scenario is required. ${USAGE}`);
  return { scenario, config, everyS };
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
  if (args === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
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
