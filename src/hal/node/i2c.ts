/**
 * The real I2C bus behind the I2cBus contract, on Linux /dev/i2c-N through the `i2c-bus`
 * native module (loaded here, lazily, so the core and the tests run without it).
 *
 * All access is serialised through one queue: i2c-bus runs each call in the libuv thread
 * pool, and a driver's multi-step sequences must never interleave with another caller's.
 * OS errors are mapped to BmsError codes by errno (i2c-bus leaves `code` empty on some
 * versions). A transfer that outlives `timeoutMs` is reported as BUS_TIMEOUT, and while it is
 * still stuck in the kernel every later call fails fast instead of queueing behind it.
 */
import { existsSync } from "node:fs";
import { BmsError, type BmsErrorCode } from "../../core/errors.js";
import type { I2cBus } from "../i2c.js";

/**
 * i2c-bus's PromisifiedBus, as far as we use it (the package ships no types): our I2cBus port
 * is that very subset, so the adapter below only adds serialisation and error mapping.
 */
type PromisifiedBus = I2cBus;

interface I2cBusModule {
  openPromisified(busNumber: number, options?: { forceAccess: boolean }): Promise<PromisifiedBus>;
}

export interface OpenI2cOptions {
  /** A transfer taking longer than this is reported as BUS_TIMEOUT (default 1000 ms). */
  readonly timeoutMs?: number;
  /** Test seam: the module loader (defaults to importing `i2c-bus`). */
  readonly load?: () => Promise<unknown>;
  /** Test seam: whether the device node exists. */
  readonly deviceExists?: (path: string) => boolean;
}

const ERRNO_CODES: Readonly<Record<number, BmsErrorCode>> = {
  121: "BUS_NACK", // EREMOTEIO: NACK on the Raspberry Pi's controller
  6: "BUS_NACK", // ENXIO: NACK on other adapters
  19: "BUS_NACK", // ENODEV: no device at the address
  110: "BUS_TIMEOUT", // ETIMEDOUT: clock stretching or a stuck bus
  5: "BUS_IO", // EIO
  11: "BUS_IO", // EAGAIN: arbitration lost
  95: "NOT_SUPPORTED", // EOPNOTSUPP: adapter lacks the transfer type
  13: "BUS_UNAVAILABLE", // EACCES
  1: "BUS_UNAVAILABLE", // EPERM
};

/** Maps an i2c-bus/OS error to a BmsError (exported for tests). */
export function mapI2cError(err: unknown, what: string): BmsError {
  if (err instanceof BmsError) return err;
  const e = err as { errno?: unknown; message?: unknown };
  const errno = typeof e?.errno === "number" ? Math.abs(e.errno) : undefined;
  const code: BmsErrorCode = (errno !== undefined ? ERRNO_CODES[errno] : undefined) ?? "BUS_IO";
  const text = typeof e?.message === "string" && e.message.length > 0 ? e.message : String(err);
  return new BmsError(code, `${what}: ${text}${errno !== undefined ? ` (errno ${errno})` : ""}`, {
    cause: err,
    details: errno === undefined ? {} : { errno },
  });
}

async function loadModule(load: () => Promise<unknown>): Promise<I2cBusModule> {
  try {
    const mod = (await load()) as Partial<I2cBusModule> & { default?: Partial<I2cBusModule> };
    const open = mod.openPromisified ?? mod.default?.openPromisified;
    if (typeof open !== "function") throw new Error("openPromisified missing");
    return { openPromisified: open };
  } catch (err) {
    throw new BmsError(
      "NATIVE_MODULE_MISSING",
      "the i2c-bus native module is not installed or failed to load (npm install i2c-bus; it builds with python3, make and g++)",
      { cause: err },
    );
  }
}

const defaultLoad = (): Promise<unknown> => {
  // A variable specifier keeps TypeScript from needing the package's (absent) type declarations.
  const specifier = "i2c-bus";
  return import(specifier);
};

/** Opens /dev/i2c-<busNumber> as an I2cBus. */
export async function openI2cBus(busNumber: number, options: OpenI2cOptions = {}): Promise<I2cBus> {
  const path = `/dev/i2c-${busNumber}`;
  const exists = options.deviceExists ?? existsSync;
  if (!exists(path))
    throw new BmsError(
      "BUS_UNAVAILABLE",
      `${path} does not exist: enable I2C (raspi-config, or dtparam=i2c_arm=on in config.txt) and load i2c-dev, or check the bus number`,
      { path },
    );
  const mod = await loadModule(options.load ?? defaultLoad);
  let raw: PromisifiedBus;
  try {
    raw = await mod.openPromisified(busNumber);
  } catch (err) {
    const e = mapI2cError(err, `cannot open ${path}`);
    const hint = e.code === "BUS_UNAVAILABLE" ? " (add the user to the i2c group)" : "";
    throw new BmsError(e.code === "BUS_UNAVAILABLE" ? e.code : "BUS_UNAVAILABLE", `${e.message}${hint}`, {
      cause: err,
      path,
    });
  }
  return new SerialisedI2cBus(raw, path, options.timeoutMs ?? 1000);
}

/** Wraps a raw bus: one transfer at a time, errors mapped, stuck transfers timed out. */
export class SerialisedI2cBus implements I2cBus {
  private tail: Promise<unknown> = Promise.resolve();
  private wedged = false;
  private closed = false;

  constructor(
    private readonly raw: PromisifiedBus,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  i2cWrite(address: number, length: number, buffer: Buffer) {
    return this.run(`i2cWrite 0x${address.toString(16)}`, () => this.raw.i2cWrite(address, length, buffer));
  }

  i2cRead(address: number, length: number, buffer: Buffer) {
    return this.run(`i2cRead 0x${address.toString(16)}`, () => this.raw.i2cRead(address, length, buffer));
  }

  readI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    return this.run(`readI2cBlock 0x${address.toString(16)}/0x${command.toString(16)}`, () =>
      this.raw.readI2cBlock(address, command, length, buffer),
    );
  }

  writeI2cBlock(address: number, command: number, length: number, buffer: Buffer) {
    return this.run(`writeI2cBlock 0x${address.toString(16)}/0x${command.toString(16)}`, () =>
      this.raw.writeI2cBlock(address, command, length, buffer),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined);
    await this.raw.close().catch(() => undefined);
  }

  private run<T>(what: string, op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(
      () => this.attempt(what, op),
      () => this.attempt(what, op),
    );
    this.tail = next.catch(() => undefined);
    return next;
  }

  private attempt<T>(what: string, op: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new BmsError("BUS_UNAVAILABLE", `${this.path} is closed`));
    if (this.wedged)
      return Promise.reject(
        new BmsError("BUS_TIMEOUT", `${this.path}: ${what}: an earlier transfer is still stuck`, {
          path: this.path,
        }),
      );
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.wedged = true;
        reject(
          new BmsError("BUS_TIMEOUT", `${this.path}: ${what} took over ${this.timeoutMs} ms`, {
            path: this.path,
          }),
        );
      }, this.timeoutMs);
      timer.unref?.();
      let pending: Promise<T>;
      try {
        pending = op();
      } catch (err) {
        // i2c-bus checks its arguments synchronously on some paths.
        pending = Promise.reject(err);
      }
      pending.then(
        (v) => {
          clearTimeout(timer);
          this.wedged = false;
          if (settled) return;
          settled = true;
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.wedged = false;
          if (settled) return;
          settled = true;
          reject(mapI2cError(err, `${this.path}: ${what}`));
        },
      );
    });
  }
}
