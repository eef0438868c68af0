/**
 * Time to balance: how long the bleeders need to remove each cell's excess, given that the
 * driver limits how many may bleed at once. The answer is the largest of the lower bounds
 * (the slowest single cell, the pack-wide and per-group bleeder budgets, neighbouring pairs
 * that cannot bleed together), which is what a greedy schedule approaches.
 */
import type { SelectLimits } from "./select.js";

/**
 * `excessMah[i]`: charge cell i must lose; `bleedMa[i]`: its effective bleed current
 * (V/R × duty). Returns seconds, 0 when nothing is to be removed, null when some excess
 * cannot be removed at all (no current, or no bleeder allowed).
 */
export function timeToBalanceS(
  excessMah: ArrayLike<number>,
  bleedMa: ArrayLike<number>,
  limits: SelectLimits,
): number | null {
  const n = excessMah.length;
  const g = limits.groupSize >= 1 ? Math.floor(limits.groupSize) : Math.max(1, n);
  let slowestH = 0;
  let sumH = 0;
  let worstGroupH = 0;
  let groupSumH = 0;
  let worstPairH = 0;
  let prevH = 0;
  for (let i = 0; i < n; i++) {
    if (i % g === 0) {
      groupSumH = 0;
      prevH = 0;
    }
    const q = excessMah[i]!;
    let h = 0;
    if (q > 0) {
      const ima = bleedMa[i]!;
      if (!(ima > 0)) return null;
      h = q / ima;
    }
    if (h > slowestH) slowestH = h;
    sumH += h;
    groupSumH += h;
    if (groupSumH > worstGroupH) worstGroupH = groupSumH;
    if (prevH + h > worstPairH) worstPairH = prevH + h;
    prevH = h;
  }
  if (sumH === 0) return 0;
  const maxSim = Math.floor(limits.maxSimultaneous);
  const maxGroup = Math.floor(limits.maxPerGroup);
  if (maxSim < 1 || maxGroup < 1) return null;
  let hours = Math.max(slowestH, sumH / maxSim, worstGroupH / maxGroup);
  if (!limits.adjacentAllowed) hours = Math.max(hours, worstPairH);
  return hours * 3600;
}
