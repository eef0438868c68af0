/** One Sample from the boards' latest replies; a board without a valid reply is marked, never guessed. */
import type { HardwareFault } from "../../core/faults.js";
import type { FetState } from "../../core/fets.js";
import type { Sample } from "../afe.js";
import { type BoardInfo, type BoardMeasurement, FAULT_BITS, cellsOf } from "./messages.js";

export interface BoardReading {
  readonly address: number;
  readonly cells: number;
  readonly cellOffset: number;
  readonly tempOffset: number;
  readonly info: BoardInfo;
  /** Null when the board gave no valid reply this read. */
  readonly meas: BoardMeasurement | null;
  readonly silentReason: string;
}

export interface SampleContext {
  readonly nowMs: number;
  readonly measuresCurrent: boolean;
  readonly commandedFets: FetState;
}

export function assembleSample(boards: readonly BoardReading[], ctx: SampleContext): Sample {
  const cells: number[] = [];
  const temps: (number | null)[] = [];
  const channelErrors: { channel: string; reason: string }[] = [];
  const faults: HardwareFault[] = [];
  const balancing: number[] = [];
  let currentMa: number | null = null;
  let currentBoardSilent = false;
  let boardTemp: number | null = null;
  let fets: FetState | null = null;
  for (const b of boards) {
    const info = b.info;
    const m = b.meas;
    if (!m) {
      const reason = b.silentReason;
      // The board itself is a comms problem (afe_comms after its delay); its cells are
      // sensor problems on top, so neither estimator nor protection uses them.
      channelErrors.push({ channel: "afe", reason });
      for (let i = 0; i < b.cells; i++) {
        cells.push(Number.NaN);
        channelErrors.push({ channel: `cell:${b.cellOffset + i}`, reason });
      }
      for (let i = 0; i < info.temps; i++) {
        temps.push(null);
        channelErrors.push({ channel: `temp:${b.tempOffset + i}`, reason });
      }
      if (info.measuresCurrent && currentMa === null) currentBoardSilent = true;
      continue;
    }
    cells.push(...m.cellVoltagesMv);
    temps.push(...m.temperaturesDeciC);
    if (info.measuresCurrent && currentMa === null && !currentBoardSilent) currentMa = m.currentMa;
    if (m.boardTempDeciC !== null) boardTemp = Math.max(boardTemp ?? m.boardTempDeciC, m.boardTempDeciC);
    if (m.fets && fets === null) fets = m.fets;
    for (const fb of FAULT_BITS)
      if ((m.faultFlags >>> fb.bit) & 1)
        faults.push({ code: fb.code, source: `board${b.address}:${fb.source}` });
    for (const c of cellsOf(m.balancingMask, b.cells)) balancing.push(b.cellOffset + c);
  }
  if (currentBoardSilent && ctx.measuresCurrent)
    channelErrors.push({ channel: "current", reason: "current-measuring board silent" });
  return {
    timestampMs: ctx.nowMs,
    cellVoltagesMv: cells,
    packVoltageMv: null,
    packCurrentMa: ctx.measuresCurrent ? currentMa : null,
    temperaturesDeciC: temps,
    boardTempDeciC: boardTemp,
    hardwareFaults: faults,
    // No FET board answered (or none fitted): report what was commanded rather than invent a trip.
    fets: fets ?? ctx.commandedFets,
    balancingCells: balancing,
    ...(channelErrors.length > 0 ? { channelErrors } : {}),
  };
}
