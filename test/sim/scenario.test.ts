import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/sim.js";
import { type BmsError, isBmsError } from "../../src/core/errors.js";
import { parseCurrentProfileCsv } from "../../src/hal/sim/profile.js";
import { runScenario, type SimLine } from "../../src/scenario/runner.js";
import { parseScenario, type Scenario } from "../../src/hal/sim/scenario.js";
import { loadScenarioFile } from "../../src/hal/sim/scenario-file.js";

const SCENARIOS = new URL("../../scenarios/", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "ups-bms-sim-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(
  scenario: Scenario,
  extra: Partial<Parameters<typeof runScenario>[0]> = {},
): Promise<{ lines: SimLine[]; summary: Awaited<ReturnType<typeof runScenario>> }> {
  const lines: SimLine[] = [];
  const summary = await runScenario({ scenario, write: (l) => lines.push(l), ...extra });
  return { lines, summary };
}

const shipped = readdirSync(SCENARIOS).filter((f) => f.endsWith(".json"));

function thrown(fn: () => unknown): BmsError {
  try {
    fn();
  } catch (e) {
    if (isBmsError(e)) return e;
    throw e;
  }
  throw new Error("did not throw");
}

describe("shipped scenarios", () => {
  it("include a UPS duty day and one scenario per fault kind", () => {
    const kinds = new Set<string>();
    for (const f of shipped)
      for (const e of loadScenarioFile(join(SCENARIOS, f)).scenario.timeline)
        if (e.action === "fault") kinds.add(e.fault.kind);
    expect(shipped).toContain("ups-duty-day.json");
    for (const k of [
      "charger_runaway",
      "overcurrent",
      "short_circuit",
      "internal_leak",
      "open_wire",
      "thermistor",
      "ambient",
      "comms_loss",
      "current_offset",
      "weak_cell",
    ])
      expect(kinds).toContain(k);
  });

  it.each(shipped)("%s builds and runs its first minute", async (f) => {
    const { scenario, profiles } = loadScenarioFile(join(SCENARIOS, f));
    const { lines, summary } = await run({ ...scenario, durationS: 60 }, { profiles, everyS: 30 });
    expect(lines[0]!.type).toBe("start");
    expect(lines.filter((l) => l.type === "sample")).toHaveLength(3);
    expect(summary.simulatedS).toBeGreaterThanOrEqual(60);
  });
});

