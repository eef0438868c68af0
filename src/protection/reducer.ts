/**
 * The protection reducer: (state, input, config) → (state, view, chip actions, events).
 * Pure: no clock reads, no timers; time arrives as `elapsedMs`/`nowMs` in the input.
 */
import type { BmsConfig } from "../config/schema.js";
import type { BmsEvent } from "../core/events.js";
import type { FaultCode } from "../core/faults.js";
import type { FetState } from "../core/fets.js";
import type { ProtectionInput } from "../core/stages.js";
import { CLEARED, HELD, IDLE, type LevelState, type LevelStep, RAISED, stepLevel } from "./level.js";
import { nextLimits } from "./limits.js";
import {
  ALARM,
  LEVEL_NAMES,
  type Rules,
  rulesFor,
  type SlotRule,
  TRIP,
  V_CHG_CURRENT,
  V_MAX_CELL,
  V_MAX_TEMP,
  V_MIN_CELL,
  V_MIN_TEMP,
} from "./rules.js";
import { IDLE_SLOT, type ProtectionState, type SlotState } from "./state.js";
import type { ActiveFault, BmsState, ProtectionView } from "./types.js";
import { type Extremes, extractValues, isCommsFault } from "./values.js";

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

const BLOCK_CHG = 1;
const BLOCK_DSG = 2;

// Scratch objects reused across ticks; they never escape a call.
const lvl: LevelStep = { state: IDLE, status: 0 };
const ex: Extremes = { maxCell: 0, minCell: 0, maxTemp: 0, minTemp: 0, sumCellsMv: 0, cellsHealthy: true };

function detailOf(rule: SlotRule, input: ProtectionInput): string | undefined {
  const m = input.measurements;
  switch (rule.code) {
    case "cell_ov":
      return `cell:${ex.maxCell}`;
    case "cell_uv":
    case "deep_discharge":
      return `cell:${ex.minCell}`;
    case "cell_spread":
      return `cell:${ex.maxCell}-cell:${ex.minCell}`;
    case "ot_charge":
    case "ot_discharge":
      return `temp:${ex.maxTemp}`;
    case "ut_charge":
    case "ut_discharge":
      return `temp:${ex.minTemp}`;
    case "board_ot":
      return "board_temp";
    case "oc_charge":
    case "oc_discharge":
    case "short_circuit":
      return "current";
    case "sensor_fault": {
      const f = m.sensorFaults.find((s) => !isCommsFault(s.channel, s.kind));
      return f ? `${f.channel} ${f.kind}: ${f.detail}` : undefined;
    }
    case "afe_comms": {
      const f = m.sensorFaults.find((s) => isCommsFault(s.channel, s.kind));
      return f ? `${f.kind}: ${f.detail}` : "no valid data";
    }
  }
}

function hasHw(input: ProtectionInput, code: FaultCode): boolean {
  const hw = input.measurements.hardwareFaults;
  for (let i = 0; i < hw.length; i++) if (hw[i]!.code === code) return true;
  return false;
}

