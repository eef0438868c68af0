import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { main, parseTime } from "../../src/cli/log.js";
import { isBmsError } from "../../src/core/errors.js";
import type { BmsEvent } from "../../src/core/events.js";
import { syntheticSnapshot } from "../../src/record/index.js";
import { runLog, recordSyntheticRun, tempDir, WALL0 } from "./helpers.js";

const tmp = tempDir();
const path = join(tmp.dir, "h.db");

beforeAll(() => {
  recordSyntheticRun({ path, tripCaptureS: 1 }, 4 * 90, (t): BmsEvent[] => {
    if (t === 5000) return [{ type: "lifecycle", tMs: t, what: "start", detail: "sim, 4 cells" }];
    if (t === 30_000)
      return [
        {
          type: "fault",
          tMs: t,
          code: "cell_ov",
          level: "trip",
          action: "raised",
          value: 3660,
          limit: 3650,
          detail: "cell:2",
        },
      ];
    if (t === 31_000 || t === 32_000)
      return [
        {
          type: "command",
          tMs: t,
          source: "modbus",
          command: "alarm_reset",
          accepted: true,
          detail: 'a, "b"',
        },
      ];
    return [];
  });
  return () => tmp.cleanup();
});

let out = "";
let code = -1;

describe("ups-bms log", () => {
  it("lists events with level filter, repeat counts and JSON lines", async () => {
    ({ code, out } = await runLog(["events", "--db", path]));
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(new Date(WALL0 + 5000).toISOString());
    expect(lines[1]).toMatch(/critical\s+fault\s+cell_ov raised \(trip\) value 3660 limit 3650 cell:2/);
    expect(lines[2]).toMatch(/x2, last 2026-01-01T00:00:32.000Z/);
    ({ out } = await runLog(["events", "--db", path, "--level", "alarm", "--json"]));
    const json = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      level: "critical",
      type: "fault",
      event: { code: "cell_ov", value: 3660 },
    });
    ({ out } = await runLog(["events", "--db", path, "--since", new Date(WALL0 + 31_500).toISOString()]));
    expect(out.trim().split("\n")).toHaveLength(1);
  });

  it("exports per-second history to CSV, and minute aggregates when asked", async () => {
    const from = new Date(WALL0 + 10_000).toISOString();
    const to = new Date(WALL0 + 19_000).toISOString();
    ({ code, out } = await runLog(["export", "--db", path, "--from", from, "--to", to, "--csv"]));
    expect(code).toBe(0);
    const rows = out.trim().split("\n");
    expect(rows[0]).toBe(
      "time,t_ms,seq,state,valid,soc_pct,pack_mv,current_ma,cell_min_mv,cell_max_mv,temp_min_dc,temp_max_dc,chg,dsg,faults,balancing,cell1_mv,cell2_mv,cell3_mv,cell4_mv,temp1_dc,temp2_dc,temp3_dc",
    );
    expect(rows).toHaveLength(11);
    const first = rows[1]!.split(",");
    const snap = syntheticSnapshot(41, 10_000, { cells: 4 });
    expect(first[0]).toBe(from);
    expect(Number(first[6])).toBe(snap.measurements.packVoltageMv);
    expect(first.slice(16, 20).map(Number)).toEqual(snap.measurements.cellVoltagesMv);
    expect(first[22]).toBe("");
    ({ out } = await runLog([
      "export",
      "--db",
      path,
      "--from",
      iso(0),
      "--to",
      iso(120_000),
      "--resolution",
      "minute",
    ]));
    const mins = out.trim().split("\n");
    expect(mins[0]).toMatch(/^time,t_ms,n,pack_mv_min,pack_mv_mean,pack_mv_max/);
    expect(mins.slice(1).map((l) => Number(l.split(",")[2]))).toEqual([240, 120]);
  });

  it("shows each trip with its captured window", async () => {
    ({ code, out } = await runLog(["trips", "--db", path]));
    expect(code).toBe(0);
    expect(out).toMatch(/^trip #1 2026-01-01T00:00:30.000Z cell_ov cell:2\n/);
    expect(out).toContain("9 ticks from -1000 ms to 1000 ms");
    ({ out } = await runLog(["trips", "--db", path, "--json"]));
    const t = JSON.parse(out.trim());
    expect(t.samples).toHaveLength(9);
    expect(t.complete).toBe(true);
  });

  it("finds the database through --config, and reports problems with the right exit code", async () => {
    const cfg = join(tmp.dir, "c.json");
    writeFileSync(cfg, JSON.stringify({ record: { path } }));
    ({ code, out } = await runLog(["events", "--config", cfg, "--limit", "1"]));
    expect(code).toBe(0);
    expect(out.trim().split("\n")).toHaveLength(1);
    expect(await main(["events", "--db", join(tmp.dir, "missing.db")])).toBe(1);
    const usage = async (argv: string[]) => {
      const err = await main(argv).catch((e: unknown) => e);
      expect(isBmsError(err, "USAGE")).toBe(true);
    };
    await usage(["events", "--db", path, "--level", "loud"]);
    await usage(["export", "--db", path, "--from", "yesterday-ish", "--to", "now"]);
    await usage(["export", "--db", path, "--from", "now"]);
    await usage(["frobnicate"]);
    await usage(["events", "--bogus"]);
  });

  it("reads ISO times, epoch ms, now and ages", () => {
    const now = Date.UTC(2026, 10, 26, 12);
    expect(parseTime("now", now, "--since")).toBe(now);
    expect(parseTime("2h", now, "--since")).toBe(now - 7_200_000);
    expect(parseTime("-15m", now, "--since")).toBe(now - 900_000);
    expect(parseTime("1767225600000", now, "--since")).toBe(1767225600000);
    expect(parseTime("2026-11-26T03:12:00Z", now, "--since")).toBe(Date.UTC(2026, 10, 26, 3, 12));
  });
});

function iso(dtMs: number): string {
  return new Date(WALL0 + dtMs).toISOString();
}
