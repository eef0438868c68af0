/**
 * The protection reducer: (state, input, config) → (state, view, chip actions, events).
 * Pure: no clock reads, no timers; time arrives as `elapsedMs`/`nowMs` in the input.
 */
import type { BmsConfig } from "../config/schema.js";
import type { BmsEvent } from "../core/events.js";
import type { FaultCode } from "../core/faults.js";
import type { FetState } from "../core/fets.js";
import type { ProtectionInput } from "../core/stages.js";
import { DIODE_IDLE, diodeEligible, stepDiode } from "./diode.js";
import { nextLimits } from "./limits.js";
import {
  ALARM,
  LEVEL_NAMES,
  rulesFor,
  TRIP,
  V_CHG_CURRENT,
  V_MAX_CELL,
  V_MAX_TEMP,
  V_MIN_CELL,
  V_MIN_TEMP,
} from "./rules.js";
import { IDLE_SLOT, type ProtectionState, type SlotState } from "./state.js";
import type { ActiveFault, BmsState, ProtectionView, RemoteSetpoints } from "./types.js";
import { BLOCK_CHG, BLOCK_DSG, type SlotOut, type SlotTick, stepSlot } from "./slot.js";
import { type Extremes, extractValues } from "./values.js";

export interface ProtectionResult {
  readonly state: ProtectionState;
  readonly view: ProtectionView;
  /** Latched chip faults the driver should clear now. */
  readonly clearHardwareFaults: readonly FaultCode[];
  readonly events: readonly BmsEvent[];
}

const NO_EVENTS: readonly BmsEvent[] = Object.freeze([]);
const NO_CODES: readonly FaultCode[] = Object.freeze([]);
const FETS: readonly FetState[] = [
  Object.freeze({ chg: false, dsg: false }),
  Object.freeze({ chg: true, dsg: false }),
  Object.freeze({ chg: false, dsg: true }),
  Object.freeze({ chg: true, dsg: true }),
];
const fetsOf = (chg: boolean, dsg: boolean): FetState => FETS[(chg ? 1 : 0) + (dsg ? 2 : 0)]!;

// Scratch objects reused across ticks; they never escape a call.
const slotOut: SlotOut = { slot: IDLE_SLOT, dirty: false };
const ex: Extremes = { maxCell: 0, minCell: 0, maxTemp: 0, minTemp: 0, sumCellsMv: 0, cellsHealthy: true };

