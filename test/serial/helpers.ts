import type { FetState } from "../../src/core/fets.js";
import type { PackPort } from "../../src/hal/pack.js";

/** A PackPort double with known, distinct values at every pin, so tests can check mapping. */
export function fakePack(cells: number, temps: number) {
  let fets: FetState = { chg: false, dsg: true };
  let bleeders: readonly number[] = [];
  let comms = true;
  const state = {
    voltagesMv: Array.from({ length: cells }, (_, i) => 3200 + i * 7),
    currentMa: -12_345,
    tempsDeciC: Array.from({ length: temps }, (_, i) => 200 + i * 11),
    dieDeciC: 321,
  };
  const pack: PackPort = {
    cellCount: cells,
    temperatureSensorCount: temps,
    advanceTo: () => {},
    senseVoltagesMv: () => state.voltagesMv,
    currentMa: () => state.currentMa,
    thermistorDeciC: (i) => state.tempsDeciC[i]!,
    dieTempDeciC: () => state.dieDeciC,
    commsAvailable: () => comms,
    setFets: (f) => {
      fets = f;
    },
    fets: () => fets,
    setBleeders: (c) => {
      bleeders = [...c];
    },
  };
  return {
    pack,
    state,
    bleeders: () => bleeders,
    setComms: (on: boolean) => {
      comms = on;
    },
  };
}

import type { SerialLink } from "../../src/hal/serial.js";
import { type ManualClock, flushMicrotasks } from "../../src/time/clock.js";

/**
 * Sits between the driver's link and the boards' link and lets a test rewrite every line a
 * board sends (corrupt it, duplicate it, drop it). Delivery stays synchronous.
 */
export function tamper(toDriver: SerialLink, toBoards: SerialLink, rewrite: (line: string) => string[]) {
  let partial = "";
  const dec = new TextDecoder();
  toDriver.onData((chunk) => void toBoards.write(chunk).catch(() => {}));
  toBoards.onData((chunk) => {
    partial += dec.decode(chunk);
    let nl = partial.indexOf("\n");
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      for (const out of rewrite(line)) void toDriver.write(out).catch(() => {});
      nl = partial.indexOf("\n");
    }
  });
}

/** Awaits a promise that needs the manual clock to move (reply timeouts), stepping it. */
export async function settle<T>(
  clock: ManualClock,
  p: Promise<T>,
  stepMs = 10,
  maxSteps = 10_000,
): Promise<T> {
  let done = false;
  const out = p.finally(() => {
    done = true;
  });
  out.catch(() => {});
  for (let i = 0; i < maxSteps && !done; i++) {
    await flushMicrotasks(2);
    if (!done) clock.advance(stepMs);
  }
  return out;
}
