import { z } from "zod";

const i2cAddress = z.number().int().min(0x03).max(0x77);

export const simAfeSchema = z
  .object({
    kind: z.literal("sim"),
    seed: z.number().int().describe("Seed of the cell-to-cell spread and sensor noise"),
    ambientDeciC: z.number().int().describe("Ambient temperature, 0.1 °C"),
    initialSocPct: z.number().min(0).max(100),
    temperatureSensors: z
      .number()
      .int()
      .min(0)
      .max(64)
      .describe("Thermistors, spread evenly along the string"),
    mains: z.boolean().describe("Mains present at start (charger on float)"),
    chargerCooperative: z.boolean().describe("Charger obeys the BMS's published CVL/CCL"),
    chargerMaxCurrentA: z.number().positive(),
    outageLoadW: z.number().min(0).describe("Constant-power load carried by the pack when mains fails"),
    bleedResistorOhm: z.number().positive(),
    realTime: z
      .boolean()
      .describe("Pace the simulation to the wall clock (run); false: as fast as possible (sim)"),
    chargerCellVoltageMv: z
      .number()
      .positive()
      .optional()
      .describe("Charger set voltage per cell, mV (default: protection.charge.floatVoltageMv)"),
    initialTempDeciC: z.number().int().optional().describe("Cell temperature at start (default: ambient)"),
    thermistorCells: z
      .array(z.number().int().min(0))
      .optional()
      .describe("Cell each thermistor sits on, 0-based (default: spread evenly)"),
    maxStepMs: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe("Longest physics sub-step, ms (default 1000)"),
    hardwareProtection: z
      .boolean()
      .optional()
      .describe("Simulated AFE enforces SC/OCD/OV/UV in hardware (default true)"),
    cellOverrides: z
      .object({
        capacityAh: z.number().positive(),
        r0MilliOhm: z.number().min(0),
        r1MilliOhm: z.number().min(0),
        tau1S: z.number().positive(),
        r2MilliOhm: z.number().min(0),
        tau2S: z.number().positive(),
        hysteresisMv: z.number().min(0),
        hysteresisGamma: z.number().min(0),
        activationEnergyJPerMol: z.number().min(0),
        coulombicEfficiency: z.number().min(0.5).max(1),
        selfDischargePctPerMonth: z.number().min(0),
        thermalCapacityJPerK: z.number().positive(),
        thermalResistanceKPerW: z.number().positive(),
      })
      .partial()
      .strict()
      .optional()
      .describe(
        "Physics of the simulated cells where they differ from the preset (the BMS keeps the preset)",
      ),
    spread: z
      .object({
        capacityPct: z.number().min(0).max(20).describe("σ of cell capacity, % (truncated at 3σ)"),
        resistancePct: z.number().min(0).max(50).describe("σ of cell resistance, %"),
        socPct: z.number().min(0).max(50).describe("Initial SOC spread, ± % (uniform)"),
        selfDischargeSigmaLn: z.number().min(0).max(3).describe("σ of ln(self-discharge)"),
      })
      .partial()
      .strict()
      .optional()
      .describe("Cell-to-cell spread drawn from the seed (defaults 1 %, 4 %, 2 %, 0.3)"),
    sensors: z
      .object({
        cellLsbMv: z.number().positive(),
        cellNoiseMv: z.number().min(0),
        cellOffsetMv: z.number().min(0).describe("σ of the static per-channel offset"),
        cellGainPct: z.number().min(0).describe("σ of the static per-channel gain error"),
        packLsbMv: z.number().positive(),
        currentLsbMa: z.number().positive(),
        currentNoiseMa: z.number().min(0),
        currentOffsetMa: z.number().describe("Static current-sensor offset, mA"),
        currentGainPct: z.number().describe("Static current-sensor gain error, %"),
        tempNoiseDeciC: z.number().min(0),
        tempOffsetSigmaDeciC: z.number().min(0),
        adcPeriodMs: z.number().int().min(1).describe("Conversion period; readings are this old at most"),
      })
      .partial()
      .strict()
      .optional()
      .describe("Measurement errors of the simulated AFE"),
  })
  .strict();

