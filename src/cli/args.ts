import { type ParseArgsConfig, parseArgs } from "node:util";
import { BmsError } from "../core/errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Strict argument parsing: an unknown flag or a missing value is a USAGE error with one
 * clear line, never a stack trace.
 */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: string[];
}

export function parseCommandArgs(argv: string[], options: Options, usage: string): ParsedArgs {
  if (argv.length === 1 && argv[0] === "--help") {
    process.stdout.write(`usage: ${usage}\n`);
    throw new BmsError("USAGE", "help shown", { details: { helpShown: true } });
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const name = /'([^']+)'/.exec(e.message)?.[1];
    const text =
      e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && name
        ? `unknown option ${name}`
        : e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && name
          ? `option ${name} needs a value`
          : (e.message.split("\n")[0] ?? "bad arguments");
    throw new BmsError("USAGE", `${text}; usage: ${usage}`, { cause: err });
  }
}

/** Parses a non-negative number flag, naming the flag on failure. */
export function numberFlag(name: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new BmsError("USAGE", `--${name} needs a non-negative number, got ${JSON.stringify(value)}`);
  return n;
}
