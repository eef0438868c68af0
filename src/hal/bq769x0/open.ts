/**
 * Builds the bq769x0 driver a config asks for: on real /dev/i2c-N buses (chip k on bus N+k,
 * e.g. the channels of an I2C multiplexer) or on emulated chips sitting on a simulated pack.
 */
import type { z } from "zod";
import type { bq769x0Schema } from "../../config/afe.js";
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { AfeDriver } from "../afe.js";
import type { I2cBus } from "../i2c.js";
import { openI2cBus } from "../node/i2c.js";
import type { PackPort } from "../pack.js";
import { createBq769x0Driver } from "./driver.js";
import { Bq769x0Emulator } from "./emulator.js";
import { VARIANTS } from "./registers.js";
import { createStackDriver, splitPack } from "./stack.js";

export type Bq769x0Config = z.infer<typeof bq769x0Schema>;

export interface Bq769x0Setup {
  readonly driver: AfeDriver;
  /** The emulated chips, bottom first (empty on real hardware), for fault injection. */
  readonly emulators: readonly Bq769x0Emulator[];
}

export async function openBq769x0(
  afe: Bq769x0Config,
  deps: { readonly clock: Clock; readonly logger: Logger; readonly pack?: PackPort },
): Promise<Bq769x0Setup> {
  const log = deps.logger.child("bq769x0");
  const thermistors = VARIANTS[afe.variant].thermistors;
  const emulators: Bq769x0Emulator[] = [];
  let buses: I2cBus[];
  if (afe.bus === "emulator") {
    const pack = deps.pack;
    if (!pack) throw new BmsError("INTERNAL", "openBq769x0: the emulator needs a simulated pack");
    const views = splitPack(
      pack,
      Array.from({ length: afe.chips }, () => ({ cells: afe.cellsConnected, thermistors })),
    );
    buses = views.map((view, k) => {
      const emu = new Bq769x0Emulator({
        pack: view,
        clock: deps.clock,
        variant: afe.variant,
        cellsConnected: afe.cellsConnected,
        address: afe.address,
        crc: afe.crc,
        senseResistorMilliOhm: afe.senseResistorMilliOhm,
        thermistorBeta: afe.thermistorBeta,
        gainCode: afe.emulator?.adcGainCode ?? 15,
        offsetMv: afe.emulator?.adcOffsetMv ?? 0,
        seed: (afe.emulator?.seed ?? 1) + k,
        adcNoiseMv: afe.emulator?.adcNoiseMv ?? 0,
      });
      emu.setCrcErrorRate(afe.emulator?.crcErrorRate ?? 0);
      emulators.push(emu);
      return emu;
    });
  } else {
    buses = [];
    for (let k = 0; k < afe.chips; k++)
      buses.push(
        await openI2cBus(afe.bus + k, afe.timeoutMs === undefined ? {} : { timeoutMs: afe.timeoutMs }),
      );
  }
  const chips: AfeDriver[] = [];
  try {
    for (const [k, bus] of buses.entries())
      chips.push(
        await createBq769x0Driver(bus, {
          variant: afe.variant,
          cellsConnected: afe.cellsConnected,
          address: afe.address,
          crc: afe.crc,
          senseResistorMilliOhm: afe.senseResistorMilliOhm,
          thermistorBeta: afe.thermistorBeta,
          bleedResistorOhm: afe.bleedResistorOhm ?? 33,
          clock: deps.clock,
          logger: afe.chips > 1 ? log.child(`chip${k}`) : log,
        }),
      );
  } catch (err) {
    for (const bus of buses) await bus.close().catch(() => undefined);
    throw err;
  }
  return { driver: createStackDriver(chips), emulators };
}
