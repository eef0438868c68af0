/**
 * The one configuration schema. Input JSON is merged over the defaults of its chemistry
 * preset and driver kind, then validated as a whole, cross-field rules included.
 * Everything downstream takes the parsed `BmsConfig`.
 */
import { z } from "zod";
import { BmsError } from "../core/errors.js";
import { LOG_LEVELS } from "../core/logger.js";
import { afeDefaults, afeSchema, type AfeKind } from "./afe.js";
import { CELL_PRESET_IDS, CELL_PRESETS, type CellPresetId, type Chemistry } from "./cells.js";
import { CHEMISTRY_PRESETS } from "./chemistry.js";
import { checkProtection, protectionDefaults, protectionSchema } from "./protection.js";
import {
  balanceDefaults,
  balanceSchema,
  modbusDefaults,
  modbusSchema,
  monitorDefaults,
  monitorSchema,
  recordDefaults,
  recordSchema,
} from "./sections.js";

export const packSchema = z
  .object({
    chemistry: z.enum(["lfp", "nmc"]).describe("Cell chemistry; selects the threshold preset"),
    cellPreset: z
      .enum(CELL_PRESET_IDS as [CellPresetId, ...CellPresetId[]])
      .describe("Cell model (OCV table, resistances)"),
    cellsInSeries: z
      .number()
      .int()
      .min(1)
      .max(256)
      .describe(
        "Cells in series (4–48 in a UPS pack; 1 for single-cell bench tests; up to 256 for benchmarks)",
      ),
    capacityAh: z.number().positive().max(10_000).describe("Rated capacity, Ah"),
    name: z.string().max(32).describe("Shown over Modbus as the model name"),
    serialNumber: z.string().max(32),
  })
  .strict();

export const configSchema = z
  .object({
    pack: packSchema,
    loop: z
      .object({
        periodMs: z.number().int().min(10).max(10_000).describe("Control loop period, ms"),
      })
      .strict(),
    afe: afeSchema,
    protection: protectionSchema,
    monitor: monitorSchema,
    balance: balanceSchema,
    modbus: modbusSchema,
    record: recordSchema,
    log: z.object({ level: z.enum(LOG_LEVELS) }).strict(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    checkProtection(cfg.protection, ["protection"], ctx);
    const preset = CELL_PRESETS[cfg.pack.cellPreset];
    if (preset.chemistry !== cfg.pack.chemistry) {
      ctx.addIssue({
        code: "custom",
        path: ["pack", "cellPreset"],
        message: `cell preset ${preset.id} is ${preset.chemistry}, but pack.chemistry is ${cfg.pack.chemistry}`,
      });
    }
    const cells = cfg.pack.cellsInSeries;
    const afe = cfg.afe;
    const afeCells =
      afe.kind === "bq769x0"
        ? afe.cellsConnected * afe.chips
        : afe.kind === "bq76952"
          ? afe.cellsConnected
          : afe.kind === "serial"
            ? afe.boards.reduce((s, b) => s + b.cells, 0)
            : cells;
    if (afeCells !== cells) {
      ctx.addIssue({
        code: "custom",
        path: ["afe"],
        message: `the ${afe.kind} driver measures ${afeCells} cells but pack.cellsInSeries is ${cells}`,
      });
    }
    if (afe.kind === "serial") {
      const seen = new Set<number>();
      afe.boards.forEach((b, i) => {
        if (seen.has(b.address))
          ctx.addIssue({
            code: "custom",
            path: ["afe", "boards", i, "address"],
            message: `duplicate board address ${b.address}`,
          });
        seen.add(b.address);
      });
    }
    const pr = cfg.protection;
    if (cfg.monitor.fullAnchor.cellMv > pr.charge.chargeVoltageMv) {
      ctx.addIssue({
        code: "custom",
        path: ["monitor", "fullAnchor", "cellMv"],
        message: `full anchor (${cfg.monitor.fullAnchor.cellMv}) above the charge voltage (${pr.charge.chargeVoltageMv}) can never be reached`,
      });
    }
    const uvTrip = pr.cellUv.trip?.limit;
    if (uvTrip !== undefined && cfg.monitor.emptyAnchor.cellMv <= uvTrip) {
      ctx.addIssue({
        code: "custom",
        path: ["monitor", "emptyAnchor", "cellMv"],
        message: `empty anchor (${cfg.monitor.emptyAnchor.cellMv}) must be above the UV trip (${uvTrip})`,
      });
    }
    if (!(cfg.monitor.reportedScale.minPct < cfg.monitor.reportedScale.maxPct)) {
      ctx.addIssue({
        code: "custom",
        path: ["monitor", "reportedScale", "maxPct"],
        message: "maxPct must be above minPct",
      });
    }
    const pl = cfg.monitor.plausibility;
    if (!(pl.cellMinMv < pl.cellMaxMv)) {
      ctx.addIssue({
        code: "custom",
        path: ["monitor", "plausibility", "cellMaxMv"],
        message: "cellMaxMv must be above cellMinMv",
      });
    }
    if (cfg.balance.minCellMv <= pr.charge.dischargeStopMv) {
      ctx.addIssue({
        code: "custom",
        path: ["balance", "minCellMv"],
        message: `balancing floor (${cfg.balance.minCellMv}) must be above the discharge stop (${pr.charge.dischargeStopMv})`,
      });
    }
    if (cfg.balance.hysteresisMv >= cfg.balance.deltaMv) {
      ctx.addIssue({
        code: "custom",
        path: ["balance", "hysteresisMv"],
        message: "hysteresis must be smaller than deltaMv",
      });
    }
    if (cfg.modbus.rtu.enabled && cfg.modbus.rtu.path.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["modbus", "rtu", "path"],
        message: "RTU is enabled but has no serial device",
      });
    }
  });

