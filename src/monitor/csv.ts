/**
 * Reader for recorded logs to replay: a header line, then rows of
 * `time s, current A (positive = charge), voltage V…` — one voltage column per cell, or a
 * single column (a cell, or a pack of `series` cells). Every problem is a BmsError
 * CSV_INVALID naming the file and line.
 */
import { csvError, readNumericCsv } from "../core/csv.js";

export interface ReplayRow {
  readonly timeS: number;
  readonly currentA: number;
  readonly voltagesV: readonly number[];
}

export interface ReplayLog {
  readonly header: readonly string[];
  readonly rows: readonly ReplayRow[];
  /** Voltage columns per row. */
  readonly voltageColumns: number;
}

export function parseReplayCsv(text: string, source = "input.csv"): ReplayLog {
  const csv = readNumericCsv(text, source, {
    header: "required",
    minColumns: 3,
    describe: "time s, current A, voltage V…",
  });
  const header = csv.header!;
  const rows = csv.rows.map((r): ReplayRow => {
    const voltagesV = r.values.slice(2);
    for (let c = 0; c < voltagesV.length; c++)
      if (!(voltagesV[c]! > 0 && voltagesV[c]! < 1000))
        csvError(
          source,
          r.line,
          `column ${c + 3} (${header[c + 2]}) is not a plausible voltage in V: ${voltagesV[c]}`,
        );
    return { timeS: r.values[0]!, currentA: r.values[1]!, voltagesV };
  });
  return { header, rows, voltageColumns: header.length - 2 };
}
