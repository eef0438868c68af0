/**
 * The register map: blocks of points at fixed addresses (the single source of truth for the
 * server and for docs/registers.md), and the register image rendered from one snapshot.
 */
import type { BmsConfig } from "../config/schema.js";
import { BmsError } from "../core/errors.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { CELL_BLOCK_START, cellBlock } from "./cell-block.js";
import { deriveFrom } from "./derived.js";
import { type Point, type ReadContext, type ServerState, encode } from "./points.js";
import { type ModuleSpan, type Scales, modulesFor, scalesFor } from "./scales.js";
import { MODEL_802_ADDR, SUNSPEC_BASE, sunspecChain } from "./sunspec.js";
import { upsBlock } from "./ups-block.js";

export interface PlacedPoint {
  readonly point: Point;
  readonly addr: number;
  /** Model or sub-block title, for the docs. */
  readonly group: string;
}

export interface Block {
  readonly id: "ups" | "cells" | "sunspec";
  readonly title: string;
  readonly start: number;
  readonly length: number;
  readonly points: readonly PlacedPoint[];
}

/** A writable register: its point and the element index it belongs to. */
export interface WritableRegister {
  readonly point: Point;
  readonly addr: number;
}

export interface RegisterMap {
  readonly config: BmsConfig;
  readonly scales: Scales;
  readonly modules: readonly ModuleSpan[];
  readonly blocks: readonly Block[];
  readonly writable: ReadonlyMap<number, WritableRegister>;
}

function place(
  id: Block["id"],
  title: string,
  start: number,
  groups: { model: string; points: Point[] }[],
): Block {
  const placed: PlacedPoint[] = [];
  let addr = start;
  for (const g of groups) {
    for (const point of g.points) {
      placed.push({ point, addr, group: g.model });
      addr += point.size * point.count;
    }
  }
  return { id, title, start, length: addr - start, points: placed };
}

export const UPS_BLOCK_LENGTH = 64;

export function buildMap(config: BmsConfig): RegisterMap {
  const scales = scalesFor(config);
  const modules = modulesFor(config);
  const blocks = [
    place("ups", "UPS block (fixed scaling)", 0, [{ model: "UPS block", points: upsBlock() }]),
    place("cells", "Cell block (fixed scaling)", CELL_BLOCK_START, [{ model: "Cells", points: cellBlock() }]),
    place("sunspec", "SunSpec chain", SUNSPEC_BASE, sunspecChain(config, scales, modules)),
  ];
  const ups = blocks[0]!;
  if (ups.length !== UPS_BLOCK_LENGTH)
    throw new BmsError("INTERNAL", `UPS block is ${ups.length} registers, expected ${UPS_BLOCK_LENGTH}`);
  const m802 = blocks[2]!.points.find((p) => p.group === "802");
  if (m802?.addr !== MODEL_802_ADDR)
    throw new BmsError("INTERNAL", `model 802 at ${m802?.addr}, expected ${MODEL_802_ADDR}`);
  const writable = new Map<number, WritableRegister>();
  for (const b of blocks)
    for (const pp of b.points) {
      if (!pp.point.write) continue;
      if (pp.point.size !== 1 || pp.point.count !== 1)
        throw new BmsError("INTERNAL", `writable point ${pp.point.name} must be one register`);
      writable.set(pp.addr, { point: pp.point, addr: pp.addr });
    }
  return { config, scales, modules, blocks, writable };
}

/** The registers of every block, rendered from one snapshot (and the server's own state). */
export interface RegisterImage {
  readonly snapshot: BmsSnapshot | null;
  readonly segments: readonly { readonly start: number; readonly regs: Uint16Array }[];
}

export function renderImage(map: RegisterMap, snap: BmsSnapshot | null, server: ServerState): RegisterImage {
  const d = snap ? deriveFrom(snap, map.config, map.modules) : null;
  const ctx: ReadContext = { snap, config: map.config, server, d };
  const segments = map.blocks.map((b) => {
    const regs = new Uint16Array(b.length);
    for (const pp of b.points) {
      const pt = pp.point;
      let off = pp.addr - b.start;
      for (let i = 0; i < pt.count; i++, off += pt.size) {
        let v: ReturnType<Point["value"]>;
        try {
          v = pt.value(ctx, i);
        } catch {
          // A malformed snapshot field must not take the server down: report "unknown".
          v = null;
        }
        encode(regs, off, pt.type, pt.size, v);
      }
    }
    return { start: b.start, regs };
  });
  return { snapshot: snap, segments };
}

/** Re-encodes only the points named in `names` into an existing image (counters between snapshots). */
export function patchImage(
  map: RegisterMap,
  image: RegisterImage,
  server: ServerState,
  names: ReadonlySet<string>,
): void {
  const snap = image.snapshot;
  const ctx: ReadContext = { snap, config: map.config, server, d: null };
  map.blocks.forEach((b, k) => {
    const regs = image.segments[k]!.regs;
    for (const pp of b.points) {
      if (!names.has(pp.point.name)) continue;
      encode(regs, pp.addr - b.start, pp.point.type, pp.point.size, pp.point.value(ctx, 0));
    }
  });
}

/** The registers `[addr, addr + qty)` if they lie inside one block, else null (exception 0x02). */
export function readRegisters(image: RegisterImage, addr: number, qty: number): Uint16Array | null {
  for (const s of image.segments) {
    if (addr >= s.start && addr + qty <= s.start + s.regs.length)
      return s.regs.subarray(addr - s.start, addr - s.start + qty);
  }
  return null;
}
