import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/replay.js";
import { type BmsError, isBmsError } from "../../src/core/errors.js";
import { parseReplayCsv } from "../../src/monitor/csv.js";

const dir = mkdtempSync(join(tmpdir(), "ups-bms-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function csvError(text: string): BmsError {
  try {
    parseReplayCsv(text, "log.csv");
  } catch (err) {
    if (isBmsError(err, "CSV_INVALID")) return err;
    throw err;
  }
  throw new Error("expected CSV_INVALID");
}

describe("replay CSV reader", () => {
  it("reads per-cell and single-column logs, skipping blank and comment lines", () => {
    const log = parseReplayCsv("# a comment\ntime,i,v1,v2\n0,0,3.30,3.31\n\n1,-5,3.28,3.29\n", "x");
    expect(log.voltageColumns).toBe(2);
    expect(log.rows).toEqual([
      { timeS: 0, currentA: 0, voltagesV: [3.3, 3.31] },
      { timeS: 1, currentA: -5, voltagesV: [3.28, 3.29] },
    ]);
  });

  it("names the line and column of every problem", () => {
    expect(csvError("time,i,v\n0,0,3.3\n1,x,3.3\n").message).toBe(
      'log.csv:3: column 2 (i) is not a number: "x"',
    );
    expect(csvError("time,i,v\n0,0,3.3\n1,0\n").message).toBe(
      "log.csv:3: expected 3 columns like the header, found 2",
    );
    expect(csvError("time,i,v\n0,0,3.3\n0,0,3.3\n").message).toMatch(
      /^log.csv:3: time 0 s does not increase/,
    );
    expect(csvError("time,i,v\n0,0,-3\n").message).toMatch(
      /^log.csv:2: column 3 \(v\) is not a plausible voltage/,
    );
    expect(csvError("0,0,3.3\n").message).toMatch(/^log.csv:1: the first line must be a header/);
    expect(csvError("time,i\n").message).toMatch(/^log.csv:1: header needs at least 3 columns/);
    expect(csvError("time,i,v\n").message).toMatch(/no data rows/);
    expect(csvError("time,i,v\n0,0,3.3\n1,0,x\n").path).toBe("log.csv:3");
  });
});

describe("ups-bms replay", () => {
  const capture = async (argv: string[]) => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    try {
      const code = await main(argv);
      return { code, out: chunks.join("") };
    } finally {
      spy.mockRestore();
    }
  };

  it("prints the estimate per row as CSV", async () => {
    const file = join(dir, "pack.csv");
    // A 2-cell NMC log: 1 h at −1.5 A (0.5 C of 3 Ah) from full.
    const rows = ["t,I,c1,c2"];
    for (let t = 0; t <= 3600; t += 10) rows.push(`${t},${t === 0 ? 0 : -1.5},4.10,4.10`);
    writeFileSync(file, `${rows.join("\n")}\n`);
    const { code, out } = await capture([
      file,
      "--cell",
      "nmc-18650-3ah",
      "--initial-soc",
      "90",
      "--estimator",
      "coulomb",
      "--every",
      "60",
    ]);
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines[0]).toBe(
      "time_s,current_a,cell_voltage_v,soc_pct,reported_soc_pct,soc_sigma_pct,model_voltage_v,runtime_s,anchor",
    );
    const last = lines.at(-1)!.split(",");
    expect(Number(last[0])).toBe(3600);
    // 1.5 Ah out of 3 Ah: 90 → 40 %.
    expect(Number(last[3])).toBeCloseTo(40, 1);
  });

  it("rejects bad usage and malformed files with the right codes", async () => {
    await expect(main([])).rejects.toSatisfy((e: unknown) => isBmsError(e, "USAGE"));
    await expect(main(["x.csv", "--cell", "lead-acid"])).rejects.toSatisfy((e: unknown) =>
      isBmsError(e, "USAGE"),
    );
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "t,i,v\n0,0,3.3\n1,0,oops\n");
    await expect(main([bad, "--cell", "lfp-100ah"])).rejects.toSatisfy(
      (e: unknown) => isBmsError(e, "CSV_INVALID") && e.message.includes("bad.csv:3:") && e.isUsage,
    );
    await expect(main([bad, "--cell", "lfp-100ah", "--estimator", "magic"])).rejects.toSatisfy((e: unknown) =>
      isBmsError(e, "USAGE"),
    );
  });
});
