import { z } from "zod";
import { type Quantity, checkQuantity, lv, quantitySchema } from "./levels.js";
import type { ChemistryPreset } from "./chemistry.js";

/** Piecewise-linear derating curve: [x, fraction 0..1] points with ascending x. */
const curveSchema = z
  .array(z.tuple([z.number(), z.number().min(0).max(1)]))
  .min(2)
  .superRefine((pts, ctx) => {
    for (let i = 1; i < pts.length; i++) {
      if (!(pts[i]![0] > pts[i - 1]![0]))
        ctx.addIssue({ code: "custom", path: [i, 0], message: "x values must be strictly ascending" });
    }
  });

export const protectionSchema = z
  .object({
    cellOv: quantitySchema.describe("Cell over-voltage, mV"),
    cellUv: quantitySchema.describe("Cell under-voltage, mV"),
    ocCharge: quantitySchema.describe("Charge over-current, mA (magnitude)"),
    ocDischarge: quantitySchema.describe("Discharge over-current, mA (magnitude)"),
    otCharge: quantitySchema.describe("Over-temperature while charging, 0.1 °C"),
    otDischarge: quantitySchema.describe("Over-temperature while discharging, 0.1 °C"),
    utCharge: quantitySchema.describe("Under-temperature for charging, 0.1 °C"),
    utDischarge: quantitySchema.describe("Under-temperature for discharging, 0.1 °C"),
    boardOt: quantitySchema.describe("AFE die / FET over-temperature, 0.1 °C"),
    cellSpread: quantitySchema.describe("Max − min cell voltage, mV"),
    shortCircuit: z
      .object({
        limitMa: z.number().positive().describe("Short-circuit threshold enforced by the AFE, mA"),
        delayUs: z.number().int().min(0).max(2000).describe("Short-circuit delay in the AFE, µs"),
      })
      .strict(),
    deepDischarge: z
      .object({
        limitMv: z.number().int().describe("A cell below this is damaged: latch, survive restarts"),
        delayMs: z.number().int().min(0),
        recoveryChargeFraction: z
          .number()
          .min(0)
          .max(1)
          .default(0.1)
          .describe(
            "While deep discharge is latched, CCL is capped at this fraction of maxChargeCurrentMa (0 blocks charging)",
          ),
      })
      .strict(),
    overcurrentLatch: z
      .object({
        retries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .describe("Auto-retries of an over-current/short trip before latching"),
        backoffMs: z
          .array(z.number().int().min(0))
          .min(1)
          .describe("Wait before each retry, ms (last repeats)"),
        windowMs: z.number().int().min(0).describe("Trips further apart than this do not count as repeated"),
      })
      .strict(),
    sensorFault: z
      .object({
        blockChargeImmediately: z.boolean().describe("Open the charge path at once on a sensor fault"),
        dischargeHoldMs: z
          .number()
          .int()
          .min(0)
          .describe(
            "Keep the discharge path this long on a sensor fault while last good data is in the safe band",
          ),
        safeBandMinMv: z.number().int(),
        safeBandMaxMv: z.number().int(),
        delayMs: z
          .number()
          .int()
          .min(0)
          .max(60_000)
          .default(1000)
          .describe("A sensor fault must persist this long before sensor_fault is raised"),
        recoveryDelayMs: z
          .number()
          .int()
          .min(0)
          .max(3_600_000)
          .default(5000)
          .describe("All sensor faults must be gone this long before sensor_fault clears"),
      })
      .strict(),
    idealDiode: z
      .object({
        enabled: z
          .boolean()
          .describe(
            "Drive a blocked path's FET as an ideal diode while current flows in the allowed direction (see docs/protection.md)",
          ),
        onMa: z
          .number()
          .positive()
          .describe("Close the blocked path's FET once the allowed-direction current exceeds this, mA"),
        offMa: z
          .number()
          .positive()
          .describe("Open it again once that current falls below this (must be below onMa), mA"),
      })
      .strict()
      .default({ enabled: true, onMa: 500, offMa: 100 })
      .describe("Ideal-diode drive of the FET of a path blocked by a plain level fault"),
    afeCommsDelayMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .describe("Read failures for this long raise afe_comms"),
    charge: z
      .object({
        chargeVoltageMv: z.number().int().describe("Per-cell charge (CV) voltage target, mV"),
        floatVoltageMv: z.number().int().describe("Per-cell float voltage, mV"),
        dischargeStopMv: z.number().int().describe("DCL reaches 0 when the lowest cell falls here, mV"),
        maxChargeCurrentMa: z.number().positive(),
        maxDischargeCurrentMa: z.number().positive(),
        increaseHoldMs: z
          .number()
          .int()
          .min(0)
          .describe("A limit may rise only after being stable this long"),
        rampMaPerS: z.number().positive().describe("Rate at which a limit rises after the hold"),
        cvlRampMvPerS: z
          .number()
          .positive()
          .default(1)
          .describe("Rate at which CVL rises after the hold, mV per cell per second"),
        alarmDerateFraction: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .describe("An active alarm level scales the limit of the path it concerns by this fraction"),
        cclByCellMv: curveSchema.describe("CCL fraction by highest cell voltage"),
        dclByCellMv: curveSchema.describe("DCL fraction by lowest cell voltage"),
        cclByTempDeciC: curveSchema.describe("CCL fraction by temperature"),
        dclByTempDeciC: curveSchema.describe("DCL fraction by temperature"),
        cclBySocPct: curveSchema.describe("CCL fraction by SOC"),
      })
      .strict(),
  })
  .strict();

