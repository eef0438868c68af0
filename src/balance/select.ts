/**
 * Picks the bleeders under the driver's declared limits: greedy by priority, highest first
 * (LibreSolar's method for the bq769x0), skipping any cell that would break a limit.
 */
import type { BalanceCellReason } from "./types.js";

export interface SelectLimits {
  /** Cells per balancing group; the adjacency rule and maxPerGroup apply within a group. */
  readonly groupSize: number;
  readonly adjacentAllowed: boolean;
  /** Already the smaller of the driver's and the config's limit. */
  readonly maxSimultaneous: number;
  readonly maxPerGroup: number;
}

/** Reusable buffers so a tick does not allocate; grown on demand. */
export interface SelectScratch {
  order: Int32Array;
  chosen: Uint8Array;
  groupCount: Int32Array;
}

export function createSelectScratch(cells: number): SelectScratch {
  return { order: new Int32Array(cells), chosen: new Uint8Array(cells), groupCount: new Int32Array(cells) };
}

/**
 * `priority[i]` is the cell's claim (larger first); cells with `eligible[i]` false are not
 * considered. Eligible cells left out get their reason written into `reasons`.
 * Returns the chosen cells in ascending order.
 */
export function selectBleeders(
  priority: ArrayLike<number>,
  eligible: ArrayLike<boolean | number>,
  limits: SelectLimits,
  reasons: BalanceCellReason[],
  scratch: SelectScratch = createSelectScratch(priority.length),
): number[] {
  const n = priority.length;
  if (scratch.order.length < n) Object.assign(scratch, createSelectScratch(n));
  const { order, chosen, groupCount } = scratch;
  const g = limits.groupSize >= 1 ? Math.floor(limits.groupSize) : Math.max(1, n);
  const maxSim = Math.max(0, Math.floor(limits.maxSimultaneous));
  const maxGroup = Math.max(0, Math.floor(limits.maxPerGroup));

  // Insertion sort of the eligible indices: candidates are few, and this allocates nothing.
  let m = 0;
  for (let i = 0; i < n; i++) {
    chosen[i] = 0;
    groupCount[Math.floor(i / g)] = 0;
    if (!eligible[i]) continue;
    const p = priority[i]!;
    let k = m++;
    while (k > 0 && priority[order[k - 1]!]! < p) {
      order[k] = order[k - 1]!;
      k--;
    }
    order[k] = i;
  }

  let count = 0;
  for (let k = 0; k < m; k++) {
    const i = order[k]!;
    const grp = Math.floor(i / g);
    if (count >= maxSim) {
      reasons[i] = "limit_reached";
      continue;
    }
    if (groupCount[grp]! >= maxGroup) {
      reasons[i] = "group_full";
      continue;
    }
    if (!limits.adjacentAllowed) {
      const below = i > 0 && Math.floor((i - 1) / g) === grp && chosen[i - 1] === 1;
      const above = i + 1 < n && Math.floor((i + 1) / g) === grp && chosen[i + 1] === 1;
      if (below || above) {
        reasons[i] = "adjacent";
        continue;
      }
    }
    chosen[i] = 1;
    groupCount[grp] = groupCount[grp]! + 1;
    reasons[i] = "bleeding";
    count++;
  }

  const out = new Array<number>(count);
  let j = 0;
  for (let i = 0; i < n && j < count; i++) if (chosen[i] === 1) out[j++] = i;
  return out;
}
