import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { BmsEvent } from "../../src/core/events.js";
import { runLog, recordSyntheticRun, tempDir, WALL0 } from "./helpers.js";

const tmp = tempDir();
const path = join(tmp.dir, "estimate.db");

beforeAll(() => {
  recordSyntheticRun({ path }, 4 * 20, (t): BmsEvent[] => {
    if (t === 3000)
      return [
        {
          type: "estimate",
          tMs: t,
          what: "full-anchor",
          socPct: 100,
          deltaPct: 2.96,
          detail: "full anchor: voltage says 100.0 % (±0.5 %), SOC 97.0 -> 100.0 %",
        },
      ];
    // Two corrections with different numbers are two rows, never one folded repeat.
    if (t === 6000 || t === 7000)
      return [
        {
          type: "estimate",
          tMs: t,
          what: "ocv-correction",
          socPct: 98.5 - t / 1e6,
          deltaPct: -0.45,
          detail: `ocv anchor: SOC at ${t} ms`,
        },
      ];
    return [];
  });
  return () => tmp.cleanup();
});

let out = "";
let code = -1;

describe("estimate events in the recorder", () => {
  it("are stored at info level and shown by `ups-bms log events`, text and JSON", async () => {
    ({ code, out } = await runLog(["events", "--db", path]));
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(new Date(WALL0 + 3000).toISOString());
    expect(lines[0]).toMatch(
      /info\s+estimate\s+full-anchor: SOC 100\.0 % \(\+3\.0 %\): full anchor: voltage says 100\.0 %/,
    );
    expect(lines[1]).toMatch(
      /estimate\s+ocv-correction: SOC 98\.5 % \(-0\.5 %\): ocv anchor: SOC at 6000 ms/,
    );
    expect(lines[2]).toMatch(/ocv anchor: SOC at 7000 ms$/);
    ({ code, out } = await runLog(["events", "--db", path, "--json"]));
    expect(code).toBe(0);
    const json = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({
      level: "info",
      type: "estimate",
      count: 1,
      event: { type: "estimate", what: "full-anchor", socPct: 100, deltaPct: 2.96 },
    });
    ({ out } = await runLog(["events", "--db", path, "--level", "warning"]));
    expect(out.trim()).toBe("");
  });
});
