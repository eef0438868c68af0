/**
 * Reader for numeric CSV logs shared by replay and the simulator's current profiles: an
 * optional or required header line, then rows of numbers separated by `,`, `;` or tab, with
 * time in the first column. Blank lines and `#` comments are skipped. Every problem is a
 * BmsError CSV_INVALID naming the source and line, so a user can fix the file.
 */
import { BmsError } from "./errors.js";

export interface CsvRow {
  /** 1-based line in the source, for messages. */
  readonly line: number;
  readonly values: readonly number[];
}

export interface NumericCsv {
  /** Column names, or null when an optional header was absent. */
  readonly header: readonly string[] | null;
  readonly rows: readonly CsvRow[];
}

export interface NumericCsvOptions {
  /**
   * "required": the first line must be a header, not data. "optional": a first line whose
   * columns are not all numbers is the header.
   */
  readonly header: "required" | "optional";
  /** Fewest columns a header or a row may have. */
  readonly minColumns: number;
  /** What the columns are, for messages, e.g. "time s, current A". */
  readonly describe: string;
  /**
   * Read only the first `columns` values of each row (later ones may be anything). Without
   * it every column is read and each row must be as wide as the header.
   */
  readonly columns?: number;
}

export function csvError(source: string, line: number, message: string): never {
  throw new BmsError("CSV_INVALID", `${source}:${line}: ${message}`, { path: `${source}:${line}` });
}

const isNumber = (c: string): boolean => c !== "" && Number.isFinite(Number(c));

/** Parses `text`; times (column 0) must rise strictly from row to row. */
export function readNumericCsv(text: string, source: string, opts: NumericCsvOptions): NumericCsv {
  const lines = text.split(/\r?\n/);
  let lineNo = 0;
  let header: string[] | null = null;
  let first = true;
  const rows: CsvRow[] = [];
  let prevT = Number.NEGATIVE_INFINITY;
  for (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cols = line.split(/[,;\t]/).map((c) => c.trim());
    const read = opts.columns ?? cols.length;
    if (first) {
      first = false;
      const looksLikeData = cols.slice(0, read).every(isNumber);
      if (opts.header === "required" || !looksLikeData) {
        if (cols.length < opts.minColumns)
          csvError(
            source,
            lineNo,
            `header needs at least ${opts.minColumns} columns (${opts.describe}), found ${cols.length}`,
          );
        if (looksLikeData)
          csvError(source, lineNo, `the first line must be a header (${opts.describe}), not data`);
        header = cols;
        continue;
      }
    }
    if (opts.columns === undefined) {
      if (header !== null && cols.length !== header.length)
        csvError(source, lineNo, `expected ${header.length} columns like the header, found ${cols.length}`);
    }
    if (cols.length < Math.max(opts.minColumns, read))
      csvError(
        source,
        lineNo,
        `expected at least ${Math.max(opts.minColumns, read)} columns (${opts.describe}), found ${cols.length}`,
      );
    const values = new Array<number>(read);
    for (let c = 0; c < read; c++) {
      const v = cols[c] === "" ? Number.NaN : Number(cols[c]);
      if (!Number.isFinite(v)) {
        const name = header?.[c] === undefined ? "" : ` (${header[c]})`;
        csvError(source, lineNo, `column ${c + 1}${name} is not a number: "${cols[c]}"`);
      }
      values[c] = v;
    }
    const t = values[0]!;
    if (t <= prevT)
      csvError(
        source,
        lineNo,
        `time ${t} s does not increase (previous ${prevT} s); a log whose time does not rise cannot be replayed`,
      );
    prevT = t;
    rows.push({ line: lineNo, values });
  }
  if (first && opts.header === "required")
    csvError(source, lineNo, "empty file: expected a header and data rows");
  if (rows.length === 0)
    csvError(source, lineNo, header === null ? "no data rows" : "no data rows after the header");
  return { header, rows };
}
