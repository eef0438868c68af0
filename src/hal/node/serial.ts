/**
 * The real serial port behind the SerialLink contract. `serialport` is a native module:
 * it is loaded here, lazily, so that the core and the tests run without it.
 */
import { BmsError } from "../../core/errors.js";
import type { SerialLink, SerialLinkOptions } from "../serial.js";

type SerialPortModule = typeof import("serialport");

let modulePromise: Promise<SerialPortModule> | null = null;

async function loadSerialPort(): Promise<SerialPortModule> {
  modulePromise ??= import("serialport").catch((err: unknown) => {
    modulePromise = null;
    throw new BmsError(
      "NATIVE_MODULE_MISSING",
      "the serialport module is not installed or failed to load (npm install serialport; it needs a C++ toolchain where no prebuilt binary fits)",
      { cause: err },
    );
  });
  return modulePromise;
}

/** Opens a serial device (or pseudo-terminal) as a SerialLink. */
export async function openSerialLink(options: SerialLinkOptions): Promise<SerialLink> {
  const { SerialPort } = await loadSerialPort();
  const port = new SerialPort({
    path: options.path,
    baudRate: options.baudRate,
    dataBits: options.dataBits ?? 8,
    parity: options.parity ?? "none",
    stopBits: options.stopBits ?? 1,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      reject(
        new BmsError("BUS_UNAVAILABLE", `cannot open serial port ${options.path}: ${err.message}`, {
          cause: err,
          path: options.path,
          details: { errno: code },
        }),
      );
    });
  });
  // serialport emits 'error' when a write hits a vanished device (EIO after a USB unplug or
  // the pty peer closing); an unhandled 'error' event would kill the process. The failure
  // still reaches callers through the write's rejection and the 'close' that follows.
  let lastError: Error | undefined;
  port.on("error", (err: Error) => {
    lastError = err;
  });
  return {
    path: options.path,
    get isOpen() {
      return port.isOpen;
    },
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        port.write(typeof data === "string" ? data : Buffer.from(data), (err) => {
          if (err)
            reject(new BmsError("COMMS", `write to ${options.path} failed: ${err.message}`, { cause: err }));
          else port.drain(() => resolve());
        });
      }),
    onData: (listener) => {
      const h = (chunk: Buffer) => listener(chunk);
      port.on("data", h);
      return () => port.off("data", h);
    },
    onClose: (listener) => {
      const h = (err?: Error | null) => listener(err ?? lastError);
      port.once("close", h);
      return () => port.off("close", h);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
