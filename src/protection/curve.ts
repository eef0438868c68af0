/** A piecewise-linear derating curve: `[x, fraction]` points with ascending x, flat beyond the ends. */
export type Curve = readonly (readonly [number, number])[];

export function curveAt(points: Curve, x: number): number {
  const first = points[0]!;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!;
    if (x <= p[0]) {
      const q = points[i - 1]!;
      return q[1] + ((p[1] - q[1]) * (x - q[0])) / (p[0] - q[0]);
    }
  }
  return points[points.length - 1]![1];
}
