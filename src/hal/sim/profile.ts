/** Current profiles for replay: a CSV of (time s, current A), positive current charging. */
import { BmsError } from "../../core/errors.js";

export interface CurrentProfile {
  readonly timesS: Float64Array;
  readonly currentsA: Float64Array;
  /** Name for messages (file path or "inline"). */
  readonly source: string;
}

/**
 * Parses `time,current` rows (extra columns ignored; one header line allowed). Times must rise.
 * The current is held from each row until the next (as a cycler does).
 */
export function parseCurrentProfileCsv(text: string, source = "inline"): CurrentProfile {
  const times: number[] = [];
  const currents: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cols = line.split(/[,;\t]/);
    const t = Number(cols[0]);
    const i = Number(cols[1]);
    if (cols.length < 2 || !Number.isFinite(t) || !Number.isFinite(i)) {
      if (times.length === 0 && ln === lines.findIndex((l) => l.trim() !== "")) continue; // header
      throw new BmsError("CSV_INVALID", `${source}:${ln + 1}: expected "time_s,current_a", got "${line}"`, {
        path: `${source}:${ln + 1}`,
      });
    }
    if (times.length > 0 && !(t > times[times.length - 1]!)) {
      throw new BmsError("CSV_INVALID", `${source}:${ln + 1}: time ${t} does not rise`, {
        path: `${source}:${ln + 1}`,
      });
    }
    times.push(t);
    currents.push(i);
  }
  if (times.length === 0) throw new BmsError("CSV_INVALID", `${source}: no data rows`, { path: source });
  const t0 = times[0]!;
  return {
    timesS: Float64Array.from(times, (t) => t - t0),
    currentsA: Float64Array.from(currents),
    source,
  };
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
