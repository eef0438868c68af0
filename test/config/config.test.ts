import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load.js";
import { type ConfigProblem, configJsonSchema, parseConfig } from "../../src/config/schema.js";
import { isBmsError } from "../../src/core/errors.js";

function problemsOf(input: unknown): ConfigProblem[] {
  try {
    parseConfig(input);
  } catch (err) {
    if (isBmsError(err, "CONFIG_INVALID")) return err.details?.problems as ConfigProblem[];
    throw err;
  }
  return [];
}

describe("config defaults and presets", () => {
  it("builds the built-in default: a simulated 16-cell LFP 100 Ah pack", () => {
    const c = parseConfig({});
    expect(c.pack).toMatchObject({
      chemistry: "lfp",
      cellsInSeries: 16,
      capacityAh: 100,
      cellPreset: "lfp-100ah",
    });
    expect(c.afe.kind).toBe("sim");
    expect(c.loop.periodMs).toBe(250);
    expect(c.modbus.tcp).toMatchObject({ host: "127.0.0.1", port: 1502 });
    expect(c.modbus.unitId).toBe(1);
  });

  it("applies the NMC preset as a whole and scales currents with capacity", () => {
    const c = parseConfig({ pack: { chemistry: "nmc", capacityAh: 6 } });
    expect(c.pack.cellPreset).toBe("nmc-18650-3ah");
    expect(c.protection.cellOv.trip?.limit).toBe(4250);
    expect(c.protection.ocDischarge.trip?.limit).toBe(6000);
    expect(c.protection.shortCircuit.limitMa).toBe(12_000);
  });

  it("infers the chemistry from the cell preset", () => {
    expect(parseConfig({ pack: { cellPreset: "ae-nmc-12.5ah" } }).pack.chemistry).toBe("nmc");
  });

  it("lets the user override one field of a level without restating the rest", () => {
    const c = parseConfig({ protection: { cellOv: { trip: { delayMs: 1000 } } } });
    expect(c.protection.cellOv.trip).toMatchObject({ limit: 3650, delayMs: 1000 });
  });

  it("selects the driver by afe.kind with that driver's defaults", () => {
    const c = parseConfig({ pack: { cellsInSeries: 15 }, afe: { kind: "bq769x0" } });
    expect(c.afe).toMatchObject({ kind: "bq769x0", variant: "bq76940", crc: true });
  });
});

