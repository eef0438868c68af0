import type { BmsSnapshot } from "../core/snapshot.js";

/** One concise status line: state, pack V and A, SOC, min/max cell. */
export function statusLine(s: BmsSnapshot, elapsedS: number): string {
  const m = s.measurements;
  const e = s.estimates;
  const p = s.protection;
  const faults =
    p.faults.length > 0 ? ` faults ${p.faults.map((f) => `${f.code}/${f.level}`).join(",")}` : "";
  const amps = m.packCurrentMa / 1000;
  return (
    `t=${elapsedS.toFixed(0)}s ${p.state} ${(m.packVoltageMv / 1000).toFixed(2)} V ${amps >= 0 ? "+" : ""}${amps.toFixed(2)} A ` +
    `SOC ${e.reportedSocPct.toFixed(1)} % cells ${m.cells.minMv}..${m.cells.maxMv} mV ` +
    `fets ${p.fets.chg ? "C" : "c"}${p.fets.dsg ? "D" : "d"}${s.balance.cells.length > 0 ? ` bal ${s.balance.cells.length}` : ""}${faults}`
  );
}