/** Paths a slot blocks now (policy slots: the sensor-fault policy, see docs/protection.md). */
function blocksOf(rules: Rules, rule: SlotRule, s: SlotState, goodMinMv: number, goodMaxMv: number): number {
  if (!s.levels[TRIP]!.active) return 0;
  if (rule.kind !== "policy")
    return (rule.blocksCharge ? BLOCK_CHG : 0) | (rule.blocksDischarge ? BLOCK_DSG : 0);
  const inBand = goodMinMv >= rules.safeBandMinMv && goodMaxMv <= rules.safeBandMaxMv;
  const openDsg = !inBand || s.holdMs >= rules.dischargeHoldMs;
  return (rules.blockChargeImmediately || openDsg ? BLOCK_CHG : 0) | (openDsg ? BLOCK_DSG : 0);
}

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

  // Requests and the remote set-points' heartbeat.
  let heartbeatAgeMs = state.heartbeatAgeMs + elapsedMs;
  let remoteCclMa = state.remoteCclMa;
  let remoteDclMa = state.remoteDclMa;
  let resetRequested = false;
  for (const r of input.requests) {
    if (r.kind === "heartbeat") heartbeatAgeMs = 0;
    else if (r.kind === "alarm_reset") resetRequested = true;
    else if (r.kind === "set_limits" && rules.remoteMode) {
      heartbeatAgeMs = 0;
      remoteCclMa = r.cclMa !== undefined && r.cclMa >= 0 ? r.cclMa : null;
      remoteDclMa = r.dclMa !== undefined && r.dclMa >= 0 ? r.dclMa : null;
    }
  }
  if ((remoteCclMa !== null || remoteDclMa !== null) && heartbeatAgeMs > rules.heartbeatTimeoutMs) {
    remoteCclMa = null;
    remoteDclMa = null;
    emit({
      type: "command",
      tMs: nowMs,
      source: "protection",
      command: "set_limits",
      accepted: false,
      detail: `remote set-points expired: no heartbeat for ${heartbeatAgeMs} ms`,
    });
  }

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
  let alarmChg = -1;
  let alarmDsg = -1;

  for (let si = 0; si < rules.slots.length; si++) {
    const rule = rules.slots[si]!;
    const prev = state.slots[si]!;
    const value = v[rule.input]!;
    const hw = hasHw(input, rule.code);
    // Comms and sensor health are judged on every tick; the rest only on valid data.
    const canSee = rule.kind === "policy" || (valid && !Number.isNaN(value));

    let levels: LevelState[] | null = null;
    let latched = prev.latched;
    let trips = prev.trips;
    let windowMs = prev.windowMs;
    let retryWaitMs = prev.retryWaitMs > elapsedMs ? prev.retryWaitMs - elapsedMs : 0;
    let hwClearWaitMs = prev.hwClearWaitMs > elapsedMs ? prev.hwClearWaitMs - elapsedMs : 0;
    let detail = prev.detail;
    if (trips > 0) {
      windowMs += elapsedMs;
      if (windowMs > rules.windowMs && !prev.levels[TRIP]!.active) {
        trips = 0;
        windowMs = 0;
      }
    }

    for (let li = 0; li < 3; li++) {
      const lr = rule.levels[li];
      if (!lr) continue;
      const forced = li === TRIP && hw;
      if (!canSee && !forced) continue;
      const ls = prev.levels[li]!;
      const hold = li === TRIP && (latched || retryWaitMs > 0 || hw);
      const shown = Number.isNaN(value) ? lr.limit : value;
      stepLevel(ls, lr, rule.dir, shown, forced, hold, elapsedMs, nowMs, lvl);
      if (lvl.state !== ls) {
        levels ??= [...prev.levels];
        levels[li] = lvl.state;
      }
      if (lvl.status === RAISED) {
        faultsDirty = true;
        if (li === TRIP || prev.levels[TRIP]!.active === false) detail = detailOf(rule, input);
        emit({
          type: "fault",
          tMs: nowMs,
          code: rule.code,
          level: LEVEL_NAMES[li]!,
          action: "raised",
          value: shown,
          limit: lr.limit,
          detail: hw && li === TRIP ? `${detail ?? ""} (hardware)`.trim() : detail,
        });
        if (li === TRIP && rule.kind === "retry") {
          if (trips === 0) windowMs = 0;
          trips++;
          if (trips > rules.retries) latched = true;
          else retryWaitMs = rules.backoffMs[Math.min(trips - 1, rules.backoffMs.length - 1)]!;
        }
        if (li === TRIP && rule.kind === "latch") latched = true;
        if (latched && !prev.latched)
          emit({
            type: "fault",
            tMs: nowMs,
            code: rule.code,
            level: "trip",
            action: "latched",
            value: shown,
            limit: lr.limit,
            detail: rule.kind === "retry" ? `${trips} trips: needs an acknowledged reset` : detail,
          });
      } else if (lvl.status === CLEARED) {
        faultsDirty = true;
        emit({
          type: "fault",
          tMs: nowMs,
          code: rule.code,
          level: LEVEL_NAMES[li]!,
          action: "cleared",
          value: shown,
          limit: lr.reset,
          detail: prev.detail,
        });
      } else if (lvl.status === HELD && hw && !latched && retryWaitMs === 0 && hwClearWaitMs === 0) {
        // The condition is gone but the chip still holds its flag: ask it to let go.
        clears ??= [];
        clears.push(rule.code);
        hwClearWaitMs = rules.hwClearRetryMs;
      }
    }

    // Acknowledged reset: only latched faults whose condition is gone on valid data.
    if (resetRequested && latched) {
      const tr = rule.levels[TRIP]!;
      const gone = valid && !Number.isNaN(value) && (rule.dir > 0 ? value <= tr.reset : value >= tr.reset);
      if (gone) {
        latched = false;
        trips = 0;
        windowMs = 0;
        retryWaitMs = 0;
        levels ??= [...prev.levels];
        levels[TRIP] = IDLE;
        faultsDirty = true;
        if (hw) {
          clears ??= [];
          clears.push(rule.code);
        }
        emit({
          type: "fault",
          tMs: nowMs,
          code: rule.code,
          level: "trip",
          action: "reset",
          value,
          limit: tr.reset,
          detail: prev.detail,
        });
      }
    }

    const tripActive = (levels ?? prev.levels)[TRIP]!.active;
    const holdMs = rule.kind === "policy" && tripActive ? prev.holdMs + elapsedMs : 0;
    let next: SlotState =
      levels === null &&
      latched === prev.latched &&
      trips === prev.trips &&
      windowMs === prev.windowMs &&
      retryWaitMs === prev.retryWaitMs &&
      hwClearWaitMs === prev.hwClearWaitMs &&
      hw === prev.hw &&
      holdMs === prev.holdMs
        ? prev
        : {
            levels: levels ?? prev.levels,
            hw,
            latched,
            trips,
            windowMs,
            retryWaitMs,
            hwClearWaitMs,
            holdMs,
            blocks: prev.blocks,
            detail,
          };
    if (!tripActive && !next.levels[0]!.active && !next.levels[ALARM]!.active && next !== prev) {
      if (trips === 0 && !hw && next.levels.every((l) => l === IDLE)) next = IDLE_SLOT;
    }
    const blocks = blocksOf(rules, rule, next, lastGoodMinMv, lastGoodMaxMv);
    if (blocks !== next.blocks) {
      next = { ...next, blocks };
      faultsDirty = true;
    }
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
  // left as the hardware has it: a controller restart must not drop a UPS load.
  const fets =
    phase === "init"
      ? fetsOf(false, m.fets.dsg && blockedDsg === 0)
      : fetsOf(blockedChg === 0, blockedDsg === 0);

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
    heartbeatAgeMs,
    fets,
    faults,
    restored: state.restored.length > 0 ? [] : state.restored,
  };
  const view: ProtectionView = {
    state: phase,
    fets,
    faults,
    limits: lim.limits,
    chargeAllowed: fets.chg,
    dischargeAllowed: fets.dsg,
  };
  return {
    state: next,
    view,
    clearHardwareFaults: clears ?? NO_CODES,
    events: events ?? NO_EVENTS,
  };
}