/** Settings of the simulated pack behind emulated chips (bus: emulator), over the simulator's defaults. */
const simulationOverrides = simAfeSchema
  .omit({ kind: true })
  .partial()
  .strict()
  .optional()
  .describe("The simulated pack the emulated chips sit on (bus: emulator only); fields as for kind sim");

export const bq769x0Schema = z
  .object({
    kind: z.literal("bq769x0"),
    variant: z.enum(["bq76920", "bq76930", "bq76940"]),
    bus: z
      .union([z.number().int().min(0), z.literal("emulator")])
      .describe("/dev/i2c-N, or the built-in emulator"),
    address: i2cAddress,
    crc: z.boolean(),
    senseResistorMilliOhm: z.number().positive(),
    cellsConnected: z
      .number()
      .int()
      .min(3)
      .max(15)
      .describe("Cells actually wired (VC mapping for partial groups)"),
    chips: z
      .number()
      .int()
      .min(1)
      .max(8)
      .describe("Chips in the string (each on its own bus/address offset)"),
    thermistorBeta: z.number().positive(),
    bleedResistorOhm: z
      .number()
      .positive()
      .optional()
      .describe("Balancing resistor per cell, ohms (default 33)"),
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(10_000)
      .optional()
      .describe("A real I2C transfer taking longer than this is a bus timeout (default 1000)"),
    emulator: z
      .object({
        adcGainCode: z
          .number()
          .int()
          .min(0)
          .max(31)
          .optional()
          .describe("Factory gain trim, 365 + code µV/LSB"),
        adcOffsetMv: z
          .number()
          .int()
          .min(-128)
          .max(127)
          .optional()
          .describe("Factory offset trim, mV (signed)"),
        crcErrorRate: z
          .number()
          .min(0)
          .max(0.5)
          .optional()
          .describe("Share of transactions with a corrupted CRC"),
        adcNoiseMv: z.number().min(0).max(20).optional().describe("Noise on each cell conversion, σ in mV"),
        seed: z.number().int().optional(),
      })
      .strict()
      .optional()
      .describe("Emulated chip's factory trim and injected bus faults (bus: emulator only)"),
    simulation: simulationOverrides,
  })
  .strict()
  .superRefine((afe, ctx) => {
    const ranges: Record<typeof afe.variant, readonly [number, number]> = {
      bq76920: [3, 5],
      bq76930: [6, 10],
      bq76940: [9, 15],
    };
    const [min, max] = ranges[afe.variant];
    if (afe.cellsConnected < min || afe.cellsConnected > max)
      ctx.addIssue({
        code: "custom",
        path: ["cellsConnected"],
        message: `a ${afe.variant} takes ${min}–${max} cells per chip, not ${afe.cellsConnected}`,
      });
  });

export const bq76952Schema = z
  .object({
    kind: z.literal("bq76952"),
    bus: z.union([z.number().int().min(0), z.literal("emulator")]),
    address: i2cAddress,
    senseResistorMilliOhm: z.number().positive(),
    cellsConnected: z.number().int().min(3).max(16),
    crc: z.boolean().optional().describe("I2C with CRC (the part must be programmed for it; default false)"),
    bleedResistorOhm: z
      .number()
      .positive()
      .optional()
      .describe("Balancing resistor per cell, ohms (default 100)"),
    maxBalancingCells: z
      .number()
      .int()
      .min(1)
      .max(16)
      .optional()
      .describe("Cell Balance Max Cells written to the chip (default 4)"),
    timeoutMs: z.number().int().min(10).max(10_000).optional(),
    emulator: z
      .object({
        crcErrorRate: z.number().min(0).max(0.5).optional(),
        seed: z.number().int().optional(),
      })
      .strict()
      .optional(),
    simulation: simulationOverrides,
  })
  .strict();

