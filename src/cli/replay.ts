/**
 * `ups-bms replay FILE.csv --cell PRESET [--initial-soc X] [--estimator coulomb|ekf]`:
 * runs the estimator over a recorded log (time s, current A positive = charge, voltage V
 * per cell or for the pack) and prints CSV to stdout so users can check the tuning.
 */
import { readFile } from "node:fs/promises";
import { CELL_PRESET_IDS, CELL_PRESETS, type CellPresetId } from "../config/cells.js";
import { parseConfigText } from "../config/load.js";
import { BmsError } from "../core/errors.js";
import { parseReplayCsv } from "../monitor/csv.js";
import { replay } from "../monitor/replay.js";
import { parseCommandArgs, rangedFlag, usageError } from "./args.js";

const USAGE = `usage: ups-bms replay FILE.csv --cell PRESET [options]

  FILE.csv               header line, then rows: time s, current A (positive = charge),
                         voltage V per cell (one column each) or one column for the pack
  --cell PRESET          cell model: ${CELL_PRESET_IDS.join(", ")}
  --initial-soc X        starting SOC in % (default: from the first voltage)
  --estimator KIND       coulomb or ekf (default: ekf for NMC, coulomb for LFP)
  --series N             cells behind a single voltage column (default 1)
  --capacity AH          cell capacity in Ah (default: the preset's)
  --config FILE          JSON config whose "monitor" section tunes the estimator
  --every N              print every Nth row (default 1)

Prints CSV: time_s, current_a, cell_voltage_v, soc_pct, reported_soc_pct, soc_sigma_pct,
model_voltage_v, runtime_s, anchor.`;

const HEADER =
  "time_s,current_a,cell_voltage_v,soc_pct,reported_soc_pct,soc_sigma_pct,model_voltage_v,runtime_s,anchor";

function parse(argv: string[]) {
  return parseCommandArgs(
    argv,
    {
      cell: { type: "string" },
      "initial-soc": { type: "string" },
      estimator: { type: "string" },
      series: { type: "string" },
      capacity: { type: "string" },
      config: { type: "string" },
      every: { type: "string" },
    },
    USAGE,
  );
}

async function monitorSection(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new BmsError(
      "CONFIG_INVALID",
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        path,
      },
    );
  }
  parseConfigText(text, path);
  return { monitor: (JSON.parse(text) as { monitor?: unknown }).monitor ?? {} };
}

export async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv);
  const [file, ...extra] = positionals;
  if (!file) throw usageError("replay needs a CSV file", USAGE);
  if (extra.length > 0) throw usageError(`unexpected argument ${JSON.stringify(extra[0])}`, USAGE);
  const cell = v.cell;
  if (typeof cell !== "string" || !(CELL_PRESET_IDS as string[]).includes(cell))
    throw new BmsError(
      "USAGE",
      `--cell must be one of ${CELL_PRESET_IDS.join(", ")}, got ${JSON.stringify(cell ?? "")}`,
    );
  const preset = CELL_PRESETS[cell as CellPresetId];
  const est = v.estimator ?? (preset.chemistry === "nmc" ? "ekf" : "coulomb");
  if (est !== "coulomb" && est !== "ekf")
    throw new BmsError("USAGE", `--estimator must be coulomb or ekf, got ${JSON.stringify(est)}`);
  const initialSocPct = rangedFlag("initial-soc", v["initial-soc"], { min: 0, max: 100 });
  const series = rangedFlag("series", v.series, { min: 1, max: 256 }) ?? 1;
  const capacityAh = rangedFlag("capacity", v.capacity, { min: 0.001, max: 10_000 });
  const every = Math.round(rangedFlag("every", v.every, { min: 1, max: 1e9 }) ?? 1);
  const config = typeof v.config === "string" ? await monitorSection(v.config) : undefined;

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new BmsError("CSV_INVALID", `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      path: file,
    });
  }
  const log = parseReplayCsv(text, file);
  const out: string[] = [HEADER];
  const flush = (): void => {
    if (out.length > 0) process.stdout.write(`${out.join("\n")}\n`);
    out.length = 0;
  };
  let k = 0;
  for (const p of replay(log, {
    cellPreset: cell as CellPresetId,
    estimator: est,
    series,
    ...(initialSocPct === undefined ? {} : { initialSocPct }),
    ...(capacityAh === undefined ? {} : { capacityAh }),
    ...(config ? { config } : {}),
  })) {
    if (k++ % every !== 0) continue;
    const e = p.estimates;
    out.push(
      [
        p.timeS,
        p.currentA,
        p.cellVoltageV.toFixed(4),
        e.socPct.toFixed(2),
        e.reportedSocPct.toFixed(2),
        (e.socUncertaintyPct ?? Number.NaN).toFixed(2),
        ((e.modelCellVoltageMv ?? Number.NaN) / 1000).toFixed(4),
        e.runtimeS === null ? "" : Math.round(e.runtimeS),
        e.lastAnchor?.kind ?? "",
      ].join(","),
    );
    if (out.length >= 1000) flush();
  }
  flush();
  return 0;
}