// Each rule: an input that breaks it, and the path its error must name.
const RULES: [string, unknown, string][] = [
  ["root must be an object", [], ""],
  ["unknown top-level field", { colour: "red" }, "colour"],
  [
    "unknown nested field (typo)",
    { protection: { cellOv: { trip: { limt: 1 } } } },
    "protection.cellOv.trip.limt",
  ],
  ["unknown chemistry", { pack: { chemistry: "lead" } }, "pack.chemistry"],
  ["unknown cell preset", { pack: { cellPreset: "lto" } }, "pack.cellPreset"],
  ["no cells", { pack: { cellsInSeries: 0 } }, "pack.cellsInSeries"],
  ["non-integer cell count", { pack: { cellsInSeries: 15.5 } }, "pack.cellsInSeries"],
  ["negative capacity", { pack: { capacityAh: -1 } }, "pack.capacityAh"],
  [
    "preset chemistry mismatch",
    { pack: { chemistry: "lfp", cellPreset: "nmc-18650-3ah" } },
    "pack.cellPreset",
  ],
  ["unknown driver kind", { afe: { kind: "ltc6811" } }, "afe.kind"],
  ["period too short", { loop: { periodMs: 1 } }, "loop.periodMs"],
  [
    "OV reset above limit",
    { protection: { cellOv: { trip: { reset: 3700 } } } },
    "protection.cellOv.trip.reset",
  ],
  [
    "UV reset below limit",
    { protection: { cellUv: { trip: { reset: 2400 } } } },
    "protection.cellUv.trip.reset",
  ],
  [
    "OV alarm above trip",
    { protection: { cellOv: { alarm: { limit: 3700, reset: 3480 } } } },
    "protection.cellOv.trip.limit",
  ],
  [
    "UV warning below alarm",
    { protection: { cellUv: { warning: { limit: 2700, reset: 3000 } } } },
    "protection.cellUv.alarm.limit",
  ],
  [
    "OT reset above limit",
    { protection: { otCharge: { trip: { reset: 460 } } } },
    "protection.otCharge.trip.reset",
  ],
  [
    "UT reset below limit",
    { protection: { utDischarge: { trip: { reset: -250 } } } },
    "protection.utDischarge.trip.reset",
  ],
  ["negative delay", { protection: { cellOv: { trip: { delayMs: -5 } } } }, "protection.cellOv.trip.delayMs"],
  [
    "deep discharge above UV trip",
    { protection: { deepDischarge: { limitMv: 2600 } } },
    "protection.cellUv.trip.limit",
  ],
  [
    "UV reset above discharge stop",
    { protection: { charge: { dischargeStopMv: 2650 } } },
    "protection.charge.dischargeStopMv",
  ],
  [
    "float above charge voltage",
    { protection: { charge: { floatVoltageMv: 3460 } } },
    "protection.charge.chargeVoltageMv",
  ],
  [
    "charge voltage above OV reset",
    { protection: { charge: { chargeVoltageMv: 3490 } } },
    "protection.cellOv.trip.reset",
  ],
  [
    "no discharge over-current trip",
    { protection: { ocDischarge: { trip: null } } },
    "protection.ocDischarge.trip",
  ],
  [
    "short circuit below over-current",
    { protection: { shortCircuit: { limitMa: 50_000 } } },
    "protection.shortCircuit.limitMa",
  ],
  [
    "derating curve not ascending",
    {
      protection: {
        charge: {
          cclByTempDeciC: [
            [10, 1],
            [5, 0],
          ],
        },
      },
    },
    "protection.charge.cclByTempDeciC.1.0",
  ],
  [
    "derating fraction above 1",
    {
      protection: {
        charge: {
          cclBySocPct: [
            [0, 2],
            [100, 1],
          ],
        },
      },
    },
    "protection.charge.cclBySocPct.0.1",
  ],
  [
    "sensor safe band inverted",
    { protection: { sensorFault: { safeBandMinMv: 3400, safeBandMaxMv: 3000 } } },
    "protection.sensorFault.safeBandMaxMv",
  ],
  ["full anchor unreachable", { monitor: { fullAnchor: { cellMv: 3500 } } }, "monitor.fullAnchor.cellMv"],
  [
    "empty anchor below UV trip",
    { monitor: { emptyAnchor: { cellMv: 2400 } } },
    "monitor.emptyAnchor.cellMv",
  ],
  [
    "reported scale inverted",
    { monitor: { reportedScale: { minPct: 80, maxPct: 20 } } },
    "monitor.reportedScale.maxPct",
  ],
  [
    "plausibility window inverted",
    { monitor: { plausibility: { cellMinMv: 5000, cellMaxMv: 500 } } },
    "monitor.plausibility.cellMaxMv",
  ],
  ["unknown estimator", { monitor: { estimator: "magic" } }, "monitor.estimator"],
  ["balancing floor below discharge stop", { balance: { minCellMv: 2700 } }, "balance.minCellMv"],
  [
    "balancing hysteresis not below delta",
    { balance: { deltaMv: 5, hysteresisMv: 5 } },
    "balance.hysteresisMv",
  ],
  ["unknown balancing mode", { balance: { mode: "sometimes" } }, "balance.mode"],
  [
    "driver cell count mismatch",
    { pack: { cellsInSeries: 16 }, afe: { kind: "bq76952", cellsConnected: 15 } },
    "afe",
  ],
  [
    "duplicate serial board address",
    {
      pack: { cellsInSeries: 32 },
      afe: {
        kind: "serial",
        boards: [
          { address: 1, cells: 16 },
          { address: 1, cells: 16 },
        ],
      },
    },
    "afe.boards.1.address",
  ],
  ["modbus port out of range", { modbus: { tcp: { port: 70_000 } } }, "modbus.tcp.port"],
  ["modbus unit id 0", { modbus: { unitId: 0 } }, "modbus.unitId"],
  ["RTU enabled without a device", { modbus: { rtu: { enabled: true, path: "" } } }, "modbus.rtu.path"],
  ["empty database path", { record: { path: "" } }, "record.path"],
  ["unknown log level", { log: { level: "chatty" } }, "log.level"],
];

describe("config rules: every rule has a failing case naming its field", () => {
  it.each(RULES)("%s", (_name, input, path) => {
    const problems = problemsOf(input);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.path)).toContain(path);
    for (const p of problems) expect(p.message.length).toBeGreaterThan(3);
  });

  it("reports several problems at once", () => {
    const problems = problemsOf({ pack: { cellsInSeries: 0 }, colour: 1, balance: { mode: "x" } });
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["pack.cellsInSeries", "colour", "balance.mode"]),
    );
  });

  it("rejects malformed JSON with one clear error", () => {
    expect(() => parseConfigText("{ nope", "x.json")).toThrow(/x.json is not valid JSON/);
  });
});

describe("config JSON Schema", () => {
  it("describes every section with nothing required but the driver kind", () => {
    const s = configJsonSchema();
    const props = s.properties as Record<string, unknown>;
    expect(Object.keys(props)).toEqual(
      expect.arrayContaining([
        "pack",
        "loop",
        "afe",
        "protection",
        "monitor",
        "balance",
        "modbus",
        "record",
        "log",
      ]),
    );
    expect(s.required).toBeUndefined();
    expect(JSON.stringify(s)).toContain('"required":["kind"]');
  });
});

describe("shipped example configs", () => {
  const dir = new URL("../../examples/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

  it("exist", () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)("%s validates", (f) => {
    expect(() => parseConfigText(readFileSync(new URL(f, dir), "utf8"), f)).not.toThrow();
  });
});
