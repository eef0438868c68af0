/** `ups-bms config check FILE | schema | show [FILE]`. */
import { loadConfigFile } from "../config/load.js";
import { type BmsConfig, type ConfigProblem, configJsonSchema, parseConfig } from "../config/schema.js";
import { BmsError, isBmsError } from "../core/errors.js";
import { parseCommandArgs } from "./args.js";

const USAGE = "ups-bms config check FILE | ups-bms config schema | ups-bms config show [FILE]";

export async function main(argv: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, USAGE);
  const [sub, file, ...extra] = positionals;
  if (extra.length > 0)
    throw new BmsError("USAGE", `unexpected argument ${JSON.stringify(extra[0])}; usage: ${USAGE}`);
  switch (sub) {
    case "check": {
      if (!file) throw new BmsError("USAGE", `config check needs a FILE; usage: ${USAGE}`);
      let cfg: BmsConfig;
      try {
        cfg = await loadConfigFile(file);
      } catch (err) {
        if (!isBmsError(err, "CONFIG_INVALID")) throw err;
        const problems = err.details?.problems as ConfigProblem[] | undefined;
        if (!problems) {
          process.stderr.write(`${err.message}\n`);
          return 2;
        }
        for (const p of problems) process.stderr.write(`${file}: ${p.path || "(root)"}: ${p.message}\n`);
        process.stderr.write(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n`);
        return 2;
      }
      process.stdout.write(
        `${file}: ok (${cfg.pack.chemistry}, ${cfg.pack.cellsInSeries} cells, ${cfg.pack.capacityAh} Ah, afe ${cfg.afe.kind})\n`,
      );
      return 0;
    }
    case "schema":
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      return 0;
    case "show": {
      const cfg = file ? await loadConfigFile(file) : parseConfig({});
      process.stdout.write(`${JSON.stringify(cfg, null, 2)}\n`);
      return 0;
    }
    default:
      throw new BmsError("USAGE", `unknown config subcommand ${JSON.stringify(sub ?? "")}; usage: ${USAGE}`);
  }
}
