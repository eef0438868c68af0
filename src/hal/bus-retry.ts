/**
 * Retries of one I2C chip operation, shared by the chip interfaces: every attempt is the
 * complete transaction (register pointer included), errors are counted by kind, and the
 * final failure names the chip and address.
 */
import { BmsError, type BmsErrorCode } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export interface BusStats {
  /** Transactions attempted, retries included. */
  transactions: number;
  retries: number;
  crcErrors: number;
  nacks: number;
  timeouts: number;
  /** Operations that still failed after every attempt. */
  failures: number;
}

export const emptyBusStats = (): BusStats => ({
  transactions: 0,
  retries: 0,
  crcErrors: 0,
  nacks: 0,
  timeouts: 0,
  failures: 0,
});

/** A timeout or a missing bus will not heal within a retry; garbled bytes and NACKs may. */
const RETRYABLE: ReadonlySet<BmsErrorCode> = new Set(["BUS_CRC", "BUS_NACK", "BUS_IO"]);

const hex = (n: number): string => n.toString(16).padStart(2, "0");

export interface BusRetryOptions {
  /** Chip name for the error, e.g. `bq769x0`. */
  readonly chip: string;
  readonly address: number;
  readonly maxAttempts: number;
  readonly stats: BusStats;
  readonly logger?: Logger | undefined;
  /** Count each attempt as one transaction (false where the caller counts its own). */
  readonly countTransactions: boolean;
}

export async function withBusRetry<T>(what: string, op: () => Promise<T>, o: BusRetryOptions): Promise<T> {
  const stats = o.stats;
  let last: BmsError | null = null;
  for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
    if (attempt > 1) stats.retries++;
    if (o.countTransactions) stats.transactions++;
    try {
      return await op();
    } catch (err) {
      last = err instanceof BmsError ? err : new BmsError("BUS_IO", String(err), { cause: err });
      if (last.code === "BUS_CRC") stats.crcErrors++;
      else if (last.code === "BUS_NACK") stats.nacks++;
      else if (last.code === "BUS_TIMEOUT") stats.timeouts++;
      if (!RETRYABLE.has(last.code)) break;
      o.logger?.debug(() => `${what}: ${last?.code} (attempt ${attempt}/${o.maxAttempts})`);
    }
  }
  stats.failures++;
  const e = last ?? new BmsError("BUS_IO", `${what} failed`);
  throw new BmsError(e.code, `${o.chip} at 0x${hex(o.address)}: ${what} failed: ${e.message}`, {
    cause: e,
    details: { address: o.address },
  });
}
