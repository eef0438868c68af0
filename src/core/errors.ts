/**
 * One error type for the whole project. Callers branch on `code`, never on message text,
 * so messages can be improved without breaking anyone.
 */
export const BMS_ERROR_CODES = [
  // usage and configuration: the CLI maps these to exit code 2
  "USAGE",
  "CONFIG_INVALID",
  "SCENARIO_INVALID",
  "CSV_INVALID",
  // hardware access
  "BUS_IO",
  "BUS_NACK",
  "BUS_CRC",
  "BUS_TIMEOUT",
  "BUS_UNAVAILABLE",
  "NATIVE_MODULE_MISSING",
  "AFE_COMMS",
  "NOT_SUPPORTED",
  // protocol and comms
  "PROTOCOL",
  "COMMS",
  // recording and persistence
  "RECORD",
  "PERSIST",
  // anything else is a bug
  "INTERNAL",
] as const;

export type BmsErrorCode = (typeof BMS_ERROR_CODES)[number];

export interface BmsErrorOptions {
  cause?: unknown;
  /** Where the problem is, e.g. a config path `protection.cellOv.trip.limit` or `file.csv:12`. */
  path?: string;
  details?: Record<string, unknown>;
}

export class BmsError extends Error {
  override readonly name = "BmsError";
  readonly code: BmsErrorCode;
  readonly path: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: BmsErrorCode, message: string, options: BmsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.details = options.details;
  }

  /** True for errors a user fixes by changing their command line or files (exit code 2). */
  get isUsage(): boolean {
    return (
      this.code === "USAGE" ||
      this.code === "CONFIG_INVALID" ||
      this.code === "SCENARIO_INVALID" ||
      this.code === "CSV_INVALID"
    );
  }
}

export function isBmsError(err: unknown, code?: BmsErrorCode): err is BmsError {
  return err instanceof BmsError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a BmsError, keeping the original as `cause`. */
export function toBmsError(err: unknown, fallback: BmsErrorCode = "INTERNAL"): BmsError {
  if (err instanceof BmsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BmsError(fallback, message, { cause: err });
}
