/**
 * What the simulated AFE's converters make of the truth: per-channel static gain and offset
 * errors drawn once from the seed, white noise per reading, quantisation to the LSB, and a
 * current sensor with its own gain and offset. The truth is never changed by a reading.
 */
import type { SimAfeConfig } from "../../config/afe.js";
import { Prng } from "./prng.js";

export interface SensorSettings {
  readonly cellLsbMv: number;
  readonly cellNoiseMv: number;
  readonly cellOffsetMv: number;
  readonly cellGainPct: number;
  readonly packLsbMv: number;
  readonly currentLsbMa: number;
  readonly currentNoiseMa: number;
  readonly currentOffsetMa: number;
  readonly currentGainPct: number;
  readonly tempNoiseDeciC: number;
  readonly tempOffsetSigmaDeciC: number;
  readonly adcPeriodMs: number;
}

/** Defaults scaled to the pack: current resolution and errors follow capacity (1C in mA). */
export function sensorSettings(afe: SimAfeConfig, capacityAh: number, periodMs: number): SensorSettings {
  const c = capacityAh * 1000;
  return {
    cellLsbMv: 1,
    cellNoiseMv: 1,
    cellOffsetMv: 1.5,
    cellGainPct: 0.05,
    packLsbMv: 10,
    currentLsbMa: Math.max(1, Math.round(c / 10_000)),
    currentNoiseMa: 0.001 * c,
    currentOffsetMa: 0.0005 * c,
    currentGainPct: 0.2,
    tempNoiseDeciC: 1,
    tempOffsetSigmaDeciC: 5,
    adcPeriodMs: periodMs,
    ...afe.sensors,
  };
}

export class SensorModel {
  readonly settings: SensorSettings;
  private readonly rng: Prng;
  private readonly cellGain: Float64Array;
  private readonly cellOffsetMv: Float64Array;
  private readonly tempOffsetDeciC: Float64Array;
  private readonly packGain: number;

  constructor(settings: SensorSettings, cells: number, thermistors: number, seed: number) {
    this.settings = settings;
    const statics = Prng.derive(seed, 2);
    this.rng = Prng.derive(seed, 3);
    this.cellGain = Float64Array.from({ length: cells }, () =>
      statics.truncatedNormal(settings.cellGainPct / 100),
    );
    this.cellOffsetMv = Float64Array.from({ length: cells }, () =>
      statics.truncatedNormal(settings.cellOffsetMv),
    );
    this.tempOffsetDeciC = Float64Array.from({ length: thermistors }, () =>
      statics.truncatedNormal(settings.tempOffsetSigmaDeciC),
    );
    this.packGain = statics.truncatedNormal(0.001);
  }

  cellMv(i: number, trueMv: number): number {
    const s = this.settings;
    const v = trueMv * (1 + this.cellGain[i]!) + this.cellOffsetMv[i]! + s.cellNoiseMv * this.rng.normal();
    const q = Math.round(v / s.cellLsbMv) * s.cellLsbMv;
    return Math.max(q, 0);
  }

  packMv(trueMv: number): number {
    const s = this.settings;
    const v = trueMv * (1 + this.packGain) + 2 * s.packLsbMv * this.rng.normal();
    return Math.round(v / s.packLsbMv) * s.packLsbMv;
  }

  currentMa(trueMa: number, faultOffsetMa: number): number {
    const s = this.settings;
    const v =
      trueMa * (1 + s.currentGainPct / 100) +
      s.currentOffsetMa +
      faultOffsetMa +
      s.currentNoiseMa * this.rng.normal();
    return Math.round(v / s.currentLsbMa) * s.currentLsbMa;
  }

  /** A healthy thermistor's reading; faulted ones report their rail value unchanged. */
  tempDeciC(i: number, trueDeciC: number): number {
    return Math.round(
      trueDeciC + this.tempOffsetDeciC[i]! + this.settings.tempNoiseDeciC * this.rng.normal(),
    );
  }
}
