/**
 * The SunSpec chain at 40000: "SunS", model 1 (common), model 802 (battery base) at the fixed
 * address 40070, one model 805 (lithium-ion module) per module, and the end model.
 * Unimplemented points carry SunSpec's not-implemented values.
 */
import { createRequire } from "node:module";
import type { BmsConfig } from "../config/schema.js";
import { bmsStateIndex } from "./derived.js";
import { type Point, type PointType, type ReadContext, constant, point } from "./points.js";
import { remoteOf } from "./remote.js";
import { type ModuleSpan, type Scales, scaled } from "./scales.js";
import { alarmResetRule, ctrlHbRule, setOpRule, socReserveRule } from "./writes.js";

export const SUNSPEC_BASE = 40000;
export const MODEL_802_ADDR = 40070;
export const MANUFACTURER = "ups-bms";

let versionCache: string | null = null;
export function packageVersion(): string {
  if (versionCache !== null) return versionCache;
  try {
    const req = createRequire(import.meta.url);
    versionCache = String((req("../../package.json") as { version?: string }).version ?? "0.0.0");
  } catch {
    versionCache = "0.0.0";
  }
  return versionCache;
}

type Live = ReadContext & { snap: NonNullable<ReadContext["snap"]>; d: NonNullable<ReadContext["d"]> };
const live =
  <T>(f: (c: Live) => T) =>
  (c: ReadContext): T | null =>
    c.snap && c.d ? f(c as Live) : null;

const p = (
  name: string,
  type: PointType,
  description: string,
  value?: (c: ReadContext) => number | string | null,
  units = "",
  size?: number,
): Point => point({ name, type, description, units, ...(value ? { value } : {}), ...(size ? { size } : {}) });

/** Sum of point sizes: the model's L is this minus the two header registers. */
export const registersOf = (pts: readonly Point[]): number => pts.reduce((s, x) => s + x.size * x.count, 0);

function header(id: number, body: Point[], name: string): Point[] {
  return [
    constant("ID", "uint16", id, `${name}: model identifier = ${id}`),
    constant("L", "uint16", registersOf(body), "Model length (registers after L)"),
    ...body,
  ];
}

export function model1(config: BmsConfig): Point[] {
  const body = [
    p("Mn", "string", "Manufacturer", () => MANUFACTURER, "", 16),
    p("Md", "string", "Model (config pack.name)", () => config.pack.name, "", 16),
    p(
      "Opt",
      "string",
      "Options: chemistry and cells in series",
      () => `${config.pack.chemistry.toUpperCase()} ${config.pack.cellsInSeries}S`,
      "",
      8,
    ),
    p("Vr", "string", "Software version", () => packageVersion(), "", 8),
    p("SN", "string", "Serial number (config pack.serialNumber)", () => config.pack.serialNumber, "", 16),
    p("DA", "uint16", "Device address (config modbus.unitId; read-only here)", () => config.modbus.unitId),
    p("Pad", "pad", "Force even alignment"),
  ];
  return header(1, body, "Common");
}

