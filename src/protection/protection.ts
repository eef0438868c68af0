/**
 * Foundation protection: cell OV/UV trips on valid data, nothing before the first valid
 * sample. Issue #5 grows this into the full reducer (levels, latches, limits).
 */
import type { BmsConfig } from "../config/schema.js";
import type { BmsEvent } from "../core/events.js";
import type { ProtectionInput, ProtectionOutput, ProtectionStage } from "../core/stages.js";
import type { BmsState, ProtectionView } from "./types.js";

export function createProtection(config: BmsConfig): ProtectionStage {
  const p = config.protection;
  let state: BmsState = "init";
  let ovTrip = false;
  let uvTrip = false;

  const step = (input: ProtectionInput): ProtectionOutput => {
    const events: BmsEvent[] = [];
    const m = input.measurements;
    const from = state;
    if (m.valid) {
      const ov = p.cellOv.trip!;
      const uv = p.cellUv.trip!;
      if (!ovTrip && m.cells.maxMv >= ov.limit) ovTrip = true;
      else if (ovTrip && m.cells.maxMv <= ov.reset) ovTrip = false;
      if (!uvTrip && m.cells.minMv <= uv.limit) uvTrip = true;
      else if (uvTrip && m.cells.minMv >= uv.reset) uvTrip = false;
      state =
        ovTrip || uvTrip
          ? "fault"
          : m.packCurrentMa > 0
            ? "charging"
            : m.packCurrentMa < 0
              ? "discharging"
              : "standby";
    }
    if (state !== from)
      events.push({
        type: "state",
        tMs: input.nowMs,
        from,
        to: state,
        reason: m.valid ? "measurement" : "no valid data",
      });
    const ready = state !== "init";
    const view: ProtectionView = {
      state,
      fets: { chg: ready && !ovTrip, dsg: ready && !uvTrip },
      faults: [],
      limits: {
        cvlMv: p.charge.chargeVoltageMv * config.pack.cellsInSeries,
        cclMa: ovTrip ? 0 : p.charge.maxChargeCurrentMa,
        dclMa: uvTrip ? 0 : p.charge.maxDischargeCurrentMa,
        cvlBinding: "config",
        cclBinding: "config",
        dclBinding: "config",
      },
      chargeAllowed: ready && !ovTrip,
      dischargeAllowed: ready && !uvTrip,
    };
    return { view, clearHardwareFaults: [], events };
  };

  return { step, exportState: () => ({}) };
}
