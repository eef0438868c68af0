/**
 * Message meaning for protocol v1: which types exist, their fields, and typed parsing.
 * A reply whose fields do not parse is a bad payload: counted, never used as data.
 */
import type { FaultCode } from "../../core/faults.js";

export const COMMAND_TYPES = ["INFO", "READ", "BAL", "FET", "HB", "CFG", "CLR"] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];
export const REPLY_TYPES = ["INFO", "MEAS", "ACK", "NAK"] as const;
export type ReplyType = (typeof REPLY_TYPES)[number];

/** Hardware fault flag bits a board reports in MEAS `f` and accepts in CLR `f`. */
export const FAULT_BITS: readonly {
  readonly bit: number;
  readonly code: FaultCode;
  readonly source: string;
}[] = [
  { bit: 0, code: "cell_ov", source: "OV" },
  { bit: 1, code: "cell_uv", source: "UV" },
  { bit: 2, code: "oc_charge", source: "OCC" },
  { bit: 3, code: "oc_discharge", source: "OCD" },
  { bit: 4, code: "short_circuit", source: "SCD" },
  { bit: 5, code: "board_ot", source: "OT" },
];

/** Board status bits (MEAS `st`). */
export const STATUS_WATCHDOG = 1 << 0;
export const STATUS_ADC_ERROR = 1 << 1;

export interface BoardInfo {
  readonly firmware: string;
  readonly protocol: number;
  readonly cells: number;
  readonly temps: number;
  readonly measuresCurrent: boolean;
  readonly controlsFets: boolean;
  readonly balancing: boolean;
  readonly bleedResistorOhm: number;
  readonly maxBalancing: number;
  readonly hardwareProtections: readonly FaultCode[];
}

export interface BoardMeasurement {
  readonly cellVoltagesMv: readonly number[];
  readonly temperaturesDeciC: readonly number[];
  readonly currentMa: number | null;
  readonly boardTempDeciC: number | null;
  readonly faultFlags: number;
  readonly fets: { readonly chg: boolean; readonly dsg: boolean } | null;
  readonly balancingMask: number;
  readonly status: number;
}

const INT = /^-?\d{1,7}$/;
const HEX = /^[0-9A-F]{1,8}$/;

function int(v: string | undefined): number | null {
  return v !== undefined && INT.test(v) ? Number(v) : null;
}
function hex(v: string | undefined): number | null {
  return v !== undefined && HEX.test(v) ? Number.parseInt(v, 16) : null;
}
function bit(v: string | undefined): boolean | null {
  return v === "1" ? true : v === "0" ? false : null;
}
function intList(v: string | undefined): number[] | null {
  if (v === undefined) return null;
  if (v === "") return [];
  const out: number[] = [];
  for (const s of v.split(";")) {
    const n = int(s);
    if (n === null) return null;
    out.push(n);
  }
  return out;
}

export function toHex(n: number): string {
  return (n >>> 0).toString(16).toUpperCase();
}

export function encodeInfo(info: BoardInfo): Record<string, string> {
  return {
    fw: info.firmware,
    proto: String(info.protocol),
    cells: String(info.cells),
    temps: String(info.temps),
    cur: info.measuresCurrent ? "1" : "0",
    fet: info.controlsFets ? "1" : "0",
    bal: info.balancing ? "1" : "0",
    bleed: String(Math.round(info.bleedResistorOhm)),
    maxbal: String(info.maxBalancing),
    prot: FAULT_BITS.filter((b) => info.hardwareProtections.includes(b.code))
      .map((b) => b.source)
      .join(";"),
  };
}

export function parseInfo(f: Readonly<Record<string, string>>): BoardInfo | null {
  const protocol = int(f.proto);
  const cells = int(f.cells);
  const temps = int(f.temps);
  const cur = bit(f.cur);
  const fet = bit(f.fet);
  const bal = bit(f.bal);
  const bleed = int(f.bleed);
  const maxbal = int(f.maxbal);
  const fw = f.fw;
  if (fw === undefined || fw === "" || protocol === null || cells === null || temps === null) return null;
  if (cur === null || fet === null || bal === null || bleed === null || maxbal === null) return null;
  if (cells < 1 || cells > 32 || temps < 0 || temps > 32 || maxbal < 0) return null;
  const prot: FaultCode[] = [];
  for (const s of (f.prot ?? "").split(";").filter((x) => x !== "")) {
    const b = FAULT_BITS.find((x) => x.source === s);
    if (!b) return null;
    prot.push(b.code);
  }
  return {
    firmware: fw,
    protocol,
    cells,
    temps,
    measuresCurrent: cur,
    controlsFets: fet,
    balancing: bal,
    bleedResistorOhm: bleed,
    maxBalancing: maxbal,
    hardwareProtections: prot,
  };
}

export function encodeMeasurement(m: BoardMeasurement): Record<string, string> {
  const f: Record<string, string> = {
    v: m.cellVoltagesMv.map((x) => String(Math.round(x))).join(";"),
    t: m.temperaturesDeciC.map((x) => String(Math.round(x))).join(";"),
  };
  if (m.currentMa !== null) f.i = String(Math.round(m.currentMa));
  if (m.boardTempDeciC !== null) f.bt = String(Math.round(m.boardTempDeciC));
  f.f = toHex(m.faultFlags);
  if (m.fets) f.fet = `${m.fets.chg ? 1 : 0}${m.fets.dsg ? 1 : 0}`;
  f.bal = toHex(m.balancingMask);
  f.st = toHex(m.status);
  return f;
}

/** Parses MEAS against what the board declared in INFO; any mismatch is a bad payload. */
export function parseMeasurement(
  f: Readonly<Record<string, string>>,
  info: BoardInfo,
): BoardMeasurement | null {
  const v = intList(f.v);
  const t = intList(f.t);
  const flags = hex(f.f);
  const bal = hex(f.bal);
  const st = hex(f.st);
  if (v === null || t === null || flags === null || bal === null || st === null) return null;
  if (v.length !== info.cells || t.length !== info.temps) return null;
  if (v.some((x) => x < 0 || x > 10_000)) return null;
  let currentMa: number | null = null;
  if (info.measuresCurrent) {
    currentMa = int(f.i);
    if (currentMa === null) return null;
  }
  const bt = f.bt === undefined ? null : int(f.bt);
  if (f.bt !== undefined && bt === null) return null;
  let fets: BoardMeasurement["fets"] = null;
  if (info.controlsFets) {
    if (f.fet === undefined || !/^[01]{2}$/.test(f.fet)) return null;
    fets = { chg: f.fet[0] === "1", dsg: f.fet[1] === "1" };
  }
  return {
    cellVoltagesMv: v,
    temperaturesDeciC: t,
    currentMa,
    boardTempDeciC: bt,
    faultFlags: flags,
    fets,
    balancingMask: bal,
    status: st,
  };
}

export function maskOf(cells: Iterable<number>): number {
  let m = 0;
  for (const c of cells) m |= 1 << c;
  return m >>> 0;
}

export function cellsOf(mask: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if ((mask >>> i) & 1) out.push(i);
  return out;
}
