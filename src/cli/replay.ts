/**
 * `ups-bms replay FILE.csv --cell PRESET [--initial-soc X] [--estimator coulomb|ekf]`:
 * runs the estimator over a recorded log (time s, current A positive = charge, voltage V
 * per cell or for the pack) and prints CSV to stdout so users can check the tuning.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CELL_PRESET_IDS, CELL_PRESETS, type CellPresetId } from "../config/cells.js";
import { parseConfigText } from "../config/load.js";
import { BmsError } from "../core/errors.js";
import { parseReplayCsv } from "../monitor/csv.js";
import { replay } from "../monitor/replay.js";

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

function num(name: string, v: unknown, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (typeof v !== "string" || !Number.isFinite(x) || x < lo || x > hi)
    throw new BmsError("USAGE", `--${name} must be a number in ${lo}..${hi}, got ${JSON.stringify(v)}`);
  return x;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cell: { type: "string" },
        "initial-soc": { type: "string" },
        estimator: { type: "string" },
        series: { type: "string" },
        capacity: { type: "string" },
        config: { type: "string" },
        every: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new BmsError("USAGE", `${(err as Error).message}\n${USAGE}`);
  }
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
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (!file) throw new BmsError("USAGE", `replay needs a CSV file\n${USAGE}`);
  if (extra.length > 0) throw new BmsError("USAGE", `unexpected argument ${JSON.stringify(extra[0])}`);
  const cell = v.cell;
  if (!cell || !(CELL_PRESET_IDS as string[]).includes(cell))
    throw new BmsError(
      "USAGE",
      `--cell must be one of ${CELL_PRESET_IDS.join(", ")}, got ${JSON.stringify(cell ?? "")}`,
    );
  const preset = CELL_PRESETS[cell as CellPresetId];
  const est = v.estimator ?? (preset.chemistry === "nmc" ? "ekf" : "coulomb");
  if (est !== "coulomb" && est !== "ekf")
    throw new BmsError("USAGE", `--estimator must be coulomb or ekf, got ${JSON.stringify(est)}`);
  const initialSocPct = num("initial-soc", v["initial-soc"], 0, 100);
  const series = num("series", v.series, 1, 256) ?? 1;
  const capacityAh = num("capacity", v.capacity, 0.001, 10_000);
  const every = Math.round(num("every", v.every, 1, 1e9) ?? 1);
  const config = v.config === undefined ? undefined : await monitorSection(v.config);

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
