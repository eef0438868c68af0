/**
 * Config sections owned by the monitor, balancer, comms and recorder. Each has a schema
 * and a defaults function; schema.ts composes them and applies the chemistry preset.
 */
import { z } from "zod";
import { CELL_PRESETS } from "./cells.js";
import type { ChemistryPreset } from "./chemistry.js";

export const monitorSchema = z
  .object({
    estimator: z.enum(["coulomb", "ekf"]).describe("SOC estimator"),
    staleAfterMs: z.number().int().positive().describe("A sample older than this is stale"),
    currentOffsetMa: z.number().describe("Calibrated current-sensor offset, subtracted from readings"),
    currentDeadbandMa: z.number().min(0).describe("Currents smaller than this count as zero"),
    fullAnchor: z
      .object({
        cellMv: z.number().int().describe("Every cell at or above this (while charging) …"),
        taperCurrentMa: z.number().positive().describe("… and current tapered below this …"),
        holdMs: z.number().int().min(0).describe("… for this long: SOC = 100 %"),
      })
      .strict(),
    emptyAnchor: z
      .object({
        cellMv: z.number().int().describe("Lowest cell at or below this under load …"),
        holdMs: z.number().int().min(0).describe("… for this long: SOC = 0 %"),
      })
      .strict(),
    rest: z
      .object({
        currentMa: z.number().positive().describe("|I| below this counts as rest"),
        minRestMs: z.number().int().min(0).describe("Rest time before an OCV correction"),
        minSlopeMvPerPct: z
          .number()
          .min(0)
          .describe("No OCV correction where the OCV curve is flatter than this"),
      })
      .strict(),
    socCapBeforeFullPct: z
      .number()
      .min(50)
      .max(100)
      .describe("Counted SOC is capped here until full is confirmed"),
    reportedScale: z
      .object({
        minPct: z.number().min(0).max(100).describe("Real SOC shown as 0 %"),
        maxPct: z.number().min(0).max(100).describe("Real SOC shown as 100 %"),
      })
      .strict(),
    runtimeCutoffMv: z
      .number()
      .int()
      .describe("Runtime ends when the lowest cell under load reaches this, mV"),
    runtimeEveryMs: z
      .number()
      .int()
      .positive()
      .describe("Recompute the runtime forward simulation this often (counted down in between)"),
    autoZeroCurrent: z
      .boolean()
      .describe("Learn the current-sensor offset while both FETs are open (no current can flow)"),
    persistPath: z.string().describe("File for the estimator state (atomic write-rename); empty disables"),
    persistEveryMs: z.number().int().positive(),
    plausibility: z
      .object({
        cellMinMv: z.number().int(),
        cellMaxMv: z.number().int(),
        tempMinDeciC: z.number().int(),
        tempMaxDeciC: z.number().int(),
        currentMaxMa: z.number().positive(),
        packVsSumToleranceMv: z.number().positive(),
        tempSpreadDeciC: z.number().positive(),
        stuckAfterMs: z
          .number()
          .int()
          .min(0)
          .describe("Identical readings for this long mean a stuck channel (0 disables)"),
      })
      .strict(),
  })
  .strict();
export type MonitorConfig = z.infer<typeof monitorSchema>;

export function monitorDefaults(p: ChemistryPreset, capacityAh: number): MonitorConfig {
  const c = capacityAh * 1000;
  return {
    // The NMC OCV curve is steep enough everywhere for the EKF to help; LFP's plateau is not.
    estimator: CELL_PRESETS[p.cellPreset].chemistry === "nmc" ? "ekf" : "coulomb",
    staleAfterMs: 2000,
    currentOffsetMa: 0,
    currentDeadbandMa: Math.max(20, 0.0005 * c),
    fullAnchor: { cellMv: p.fullAnchorMv, taperCurrentMa: 0.02 * c, holdMs: 120_000 },
    emptyAnchor: { cellMv: p.emptyAnchorMv, holdMs: 10_000 },
    rest: { currentMa: 0.01 * c, minRestMs: 1_800_000, minSlopeMvPerPct: 1 },
    socCapBeforeFullPct: 99,
    reportedScale: { minPct: 0, maxPct: 100 },
    runtimeCutoffMv: p.dischargeStopMv,
    runtimeEveryMs: 5000,
    autoZeroCurrent: true,
    persistPath: "",
    persistEveryMs: 60_000,
    plausibility: {
      cellMinMv: 500,
      cellMaxMv: 5000,
      tempMinDeciC: -400,
      tempMaxDeciC: 1200,
      currentMaxMa: 20 * c,
      packVsSumToleranceMv: 500,
      tempSpreadDeciC: 150,
      stuckAfterMs: 0,
    },
  };
}

