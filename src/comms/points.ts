/**
 * The building blocks of the register map: typed points with a value function (read from
 * one snapshot) and, for the few writable ones, a validation rule and the request they make.
 */
import type { BmsConfig } from "../config/schema.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import type { Derived } from "./derived.js";

export type PointType =
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "enum16"
  | "bitfield16"
  | "bitfield32"
  | "string"
  | "sunssf"
  | "pad";

/**
 * Values the server itself holds: the last CtrlHb written and the write counters. Remote
 * set-points are not kept here: they are read back from protection's view.
 */
export interface ServerState {
  ctrlHb: number | null;
  acceptedWrites: number;
  rejectedWrites: number;
}

export function newServerState(): ServerState {
  return {
    ctrlHb: null,
    acceptedWrites: 0,
    rejectedWrites: 0,
  };
}

export interface ReadContext {
  readonly snap: BmsSnapshot | null;
  readonly config: BmsConfig;
  readonly server: ServerState;
  /** Values computed once per snapshot (stats per module, alarm words…); null before the first tick. */
  readonly d: Derived | null;
}

/** What a validated write turns into; collected over a whole FC16 before anything is queued. */
export interface WritePlan {
  alarmReset: boolean;
  connect: boolean | null;
  heartbeat: number | null;
  cclMa?: number;
  dclMa?: number;
  socReservePct?: number;
  /** Applied to ServerState only once the whole write is accepted. */
  readonly commit: ((s: ServerState, atMs: number) => void)[];
}

export interface WriteRule {
  /** Allowed values, for the docs. */
  readonly range: string;
  readonly valid: (value: number, config: BmsConfig) => boolean;
  readonly plan: (value: number, plan: WritePlan, config: BmsConfig) => void;
}

/** Register value before encoding: a number in register units, a string, or null = not implemented. */
export type PointValue = number | string | null;

export interface Point {
  readonly name: string;
  readonly type: PointType;
  /** Registers per element. */
  readonly size: number;
  /** Elements (a repeated point, e.g. one per cell). */
  readonly count: number;
  /** Units as read, e.g. `0.1 V`, or a SunSpec scale-factor reference `V × 10^V_SF`. */
  readonly units: string;
  readonly description: string;
  readonly value: (c: ReadContext, i: number) => PointValue;
  readonly write?: WriteRule;
}

export interface PointSpec {
  readonly name: string;
  readonly type: PointType;
  readonly size?: number;
  readonly count?: number;
  readonly units?: string;
  readonly description: string;
  readonly value?: (c: ReadContext, i: number) => PointValue;
  readonly write?: WriteRule;
}

const DEFAULT_SIZE: Record<PointType, number> = {
  uint16: 1,
  int16: 1,
  uint32: 2,
  int32: 2,
  enum16: 1,
  bitfield16: 1,
  bitfield32: 2,
  string: 1,
  sunssf: 1,
  pad: 1,
};

export function point(spec: PointSpec): Point {
  return {
    name: spec.name,
    type: spec.type,
    size: spec.size ?? DEFAULT_SIZE[spec.type],
    count: spec.count ?? 1,
    units: spec.units ?? "",
    description: spec.description,
    value: spec.value ?? (() => null),
    ...(spec.write ? { write: spec.write } : {}),
  };
}

/** A constant point (SunSpec IDs, lengths, scale factors). */
export function constant(
  name: string,
  type: PointType,
  v: PointValue,
  description: string,
  units = "",
): Point {
  return point({ name, type, value: () => v, description, units });
}

/** Reserved registers that read 0. */
export function reserved(count: number, name = "Reserved"): Point {
  return point({ name, type: "pad", count, description: "Reserved, reads 0" });
}

/** SunSpec "not implemented" values, also used for unknown readings in our own blocks. */
export const NOT_IMPLEMENTED: Record<PointType, number> = {
  uint16: 0xffff,
  int16: 0x8000,
  uint32: 0xffffffff,
  int32: 0x80000000,
  enum16: 0xffff,
  bitfield16: 0xffff,
  bitfield32: 0xffffffff,
  string: 0,
  sunssf: 0x8000,
  pad: 0,
};

const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));

/**
 * Writes one element into `out` at `off`. Out-of-range numbers saturate one step short of the
 * not-implemented value so a huge reading is never mistaken for "unknown".
 */
export function encode(out: Uint16Array, off: number, type: PointType, size: number, v: PointValue): void {
  if (type === "string") {
    const s = typeof v === "string" ? v : "";
    for (let r = 0; r < size; r++) {
      const hi = s.charCodeAt(2 * r);
      const lo = s.charCodeAt(2 * r + 1);
      out[off + r] =
        ((hi > 0 && hi < 128 ? hi : hi >= 128 ? 0x3f : 0) << 8) |
        (lo > 0 && lo < 128 ? lo : lo >= 128 ? 0x3f : 0);
    }
    return;
  }
  if (type === "pad") {
    out[off] = 0;
    return;
  }
  if (v === null || typeof v === "string" || !Number.isFinite(v)) {
    const ni = NOT_IMPLEMENTED[type];
    if (size === 2) {
      out[off] = ni >>> 16;
      out[off + 1] = ni & 0xffff;
    } else out[off] = ni;
    return;
  }
  const n = Math.round(v);
  switch (type) {
    case "uint16":
    case "enum16":
      // Exactly 0xFFFF stays (the end-model ID); larger readings saturate below it.
      out[off] = n > 0xffff ? 0xfffe : Math.max(0, n);
      return;
    case "bitfield16":
      out[off] = n & 0xffff;
      return;
    case "int16":
    case "sunssf":
      out[off] = clamp(n, -32767, 32767) & 0xffff;
      return;
    case "uint32": {
      const u = clamp(n, 0, 0xfffffffe);
      out[off] = Math.floor(u / 0x10000);
      out[off + 1] = u % 0x10000;
      return;
    }
    case "bitfield32": {
      const u = n >>> 0;
      out[off] = u >>> 16;
      out[off + 1] = u & 0xffff;
      return;
    }
    case "int32": {
      const u = clamp(n, -0x7fffffff, 0x7fffffff) >>> 0;
      out[off] = u >>> 16;
      out[off + 1] = u & 0xffff;
      return;
    }
  }
}
