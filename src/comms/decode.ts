/** Client-side decoding of the UPS block, driven by the same point list the server uses. */
import { FAULT_CODES } from "../core/faults.js";
import { EVT1 } from "./alarms.js";
import { STATUS_FLAGS } from "./derived.js";
import { NOT_IMPLEMENTED, type Point } from "./points.js";
import { upsBlock } from "./ups-block.js";

export type Decoded = Record<string, number | null>;

function decodePoint(p: Point, regs: readonly number[], off: number): number | null {
  const hi = regs[off] ?? 0;
  const lo = regs[off + 1] ?? 0;
  const raw = p.size === 2 ? hi * 0x10000 + lo : hi;
  if (p.type === "pad" || p.type === "string") return null;
  if (p.type !== "bitfield16" && p.type !== "bitfield32" && raw === NOT_IMPLEMENTED[p.type]) return null;
  if (p.type === "int16") return raw & 0x8000 ? raw - 0x10000 : raw;
  if (p.type === "int32") return raw >= 0x80000000 ? raw - 0x100000000 : raw;
  return raw;
}

/** Register values of 0–63 → named values in register units (null = not implemented/unknown). */
export function decodeUpsBlock(regs: readonly number[]): Decoded {
  const out: Decoded = {};
  let off = 0;
  for (const p of upsBlock()) {
    if (p.type !== "pad") out[p.name] = decodePoint(p, regs, off);
    off += p.size * p.count;
  }
  return out;
}

export const bitNames = (word: number, names: readonly string[]): string[] =>
  names.filter((_, i) => i < 32 && (word >>> i) & 1);

export const evt1Names = (word: number): string[] =>
  Object.entries(EVT1)
    .filter(([, bit]) => (word >>> bit) & 1)
    .map(([name]) => name);

export const faultNames = (word: number): string[] => bitNames(word, FAULT_CODES);
export const statusFlagNames = (word: number): string[] => bitNames(word, STATUS_FLAGS);
