/**
 * Bus-level fault injection shared by the chip emulators: NACK bursts, corrupted CRC bytes
 * and a stuck bus, from a seeded random stream so every run is reproducible.
 */
import { BmsError } from "../../core/errors.js";

export interface InjectedCounts {
  corruptedCrc: number;
  nacks: number;
  timeouts: number;
  /** Writes dropped because their CRC did not match (host or injected corruption). */
  droppedWrites: number;
  /** CELLBAL writes that switched on two neighbouring inputs of one group. */
  adjacentBalancing: number;
}

export const nackError = (address: number, why: string): BmsError =>
  new BmsError("BUS_NACK", `no ACK from 0x${address.toString(16)} (${why})`, {
    details: { errno: 121, address },
  });

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class BusFaults {
  readonly injected: InjectedCounts = {
    corruptedCrc: 0,
    nacks: 0,
    timeouts: 0,
    droppedWrites: 0,
    adjacentBalancing: 0,
  };
  readonly random: () => number;
  private nackBurst = 0;
  private crcErrorRate = 0;
  private stuck = false;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** NACKs the next `count` transactions; 0 ends a burst. */
  setNackBurst(count: number): void {
    this.nackBurst = Math.max(0, count);
  }

  setCrcErrorRate(rate: number): void {
    this.crcErrorRate = Math.max(0, Math.min(1, rate));
  }

  setStuck(stuck: boolean): void {
    this.stuck = stuck;
  }

  /** Argument checks as i2c-bus does them, then a stuck bus times out (before the chip sees anything). */
  checkBus(address: number, length: number): void {
    if (!Number.isInteger(address) || address < 0 || address > 0x7f)
      throw new BmsError("BUS_IO", `invalid I2C address ${address}`);
    if (!Number.isInteger(length) || length < 0 || length > 32)
      throw new BmsError("BUS_IO", `invalid buffer length ${length}`);
    if (this.stuck) {
      this.injected.timeouts++;
      throw new BmsError("BUS_TIMEOUT", "bus stuck: SDA held low", { details: { errno: 110, address } });
    }
  }

  /** An injected NACK for this transaction, if a burst is running. */
  checkNack(address: number): void {
    if (this.nackBurst > 0) {
      this.nackBurst--;
      this.injected.nacks++;
      throw nackError(address, "injected NACK");
    }
  }

  /** Whether this transaction gets a corrupted CRC byte (counted when it does). */
  rollCorruption(): boolean {
    const hit = this.crcErrorRate > 0 && this.random() < this.crcErrorRate;
    if (hit) this.injected.corruptedCrc++;
    return hit;
  }
}
