/**
 * One fault slot (one code) for one tick: its levels, the chip's flag, retries and back-off,
 * latching, acknowledged reset, and which paths it blocks. Copy-on-write: an unchanged slot
 * is returned as the same object.
 */
import type { BmsEvent } from "../core/events.js";
import type { FaultCode } from "../core/faults.js";
import type { ProtectionInput } from "../core/stages.js";
import { CLEARED, HELD, IDLE, type LevelState, type LevelStep, RAISED, stepLevel } from "./level.js";
import { ALARM, LEVEL_NAMES, type Rules, type SlotRule, TRIP } from "./rules.js";
import { IDLE_SLOT, type SlotState } from "./state.js";
import { type Extremes, isCommsFault } from "./values.js";

export const BLOCK_CHG = 1;
export const BLOCK_DSG = 2;

/** What every slot sees in one tick. */
export interface SlotTick {
  readonly rules: Rules;
  readonly input: ProtectionInput;
  readonly ex: Extremes;
  readonly valid: boolean;
  readonly elapsedMs: number;
  readonly nowMs: number;
  readonly resetRequested: boolean;
  /** Last cell extremes seen with every cell channel healthy (the sensor-fault policy's band check). */
  readonly goodMinMv: number;
  readonly goodMaxMv: number;
  readonly emit: (e: BmsEvent) => void;
  /** Asks the driver to clear a latched chip flag. */
  readonly clear: (code: FaultCode) => void;
}

export interface SlotOut {
  slot: SlotState;
  /** The published fault list must be rebuilt. */
  dirty: boolean;
}

const lvl: LevelStep = { state: IDLE, status: 0 };

function detailOf(rule: SlotRule, input: ProtectionInput, ex: Extremes): string | undefined {
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

/** Steps one slot; writes the new slot into `out` and returns the paths it blocks. */
export function stepSlot(rule: SlotRule, prev: SlotState, value: number, t: SlotTick, out: SlotOut): number {
  let dirty = false;
  const hw = hasHw(t.input, rule.code);
  // Comms and sensor health are judged on every tick; the rest only on valid data.
  const canSee = rule.kind === "policy" || (t.valid && !Number.isNaN(value));

  let levels: LevelState[] | null = null;
  let latched = prev.latched;
  let trips = prev.trips;
  let windowMs = prev.windowMs;
  let retryWaitMs = prev.retryWaitMs > t.elapsedMs ? prev.retryWaitMs - t.elapsedMs : 0;
  let hwClearWaitMs = prev.hwClearWaitMs > t.elapsedMs ? prev.hwClearWaitMs - t.elapsedMs : 0;
  let detail = prev.detail;
  if (trips > 0) {
    windowMs += t.elapsedMs;
    if (windowMs > t.rules.windowMs && !prev.levels[TRIP]!.active) {
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
    stepLevel(ls, lr, rule.dir, shown, forced, hold, t.elapsedMs, t.nowMs, lvl);
    if (lvl.state !== ls) {
      levels ??= [...prev.levels];
      levels[li] = lvl.state;
    }
    if (lvl.status === RAISED) {
      dirty = true;
      if (li === TRIP || prev.levels[TRIP]!.active === false) detail = detailOf(rule, t.input, t.ex);
      t.emit({
        type: "fault",
        tMs: t.nowMs,
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
        if (trips > t.rules.retries) latched = true;
        else retryWaitMs = t.rules.backoffMs[Math.min(trips - 1, t.rules.backoffMs.length - 1)]!;
      }
      if (li === TRIP && rule.kind === "latch") latched = true;
      if (latched && !prev.latched)
        t.emit({
          type: "fault",
          tMs: t.nowMs,
          code: rule.code,
          level: "trip",
          action: "latched",
          value: shown,
          limit: lr.limit,
          detail: rule.kind === "retry" ? `${trips} trips: needs an acknowledged reset` : detail,
        });
    } else if (lvl.status === CLEARED) {
      dirty = true;
      t.emit({
        type: "fault",
        tMs: t.nowMs,
        code: rule.code,
        level: LEVEL_NAMES[li]!,
        action: "cleared",
        value: shown,
        limit: lr.reset,
        detail: prev.detail,
      });
    } else if (lvl.status === HELD && hw && !latched && retryWaitMs === 0 && hwClearWaitMs === 0) {
      // The condition is gone but the chip still holds its flag: ask it to let go.
      t.clear(rule.code);
      hwClearWaitMs = t.rules.hwClearRetryMs;
    }
  }

  // Acknowledged reset: only latched faults whose condition is gone on valid data.
  if (t.resetRequested && latched) {
    const tr = rule.levels[TRIP]!;
    const gone = t.valid && !Number.isNaN(value) && (rule.dir > 0 ? value <= tr.reset : value >= tr.reset);
    if (gone) {
      latched = false;
      trips = 0;
      windowMs = 0;
      retryWaitMs = 0;
      levels ??= [...prev.levels];
      levels[TRIP] = IDLE;
      dirty = true;
      if (hw) {
        t.clear(rule.code);
      }
      t.emit({
        type: "fault",
        tMs: t.nowMs,
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
  const holdMs = rule.kind === "policy" && tripActive ? prev.holdMs + t.elapsedMs : 0;
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
  const blocks = blocksOf(t.rules, rule, next, t.goodMinMv, t.goodMaxMv);
  if (blocks !== next.blocks) {
    next = { ...next, blocks };
    dirty = true;
  }
  out.slot = next;
  out.dirty = dirty;
  return blocks;
}