export function model802(config: BmsConfig, sc: Scales): Point[] {
  const ch = config.protection.charge;
  const cells = config.pack.cellsInSeries;
  const body: Point[] = [
    p(
      "AHRtg",
      "uint16",
      "Nameplate charge capacity",
      () => scaled(config.pack.capacityAh, sc.AHRtg_SF),
      "Ah × 10^AHRtg_SF",
    ),
    p(
      "WHRtg",
      "uint16",
      "Nameplate energy capacity (capacity × nominal voltage)",
      () => scaled(sc.ratedWh, sc.WHRtg_SF),
      "Wh × 10^WHRtg_SF",
    ),
    p(
      "WChaRteMax",
      "uint16",
      "Max charge rate (max charge current × charge voltage)",
      () => scaled(sc.maxChargeW, sc.WChaDisChaMax_SF),
      "W × 10^WChaDisChaMax_SF",
    ),
    p(
      "WDisChaRteMax",
      "uint16",
      "Max discharge rate (max discharge current × nominal voltage)",
      () => scaled(sc.maxDischargeW, sc.WChaDisChaMax_SF),
      "W × 10^WChaDisChaMax_SF",
    ),
    p("DisChaRte", "uint16", "Self-discharge rate (not implemented)"),
    p("SoCMax", "uint16", "Nameplate max SoC", () => scaled(100, sc.SoC_SF), "% × 10^SoC_SF"),
    p("SoCMin", "uint16", "Nameplate min SoC", () => 0, "% × 10^SoC_SF"),
    p("SocRsvMax", "uint16", "Max reserve set-point (not implemented; SunSpec's spelling)"),
    point({
      name: "SoCRsvMin",
      type: "uint16",
      units: "% × 10^SoC_SF",
      value: live((c) => {
        const pct = remoteOf(c.snap).socReservePct;
        return pct === null ? null : scaled(pct, sc.SoC_SF);
      }),
      write: socReserveRule,
      description:
        "Min reserve set-point as protection applies it (from the next tick); not implemented (0xFFFF) when none, 0 or expired",
    }),
    p(
      "SoC",
      "uint16",
      "State of charge (as reported to users)",
      live((c) => scaled(c.snap.estimates.reportedSocPct, sc.SoC_SF)),
      "% × 10^SoC_SF",
    ),
    p(
      "DoD",
      "uint16",
      "Depth of discharge (100 − SoC)",
      live((c) => scaled(100 - c.snap.estimates.reportedSocPct, sc.DoD_SF)),
      "% × 10^DoD_SF",
    ),
    p(
      "SoH",
      "uint16",
      "State of health",
      live((c) => scaled(c.snap.estimates.sohPct, sc.SoH_SF)),
      "% × 10^SoH_SF",
    ),
    p(
      "NCyc",
      "uint32",
      "Cycle count (equivalent full cycles)",
      live((c) => Math.floor(c.snap.estimates.counters.equivalentCycles)),
    ),
    p(
      "ChaSt",
      "enum16",
      "Charge status: 1 off, 2 empty, 3 discharging, 4 charging, 5 full, 6 holding",
      live((c) => c.d.chaSt),
    ),
    p("LocRemCtl", "enum16", "Control mode: 0 remote (writes accepted), 1 local", (c) =>
      (c.snap?.remote.remoteMode ?? c.config.modbus.remoteMode) ? 0 : 1,
    ),
    p(
      "Hb",
      "uint16",
      "Battery heartbeat (loop seconds)",
      live((c) => Math.floor(c.snap.timestampMs / 1000) % 65536),
    ),
    point({
      name: "CtrlHb",
      type: "uint16",
      value: (c) => c.server.ctrlHb,
      write: ctrlHbRule,
      description: "Controller heartbeat",
    }),
    point({
      name: "AlmRst",
      type: "uint16",
      value: () => 0,
      write: alarmResetRule,
      description: "Alarm reset: write 1; reads 0",
    }),
    p("Typ", "enum16", "Battery type: 4 lithium-ion", () => 4),
    p(
      "State",
      "enum16",
      "1 disconnected, 2 initializing, 3 connected, 99 fault",
      live((c) => c.d.state802),
    ),
    p(
      "StateVnd",
      "enum16",
      "BMS state: 0 init, 1 standby, 2 charging, 3 discharging, 4 fault, 5 shutdown",
      live((c) => bmsStateIndex(c.snap)),
    ),
    p("WarrDt", "uint32", "Warranty date (not implemented)"),
    p(
      "Evt1",
      "bitfield32",
      "Alarms and warnings (mapped from our fault codes)",
      live((c) => c.d.alarms.evt1),
    ),
    p("Evt2", "bitfield32", "Reserved by SunSpec, reads 0", () => 0),
    p(
      "EvtVnd1",
      "bitfield32",
      "Bit n: fault code n active",
      live((c) => c.d.alarms.activeCodes),
    ),
    p(
      "EvtVnd2",
      "bitfield32",
      "Bit n: fault code n latched",
      live((c) => c.d.alarms.latchedCodes),
    ),
    p(
      "V",
      "uint16",
      "Battery voltage",
      live((c) => scaled(c.snap.measurements.packVoltageMv / 1000, sc.V_SF)),
      "V × 10^V_SF",
    ),
    p(
      "VMax",
      "uint16",
      "Max battery voltage: charge voltage limit (CVL)",
      live((c) => scaled(c.snap.protection.limits.cvlMv / 1000, sc.V_SF)),
      "V × 10^V_SF",
    ),
    p(
      "VMin",
      "uint16",
      "Min battery voltage: end-of-discharge voltage",
      () => scaled((ch.dischargeStopMv * cells) / 1000, sc.V_SF),
      "V × 10^V_SF",
    ),
    p(
      "CellVMax",
      "uint16",
      "Max cell voltage",
      live((c) => scaled(c.snap.measurements.cells.maxMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "CellVMaxStr",
      "uint16",
      "String of the max cell (always 1)",
      live(() => 1),
    ),
    p(
      "CellVMaxMod",
      "uint16",
      "Module of the max cell",
      live((c) => c.d.moduleOfCell(c.snap.measurements.cells.maxIndex)),
    ),
    p(
      "CellVMin",
      "uint16",
      "Min cell voltage",
      live((c) => scaled(c.snap.measurements.cells.minMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "CellVMinStr",
      "uint16",
      "String of the min cell (always 1)",
      live(() => 1),
    ),
    p(
      "CellVMinMod",
      "uint16",
      "Module of the min cell",
      live((c) => c.d.moduleOfCell(c.snap.measurements.cells.minIndex)),
    ),
    p(
      "CellVAvg",
      "uint16",
      "Average cell voltage",
      live((c) => scaled(c.snap.measurements.cells.meanMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "A",
      "int16",
      "Total DC current, positive when charging",
      live((c) => scaled(c.snap.measurements.packCurrentMa / 1000, sc.A_SF)),
      "A × 10^A_SF",
    ),
    p(
      "AChaMax",
      "uint16",
      "Max charge current: charge current limit (CCL)",
      live((c) => scaled(c.snap.protection.limits.cclMa / 1000, sc.AMax_SF)),
      "A × 10^AMax_SF",
    ),
    p(
      "ADisChaMax",
      "uint16",
      "Max discharge current: discharge current limit (DCL)",
      live((c) => scaled(c.snap.protection.limits.dclMa / 1000, sc.AMax_SF)),
      "A × 10^AMax_SF",
    ),
    p(
      "W",
      "int16",
      "Total DC power, positive when charging",
      live((c) => scaled(c.snap.measurements.packPowerW, sc.W_SF)),
      "W × 10^W_SF",
    ),
    p("ReqInvState", "enum16", "Inverter state request (not implemented)"),
    p("ReqW", "int16", "Battery power request (not implemented)"),
    point({
      name: "SetOp",
      type: "enum16",
      value: live((c) => (c.snap.remote.disconnectRequested ? 2 : 1)),
      write: setOpRule,
      description: "1 connect, 2 disconnect (maintenance)",
    }),
    p("SetInvState", "enum16", "Inverter state (not implemented; writes refused)"),
    constant("AHRtg_SF", "sunssf", sc.AHRtg_SF, "Scale factor"),
    constant("WHRtg_SF", "sunssf", sc.WHRtg_SF, "Scale factor"),
    constant("WChaDisChaMax_SF", "sunssf", sc.WChaDisChaMax_SF, "Scale factor"),
    constant("DisChaRte_SF", "sunssf", null, "Scale factor (not implemented)"),
    constant("SoC_SF", "sunssf", sc.SoC_SF, "Scale factor"),
    constant("DoD_SF", "sunssf", sc.DoD_SF, "Scale factor"),
    constant("SoH_SF", "sunssf", sc.SoH_SF, "Scale factor"),
    constant("V_SF", "sunssf", sc.V_SF, "Scale factor"),
    constant("CellV_SF", "sunssf", sc.CellV_SF, "Scale factor"),
    constant("A_SF", "sunssf", sc.A_SF, "Scale factor"),
    constant("AMax_SF", "sunssf", sc.AMax_SF, "Scale factor"),
    constant("W_SF", "sunssf", sc.W_SF, "Scale factor"),
  ];
  return header(802, body, "Battery base");
}

export function model805(config: BmsConfig, sc: Scales, mod: ModuleSpan): Point[] {
  const k = mod.index - 1;
  const ms = (f: (s: NonNullable<ReadContext["d"]>["modules"][number], c: Live) => number | null) =>
    live((c) => {
      const s = c.d.modules[k];
      return s ? f(s, c) : null;
    });
  const cell = (i: number) => mod.firstCell + i;
  const body: Point[] = [
    p("StrIdx", "uint16", "String index (always 1)", () => 1),
    p("ModIdx", "uint16", "Module index", () => mod.index),
    p("NCell", "uint16", "Cells in this module", () => mod.cellCount),
    p("SoC", "uint16", "Module SoC (not implemented: one series string)"),
    p("DoD", "uint16", "Module DoD (not implemented)"),
    p("SoH", "uint16", "Module SoH (not implemented)"),
    p("NCyc", "uint32", "Module cycle count (not implemented)"),
    p(
      "V",
      "uint16",
      "Module voltage (sum of its cells)",
      ms((s) => scaled(s.vMv / 1000, sc.ModV_SF)),
      "V × 10^V_SF",
    ),
    p(
      "CellVMax",
      "uint16",
      "Max cell voltage",
      ms((s) => scaled(s.maxMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "CellVMaxCell",
      "uint16",
      "Cell of the max voltage (1-based in the module)",
      ms((s) => s.maxCell),
    ),
    p(
      "CellVMin",
      "uint16",
      "Min cell voltage",
      ms((s) => scaled(s.minMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "CellVMinCell",
      "uint16",
      "Cell of the min voltage",
      ms((s) => s.minCell),
    ),
    p(
      "CellVAvg",
      "uint16",
      "Average cell voltage",
      ms((s) => scaled(s.avgMv / 1000, sc.CellV_SF)),
      "V × 10^CellV_SF",
    ),
    p(
      "CellTmpMax",
      "int16",
      "Max cell temperature",
      ms((s) => (s.tMax === null ? null : scaled(s.tMax / 10, sc.Tmp_SF))),
      "°C × 10^Tmp_SF",
    ),
    p(
      "CellTmpMaxCell",
      "uint16",
      "Cell of the max temperature",
      ms((s) => (s.tMax === null ? null : s.tMaxCell)),
    ),
    p(
      "CellTmpMin",
      "int16",
      "Min cell temperature",
      ms((s) => (s.tMin === null ? null : scaled(s.tMin / 10, sc.Tmp_SF))),
      "°C × 10^Tmp_SF",
    ),
    p(
      "CellTmpMinCell",
      "uint16",
      "Cell of the min temperature",
      ms((s) => (s.tMin === null ? null : s.tMinCell)),
    ),
    p(
      "CellTmpAvg",
      "int16",
      "Average cell temperature",
      ms((s) => (s.tAvg === null ? null : scaled(s.tAvg / 10, sc.Tmp_SF))),
      "°C × 10^Tmp_SF",
    ),
    p(
      "NCellBal",
      "uint16",
      "Cells bleeding now",
      ms((s) => s.balancing),
    ),
    p(
      "SN",
      "string",
      "Module serial number (pack serial + module)",
      () => `${config.pack.serialNumber}-M${mod.index}`,
      "",
      16,
    ),
    constant("SoC_SF", "sunssf", sc.SoC_SF, "Scale factor"),
    constant("SoH_SF", "sunssf", sc.SoH_SF, "Scale factor"),
    constant("DoD_SF", "sunssf", sc.DoD_SF, "Scale factor"),
    constant("V_SF", "sunssf", sc.ModV_SF, "Scale factor (module voltage)"),
    constant("CellV_SF", "sunssf", sc.CellV_SF, "Scale factor"),
    constant("Tmp_SF", "sunssf", sc.Tmp_SF, "Scale factor"),
  ];
  // The repeating cell group: CellV, CellTmp, CellSt per cell, interleaved.
  const per: Point[] = [];
  for (let i = 0; i < mod.cellCount; i++) {
    per.push(
      point({
        name: `CellV[${i + 1}]`,
        type: "uint16",
        units: "V × 10^CellV_SF",
        value: live((c) => {
          const v = c.snap.measurements.cellVoltagesMv[cell(i)];
          return v === undefined ? null : scaled(v / 1000, sc.CellV_SF);
        }),
        description: "Cell voltage",
      }),
      point({
        name: `CellTmp[${i + 1}]`,
        type: "int16",
        units: "°C × 10^Tmp_SF",
        value: live((c) => {
          const t = c.d.cellTempDeciC[cell(i)];
          return t === undefined || t === null ? null : scaled(t / 10, sc.Tmp_SF);
        }),
        description: "Cell temperature (the sensor covering this cell's position)",
      }),
      point({
        name: `CellSt[${i + 1}]`,
        type: "bitfield32",
        value: live((c) => (c.d.balancing.has(cell(i)) ? 1 : 0)),
        description: "Bit 0: cell is balancing",
      }),
    );
  }
  return header(805, [...body, ...per], `Lithium-ion module ${mod.index}`);
}

export function endModel(): Point[] {
  return [constant("ID", "uint16", 0xffff, "End model"), constant("L", "uint16", 0, "End model length")];
}

export function sunspecChain(
  config: BmsConfig,
  sc: Scales,
  modules: readonly ModuleSpan[],
): { model: string; points: Point[] }[] {
  return [
    {
      model: "SunS",
      points: [constant("SunS", "string", "SunS", "SunSpec marker 0x5375 0x6E53", "")].map((x) => ({
        ...x,
        size: 2,
      })),
    },
    { model: "1", points: model1(config) },
    { model: "802", points: model802(config, sc) },
    ...modules.map((m) => ({ model: `805 (module ${m.index})`, points: model805(config, sc, m) })),
    { model: "end", points: endModel() },
  ];
}