export type BmsConfig = z.infer<typeof configSchema>;
export type PackConfig = z.infer<typeof packSchema>;

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep merge: objects merge key by key, everything else (arrays included) replaces. */
export function deepMerge(base: Json, over: Json): Json {
  if (over === undefined) return base;
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, Json> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

function fail(problems: ConfigProblem[]): never {
  const text = problems.map((p) => `${p.path || "(root)"}: ${p.message}`).join("\n");
  throw new BmsError("CONFIG_INVALID", text, { path: problems[0]?.path, details: { problems } });
}

function issuesToProblems(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((i) => {
    const path = i.path.map(String);
    // Name each unknown field by its own path: a typo is then found at once.
    if (i.code === "unrecognized_keys")
      return i.keys.map((k) => ({ path: [...path, k].join("."), message: "unknown field" }));
    return [{ path: path.join("."), message: i.message }];
  });
}

/** The defaults a given pack and driver kind start from (what `config defaults` prints). */
export function defaultsFor(
  chemistry: Chemistry,
  cellPreset: CellPresetId,
  cells: number,
  capacityAh: number,
  kind: AfeKind,
) {
  const chem = CHEMISTRY_PRESETS[chemistry];
  return {
    pack: {
      chemistry,
      cellPreset,
      cellsInSeries: cells,
      capacityAh,
      name: "ups-bms",
      serialNumber: "SIM-0001",
    },
    loop: { periodMs: 250 },
    afe: afeDefaults(kind, cells),
    protection: protectionDefaults(chem, capacityAh),
    monitor: monitorDefaults(chem, capacityAh),
    balance: balanceDefaults(chem),
    modbus: modbusDefaults(),
    record: recordDefaults(),
    log: { level: "info" as const },
  };
}

/**
 * Validates user input (parsed JSON) and returns the full config.
 * Throws BmsError CONFIG_INVALID listing every problem with its path.
 */
export function parseConfig(input: unknown = {}): BmsConfig {
  if (!isObject(input)) fail([{ path: "", message: "config must be a JSON object" }]);
  const pack = input.pack;
  if (pack !== undefined && !isObject(pack)) fail([{ path: "pack", message: "must be an object" }]);
  const afe = input.afe;
  if (afe !== undefined && !isObject(afe)) fail([{ path: "afe", message: "must be an object" }]);

  // The preset choice must be valid before its defaults can be built.
  const head = z
    .object({
      chemistry: packSchema.shape.chemistry.optional(),
      cellPreset: packSchema.shape.cellPreset.optional(),
      cellsInSeries: packSchema.shape.cellsInSeries.optional(),
      capacityAh: packSchema.shape.capacityAh.optional(),
    })
    .safeParse({
      chemistry: pack?.chemistry,
      cellPreset: pack?.cellPreset,
      cellsInSeries: pack?.cellsInSeries,
      capacityAh: pack?.capacityAh,
    });
  const kindParse = z.enum(["sim", "bq769x0", "bq76952", "serial"]).optional().safeParse(afe?.kind);
  const headProblems: ConfigProblem[] = [
    ...(head.success
      ? []
      : issuesToProblems(head.error.issues).map((p) => ({ ...p, path: `pack.${p.path}` }))),
    ...(kindParse.success
      ? []
      : [
          {
            path: "afe.kind",
            message: `unknown driver kind ${JSON.stringify(afe?.kind)}; valid: sim, bq769x0, bq76952, serial`,
          },
        ]),
  ];
  // A bad preset choice still lets the rest be checked against fallback defaults, so the
  // user sees every problem in one go.
  const h = head.success ? head.data : {};
  const presetFromInput = h.cellPreset;
  const chemistry: Chemistry =
    h.chemistry ?? (presetFromInput ? CELL_PRESETS[presetFromInput].chemistry : "lfp");
  const cellPreset = presetFromInput ?? CHEMISTRY_PRESETS[chemistry].cellPreset;
  const capacityAh = h.capacityAh ?? CELL_PRESETS[cellPreset].capacityAh;
  const cells = h.cellsInSeries ?? 16;
  const kind = kindParse.success ? (kindParse.data ?? "sim") : "sim";

  const merged = deepMerge(defaultsFor(chemistry, cellPreset, cells, capacityAh, kind), input);
  const result = configSchema.safeParse(merged);
  const problems = [...headProblems];
  if (!result.success) {
    for (const p of issuesToProblems(result.error.issues)) {
      if (!problems.some((q) => q.path === p.path)) problems.push(p);
    }
  }
  if (problems.length > 0 || !result.success) fail(problems);
  return result.data;
}

/** JSON Schema of the config file: every field optional, since presets fill what is omitted. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  const relax = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) relax(n);
      return;
    }
    if (!isObject(node)) return;
    if (Array.isArray(node.required)) {
      const keep = (node.required as string[]).filter((k) => k === "kind");
      if (keep.length > 0) node.required = keep;
      else delete node.required;
    }
    Object.values(node).forEach(relax);
  };
  relax(schema);
  schema.title = "ups-bms configuration";
  schema.description =
    "Every field is optional: omitted fields come from the chemistry preset (pack.chemistry) and the driver kind (afe.kind).";
  return schema;
}
