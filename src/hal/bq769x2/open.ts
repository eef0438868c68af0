/** Builds the bq76952 driver a config asks for: on /dev/i2c-N, or on an emulated chip on a simulated pack. */
import type { z } from "zod";
import type { bq76952Schema } from "../../config/afe.js";
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { I2cBus } from "../i2c.js";
import { openI2cBus } from "../node/i2c.js";
import type { PackPort } from "../pack.js";
import { type Bq76952Driver, createBq76952Driver } from "./driver.js";
import { Bq76952Emulator } from "./emulator.js";

export type Bq76952Config = z.infer<typeof bq76952Schema>;

export interface Bq76952Setup {
  readonly driver: Bq76952Driver;
  /** The emulated chip (null on real hardware), for fault injection. */
  readonly emulator: Bq76952Emulator | null;
}

export async function openBq76952(
  afe: Bq76952Config,
  deps: { readonly clock: Clock; readonly logger: Logger; readonly pack?: PackPort },
): Promise<Bq76952Setup> {
  let bus: I2cBus;
  let emulator: Bq76952Emulator | null = null;
  if (afe.bus === "emulator") {
    if (!deps.pack) throw new BmsError("INTERNAL", "openBq76952: the emulator needs a simulated pack");
    emulator = new Bq76952Emulator({
      pack: deps.pack,
      clock: deps.clock,
      cellsConnected: afe.cellsConnected,
      senseResistorMilliOhm: afe.senseResistorMilliOhm,
      address: afe.address,
      crc: afe.crc ?? false,
      seed: afe.emulator?.seed ?? 1,
    });
    emulator.setCrcErrorRate(afe.emulator?.crcErrorRate ?? 0);
    bus = emulator;
  } else {
    bus = await openI2cBus(afe.bus, afe.timeoutMs === undefined ? {} : { timeoutMs: afe.timeoutMs });
  }
  try {
    const driver = await createBq76952Driver(bus, {
      cellsConnected: afe.cellsConnected,
      senseResistorMilliOhm: afe.senseResistorMilliOhm,
      address: afe.address,
      crc: afe.crc ?? false,
      bleedResistorOhm: afe.bleedResistorOhm ?? 100,
      maxBalancingCells: afe.maxBalancingCells ?? 4,
      clock: deps.clock,
      logger: deps.logger.child("bq76952"),
    });
    return { driver, emulator };
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw err;
  }
}