describe("scenario runs", () => {
  it("write JSON Lines with t in simulated seconds: start, env, state, fets, sample (true, measured, estimated), summary", async () => {
    const { scenario } = loadScenarioFile(join(SCENARIOS, "short-circuit.json"));
    const { lines, summary } = await run(scenario, { everyS: 60 });
    const types = new Set(lines.map((l) => l.type));
    for (const t of ["start", "env", "state", "fets", "sample", "summary"]) expect(types).toContain(t);
    const env = lines.filter((l) => l.type === "env");
    expect(env.map((l) => l.t)).toEqual([60, 61, 120]);
    interface SampleLine {
      true: { cellMv: number[]; socPct: number[] };
      measured: { cellMv: number[] };
      estimated: { socPct: number };
    }
    const sample = lines.find((l) => l.type === "sample" && l.t === 120) as unknown as SampleLine;
    expect(sample.true.cellMv).toHaveLength(16);
    expect(sample.true.socPct).toHaveLength(16);
    expect(sample.measured.cellMv).toHaveLength(16);
    expect(typeof sample.estimated.socPct).toBe("number");
    // The AFE's hardware SCD opened the discharge FET 200 µs into the short.
    const trip = lines.find((l) => l.type === "hw_trip");
    expect(trip).toMatchObject({ t: 60, code: "short_circuit", fets: { dsg: false } });
    expect(summary.hardwareTripsByCode).toEqual({ short_circuit: 1 });
    expect(lines.at(-1)).toBe(summary);
    expect(summary.cellMv.max).toBeGreaterThan(summary.cellMv.min);
    expect(summary.speedup).toBeGreaterThan(0);
  });

  it("are reproducible from the seed, and another seed gives another run", async () => {
    const { scenario } = loadScenarioFile(join(SCENARIOS, "comms-loss.json"));
    const strip = (ls: SimLine[]) =>
      ls.map((l) => (l.type === "summary" ? { ...l, wallMs: 0, cpuMs: 0, speedup: 0 } : l));
    const a = strip((await run(scenario, { everyS: 10 })).lines);
    const b = strip((await run(scenario, { everyS: 10 })).lines);
    const c = strip((await run({ ...scenario, seed: 99 }, { everyS: 10 })).lines);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it.each([
    ["overcurrent.json", 1800],
    ["weak-cell.json", 21_600],
    ["ups-duty-day.json", 20_000],
    ["cold-ambient.json", 16_000],
    ["profile-replay.json", 7200],
  ])(
    "%s balances its energy within 0.1 %% (in − out − losses − Δstored)",
    async (f, durationS) => {
      const { scenario, profiles } = loadScenarioFile(join(SCENARIOS, f));
      let report: ReturnType<import("../../src/hal/sim/index.js").Simulation["energy"]> | null = null;
      let simRef: import("../../src/hal/sim/index.js").Simulation | null = null;
      await run({ ...scenario, durationS }, { profiles, onSimulation: (s) => (simRef = s) });
      report = simRef!.energy();
      expect(report.inJ + report.outJ).toBeGreaterThan(0);
      expect(report.relativeError).toBeLessThan(0.001);
      // The check has teeth: leaving out the losses would break it.
      expect(report.lossesJ).toBeGreaterThan(0.002 * (report.inJ + report.outJ));
    },
    30_000,
  );
});

describe("config layering", () => {
  it("takes a --config for real hardware but simulates its pack; the scenario's config wins", async () => {
    const s = parseScenario({ name: "x", durationS: 1, config: { loop: { periodMs: 500 } } });
    const base = {
      pack: { cellsInSeries: 8 },
      loop: { periodMs: 100 },
      afe: { kind: "bq769x0", variant: "bq76940", cellsConnected: 8 },
    };
    const { lines } = await run(s, { baseConfig: base });
    expect(lines[0]).toMatchObject({ type: "start", cells: 8, periodMs: 500 });
  });
});

describe("bad scenario files", () => {
  it("name the field that is wrong", () => {
    const e1 = thrown(() => parseScenario({ name: "x" }, "s.json"));
    expect(e1.code).toBe("SCENARIO_INVALID");
    expect(e1.isUsage).toBe(true);
    expect(e1.message).toMatch(/durationS/);
    const e2 = thrown(() =>
      parseScenario({
        name: "x",
        durationS: 10,
        timeline: [{ atS: 1, action: "fault", fault: { kind: "melt" } }],
      }),
    );
    expect(e2.message).toMatch(/timeline\.0\.fault\.kind/);
    const e3 = thrown(() =>
      parseScenario({ name: "x", durationS: 10, timeline: [{ atS: 1, action: "mains", on: "yes" }] }),
    );
    expect(e3.message).toMatch(/timeline\.0\.on/);
    const e4 = thrown(() => parseScenario({ name: "x", durationS: 10, colour: "red" }));
    expect(e4.message).toMatch(/colour/);
  });

  it("report a fault on a missing cell with its timeline path", async () => {
    const s = parseScenario({
      name: "x",
      durationS: 10,
      timeline: [{ atS: 1, action: "fault", fault: { kind: "open_wire", cell: 40 } }],
    });
    await expect(run(s)).rejects.toSatisfy(
      (e: unknown) => isBmsError(e, "SCENARIO_INVALID") && /timeline\.0\.fault\.cell/.test(e.message),
    );
  });

  it("report bad CSV rows with their line", () => {
    const e = thrown(() => parseCurrentProfileCsv("t,i\n0,1\n5,abc\n", "p.csv"));
    expect(e.code).toBe("CSV_INVALID");
    expect(e.message).toMatch(/p\.csv:3/);
    expect(thrown(() => parseCurrentProfileCsv("0,1\n0,2\n", "p.csv")).message).toMatch(/does not rise/);
  });

  it("make the CLI fail with a usage error (exit 2), naming file and field", async () => {
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ name: "bad", durationS: -1 }));
    await expect(main(["--scenario", bad])).rejects.toSatisfy(
      (e: unknown) =>
        isBmsError(e, "SCENARIO_INVALID") &&
        e.isUsage &&
        e.message.includes("bad.json") &&
        /durationS/.test(e.message),
    );
    const notJson = join(tmp, "nj.json");
    writeFileSync(notJson, "{ nope");
    await expect(main(["--scenario", notJson])).rejects.toSatisfy((e: unknown) =>
      isBmsError(e, "SCENARIO_INVALID"),
    );
    await expect(main([])).rejects.toSatisfy((e: unknown) => isBmsError(e, "USAGE"));
    await expect(main(["--scenario", bad, "--every", "0"])).rejects.toSatisfy((e: unknown) =>
      isBmsError(e, "USAGE"),
    );
    const missingProfile = join(tmp, "mp.json");
    writeFileSync(
      missingProfile,
      JSON.stringify({
        name: "mp",
        durationS: 10,
        timeline: [{ atS: 0, action: "profile", file: "nope.csv" }],
      }),
    );
    await expect(main(["--scenario", missingProfile])).rejects.toSatisfy(
      (e: unknown) => isBmsError(e, "SCENARIO_INVALID") && e.message.includes("timeline.0.file"),
    );
  });

  it("the CLI writes one JSON object per line to stdout", async () => {
    const ok = join(tmp, "ok.json");
    writeFileSync(ok, JSON.stringify({ name: "ok", durationS: 20, initial: { mains: false } }));
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: unknown, cb?: unknown) => {
      chunks.push(String(chunk));
      if (typeof cb === "function") cb();
      return true;
    });
    try {
      expect(await main(["--scenario", ok, "--every", "5"])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const lines = chunks
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as SimLine);
    expect(lines.filter((l) => l.type === "sample").map((l) => l.t)).toEqual([0, 5, 10, 15, 20]);
    expect(lines.at(-1)!.type).toBe("summary");
  });
});
