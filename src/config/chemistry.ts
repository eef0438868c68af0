/**
 * Chemistry presets: every threshold a pack needs, chosen as a consistent whole.
 * Numbers follow ../shared/reference/bms-anchors.md (LibreSolar, dbus-serialbattery, foxBMS
 * defaults) tightened for UPS float service, and satisfy the ordering rules in schema.ts.
 * Current limits are in C (multiples of capacity) and become mA once capacity is known.
 */
import type { Chemistry } from "./cells.js";

export interface ChemistryPreset {
  readonly cellPreset: "lfp-100ah" | "nmc-18650-3ah";
  readonly deepDischargeMv: number;
  readonly uv: {
    readonly trip: number;
    readonly tripReset: number;
    readonly alarm: number;
    readonly alarmReset: number;
    readonly warning: number;
    readonly warningReset: number;
  };
  readonly dischargeStopMv: number;
  readonly floatVoltageMv: number;
  readonly chargeVoltageMv: number;
  readonly ov: {
    readonly warning: number;
    readonly warningReset: number;
    readonly alarm: number;
    readonly alarmReset: number;
    readonly trip: number;
    readonly tripReset: number;
  };
  readonly balanceStartMv: number;
  readonly fullAnchorMv: number;
  readonly emptyAnchorMv: number;
}

export const CHEMISTRY_PRESETS: Record<Chemistry, ChemistryPreset> = {
  lfp: {
    cellPreset: "lfp-100ah",
    deepDischargeMv: 2000,
    uv: { trip: 2500, tripReset: 2700, alarm: 2750, alarmReset: 2900, warning: 2900, warningReset: 3000 },
    dischargeStopMv: 2800,
    floatVoltageMv: 3375,
    chargeVoltageMv: 3450,
    ov: { warning: 3500, warningReset: 3460, alarm: 3550, alarmReset: 3480, trip: 3650, tripReset: 3480 },
    balanceStartMv: 3350,
    fullAnchorMv: 3400,
    emptyAnchorMv: 2950,
  },
  nmc: {
    cellPreset: "nmc-18650-3ah",
    deepDischargeMv: 2500,
    uv: { trip: 2900, tripReset: 3100, alarm: 3100, alarmReset: 3250, warning: 3250, warningReset: 3350 },
    dischargeStopMv: 3150,
    floatVoltageMv: 4000,
    chargeVoltageMv: 4100,
    ov: { warning: 4150, warningReset: 4110, alarm: 4180, alarmReset: 4120, trip: 4250, tripReset: 4120 },
    balanceStartMv: 3900,
    fullAnchorMv: 4080,
    emptyAnchorMv: 3200,
  },
};
