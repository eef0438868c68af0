/**
 * Piecewise-linear tables resampled on a uniform grid, so that a lookup in the per-tick physics is
 * one multiply, one floor and one blend (no search, no allocation). Grid points that coincide with
 * the source breakpoints reproduce the source exactly.
 */
import { interpolate } from "../../config/cells.js";

export class UniformLut {
  readonly x0: number;
  readonly x1: number;
  readonly step: number;
  private readonly inv: number;
  readonly ys: Float64Array;

  constructor(xs: readonly number[], ys: readonly number[], x0: number, x1: number, step: number) {
    const n = Math.round((x1 - x0) / step) + 1;
    this.x0 = x0;
    this.x1 = x0 + (n - 1) * step;
    this.step = step;
    this.inv = 1 / step;
    this.ys = new Float64Array(n);
    for (let i = 0; i < n; i++) this.ys[i] = interpolate(xs, ys, x0 + i * step);
  }

  /** Value at x, clamped to the ends of the table. */
  at(x: number): number {
    const ys = this.ys;
    const last = ys.length - 1;
    let f = (x - this.x0) * this.inv;
    if (!(f > 0)) return ys[0]!;
    if (f >= last) return ys[last]!;
    const i = f | 0;
    f -= i;
    const y0 = ys[i]!;
    return y0 + (ys[i + 1]! - y0) * f;
  }
}
