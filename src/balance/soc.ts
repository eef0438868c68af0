/**
 * The SOC strategy's estimate (foxBMS's history-based balancing): each rested cell's SOC from
 * the OCV table, and the charge it holds above the lowest cell. Only where the curve is steep
 * enough does a few mV of measurement error stay a small SOC error.
 */
import { ocvSlopeMvPerPct, type SocTable, socFromOcvPct } from "../config/cells.js";

/**
 * Charge each cell must lose, mAh (0 below `socDeltaPct` above the lowest), or a sentence
 * saying why no estimate is possible (the curve is too flat at some cell's SOC).
 */
export function socExcessMah(
  restedMv: ArrayLike<number>,
  ocv: SocTable,
  capacityAh: number,
  minSlopeMvPerPct: number,
  socDeltaPct: number,
): number[] | string {
  const n = restedMv.length;
  const soc = new Array<number>(n);
  let minSoc = Number.POSITIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    const s = socFromOcvPct(ocv, restedMv[k]!);
    const slope = ocvSlopeMvPerPct(ocv, s);
    if (slope < minSlopeMvPerPct)
      return `idle: OCV curve too flat at ${s.toFixed(0)} % SOC (${slope.toFixed(1)} < ${minSlopeMvPerPct} mV/%)`;
    soc[k] = s;
    if (s < minSoc) minSoc = s;
  }
  const mahPerPct = capacityAh * 10;
  for (let k = 0; k < n; k++) {
    const ds = soc[k]! - minSoc;
    soc[k] = ds >= socDeltaPct ? ds * mahPerPct : 0;
  }
  return soc;
}
