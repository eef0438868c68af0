import { afterEach, describe, expect, it, vi } from "vitest";
import { BmsError } from "../../src/core/errors.js";
import { mapI2cError, openI2cBus } from "../../src/hal/node/i2c.js";

const errnoError = (errno: number, message = ", Remote I/O error") =>
  Object.assign(new Error(message), { errno, code: "", syscall: "readI2cBlock" });

function fakeRaw(impl: (n: number) => Promise<void>) {
  let active = 0;
  let maxActive = 0;
  let calls = 0;
  const op = async () => {
    const n = calls++;
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      await impl(n);
    } finally {
      active--;
    }
    return { bytesRead: 1, bytesWritten: 1, buffer: Buffer.alloc(1) };
  };
  const raw = { i2cWrite: op, i2cRead: op, readI2cBlock: op, writeI2cBlock: op, close: async () => {} };
  return { raw, stats: () => ({ maxActive, calls }) };
}

const open = (raw: unknown, timeoutMs = 1000) =>
  openI2cBus(1, {
    deviceExists: () => true,
    load: async () => ({ openPromisified: async () => raw }),
    timeoutMs,
  });

afterEach(() => {
  vi.useRealTimers();
});

describe("real I2C adapter (i2c-bus)", () => {
  it("maps errno values to bus error codes", () => {
    expect(mapI2cError(errnoError(121), "x").code).toBe("BUS_NACK");
    expect(mapI2cError(errnoError(6), "x").code).toBe("BUS_NACK");
    expect(mapI2cError(errnoError(110), "x").code).toBe("BUS_TIMEOUT");
    expect(mapI2cError(errnoError(5), "x").code).toBe("BUS_IO");
    expect(mapI2cError(errnoError(95), "x").code).toBe("NOT_SUPPORTED");
    expect(mapI2cError(errnoError(13), "x").code).toBe("BUS_UNAVAILABLE");
    expect(mapI2cError(new Error("Invalid I2C address"), "x").code).toBe("BUS_IO");
    expect(mapI2cError(errnoError(121), "read").details).toEqual({ errno: 121 });
  });

  it("names a missing /dev/i2c-N in one line", async () => {
    const err = await openI2cBus(97, { deviceExists: () => false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BmsError);
    expect((err as BmsError).code).toBe("BUS_UNAVAILABLE");
    expect((err as BmsError).message).toMatch(/^\/dev\/i2c-97 does not exist/);
    expect((err as BmsError).message).not.toContain("\n");
  });

  it("reports an absent native module clearly", async () => {
    const err = await openI2cBus(1, {
      deviceExists: () => true,
      load: () => Promise.reject(new Error("Cannot find module 'i2c-bus'")),
    }).catch((e: unknown) => e);
    expect((err as BmsError).code).toBe("NATIVE_MODULE_MISSING");
    expect((err as BmsError).message).toMatch(/i2c-bus/);
  });

  it("maps a permission error on open", async () => {
    const err = await openI2cBus(1, {
      deviceExists: () => true,
      load: async () => ({
        openPromisified: () =>
          Promise.reject(Object.assign(new Error("EACCES, Permission denied"), { errno: 13 })),
      }),
    }).catch((e: unknown) => e);
    expect((err as BmsError).code).toBe("BUS_UNAVAILABLE");
    expect((err as BmsError).message).toMatch(/i2c group/);
  });

  it("serialises concurrent transfers", async () => {
    const { raw, stats } = fakeRaw(() => new Promise((r) => setImmediate(r)));
    const bus = await open(raw);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 ? bus.readI2cBlock(8, i, 1, Buffer.alloc(1)) : bus.writeI2cBlock(8, i, 1, Buffer.alloc(1)),
      ),
    );
    expect(stats()).toEqual({ maxActive: 1, calls: 8 });
  });

  it("turns a NACK into BUS_NACK and keeps working", async () => {
    const { raw } = fakeRaw(async (n) => {
      if (n === 0) throw errnoError(121);
    });
    const bus = await open(raw);
    await expect(bus.readI2cBlock(8, 0, 1, Buffer.alloc(1))).rejects.toMatchObject({ code: "BUS_NACK" });
    await expect(bus.readI2cBlock(8, 0, 1, Buffer.alloc(1))).resolves.toMatchObject({ bytesRead: 1 });
  });

  it("times out a stuck transfer and fails fast until it comes back", async () => {
    vi.useFakeTimers();
    let release: () => void = () => {};
    const { raw } = fakeRaw((n) => (n === 0 ? new Promise<void>((r) => (release = r)) : Promise.resolve()));
    const bus = await open(raw, 50);
    const stuck = bus.readI2cBlock(8, 0, 1, Buffer.alloc(1));
    const check = expect(stuck).rejects.toMatchObject({ code: "BUS_TIMEOUT" });
    await vi.advanceTimersByTimeAsync(60);
    await check;
    await expect(bus.writeI2cBlock(8, 0, 1, Buffer.alloc(1))).rejects.toMatchObject({ code: "BUS_TIMEOUT" });
    release();
    await vi.advanceTimersByTimeAsync(1);
    await expect(bus.writeI2cBlock(8, 0, 1, Buffer.alloc(1))).resolves.toMatchObject({ bytesWritten: 1 });
  });

  it("loads the installed i2c-bus module and still refuses a bus that does not exist", async () => {
    const err = await openI2cBus(250).catch((e: unknown) => e);
    expect((err as BmsError).code).toBe("BUS_UNAVAILABLE");
  });
});

describe("real I2C adapter argument errors", () => {
  it("maps a synchronous throw and does not wedge the bus", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const raw = {
      readI2cBlock: () => {
        calls++;
        if (calls === 1) throw new Error("Invalid I2C address 200");
        return Promise.resolve({ bytesRead: 1, buffer: Buffer.alloc(1) });
      },
      writeI2cBlock: async () => ({ bytesWritten: 1, buffer: Buffer.alloc(1) }),
      i2cRead: async () => ({ bytesRead: 1, buffer: Buffer.alloc(1) }),
      i2cWrite: async () => ({ bytesWritten: 1, buffer: Buffer.alloc(1) }),
      close: async () => {},
    };
    const bus = await openI2cBus(1, {
      deviceExists: () => true,
      load: async () => ({ openPromisified: async () => raw }),
      timeoutMs: 50,
    });
    await expect(bus.readI2cBlock(200, 0, 1, Buffer.alloc(1))).rejects.toMatchObject({ code: "BUS_IO" });
    await vi.advanceTimersByTimeAsync(100);
    await expect(bus.readI2cBlock(8, 0, 1, Buffer.alloc(1))).resolves.toMatchObject({ bytesRead: 1 });
  });
});
