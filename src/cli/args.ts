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

/**
 * The first line of a usage text (without a leading "usage: "): what errors quote, so an
 * error stays one line even for a command whose help runs to several.
 */
export function usageLine(usage: string): string {
  return (usage.replace(/^usage: /, "").split("\n")[0] ?? "").trim();
}

/** A USAGE error: the problem, then the command's usage line. */
export function usageError(message: string, usage: string): BmsError {
  return new BmsError("USAGE", `${message}; usage: ${usageLine(usage)}`);
}

/** Rejects words a command does not take. */
export function noPositionals(positionals: readonly string[], usage: string): void {
  if (positionals.length > 0)
    throw usageError(`unexpected argument ${JSON.stringify(positionals[0])}`, usage);
}

/**
 * `usage` may run to several lines (all printed for `--help`, the first quoted in errors);
 * a leading "usage: " is optional.
 */
export function parseCommandArgs(argv: string[], options: Options, usage: string): ParsedArgs {
  if (argv.length === 1 && argv[0] === "--help") {
    process.stdout.write(`usage: ${usage.replace(/^usage: /, "")}\n`);
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
    throw new BmsError("USAGE", `${text}; usage: ${usageLine(usage)}`, { cause: err });
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

export interface FlagRange {
  readonly min?: number;
  readonly max?: number;
  /** Strictly above zero. */
  readonly positive?: boolean;
  readonly integer?: boolean;
}

function describeRange(r: FlagRange): string {
  const what = r.integer ? "an integer" : "a number";
  if (r.min !== undefined && r.max !== undefined) return `${what} in ${r.min}..${r.max}`;
  if (r.positive) return `${what} > 0`;
  if (r.min !== undefined) return `${what} ≥ ${r.min}`;
  if (r.max !== undefined) return `${what} ≤ ${r.max}`;
  return what;
}

/**
 * Parses a string flag holding a number within `range`, naming the flag and the range on
 * failure; undefined when the flag is absent.
 */
export function rangedFlag(
  name: string,
  value: string | boolean | undefined,
  range: FlagRange,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  const ok =
    Number.isFinite(n) &&
    (!range.integer || Number.isInteger(n)) &&
    (!range.positive || n > 0) &&
    (range.min === undefined || n >= range.min) &&
    (range.max === undefined || n <= range.max);
  if (!ok)
    throw new BmsError("USAGE", `--${name} must be ${describeRange(range)}, got ${JSON.stringify(value)}`);
  return n;
}
