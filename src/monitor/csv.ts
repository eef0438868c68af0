/**
 * Reader for recorded logs to replay: a header line, then rows of
 * `time s, current A (positive = charge), voltage V…` — one voltage column per cell, or a
 * single column (a cell, or a pack of `series` cells). Every problem is a BmsError
 * CSV_INVALID naming the file and line.
 */
import { BmsError } from "../core/errors.js";

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

function bad(source: string, line: number, message: string): never {
  throw new BmsError("CSV_INVALID", `${source}:${line}: ${message}`, { path: `${source}:${line}` });
}

export function parseReplayCsv(text: string, source = "input.csv"): ReplayLog {
  const lines = text.split(/\r?\n/);
  let lineNo = 0;
  let header: string[] | null = null;
  const rows: ReplayRow[] = [];
  let prevT = Number.NEGATIVE_INFINITY;
  for (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cols = line.split(/[,;\t]/).map((c) => c.trim());
    if (header === null) {
      header = cols;
      if (cols.length < 3)
        bad(
          source,
          lineNo,
          `header needs at least 3 columns (time s, current A, voltage V…), found ${cols.length}`,
        );
      if (cols.every((c) => c !== "" && Number.isFinite(Number(c))))
        bad(source, lineNo, "the first line must be a header (time s, current A, voltage V…), not data");
      continue;
    }
    if (cols.length !== header.length)
      bad(source, lineNo, `expected ${header.length} columns like the header, found ${cols.length}`);
    const nums = new Array<number>(cols.length);
    for (let c = 0; c < cols.length; c++) {
      const v = cols[c] === "" ? Number.NaN : Number(cols[c]);
      if (!Number.isFinite(v))
        bad(source, lineNo, `column ${c + 1} (${header[c]}) is not a number: "${cols[c]}"`);
      nums[c] = v;
    }
    const t = nums[0]!;
    if (t <= prevT) bad(source, lineNo, `time ${t} s does not increase (previous ${prevT} s)`);
    prevT = t;
    const voltagesV = nums.slice(2);
    for (let c = 0; c < voltagesV.length; c++)
      if (!(voltagesV[c]! > 0 && voltagesV[c]! < 1000))
        bad(
          source,
          lineNo,
          `column ${c + 3} (${header[c + 2]}) is not a plausible voltage in V: ${voltagesV[c]}`,
        );
    rows.push({ timeS: t, currentA: nums[1]!, voltagesV });
  }
  if (header === null) bad(source, lineNo, "empty file: expected a header and data rows");
  if (rows.length === 0) bad(source, lineNo, "no data rows after the header");
  return { header, rows, voltageColumns: header.length - 2 };
}
