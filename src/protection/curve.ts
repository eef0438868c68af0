import { interpolate } from "../config/cells.js";

/** A piecewise-linear derating curve: `[x, fraction]` points with ascending x, flat beyond the ends. */
export type Curve = readonly (readonly [number, number])[];

/** A curve split into x and y arrays once per config, so a tick evaluates it without allocating. */
export interface CompiledCurve {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
}

export function compileCurve(points: Curve): CompiledCurve {
  return { xs: points.map((p) => p[0]), ys: points.map((p) => p[1]) };
}

export function curveAt(curve: CompiledCurve, x: number): number {
  return interpolate(curve.xs, curve.ys, x);
}
