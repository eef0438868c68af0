/**
 * Runs the monitor over a recorded log, tick by tick in the log's own time, so users can
 * check the estimator's tuning against their data. The monitor is the real one: same
 * validation, anchors and filters as in the loop.
 */
import { CELL_PRESETS, type CellPresetId } from "../config/cells.js";
import { type BmsConfig, parseConfig } from "../config/schema.js";
import type { Sample } from "../hal/afe.js";
import type { ReplayLog } from "./csv.js";
import { createMonitor } from "./monitor.js";
import type { Estimates } from "./types.js";

export interface ReplayOptions {
  readonly cellPreset: CellPresetId;
  readonly estimator: "coulomb" | "ekf";
  readonly initialSocPct?: number;
  /** Cells behind a single voltage column (1: the column is one cell). */
  readonly series?: number;
  /** Overrides the preset's capacity, Ah. */
  readonly capacityAh?: number;
  /** Extra config merged over the defaults (monitor tuning). */
  readonly config?: Record<string, unknown>;
}

export interface ReplayPoint {
  readonly timeS: number;
  readonly currentA: number;
  /** Measured mean cell voltage, V. */
  readonly cellVoltageV: number;
  readonly estimates: Estimates;
}

/** The pack config a replay runs with; the schema needs at least 2 cells, so 1 cell is doubled. */
export function replayConfig(
  log: ReplayLog,
  o: ReplayOptions,
): { config: BmsConfig; perColumn: number; cells: number } {
  const preset = CELL_PRESETS[o.cellPreset];
  const series = o.series ?? 1;
  const perColumn = log.voltageColumns === 1 ? series : 1;
  const logical = log.voltageColumns * perColumn;
  const cells = Math.max(2, logical);
  const config = parseConfig({
    ...o.config,
    pack: {
      chemistry: preset.chemistry,
      cellPreset: o.cellPreset,
      cellsInSeries: cells,
      capacityAh: o.capacityAh ?? preset.capacityAh,
    },
    afe: { kind: "sim" },
    monitor: {
      ...((o.config?.monitor as Record<string, unknown> | undefined) ?? {}),
      estimator: o.estimator,
      staleAfterMs: 3_600_000,
    },
  });
  return { config, perColumn, cells };
}

export function* replay(log: ReplayLog, o: ReplayOptions): Generator<ReplayPoint> {
  const { config, perColumn, cells } = replayConfig(log, o);
  const monitor = createMonitor(config, {
    estimator: o.estimator,
    ...(o.initialSocPct === undefined ? {} : { initialSocPct: o.initialSocPct }),
  });
  const cellMv = new Array<number>(cells).fill(0);
  for (const r of log.rows) {
    const tMs = Math.round(r.timeS * 1000);
    let sum = 0;
    let k = 0;
    for (const v of r.voltagesV) {
      const per = (v * 1000) / perColumn;
      for (let j = 0; j < perColumn; j++) cellMv[k++] = per;
      sum += v * 1000;
    }
    while (k < cells) cellMv[k++] = cellMv[0]!;
    const meanMv = sum / (log.voltageColumns * perColumn);
    const sample: Sample = {
      timestampMs: tMs,
      cellVoltagesMv: cellMv.slice(),
      packVoltageMv: null,
      packCurrentMa: r.currentA * 1000,
      temperaturesDeciC: [250],
      boardTempDeciC: null,
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: [],
    };
    const out = monitor.update({ nowMs: tMs, sample, readError: null });
    yield { timeS: r.timeS, currentA: r.currentA, cellVoltageV: meanMv / 1000, estimates: out.estimates };
  }
}
