/** Current profiles for replay: a CSV of (time s, current A), positive current charging. */
import { type NumericCsv, type NumericCsvOptions, readNumericCsv } from "../../core/csv.js";

export interface CurrentProfile {
  readonly timesS: Float64Array;
  readonly currentsA: Float64Array;
  /** Name for messages (file path or "inline"). */
  readonly source: string;
}

/** How a profile CSV is read: `time s, current A`, one optional header line, extra columns ignored. */
export const PROFILE_CSV: NumericCsvOptions = {
  header: "optional",
  minColumns: 2,
  describe: "time s, current A",
  columns: 2,
};

/** The profile in a parsed CSV (columns 0 and 1), times shifted to start at 0. */
export function profileFromCsv(csv: NumericCsv, source: string): CurrentProfile {
  const t0 = csv.rows[0]!.values[0]!;
  return {
    timesS: Float64Array.from(csv.rows, (r) => r.values[0]! - t0),
    currentsA: Float64Array.from(csv.rows, (r) => r.values[1]!),
    source,
  };
}

/**
 * Parses `time,current` rows (extra columns ignored; one header line allowed). Times must rise.
 * The current is held from each row until the next (as a cycler does).
 */
export function parseCurrentProfileCsv(text: string, source = "inline"): CurrentProfile {
  return profileFromCsv(readNumericCsv(text, source, PROFILE_CSV), source);
}

/** Cursor over a profile that moves forward in time without searching from the start. */
export class ProfileCursor {
  private idx = 0;
  constructor(
    readonly profile: CurrentProfile,
    readonly startS: number,
    readonly loop: boolean,
  ) {}

  get durationS(): number {
    const ts = this.profile.timesS;
    const n = ts.length;
    // The last row lasts as long as the step before it.
    return n > 1 ? ts[n - 1]! + (ts[n - 1]! - ts[n - 2]!) : 1;
  }

  /** Current at simulation time `tS`, or null once a non-looping profile has ended. */
  currentAt(tS: number): number | null {
    let rel = tS - this.startS;
    if (rel < 0) return 0;
    const dur = this.durationS;
    if (rel >= dur) {
      if (!this.loop) return null;
      rel %= dur;
    }
    const ts = this.profile.timesS;
    if (ts[this.idx]! > rel) this.idx = 0;
    while (this.idx + 1 < ts.length && ts[this.idx + 1]! <= rel) this.idx++;
    return this.profile.currentsA[this.idx]!;
  }

  /** Simulation time of the next change of current after `tS` (sub-steps end there). */
  nextChangeS(tS: number): number {
    const rel = tS - this.startS;
    const dur = this.durationS;
    if (rel < 0) return this.startS;
    if (rel >= dur && !this.loop) return Number.POSITIVE_INFINITY;
    const base = this.startS + Math.floor(rel / dur) * dur;
    const r = rel % dur;
    const ts = this.profile.timesS;
    let k = this.idx;
    if (ts[k]! > r) k = 0;
    while (k < ts.length && ts[k]! <= r) k++;
    return k < ts.length ? base + ts[k]! : base + dur;
  }
}
