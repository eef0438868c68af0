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
  })
  .strict();

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
  })
  .strict();

export const bq76952Schema = z
  .object({
    kind: z.literal("bq76952"),
    bus: z.union([z.number().int().min(0), z.literal("emulator")]),
    address: i2cAddress,
    senseResistorMilliOhm: z.number().positive(),
    cellsConnected: z.number().int().min(3).max(16),
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
    case "bq769x0":
      return {
        kind,
        variant: cells <= 5 ? "bq76920" : cells <= 10 ? "bq76930" : "bq76940",
        bus: "emulator",
        address: 0x08,
        crc: true,
        senseResistorMilliOhm: 1,
        cellsConnected: Math.min(cells, 15),
        chips: Math.max(1, Math.ceil(cells / 15)),
        thermistorBeta: 3435,
      };
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
