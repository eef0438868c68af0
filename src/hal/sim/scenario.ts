/**
 * Scenario files: a JSON document that fixes a simulated run — pack and physics overrides, seed,
 * initial state, BMS config overrides, duration, and a timeline of environment changes and faults.
 * Validated by zod; every problem is reported with the path of the field.
 */
import { z } from "zod";
import { BmsError } from "../../core/errors.js";
import { simFaultSchema } from "./faults.js";

const at = z.number().min(0).describe("Simulated time of the action, s from start");

export const timelineEntrySchema = z.discriminatedUnion("action", [
  z.object({ atS: at, action: z.literal("mains"), on: z.boolean() }).strict(),
  z
    .object({
      atS: at,
      action: z.literal("load"),
      powerW: z.number().min(0).describe("Constant-power inverter load while mains is off"),
    })
    .strict(),
  z
    .object({
      atS: at,
      action: z.literal("current"),
      currentA: z
        .number()
        .nullable()
        .describe("Constant current at the pack terminals (positive charging); null hands back to the UPS"),
    })
    .strict(),
  z
    .object({
      atS: at,
      action: z.literal("profile"),
      file: z.string().min(1).describe("CSV of time_s,current_a (relative to the scenario file)"),
      loop: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      atS: at,
      action: z.literal("charger"),
      cellVoltageMv: z.number().positive().optional(),
      maxCurrentA: z.number().min(0).optional(),
      cooperative: z.boolean().optional(),
    })
    .strict(),
  z.object({ atS: at, action: z.literal("ambient"), tempC: z.number().min(-60).max(100) }).strict(),
  z
    .object({
      atS: at,
      action: z.literal("fault"),
      fault: simFaultSchema,
      clearAtS: z.number().min(0).optional().describe("When the fault is removed (default: never)"),
    })
    .strict(),
  z
    .object({
      atS: at,
      action: z.literal("request"),
      request: z.enum(["alarm_reset"]).describe("A request from the UPS controller to the BMS"),
    })
    .strict(),
]);
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    seed: z.number().int().optional().describe("Overrides afe.seed"),
    durationS: z
      .number()
      .positive()
      .max(366 * 86_400)
      .describe("Simulated time to run, s"),
    sampleEveryS: z.number().positive().optional().describe("Sample lines every S s (--every wins)"),
    pack: z
      .object({
        cellPreset: z.string().optional(),
        chemistry: z.enum(["lfp", "nmc"]).optional(),
        cellsInSeries: z.number().int().min(2).max(256).optional(),
        capacityAh: z.number().positive().optional(),
      })
      .strict()
      .optional()
      .describe("Shorthand for config.pack"),
    initial: z
      .object({
        socPct: z.number().min(0).max(100).optional(),
        tempC: z.number().min(-60).max(100).optional(),
        ambientC: z.number().min(-60).max(100).optional(),
        mains: z.boolean().optional(),
      })
      .strict()
      .optional(),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("BMS config overrides, merged over --config and the defaults (afe.kind is sim)"),
    timeline: z.array(timelineEntrySchema).default([]),
  })
  .strict();
export type Scenario = z.infer<typeof scenarioSchema>;

/** Validates a parsed scenario document; throws SCENARIO_INVALID naming every bad field. */
export function parseScenario(input: unknown, source = "scenario"): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const problems = r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
    const text = problems.map((p) => `${source}: ${p.path || "(root)"}: ${p.message}`).join("\n");
    throw new BmsError("SCENARIO_INVALID", text, { path: problems[0]?.path, details: { problems } });
  }
  for (const [i, e] of r.data.timeline.entries()) {
    if (e.action === "fault" && e.clearAtS !== undefined && e.clearAtS < e.atS)
      throw new BmsError("SCENARIO_INVALID", `${source}: timeline.${i}.clearAtS: before atS (${e.atS})`, {
        path: `timeline.${i}.clearAtS`,
      });
  }
  return r.data;
}

/** Config overrides the scenario implies (pack, seed, initial state), to merge over its `config`. */
export function scenarioConfigOverrides(s: Scenario): Record<string, unknown> {
  const afe: Record<string, unknown> = { kind: "sim", realTime: false };
  if (s.seed !== undefined) afe.seed = s.seed;
  const ini = s.initial;
  if (ini?.socPct !== undefined) afe.initialSocPct = ini.socPct;
  if (ini?.ambientC !== undefined) afe.ambientDeciC = Math.round(ini.ambientC * 10);
  if (ini?.tempC !== undefined) afe.initialTempDeciC = Math.round(ini.tempC * 10);
  if (ini?.mains !== undefined) afe.mains = ini.mains;
  const out: Record<string, unknown> = { afe };
  if (s.pack !== undefined) out.pack = { ...s.pack };
  return out;
}