export const balanceSchema = z
  .object({
    mode: z.enum(["off", "charge", "rest", "always"]).describe("When to balance"),
    strategy: z
      .enum(["voltage", "soc"])
      .describe("Bleed by voltage delta, or by SOC excess from the OCV table at rest"),
    startMv: z.number().int().describe("Highest cell must be above this"),
    deltaMv: z.number().positive().describe("… and this much above the lowest to start"),
    hysteresisMv: z.number().min(0).describe("Stop a cell when within delta − hysteresis of the lowest"),
    restCurrentMa: z
      .number()
      .positive()
      .describe("|I| below this counts as rest; below minus this counts as discharging"),
    restTimeMs: z.number().int().min(0).describe("Rest time before rest-mode balancing or a SOC estimate"),
    minCellMv: z.number().int().describe("Never bleed a cell below this"),
    maxBoardTempDeciC: z.number().int().describe("No bleeding above this board/die temperature"),
    maxCellTempDeciC: z.number().int().describe("No bleeding above this cell temperature"),
    bleedResistorOhm: z
      .number()
      .positive()
      .describe("Bleed resistor, used when the driver declares no value (current, heat, time estimates)"),
    maxSimultaneous: z.number().int().positive().describe("Cap below the driver's own limit"),
    tempHysteresisDeciC: z
      .number()
      .int()
      .min(0)
      .describe("After a temperature stop, resume only this far below the limit, 0.1 °C"),
    socDeltaPct: z
      .number()
      .positive()
      .max(50)
      .describe("SOC strategy: bleed a cell whose rested SOC is this far above the lowest"),
    minSlopeMvPerPct: z
      .number()
      .positive()
      .describe("SOC strategy: no estimate where the OCV curve is flatter than this"),
    measureEveryMs: z
      .number()
      .int()
      .positive()
      .describe("Chips that need bleeders off to measure: bleed this long, then pause for a clean reading"),
    bleedDutyPct: z
      .number()
      .positive()
      .max(100)
      .describe("Share of time a commanded bleeder really conducts (bq769x0: about 70)"),
    filterTimeMs: z
      .number()
      .int()
      .min(0)
      .describe("Time constant of the cell-voltage filter behind the decisions (0: raw readings)"),
  })
  .strict();
export type BalanceConfig = z.infer<typeof balanceSchema>;

export function balanceDefaults(p: ChemistryPreset): BalanceConfig {
  return {
    mode: "charge",
    strategy: "voltage",
    startMv: p.balanceStartMv,
    deltaMv: 10,
    hysteresisMv: 5,
    restCurrentMa: 500,
    restTimeMs: 1_800_000,
    minCellMv: p.dischargeStopMv + 300,
    maxBoardTempDeciC: 600,
    maxCellTempDeciC: 450,
    bleedResistorOhm: 33,
    maxSimultaneous: 16,
    tempHysteresisDeciC: 50,
    socDeltaPct: 1,
    minSlopeMvPerPct: 2,
    measureEveryMs: 10_000,
    bleedDutyPct: 100,
    filterTimeMs: 30_000,
  };
}

const hostSchema = z.string().min(1);

export const modbusSchema = z
  .object({
    unitId: z.number().int().min(1).max(247),
    tcp: z
      .object({
        enabled: z.boolean(),
        host: hostSchema.describe(
          "Listen address; 127.0.0.1 by default, the controller's interface in a UPS",
        ),
        port: z.number().int().min(0).max(65535),
        allowWriteFrom: z.array(z.string()).describe("Client addresses allowed to write (empty: nobody)"),
        maxClients: z.number().int().positive(),
      })
      .strict(),
    rtu: z
      .object({
        enabled: z.boolean(),
        path: z.string(),
        baudRate: z.number().int().positive(),
        parity: z.enum(["none", "even", "odd"]),
        stopBits: z.union([z.literal(1), z.literal(2)]),
        allowWrites: z
          .boolean()
          .describe("Accept writes over RS-485 (the line has no client address to check)"),
      })
      .strict(),
    cellsPerModule: z
      .number()
      .int()
      .min(1)
      .max(64)
      .describe("Cells per SunSpec model 805 module block (one block per module)"),
    remoteMode: z.boolean().describe("Accept writes (alarm reset, connect, limits) from the controller"),
    heartbeatTimeoutMs: z
      .number()
      .int()
      .positive()
      .describe("Remote set-points expire this long after the last heartbeat"),
  })
  .strict();
export type ModbusConfig = z.infer<typeof modbusSchema>;

export function modbusDefaults(): ModbusConfig {
  return {
    unitId: 1,
    tcp: {
      enabled: true,
      host: "127.0.0.1",
      port: 1502,
      allowWriteFrom: ["127.0.0.1", "::1"],
      maxClients: 8,
    },
    rtu: {
      enabled: false,
      path: "/dev/ttyUSB0",
      baudRate: 19200,
      parity: "even",
      stopBits: 1,
      allowWrites: true,
    },
    cellsPerModule: 16,
    remoteMode: true,
    heartbeatTimeoutMs: 60_000,
  };
}

export const recordSchema = z
  .object({
    enabled: z.boolean().describe("Record events, history and state (false: record nothing)"),
    path: z.string().min(1).describe("SQLite database file"),
    commitIntervalMs: z
      .number()
      .int()
      .positive()
      .describe("Buffered data is committed this often: the most an event can wait for the disk"),
    sampleWindowS: z.number().int().positive().describe("Per-second samples kept this long"),
    aggregateRetentionDays: z
      .number()
      .int()
      .positive()
      .describe("Per-minute aggregates and trip captures kept this long, days"),
    maxSizeMb: z
      .number()
      .positive()
      .describe("Size cap of the database file and its WAL; oldest history goes first"),
    tripCaptureS: z.number().int().min(0).describe("Raw samples kept before and after each trip, s"),
    repeatWindowS: z
      .number()
      .int()
      .min(0)
      .describe("A repeat of the same event within this long counts on the first one's row (0: never merge)"),
    synchronous: z
      .enum(["full", "normal"])
      .describe("full: each commit survives power loss; normal: survives a crash, not power loss"),
    maxBufferedSamples: z
      .number()
      .int()
      .min(60)
      .describe("Per-second samples held in memory while the database is unwritable (oldest dropped)"),
  })
  .strict();
export type RecordConfig = z.infer<typeof recordSchema>;

export function recordDefaults(): RecordConfig {
  return {
    enabled: true,
    path: "ups-bms.db",
    commitIntervalMs: 1000,
    sampleWindowS: 86_400,
    aggregateRetentionDays: 366,
    maxSizeMb: 256,
    tripCaptureS: 30,
    repeatWindowS: 600,
    synchronous: "full",
    maxBufferedSamples: 3600,
  };
}
