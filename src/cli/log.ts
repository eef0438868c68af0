/**
 * `ups-bms log`: read the recorded history.
 *   log events [--since T] [--level L] [--limit N] [--json]
 *   log export --from T --to T [--csv] [--resolution auto|second|minute]
 *   log trips [--since T] [--json]
 * The database comes from --db PATH, else record.path of --config FILE, else the default.
 * T is an ISO time (2026-11-26T03:12Z), epoch ms, "now", or an age such as 90s, 15m, 2h, 7d.
 */
import { loadConfigFile } from "../config/load.js";
import { recordDefaults } from "../config/sections.js";
import { BmsError, isBmsError } from "../core/errors.js";
import {
  EVENT_LEVELS,
  type EventLevelName,
  HistoryReader,
  type StoredEvent,
  type StoredTrip,
} from "../record/query.js";
import { noPositionals, parseCommandArgs, rangedFlag, usageError } from "./args.js";

const USAGE = `usage: ups-bms log <events|export|trips> [options]
  log events [--since T] [--level info|warning|alarm|critical] [--limit N] [--json]
  log export --from T --to T [--csv] [--resolution auto|second|minute]
  log trips [--since T] [--json]
  common: --db PATH | --config FILE`;

const AGE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTime(text: string, nowMs: number, option: string): number {
  const t = text.trim();
  if (t === "now") return nowMs;
  const age = AGE.exec(t.replace(/^-/, ""));
  if (age) return nowMs - Number(age[1]) * UNIT_MS[age[2]!]!;
  if (/^\d{10,}$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (Number.isNaN(ms))
    throw new BmsError(
      "USAGE",
      `${option}: cannot read time "${text}" (use ISO 8601, epoch ms, now, or an age like 2h)`,
    );
  return ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function databasePath(values: { db?: string; config?: string }): Promise<string> {
  if (values.db) return values.db;
  if (values.config) return (await loadConfigFile(values.config)).record.path;
  return recordDefaults().path;
}

function write(text: string): void {
  process.stdout.write(text);
}

function formatEvent(e: StoredEvent): string {
  const repeat = e.count > 1 ? `  (x${e.count}, last ${iso(e.lastMs)})` : "";
  return `${iso(e.firstMs)}  ${e.level.padEnd(8)}  ${e.type.padEnd(9)}  ${e.summary}${repeat}\n`;
}

function events(r: HistoryReader, v: Record<string, unknown>, nowMs: number): void {
  const level = (v.level as string | undefined) ?? "info";
  if (!(EVENT_LEVELS as readonly string[]).includes(level))
    throw new BmsError("USAGE", `--level: one of ${EVENT_LEVELS.join(", ")}, not "${level}"`);
  const limit = rangedFlag("limit", v.limit as string | undefined, { integer: true, positive: true });
  const list = r.events({
    ...(v.since ? { sinceMs: parseTime(v.since as string, nowMs, "--since") } : {}),
    minLevel: level as EventLevelName,
    ...(limit ? { limit } : {}),
  });
  for (const e of list) {
    if (v.json)
      write(
        `${JSON.stringify({ id: e.id, time: iso(e.firstMs), lastTime: iso(e.lastMs), count: e.count, level: e.level, type: e.type, summary: e.summary, event: e.data })}\n`,
      );
    else write(formatEvent(e));
  }
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function exportCsv(r: HistoryReader, v: Record<string, unknown>, nowMs: number): void {
  if (!v.from || !v.to) throw new BmsError("USAGE", "log export needs --from T and --to T");
  const fromMs = parseTime(v.from as string, nowMs, "--from");
  const toMs = parseTime(v.to as string, nowMs, "--to");
  if (toMs < fromMs) throw new BmsError("USAGE", "--to is before --from");
  const resolution = (v.resolution as string | undefined) ?? "auto";
  if (!["auto", "second", "minute"].includes(resolution))
    throw new BmsError("USAGE", `--resolution: auto, second or minute, not "${resolution}"`);
  const perSecond = resolution === "second" || (resolution === "auto" && r.countSamples(fromMs, toMs) > 0);
  if (perSecond) {
    const dims = r.db
      .prepare(
        "SELECT max(length(cells)) / 2 AS c, max(length(temps)) / 2 AS t FROM samples WHERE t_ms BETWEEN ? AND ?",
      )
      .get(fromMs, toMs) as { c: number | null; t: number | null };
    const nCells = dims.c ?? 0;
    const nTemps = dims.t ?? 0;
    const head = [
      "time",
      "t_ms",
      "seq",
      "state",
      "valid",
      "soc_pct",
      "pack_mv",
      "current_ma",
      "cell_min_mv",
      "cell_max_mv",
      "temp_min_dc",
      "temp_max_dc",
      "chg",
      "dsg",
      "faults",
      "balancing",
      ...Array.from({ length: nCells }, (_, i) => `cell${i + 1}_mv`),
      ...Array.from({ length: nTemps }, (_, i) => `temp${i + 1}_dc`),
    ];
    write(`${head.join(",")}\n`);
    for (const s of r.samples(fromMs, toMs)) {
      const row = [
        iso(s.tMs),
        s.tMs,
        s.seq,
        s.state,
        s.valid ? 1 : 0,
        s.socPct,
        s.packMv,
        s.currentMa,
        s.cellMinMv,
        s.cellMaxMv,
        s.tempMinDeciC,
        s.tempMaxDeciC,
        s.chg ? 1 : 0,
        s.dsg ? 1 : 0,
        s.faults,
        s.balancing,
        ...Array.from({ length: nCells }, (_, i) => s.cellsMv[i]),
        ...Array.from({ length: nTemps }, (_, i) => s.tempsDeciC[i]),
      ];
      write(`${row.map(csvCell).join(",")}\n`);
    }
    return;
  }
  let head: string[] | null = null;
  for (const m of r.minutes(fromMs, toMs)) {
    if (!head) {
      head = Object.keys(m).filter((k) => k !== "tMs");
      write(`time,t_ms,${head.join(",")}\n`);
    }
    write(`${[iso(m.tMs), m.tMs, ...head.map((k) => m[k])].map(csvCell).join(",")}\n`);
  }
  if (!head) write("time,t_ms\n");
}

function formatTrip(t: StoredTrip): string {
  const lines = [
    `trip #${t.id} ${iso(t.tMs)} ${t.code}${t.detail ? ` ${t.detail}` : ""}${t.complete ? "" : " (capture incomplete)"}`,
    `  event: ${t.summary ?? "(pruned)"}`,
    `  ${t.samples.length} ticks from ${t.samples[0]?.dtMs ?? 0} ms to ${t.samples.at(-1)?.dtMs ?? 0} ms`,
    "       dt_ms  state        pack_mv  current_ma  cell_min  cell_max  chg dsg  faults",
  ];
  for (const p of t.samples) {
    const cells = p.cellsMv.length ? p.cellsMv : [Number.NaN];
    lines.push(
      `  ${String(p.dtMs).padStart(10)}  ${p.state.padEnd(11)}  ${String(p.packMv).padStart(7)}  ${String(p.currentMa).padStart(10)}  ${String(Math.min(...cells)).padStart(8)}  ${String(Math.max(...cells)).padStart(8)}  ${p.chg ? " on" : "off"} ${p.dsg ? " on" : "off"}  ${p.faults.join(",")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function trips(r: HistoryReader, v: Record<string, unknown>, nowMs: number): void {
  const list = r.trips(v.since ? { sinceMs: parseTime(v.since as string, nowMs, "--since") } : {});
  for (const t of list) {
    if (v.json) write(`${JSON.stringify({ ...t, time: iso(t.tMs) })}\n`);
    else write(formatTrip(t));
  }
  if (!v.json && list.length === 0) process.stderr.write("no trips recorded\n");
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (!["events", "export", "trips"].includes(sub)) throw usageError(`unknown subcommand "${sub}"`, USAGE);
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      db: { type: "string" },
      config: { type: "string" },
      since: { type: "string" },
      level: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
      from: { type: "string" },
      to: { type: "string" },
      csv: { type: "boolean" },
      resolution: { type: "string" },
    },
    USAGE,
  );
  noPositionals(positionals, USAGE);
  const path = await databasePath(values as { db?: string; config?: string });
  let reader: HistoryReader;
  try {
    reader = new HistoryReader(path);
  } catch (err) {
    if (isBmsError(err, "NATIVE_MODULE_MISSING")) throw err;
    process.stderr.write(`cannot read history: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const nowMs = Date.now();
    if (sub === "events") events(reader, values, nowMs);
    else if (sub === "export") exportCsv(reader, values, nowMs);
    else trips(reader, values, nowMs);
    return 0;
  } finally {
    reader.close();
  }
}