export const serialAfeSchema = z
  .object({
    kind: z.literal("serial"),
    port: z.string().min(1).describe("Serial device, or `sim` for the built-in simulated board"),
    baudRate: z.number().int().positive(),
    boards: z
      .array(
        z
          .object({ address: z.number().int().min(1).max(247), cells: z.number().int().min(1).max(32) })
          .strict(),
      )
      .min(1),
    timeoutMs: z.number().int().positive().describe("Reply timeout per request to one board, ms"),
    reconnectMs: z
      .number()
      .int()
      .min(50)
      .max(60_000)
      .optional()
      .describe("Reopen period after the port vanished (USB unplug), ms; default 500"),
    maxLineBytes: z
      .number()
      .int()
      .min(64)
      .max(4096)
      .optional()
      .describe("Longest accepted protocol line; longer ones are dropped and counted; default 512"),
    probeIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .optional()
      .describe("A board that missed 3 replies is polled only this often, ms; default 1000"),
    sampleIntervalMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .optional()
      .describe("Sampling period requested from the boards (CFG rate), ms; unset keeps their default"),
    simulation: simAfeSchema
      .omit({ kind: true })
      .partial()
      .optional()
      .describe("With port `sim`: settings of the simulated pack behind the simulated boards"),
  })
  .strict()
  .superRefine((afe, ctx) => {
    const seen = new Set<number>();
    afe.boards.forEach((b, i) => {
      if (seen.has(b.address))
        ctx.addIssue({
          code: "custom",
          path: ["boards", i, "address"],
          message: `duplicate board address ${b.address}`,
        });
      seen.add(b.address);
    });
  });

export const afeSchema = z.discriminatedUnion("kind", [
  simAfeSchema,
  bq769x0Schema,
  bq76952Schema,
  serialAfeSchema,
]);
export type AfeConfig = z.infer<typeof afeSchema>;
export type SimAfeConfig = z.infer<typeof simAfeSchema>;
export type AfeKind = AfeConfig["kind"];

/**
 * Fewest bq769x0 chips (at most 15 cells, at least 3 each, up to 8 chips) that share a string
 * evenly: 16 cells → 2 × 8, 48 → 4 × 12. A count with no even split keeps 15 per chip, and the
 * cross-check then tells the user to set `chips` and `cellsConnected` themselves.
 */
function splitString(cells: number): { chips: number; perChip: number } {
  for (let chips = Math.max(1, Math.ceil(cells / 15)); chips <= 8; chips++)
    if (cells % chips === 0 && cells / chips >= 3) return { chips, perChip: cells / chips };
  return { chips: Math.max(1, Math.ceil(cells / 15)), perChip: Math.min(cells, 15) };
}

/** Defaults per driver kind; the user's fields override them. */
export function afeDefaults(kind: AfeKind, cells: number): AfeConfig {
  switch (kind) {
    case "sim":
      return {
        kind,
        seed: 1,
        ambientDeciC: 250,
        initialSocPct: 100,
        temperatureSensors: 4,
        mains: true,
        chargerCooperative: true,
        chargerMaxCurrentA: 20,
        outageLoadW: 2000,
        bleedResistorOhm: 33,
        realTime: true,
      };
    case "bq769x0": {
      const { chips, perChip } = splitString(cells);
      return {
        kind,
        variant: perChip <= 5 ? "bq76920" : perChip <= 10 ? "bq76930" : "bq76940",
        bus: "emulator",
        address: 0x08,
        crc: true,
        senseResistorMilliOhm: 1,
        cellsConnected: perChip,
        chips,
        thermistorBeta: 3435,
      };
    }
    case "bq76952":
      return {
        kind,
        bus: "emulator",
        address: 0x08,
        senseResistorMilliOhm: 1,
        cellsConnected: Math.min(cells, 16),
      };
    case "serial":
      return { kind, port: "sim", baudRate: 115200, boards: [{ address: 1, cells }], timeoutMs: 200 };
  }
}
