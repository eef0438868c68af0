/**
 * Faults the simulator can inject and clear: what each one does to the physics, the bus or the
 * sensors. Each injection returns an undo, so a fault can be cleared at any time.
 */
import { z } from "zod";
import type { CellBank } from "./cell.js";
import type { UpsEnvironment } from "./environment.js";

const cell = z.number().int().min(0).describe("Cell index, 0-based from the bottom of the stack");

export const simFaultSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("charger_runaway"),
      cellVoltageMv: z
        .number()
        .positive()
        .describe("The charger regulates to this per cell, ignoring the BMS"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("overcurrent"),
      currentA: z.number().positive().describe("Extra load current drawn from the pack, A"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("short_circuit"),
      resistanceMilliOhm: z.number().positive().describe("External short across the pack terminals"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("internal_leak"),
      cell,
      currentA: z
        .number()
        .positive()
        .describe("Soft internal short: the cell self-discharges at this current"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("open_wire"),
      cell: cell.describe("The sense wire on top of this cell is open"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("thermistor"),
      sensor: z.number().int().min(0),
      mode: z.enum(["open", "short", "offset"]),
      offsetDeciC: z.number().optional().describe("For mode offset: added to the reading, 0.1 °C"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("ambient"),
      tempC: z.number().min(-60).max(100).describe("Hot or cold ambient while the fault lasts"),
    })
    .strict(),
  z.object({ kind: z.literal("comms_loss") }).strict(),
  z
    .object({
      kind: z.literal("current_offset"),
      offsetA: z.number().describe("Added to the current-sensor reading, A"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("weak_cell"),
      cell,
      capacityFactor: z.number().gt(0).max(1).optional().describe("Capacity × this (e.g. 0.8)"),
      resistanceFactor: z.number().min(1).optional().describe("Resistance × this (e.g. 2)"),
    })
    .strict(),
]);
export type SimFault = z.infer<typeof simFaultSchema>;
export type SimFaultKind = SimFault["kind"];

export const THERMISTOR_OPEN_DECI_C = -400;
export const THERMISTOR_SHORT_DECI_C = 1500;

/** Sensor-side fault state that the AFE and the pack's pins read. */
export class SensorFaultState {
  readonly openWire: Uint8Array;
  /** Per thermistor: 0 ok, 1 open, 2 short. */
  readonly thermistorMode: Uint8Array;
  readonly thermistorOffsetDeciC: Float64Array;
  currentOffsetA = 0;
  commsLost = 0;

  constructor(cells: number, sensors: number) {
    this.openWire = new Uint8Array(cells);
    this.thermistorMode = new Uint8Array(sensors);
    this.thermistorOffsetDeciC = new Float64Array(sensors);
  }
}

export interface FaultTarget {
  readonly bank: CellBank;
  readonly env: UpsEnvironment;
  readonly sensors: SensorFaultState;
  /** Called before and after a capacity change so the stored-energy jump is booked. */
  changeCapacity(cell: number, factor: number): void;
}

/** Where a fault's indices are out of range, a message naming the field; null when fine. */
export function checkFault(
  f: SimFault,
  cells: number,
  sensors: number,
): { path: string; message: string } | null {
  if ("cell" in f && f.cell >= cells)
    return { path: "cell", message: `cell ${f.cell} does not exist (pack has ${cells} cells, 0-based)` };
  if (f.kind === "thermistor" && f.sensor >= sensors)
    return { path: "sensor", message: `thermistor ${f.sensor} does not exist (${sensors} fitted, 0-based)` };
  if (f.kind === "thermistor" && f.mode === "offset" && f.offsetDeciC === undefined)
    return { path: "offsetDeciC", message: "mode offset needs offsetDeciC" };
  return null;
}

/** Applies a fault; returns the function that clears it. */
export function applyFault(f: SimFault, t: FaultTarget): () => void {
  const { bank, env, sensors } = t;
  switch (f.kind) {
    case "charger_runaway": {
      env.runawayCellMv = f.cellVoltageMv;
      return () => {
        env.runawayCellMv = null;
      };
    }
    case "overcurrent": {
      env.extraLoadA += f.currentA;
      return () => {
        env.extraLoadA -= f.currentA;
      };
    }
    case "short_circuit": {
      env.shortOhm = f.resistanceMilliOhm / 1000;
      return () => {
        env.shortOhm = null;
      };
    }
    case "internal_leak": {
      bank.leakA[f.cell] = bank.leakA[f.cell]! + f.currentA;
      return () => {
        bank.leakA[f.cell] = bank.leakA[f.cell]! - f.currentA;
      };
    }
    case "open_wire": {
      sensors.openWire[f.cell] = 1;
      return () => {
        sensors.openWire[f.cell] = 0;
      };
    }
    case "thermistor": {
      if (f.mode === "offset") {
        const d = f.offsetDeciC ?? 0;
        sensors.thermistorOffsetDeciC[f.sensor] = sensors.thermistorOffsetDeciC[f.sensor]! + d;
        return () => {
          sensors.thermistorOffsetDeciC[f.sensor] = sensors.thermistorOffsetDeciC[f.sensor]! - d;
        };
      }
      sensors.thermistorMode[f.sensor] = f.mode === "open" ? 1 : 2;
      return () => {
        sensors.thermistorMode[f.sensor] = 0;
      };
    }
    case "ambient": {
      const prev = env.ambientOverrideC;
      env.ambientOverrideC = f.tempC;
      return () => {
        env.ambientOverrideC = prev;
      };
    }
    case "comms_loss": {
      sensors.commsLost++;
      return () => {
        sensors.commsLost--;
      };
    }
    case "current_offset": {
      sensors.currentOffsetA += f.offsetA;
      return () => {
        sensors.currentOffsetA -= f.offsetA;
      };
    }
    case "weak_cell": {
      const q = f.capacityFactor ?? 1;
      const r = f.resistanceFactor ?? 1;
      t.changeCapacity(f.cell, q);
      bank.rScale[f.cell] = bank.rScale[f.cell]! * r;
      return () => {
        t.changeCapacity(f.cell, 1 / q);
        bank.rScale[f.cell] = bank.rScale[f.cell]! / r;
      };
    }
  }
}