export type ProtectionConfig = z.infer<typeof protectionSchema>;

export function protectionDefaults(p: ChemistryPreset, capacityAh: number): ProtectionConfig {
  const c = capacityAh * 1000; // 1C in mA
  const fv = p.floatVoltageMv;
  const cv = p.chargeVoltageMv;
  return {
    cellOv: {
      warning: lv(p.ov.warning, p.ov.warningReset, 5000, 5000),
      alarm: lv(p.ov.alarm, p.ov.alarmReset, 2000, 10_000),
      trip: lv(p.ov.trip, p.ov.tripReset, 2000, 30_000),
    },
    cellUv: {
      warning: lv(p.uv.warning, p.uv.warningReset, 5000, 5000),
      alarm: lv(p.uv.alarm, p.uv.alarmReset, 2000, 10_000),
      trip: lv(p.uv.trip, p.uv.tripReset, 2000, 30_000),
    },
    ocCharge: { warning: lv(0.4 * c, 0.35 * c, 2000, 2000), trip: lv(0.5 * c, 0.4 * c, 1000, 5000) },
    ocDischarge: { warning: lv(0.8 * c, 0.7 * c, 2000, 2000), trip: lv(1.0 * c, 0.8 * c, 500, 5000) },
    otCharge: { warning: lv(400, 370, 5000, 5000), trip: lv(450, 400, 2000, 30_000) },
    otDischarge: { warning: lv(500, 470, 5000, 5000), trip: lv(550, 500, 2000, 30_000) },
    utCharge: { warning: lv(50, 80, 5000, 5000), trip: lv(0, 50, 2000, 30_000) },
    utDischarge: { warning: lv(-150, -120, 5000, 5000), trip: lv(-200, -150, 2000, 30_000) },
    boardOt: { warning: lv(700, 650, 2000, 5000), trip: lv(850, 750, 1000, 30_000) },
    cellSpread: { warning: lv(150, 100, 10_000, 10_000), alarm: lv(300, 200, 10_000, 10_000) },
    shortCircuit: { limitMa: 2 * c, delayUs: 200 },
    deepDischarge: { limitMv: p.deepDischargeMv, delayMs: 5000, recoveryChargeFraction: 0.1 },
    overcurrentLatch: { retries: 3, backoffMs: [10_000, 30_000, 120_000], windowMs: 3_600_000 },
    sensorFault: {
      blockChargeImmediately: true,
      dischargeHoldMs: 30 * 60_000,
      safeBandMinMv: p.dischargeStopMv + 200,
      safeBandMaxMv: p.chargeVoltageMv,
      delayMs: 1000,
      recoveryDelayMs: 5000,
    },
    // LibreSolar's 0.5 A / 0.1 A, scaled to 0.005C / 0.001C (the off level stays above the
    // current sensor's deadband, so an idle pack's noise cannot hold the FET closed).
    idealDiode: { enabled: true, onMa: Math.max(200, 0.005 * c), offMa: Math.max(40, 0.001 * c) },
    afeCommsDelayMs: 2000,
    charge: {
      chargeVoltageMv: cv,
      floatVoltageMv: fv,
      dischargeStopMv: p.dischargeStopMv,
      maxChargeCurrentMa: 0.2 * c,
      maxDischargeCurrentMa: 1.0 * c,
      increaseHoldMs: 30_000,
      rampMaPerS: Math.max(100, 0.05 * c),
      cvlRampMvPerS: 1,
      alarmDerateFraction: 0.5,
      cclByCellMv: [
        [cv - 75, 1],
        [cv - 50, 0.25],
        [cv - 25, 0.05],
        [p.ov.alarm, 0],
      ],
      dclByCellMv: [
        [p.dischargeStopMv, 0],
        [p.dischargeStopMv + 100, 0.05],
        [p.dischargeStopMv + 200, 0.25],
        [p.dischargeStopMv + 390, 1],
      ],
      cclByTempDeciC: [
        [0, 0],
        [20, 0.25],
        [50, 0.5],
        [100, 1],
        [400, 1],
        [450, 0],
      ],
      dclByTempDeciC: [
        [-200, 0],
        [-100, 0.25],
        [0, 0.5],
        [100, 1],
        [500, 1],
        [550, 0],
      ],
      cclBySocPct: [
        [0, 1],
        [95, 1],
        [100, 0.5],
      ],
    },
  };
}