export function reduceProtection(
  state: ProtectionState,
  input: ProtectionInput,
  config: BmsConfig,
): ProtectionResult {
  const rules = rulesFor(config);
  const nowMs = input.nowMs;
  const elapsedMs = Math.max(input.elapsedMs, 0);
  const m = input.measurements;
  let events: BmsEvent[] | null = null;
  let clears: FaultCode[] | null = null;
  const emit = (e: BmsEvent): void => {
    events ??= [];
    events.push(e);
  };

  // Requests and the remote set-points' heartbeat: the one clock that decides whether a
  // remote set-point is applied (and so what Modbus reads back).
  let heartbeatAgeMs = state.heartbeatAgeMs + elapsedMs;
  let heartbeatHeard = state.heartbeatHeard;
  let remoteCclMa = state.remoteCclMa;
  let remoteDclMa = state.remoteDclMa;
  let socReservePct = state.socReservePct;
  let resetRequested = false;
  for (const r of input.requests) {
    if (r.kind === "heartbeat") {
      heartbeatAgeMs = 0;
      heartbeatHeard = true;
    } else if (r.kind === "alarm_reset") resetRequested = true;
    else if (r.kind === "set_limits" && rules.remoteMode) {
      heartbeatAgeMs = 0;
      heartbeatHeard = true;
      // Each register is written on its own (FC06): a field left out keeps the value in force.
      if (r.cclMa !== undefined) remoteCclMa = r.cclMa >= 0 ? r.cclMa : null;
      if (r.dclMa !== undefined) remoteDclMa = r.dclMa >= 0 ? r.dclMa : null;
      if (r.socReservePct !== undefined) socReservePct = r.socReservePct > 0 ? r.socReservePct : null;
    }
  }
  const expired = heartbeatAgeMs > rules.heartbeatTimeoutMs;
  if ((remoteCclMa !== null || remoteDclMa !== null || socReservePct !== null) && expired) {
    remoteCclMa = null;
    remoteDclMa = null;
    socReservePct = null;
    emit({
      type: "command",
      tMs: nowMs,
      source: "protection",
      command: "set_limits",
      accepted: false,
      detail: `remote set-points expired: no heartbeat for ${heartbeatAgeMs} ms`,
    });
  }
  const pr = state.remote;
  const remote: RemoteSetpoints =
    pr.cclMa === remoteCclMa &&
    pr.dclMa === remoteDclMa &&
    pr.socReservePct === socReservePct &&
    pr.heartbeatAgeMs === heartbeatAgeMs &&
    pr.heard === heartbeatHeard &&
    pr.expired === expired
      ? pr
      : {
          cclMa: remoteCclMa,
          dclMa: remoteDclMa,
          socReservePct,
          heartbeatAgeMs,
          heard: heartbeatHeard,
          expired,
        };

  const valid = m.valid;
  const seenValid = state.seenValid || valid;
  const v = rules.scratch;
  extractValues(m, v, ex);

  let lastGoodMinMv = state.lastGoodMinMv;
  let lastGoodMaxMv = state.lastGoodMaxMv;
  if (valid && ex.cellsHealthy) {
    lastGoodMinMv = m.cells.minMv;
    lastGoodMaxMv = m.cells.maxMv;
  }

  for (const code of state.restored) {
    const s = state.slots[rules.slots.findIndex((r) => r.code === code)]!;
    const t = s.levels[TRIP]!;
    emit({
      type: "fault",
      tMs: nowMs,
      code,
      level: "trip",
      action: "latched",
      value: t.value,
      limit: t.limit,
      detail: "restored after restart",
    });
  }

  // One pass over the fault slots; a slot is copied only when it changes.
  let slots: SlotState[] | null = null;
  let faultsDirty = state.restored.length > 0;
  let blockedChg = 0;
  let blockedDsg = 0;
  let chgCause = -1;
  let dsgCause = -1;
  // A path also blocked by a fault that rules out the ideal diode.
  let chgHard = false;
  let dsgHard = false;
  let alarmChg = -1;
  let alarmDsg = -1;

  const tick: SlotTick = {
    rules,
    input,
    ex,
    valid,
    elapsedMs,
    nowMs,
    resetRequested,
    goodMinMv: lastGoodMinMv,
    goodMaxMv: lastGoodMaxMv,
    emit,
    clear: (code) => {
      clears ??= [];
      clears.push(code);
    },
  };
  for (let si = 0; si < rules.slots.length; si++) {
    const rule = rules.slots[si]!;
    const prev = state.slots[si]!;
    const blocks = stepSlot(rule, prev, v[rule.input]!, tick, slotOut);
    const next = slotOut.slot;
    if (slotOut.dirty) faultsDirty = true;
    if (next !== prev) {
      slots ??= [...state.slots];
      slots[si] = next;
    }
    if (blocks & BLOCK_CHG) {
      blockedChg++;
      if (chgCause < 0) chgCause = si;
    }
    if (blocks & BLOCK_DSG) {
      blockedDsg++;
      if (dsgCause < 0) dsgCause = si;
    }
    if (blocks !== 0 && !diodeEligible(rule, next)) {
      if (blocks & BLOCK_CHG) chgHard = true;
      if (blocks & BLOCK_DSG) dsgHard = true;
    }
    if (next.levels[ALARM]!.active) {
      if (rule.deratesCharge && alarmChg < 0) alarmChg = si;
      if (rule.deratesDischarge && alarmDsg < 0) alarmDsg = si;
    }
  }
  const nextSlots = slots ?? state.slots;

  // Faults as published: the highest active level of each code.
  let faults = state.faults;
  if (faultsDirty) {
    const list: ActiveFault[] = [];
    for (let si = 0; si < rules.slots.length; si++) {
      const s = nextSlots[si]!;
      const rule = rules.slots[si]!;
      for (let li = 2; li >= 0; li--) {
        const l = s.levels[li]!;
        if (!l.active) continue;
        const f: ActiveFault = {
          code: rule.code,
          level: LEVEL_NAMES[li]!,
          latched: s.latched,
          sinceMs: l.sinceMs,
          value: l.value,
          limit: l.limit,
          blocksCharge: (s.blocks & BLOCK_CHG) !== 0,
          blocksDischarge: (s.blocks & BLOCK_DSG) !== 0,
        };
        list.push(s.detail === undefined ? f : { ...f, detail: s.detail });
        break;
      }
    }
    faults = list;
  }

  // State machine.
  const deepIdx = rules.slots.length - 1;
  const deepLatched = nextSlots[deepIdx]!.latched;
  const current = v[V_CHG_CURRENT]!;
  let phase: BmsState = state.phase;
  let reason = "";
  if (!seenValid) phase = "init";
  else if (deepLatched) {
    phase = "shutdown";
    reason = "deep discharge latched";
  } else if (blockedChg > 0 || blockedDsg > 0) {
    phase = "fault";
    const cause = chgCause >= 0 ? chgCause : dsgCause;
    reason = `${rules.slots[cause]!.code} blocks ${blockedChg > 0 ? "charging" : ""}${blockedChg > 0 && blockedDsg > 0 ? " and " : ""}${blockedDsg > 0 ? "discharging" : ""}`;
  } else if (valid && !Number.isNaN(current)) {
    const rest = rules.restCurrentMa;
    const wasChg = state.phase === "charging";
    const wasDsg = state.phase === "discharging";
    if (current > (wasChg ? rest / 2 : rest)) phase = "charging";
    else if (current < -(wasDsg ? rest / 2 : rest)) phase = "discharging";
    else phase = "standby";
    if (phase !== state.phase) reason = `current ${Math.round(current)} mA`;
  } else if (state.phase === "init" || state.phase === "fault" || state.phase === "shutdown") {
    phase = "standby";
  }
  if (phase !== state.phase) {
    if (state.phase === "init")
      reason = reason === "" || phase !== "fault" ? "first valid sample" : `first valid sample; ${reason}`;
    if (reason === "") reason = "faults cleared";
    emit({ type: "state", tMs: nowMs, from: state.phase, to: phase, reason });
  }

  // FETs. Before the first valid sample the charge path stays open and the discharge path is
  // left as the hardware has it: a controller restart must not drop a UPS load. A blocked
  // path's FET may be driven as an ideal diode (diode.ts); what is allowed does not change.
  const id = rules.config.protection.idealDiode;
  // Steady state (nothing blocked, no FET held) skips it: the hot path allocates nothing more.
  const idle = blockedChg === 0 && blockedDsg === 0 && !state.diode.chg && !state.diode.dsg;
  const dio = idle
    ? DIODE_IDLE
    : stepDiode(state.diode, {
        enabled: id.enabled,
        onMa: id.onMa,
        offMa: id.offMa,
        active: valid && phase !== "init" && phase !== "shutdown",
        chgBlocked: blockedChg > 0,
        dsgBlocked: blockedDsg > 0,
        chgHard,
        dsgHard,
        currentMa: current,
        chgCause: chgCause >= 0 ? rules.slots[chgCause]!.code : "",
        dsgCause: dsgCause >= 0 ? rules.slots[dsgCause]!.code : "",
      });
  const chargeAllowed = phase !== "init" && blockedChg === 0;
  const dischargeAllowed = phase === "init" ? m.fets.dsg && blockedDsg === 0 : blockedDsg === 0;
  const fets =
    phase === "init"
      ? fetsOf(false, dischargeAllowed)
      : fetsOf(chargeAllowed || dio.diode.chg, dischargeAllowed || dio.diode.dsg);

  // Limits.
  const lim = nextLimits(config, rules, state, {
    seenValid,
    valid,
    maxCellMv: v[V_MAX_CELL]!,
    minCellMv: v[V_MIN_CELL]!,
    minTempDeciC: v[V_MIN_TEMP]!,
    maxTempDeciC: v[V_MAX_TEMP]!,
    sumCellsMv: ex.sumCellsMv,
    full: input.estimates.fullConfirmed,
    socPct: input.estimates.socPct,
    chargeAlarm: alarmChg >= 0 ? rules.slots[alarmChg]!.alarmBinding : null,
    dischargeAlarm: alarmDsg >= 0 ? rules.slots[alarmDsg]!.alarmBinding : null,
    chargeFault: chgCause >= 0 ? rules.slots[chgCause]!.faultBinding : null,
    dischargeFault: dsgCause >= 0 ? rules.slots[dsgCause]!.faultBinding : null,
    remoteCclMa,
    remoteDclMa,
    socReservePct,
    deepLatched,
    elapsedMs,
  });

  const next: ProtectionState = {
    phase,
    seenValid,
    slots: nextSlots,
    cvl: lim.cvl,
    ccl: lim.ccl,
    dcl: lim.dcl,
    lastGoodMinMv,
    lastGoodMaxMv,
    remoteCclMa,
    remoteDclMa,
    socReservePct,
    heartbeatAgeMs,
    heartbeatHeard,
    remote,
    fets,
    diode: dio.diode,
    faults,
    restored: state.restored.length > 0 ? [] : state.restored,
  };
  const base: ProtectionView = {
    state: phase,
    fets,
    faults,
    limits: lim.limits,
    chargeAllowed,
    dischargeAllowed,
    remote,
  };
  const view: ProtectionView = dio.reason === undefined ? base : { ...base, fetReason: dio.reason };
  return {
    state: next,
    view,
    clearHardwareFaults: clears ?? NO_CODES,
    events: events ?? NO_EVENTS,
  };
}
