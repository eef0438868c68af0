/**
 * Flat per-cell block from 256 with a fixed stride sized for the largest pack (256 cells), so
 * addresses never move with the configuration; unconfigured slots read "not implemented".
 */
import { type Point, type ReadContext, point } from "./points.js";

export const MAX_CELLS = 256;
export const CELL_BLOCK_START = 256;

const bitmap = (set: (c: ReadContext) => ReadonlySet<number> | null) => (c: ReadContext, word: number) => {
  const s = set(c);
  if (!s) return null;
  let v = 0;
  for (let b = 0; b < 16; b++) if (s.has(word * 16 + b)) v |= 1 << b;
  return v;
};

export function cellBlock(): Point[] {
  return [
    point({
      name: "CellV",
      type: "uint16",
      count: MAX_CELLS,
      units: "mV",
      value: (c, i) => (c.snap ? (c.snap.measurements.cellVoltagesMv[i] ?? null) : null),
      description: "Cell voltage, register 256 + (cell − 1); 65535 = no such cell or no reading",
    }),
    point({
      name: "Temp",
      type: "int16",
      count: MAX_CELLS,
      units: "0.1 °C",
      value: (c, i) => (c.snap ? (c.snap.measurements.temperaturesDeciC[i] ?? null) : null),
      description: "Temperature sensor, register 512 + (sensor − 1); −32768 = no such sensor or no reading",
    }),
    point({
      name: "Balancing",
      type: "bitfield16",
      count: MAX_CELLS / 16,
      value: bitmap((c) => c.d?.balancing ?? null),
      description: "Bleeding cells: bit b of register 768 + w is cell 16·w + b + 1",
    }),
    point({
      name: "CellSensorFault",
      type: "bitfield16",
      count: MAX_CELLS / 16,
      value: bitmap((c) => c.d?.faultyCells ?? null),
      description:
        "Cells with a sensor fault (missing, stuck, open wire…): bit b of register 784 + w is cell 16·w + b + 1",
    }),
  ];
}
