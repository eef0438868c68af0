/** The writable points' rules: allowed values and the request each value becomes. */
import type { WriteRule } from "./points.js";

export const ctrlHbRule: WriteRule = {
  range: "0–65535 (any value; write at least once per heartbeat timeout)",
  valid: () => true,
  plan: (v, p) => {
    p.heartbeat = v;
    p.commit.push((s) => {
      s.ctrlHb = v;
    });
  },
};

export const alarmResetRule: WriteRule = {
  range: "1 = reset latched alarms whose condition is gone; 0 = no-op",
  valid: (v) => v === 0 || v === 1,
  plan: (v, p) => {
    if (v === 1) p.alarmReset = true;
  },
};

export const setOpRule: WriteRule = {
  range: "1 = connect, 2 = disconnect (maintenance)",
  valid: (v) => v === 1 || v === 2,
  plan: (v, p) => {
    p.connect = v === 1;
  },
};

export const cclRule: WriteRule = {
  range: "0 … protection.charge.maxChargeCurrentMa / 100 (0.1 A)",
  valid: (v, c) => v * 100 <= c.protection.charge.maxChargeCurrentMa,
  plan: (v, p) => {
    p.cclMa = v * 100;
  },
};

export const dclRule: WriteRule = {
  range: "0 … protection.charge.maxDischargeCurrentMa / 100 (0.1 A)",
  valid: (v, c) => v * 100 <= c.protection.charge.maxDischargeCurrentMa,
  plan: (v, p) => {
    p.dclMa = v * 100;
  },
};

export const socReserveRule: WriteRule = {
  range: "0 … 1000 (0.1 %)",
  valid: (v) => v <= 1000,
  plan: (v, p) => {
    p.socReservePct = v / 10;
  },
};