const DIR: Record<string, "high" | "low"> = {
  cellOv: "high",
  cellUv: "low",
  ocCharge: "high",
  ocDischarge: "high",
  otCharge: "high",
  otDischarge: "high",
  utCharge: "low",
  utDischarge: "low",
  boardOt: "high",
  cellSpread: "high",
};

/** Cross-field rules of the protection section, reported with their paths. */
export function checkProtection(p: ProtectionConfig, path: (string | number)[], ctx: z.RefinementCtx): void {
  for (const [key, dir] of Object.entries(DIR)) {
    checkQuantity(p[key as keyof typeof DIR & keyof ProtectionConfig] as Quantity, dir, [...path, key], ctx);
  }
  // The voltage window, bottom to top. Each step must be strictly above the one before.
  const chain: [string[], number | undefined][] = [
    [["deepDischarge", "limitMv"], p.deepDischarge.limitMv],
    [["cellUv", "trip", "limit"], p.cellUv.trip?.limit],
    [["cellUv", "trip", "reset"], p.cellUv.trip?.reset],
    [["charge", "dischargeStopMv"], p.charge.dischargeStopMv],
    [["charge", "floatVoltageMv"], p.charge.floatVoltageMv],
    [["charge", "chargeVoltageMv"], p.charge.chargeVoltageMv],
    [["cellOv", "trip", "reset"], p.cellOv.trip?.reset],
    [["cellOv", "trip", "limit"], p.cellOv.trip?.limit],
  ];
  let prev: [string[], number] | null = null;
  for (const [name, value] of chain) {
    if (value === undefined) continue;
    // float may equal the charge voltage (a charger with one set-point)
    const equalOk = name[1] === "chargeVoltageMv";
    if (prev && (equalOk ? value < prev[1] : value <= prev[1])) {
      ctx.addIssue({
        code: "custom",
        path: [...path, ...name],
        message: `${name.join(".")} (${value}) must be above ${prev[0].join(".")} (${prev[1]})`,
      });
    }
    prev = [name, value];
  }
  if (!p.cellOv.trip)
    ctx.addIssue({
      code: "custom",
      path: [...path, "cellOv", "trip"],
      message: "an over-voltage trip level is required",
    });
  // The AFE enforces these in hardware from the same numbers: they must exist, once.
  if (!p.ocCharge.trip)
    ctx.addIssue({
      code: "custom",
      path: [...path, "ocCharge", "trip"],
      message: "a charge over-current trip level is required",
    });
  if (!p.ocDischarge.trip)
    ctx.addIssue({
      code: "custom",
      path: [...path, "ocDischarge", "trip"],
      message: "a discharge over-current trip level is required",
    });
  if (!p.cellUv.trip)
    ctx.addIssue({
      code: "custom",
      path: [...path, "cellUv", "trip"],
      message: "an under-voltage trip level is required",
    });
  const ocdTrip = p.ocDischarge.trip?.limit;
  if (ocdTrip !== undefined && !(p.shortCircuit.limitMa > ocdTrip)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "shortCircuit", "limitMa"],
      message: `short-circuit limit (${p.shortCircuit.limitMa}) must be above the discharge over-current trip (${ocdTrip})`,
    });
  }
  if (!(p.sensorFault.safeBandMinMv < p.sensorFault.safeBandMaxMv)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "sensorFault", "safeBandMaxMv"],
      message: "safe band max must be above its min",
    });
  }
  if (!(p.idealDiode.offMa < p.idealDiode.onMa)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "idealDiode", "offMa"],
      message: `ideal-diode off threshold (${p.idealDiode.offMa}) must be below its on threshold (${p.idealDiode.onMa})`,
    });
  }
  // The band in which a blind pack may keep its discharge path must sit inside the trip window.
  const uvLimit = p.cellUv.trip?.limit;
  if (uvLimit !== undefined && !(p.sensorFault.safeBandMinMv > uvLimit)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "sensorFault", "safeBandMinMv"],
      message: `safe band min (${p.sensorFault.safeBandMinMv}) must be above the under-voltage trip (${uvLimit})`,
    });
  }
  const ovLimit = p.cellOv.trip?.limit;
  if (ovLimit !== undefined && !(p.sensorFault.safeBandMaxMv < ovLimit)) {
    ctx.addIssue({
      code: "custom",
      path: [...path, "sensorFault", "safeBandMaxMv"],
      message: `safe band max (${p.sensorFault.safeBandMaxMv}) must be below the over-voltage trip (${ovLimit})`,
    });
  }
}
