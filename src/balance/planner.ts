/**
 * The passive balancing planner: a pure function of one tick's readings, the protection
 * verdict, the driver's declared balancing limits, the config and the planner's own memory
 * (hysteresis, pause timing, SOC bookkeeping). It returns the cells to bleed, a reason for
 * the pack and for each cell, and the memory for the next tick. No clock, no I/O.
 */
import { ocvSlopeMvPerPct, type SocTable } from "../config/cells.js";
import type { BalanceConfig } from "../config/sections.js";
import type { BalancingCapabilities } from "../core/capabilities.js";
import type { ActiveFault, BmsState } from "../protection/types.js";
import { timeToBalanceS } from "./estimate.js";
import { socExcessMah } from "./soc.js";
import { createSelectScratch, type SelectLimits, type SelectScratch, selectBleeders } from "./select.js";
import type { BalanceCellReason, BalanceState, BalanceView } from "./types.js";

/** What the planner needs to know about the cells, fixed for a pack. */
export interface PlannerPack {
  /** Rested OCV table of the cell preset. */
  readonly ocv: SocTable;
  /** Cell capacity (the series string's), Ah. */
  readonly capacityAh: number;
  /** Loop period, ms: a measurement pause lasts at least one tick longer than the chip needs. */
  readonly periodMs: number;
}

export interface PlannerInput {
  readonly nowMs: number;
  /** False when the sample is missing, stale or not validated yet. */
  readonly valid: boolean;
  readonly cellVoltagesMv: readonly number[];
  /**
   * Noise-filtered cell voltages for the balancing decisions (who is high, by how much); the
   * safety rules (lowest cell, floor) always use the raw readings. Defaults to the raw ones.
   */
  readonly decisionVoltagesMv?: ArrayLike<number>;
  /** Cells whose channel has a sensor fault (0-based). */
  readonly faultedCells: readonly number[];
  /** Null where unavailable or faulted. */
  readonly temperaturesDeciC: readonly (number | null)[];
  readonly boardTempDeciC: number | null;
  readonly packCurrentMa: number;
  /** False when the current channel is faulted (rest and charge cannot be told). */
  readonly currentValid: boolean;
  /** How long |I| has stayed below `restCurrentMa`, ms. */
  readonly restMs: number;
  /** Pack SOC estimate, % (the voltage strategy turns mV of spread into charge with it). */
  readonly socPct: number;
  /** Bleeders were on while this sample was taken. */
  readonly bledDuringSample: boolean;
  readonly faults: readonly ActiveFault[];
  /** Protection state; `fault` and `shutdown` block balancing even if no fault is listed. */
  readonly protectionState?: BmsState;
}

export interface PlannerMemory {
  /** Cells inside the hysteresis band (voltage strategy). */
  readonly candidate: readonly boolean[];
  /** Cells bled since the last tick. */
  readonly selected: readonly number[];
  /** The highest cell has passed the start voltage and not yet fallen below it − hysteresis. */
  readonly startLatched: boolean;
  readonly tempBlocked: boolean;
  /** When the bleeders were last switched from some to none, ms. */
  readonly offSinceMs: number;
  /** When the present bleeding phase began, ms. */
  readonly bleedSinceMs: number;
  /** SOC strategy: charge each cell still has to lose, mAh (the shell subtracts what was bled). */
  readonly remainingMah: readonly number[];
  /** The SOC estimate of the present rest period is done. */
  readonly restEvaluated: boolean;
  /** Last evaluated per-cell reasons and excess, reused while readings are not trusted. */
  readonly lastReasons: readonly BalanceCellReason[];
  readonly lastExcessMah: readonly number[];
}

export interface PlannerResult {
  readonly view: BalanceView;
  readonly memory: PlannerMemory;
}

export function initialMemory(cells: number): PlannerMemory {
  return {
    candidate: new Array<boolean>(cells).fill(false),
    selected: [],
    startLatched: false,
    tempBlocked: false,
    offSinceMs: Number.NEGATIVE_INFINITY,
    bleedSinceMs: Number.NEGATIVE_INFINITY,
    remainingMah: new Array<number>(cells).fill(0),
    restEvaluated: false,
    lastReasons: constantReasons(cells, "idle"),
    lastExcessMah: new Array<number>(cells).fill(0),
  };
}

const reasonCache = new Map<string, readonly BalanceCellReason[]>();
function constantReasons(n: number, r: BalanceCellReason): readonly BalanceCellReason[] {
  const key = `${r}:${n}`;
  let a = reasonCache.get(key);
  if (a === undefined) {
    a = Object.freeze(new Array<BalanceCellReason>(n).fill(r));
    reasonCache.set(key, a);
  }
  return a;
}
const NO_CELLS: readonly number[] = Object.freeze([]);

/** Scratch buffers reused across ticks by the shell; a pure call may omit them. */
export interface PlannerScratch {
  readonly select: SelectScratch;
  priority: Float64Array;
  eligible: Uint8Array;
  prevSelected: Uint8Array;
  bleedMa: Float64Array;
}

export function createPlannerScratch(cells: number): PlannerScratch {
  return {
    select: createSelectScratch(cells),
    priority: new Float64Array(cells),
    eligible: new Uint8Array(cells),
    prevSelected: new Uint8Array(cells),
    bleedMa: new Float64Array(cells),
  };
}

/** Effective share of time a planned bleeder conducts (chip duty × measurement pauses). */
export function bleedDuty(caps: BalancingCapabilities, cfg: BalanceConfig, pack: PlannerPack): number {
  const chip = cfg.bleedDutyPct / 100;
  const p = caps.measurementPauseMs;
  if (!(p > 0)) return chip;
  return (chip * cfg.measureEveryMs) / (cfg.measureEveryMs + p + pack.periodMs);
}

/** The resistor the driver declares wins; the config's value stands in when it declares none. */
export function bleedResistorOhm(caps: BalancingCapabilities, cfg: BalanceConfig): number {
  return caps.bleedResistorOhm > 0 && Number.isFinite(caps.bleedResistorOhm)
    ? caps.bleedResistorOhm
    : cfg.bleedResistorOhm;
}

export function selectLimits(caps: BalancingCapabilities, cfg: BalanceConfig): SelectLimits {
  return {
    groupSize: caps.groupSize,
    adjacentAllowed: caps.adjacentAllowed,
    maxSimultaneous: Math.min(caps.maxSimultaneous, cfg.maxSimultaneous),
    maxPerGroup: caps.maxPerGroup,
  };
}

/** What every step of one planning call reads (with the hardware's balancing limits known). */
interface PlanCtx {
  readonly input: PlannerInput;
  readonly memory: PlannerMemory;
  readonly cfg: BalanceConfig;
  readonly caps: BalancingCapabilities;
  readonly pack: PlannerPack;
  readonly scratch: PlannerScratch;
}

export function planBalance(
  input: PlannerInput,
  memory: PlannerMemory,
  caps: BalancingCapabilities | null,
  cfg: BalanceConfig,
  pack: PlannerPack,
  scratch: PlannerScratch = createPlannerScratch(input.cellVoltagesMv.length),
): PlannerResult {
  const n = input.cellVoltagesMv.length;
  const v = input.cellVoltagesMv;
  const now = input.nowMs;
  const wasBleeding = memory.selected.length > 0;
  if (scratch.priority.length < n) Object.assign(scratch, createPlannerScratch(n));

  /** Everything off, for a pack-wide reason; the SOC bookkeeping survives. */
  const stop = (
    state: BalanceState,
    reason: string,
    keep: Partial<PlannerMemory> = {},
    cellReasons: readonly BalanceCellReason[] = constantReasons(n, "idle"),
  ): PlannerResult => ({
    view: {
      cells: NO_CELLS,
      reason,
      timeToBalanceS: null,
      state,
      cellReasons,
      cellExcessMah: memory.lastExcessMah.length === n ? memory.lastExcessMah : new Array<number>(n).fill(0),
      chargeToRemoveMah: null,
      bleedCurrentMa: 0,
      bleedPowerMw: 0,
    },
    memory: {
      ...memory,
      candidate: state === "paused" ? memory.candidate : constantFalse(n),
      startLatched: state === "paused" ? memory.startLatched : false,
      selected: NO_CELLS,
      offSinceMs: wasBleeding ? now : memory.offSinceMs,
      restEvaluated: memory.restEvaluated && input.restMs >= cfg.restTimeMs,
      ...keep,
    },
  });

  if (caps === null) return stop("unsupported", "unsupported: the hardware cannot balance");
  if (cfg.mode === "off") return stop("off", "off: balancing disabled (balance.mode = off)");
  if (!input.valid) return stop("blocked", "blocked: no valid measurement");
  if (n === 0) return stop("idle", "idle: no cells");
  for (let k = 0; k < input.faults.length; k++) {
    const f = input.faults[k]!;
    if (f.level === "trip") return stop("blocked", `blocked: trip active (${f.code})`);
  }
  if (input.protectionState === "fault" || input.protectionState === "shutdown")
    return stop("blocked", `blocked: protection state ${input.protectionState}`);
  const bad = invalidCells(v, input.faultedCells);
  if (bad !== null) {
    let missing = -1;
    for (let i = 0; i < n && missing < 0; i++) if (!Number.isFinite(v[i]!)) missing = i;
    const what =
      missing >= 0 ? `${missing + 1} has no reading` : `${input.faultedCells[0]! + 1} sensor fault`;
    return stop("blocked", `blocked: cell ${what}`, {}, bad);
  }

  // Temperature, with hysteresis so a bleeder's own heat does not switch it on and off.
  let maxCellT: number | null = null;
  for (let k = 0; k < input.temperaturesDeciC.length; k++) {
    const t = input.temperaturesDeciC[k];
    if (t !== null && t !== undefined && Number.isFinite(t) && (maxCellT === null || t > maxCellT))
      maxCellT = t;
  }
  const board =
    input.boardTempDeciC !== null && Number.isFinite(input.boardTempDeciC) ? input.boardTempDeciC : null;
  if (maxCellT === null && board === null) return stop("blocked", "blocked: no temperature reading");
  const hotBoard = board !== null && board > cfg.maxBoardTempDeciC;
  const hotCell = maxCellT !== null && maxCellT > cfg.maxCellTempDeciC;
  const cool =
    (board === null || board <= cfg.maxBoardTempDeciC - cfg.tempHysteresisDeciC) &&
    (maxCellT === null || maxCellT <= cfg.maxCellTempDeciC - cfg.tempHysteresisDeciC);
  const tempBlocked = memory.tempBlocked ? !cool : hotBoard || hotCell;
  if (tempBlocked) {
    const what = hotBoard
      ? `board ${board! / 10} °C > ${cfg.maxBoardTempDeciC / 10} °C`
      : hotCell
        ? `cell ${maxCellT! / 10} °C > ${cfg.maxCellTempDeciC / 10} °C`
        : `cooling below limit − ${cfg.tempHysteresisDeciC / 10} °C`;
    return stop("blocked", `blocked: over temperature (${what})`, { tempBlocked: true });
  }

  // The mode's condition.
  const i = input.packCurrentMa;
  const atRest = input.currentValid && Math.abs(i) < cfg.restCurrentMa && input.restMs >= cfg.restTimeMs;
  if (cfg.mode !== "always" && !input.currentValid)
    return stop("blocked", "blocked: current reading faulted");
  if (cfg.mode === "rest" && !atRest) {
    const why =
      Math.abs(i) >= cfg.restCurrentMa
        ? `|I| ${Math.abs(Math.round(i))} mA ≥ ${cfg.restCurrentMa} mA`
        : `rest ${Math.floor(input.restMs / 1000)} s of ${Math.floor(cfg.restTimeMs / 1000)} s`;
    return stop("waiting", `waiting: not at rest (${why})`);
  }
  if (cfg.mode === "charge" && i <= -cfg.restCurrentMa) return stop("waiting", "waiting: discharging");

  const ctx: PlanCtx = { input, memory, cfg, caps, pack, scratch };

  // Measurement pauses, for chips whose readings are distorted by their own bleeders.
  const pauseMs = caps.measurementPauseMs;
  if (pauseMs > 0) {
    if (wasBleeding && now - memory.bleedSinceMs >= cfg.measureEveryMs)
      return stop("paused", `paused: bleeders off ${pauseMs} ms for a clean reading`);
    if (wasBleeding) return continueBleeding(ctx);
    if (input.bledDuringSample || now - memory.offSinceMs < pauseMs)
      return stop("paused", `paused: waiting ${pauseMs} ms for a clean reading`);
  }

  return evaluate(ctx, atRest);
}

const falseCache = new Map<number, readonly boolean[]>();
function constantFalse(n: number): readonly boolean[] {
  let a = falseCache.get(n);
  if (a === undefined) {
    a = Object.freeze(new Array<boolean>(n).fill(false));
    falseCache.set(n, a);
  }
  return a;
}

/** Per-cell reasons with `invalid` where a reading is missing or faulted; null when all are fine. */
function invalidCells(v: readonly number[], faulted: readonly number[]): BalanceCellReason[] | null {
  let out: BalanceCellReason[] | null = null;
  const mark = (i: number) => {
    out ??= new Array<BalanceCellReason>(v.length).fill("idle");
    if (i >= 0 && i < v.length) out[i] = "invalid";
  };
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) mark(i);
  for (const i of faulted) mark(i);
  return out;
}

function minMax(v: ArrayLike<number>): { minMv: number; maxMv: number } {
  let minMv = v[0]!;
  let maxMv = v[0]!;
  for (let k = 1; k < v.length; k++) {
    const x = v[k]!;
    if (x < minMv) minMv = x;
    if (x > maxMv) maxMv = x;
  }
  return { minMv, maxMv };
}

/**
 * Between clean readings (chips that need pauses) the last decision stands; only cells that
 * now read as the lowest or below the floor are dropped, never added.
 */
function continueBleeding(ctx: PlanCtx): PlannerResult {
  const { input, memory, cfg } = ctx;
  const v = input.cellVoltagesMv;
  const n = v.length;
  const { minMv } = minMax(v);
  const reasons = memory.lastReasons.length === n ? [...memory.lastReasons] : new Array(n).fill("idle");
  const cells: number[] = [];
  for (const c of memory.selected) {
    if (c >= n) continue;
    if (v[c]! <= minMv) reasons[c] = "lowest";
    else if (v[c]! < cfg.minCellMv) reasons[c] = "below_min_voltage";
    else cells.push(c);
  }
  const excess = memory.lastExcessMah.length === n ? memory.lastExcessMah : new Array<number>(n).fill(0);
  return finish(ctx, {
    cells,
    reasons,
    excess,
    candidate: memory.candidate,
    startLatched: memory.startLatched,
    remainingMah: memory.remainingMah,
    restEvaluated: memory.restEvaluated,
    label: "bleeding between clean readings",
  });
}

function evaluate(ctx: PlanCtx, atRest: boolean): PlannerResult {
  const { input, memory, cfg, caps, pack, scratch } = ctx;
  const raw = input.cellVoltagesMv;
  const n = raw.length;
  const f = input.decisionVoltagesMv;
  const v: ArrayLike<number> = f !== undefined && f.length === n ? f : raw;
  const rawMinMv = minMax(raw).minMv;
  const { minMv, maxMv } = minMax(v);
  const spreadMv = Math.round(maxMv - minMv);
  const hyst = cfg.hysteresisMv;
  const { priority, eligible, prevSelected } = scratch;
  prevSelected.fill(0, 0, n);
  for (const c of memory.selected) if (c < n) prevSelected[c] = 1;

  const reasons = new Array<BalanceCellReason>(n);
  const excess = new Array<number>(n);
  const candidate = new Array<boolean>(n);
  let startLatched = memory.startLatched;
  let remainingMah = memory.remainingMah;
  let restEvaluated = memory.restEvaluated && atRest;
  let note = "";
  let anyCandidate = false;
  let anyBelowMin = false;

  if (cfg.strategy === "voltage") {
    startLatched = startLatched
      ? maxMv >= cfg.startMv - hyst
      : maxMv >= cfg.startMv && spreadMv > cfg.deltaMv;
    const keepMv = cfg.deltaMv - hyst;
    const slope = Math.max(
      cfg.minSlopeMvPerPct,
      ocvSlopeMvPerPct(pack.ocv, Number.isFinite(input.socPct) ? input.socPct : 100),
    );
    const mahPerMv = (pack.capacityAh * 10) / slope;
    for (let k = 0; k < n; k++) {
      const d = v[k]! - minMv;
      const cand =
        startLatched && d > 0 && (d > cfg.deltaMv || (memory.candidate[k] === true && d >= keepMv));
      candidate[k] = cand;
      excess[k] = cand ? (d - Math.max(0, keepMv)) * mahPerMv : 0;
      mark(k, cand, d);
    }
    if (!startLatched)
      note =
        maxMv < cfg.startMv
          ? `idle: highest cell ${Math.round(maxMv)} mV below start ${cfg.startMv} mV`
          : `idle: spread ${spreadMv} mV within ${cfg.deltaMv} mV`;
  } else {
    if (atRest && !restEvaluated) {
      const est = socExcessMah(v, pack.ocv, pack.capacityAh, cfg.minSlopeMvPerPct, cfg.socDeltaPct);
      if (typeof est === "string") note = est;
      else {
        remainingMah = est;
        restEvaluated = true;
      }
    }
    for (let k = 0; k < n; k++) {
      const d = v[k]! - minMv;
      const q = remainingMah[k] ?? 0;
      const cand = q > 0 && d > 0;
      candidate[k] = cand;
      excess[k] = Math.max(q, 0);
      mark(k, cand, d);
    }
    if (!anyCandidate && note === "")
      note = restEvaluated
        ? "idle: rested SOC spread within the SOC delta"
        : "idle: no charge to remove (estimated at rest from the OCV table)";
  }

  function mark(k: number, cand: boolean, d: number): void {
    eligible[k] = 0;
    if (d <= 0 || raw[k]! <= rawMinMv) reasons[k] = "lowest";
    else if (!cand) reasons[k] = "balanced";
    else if (raw[k]! < cfg.minCellMv + (prevSelected[k] === 1 ? 0 : hyst)) {
      reasons[k] = "below_min_voltage";
      anyBelowMin = true;
    } else {
      anyCandidate = true;
      eligible[k] = 1;
      // A bleeding cell keeps its place against a near-equal neighbour: no chatter on noise.
      priority[k] =
        (cfg.strategy === "voltage" ? d : (remainingMah[k] ?? 0)) + (prevSelected[k] === 1 ? hyst : 0);
      reasons[k] = "balanced"; // overwritten by the selection
    }
  }

  const cells = anyCandidate
    ? selectBleeders(
        priority.subarray(0, n),
        eligible.subarray(0, n),
        selectLimits(caps, cfg),
        reasons,
        scratch.select,
      )
    : [];
  if (cells.length === 0 && note === "")
    note = anyCandidate
      ? "idle: no cell may bleed under the driver limits"
      : anyBelowMin
        ? `idle: cells to bleed are below the floor of ${cfg.minCellMv} mV`
        : `idle: balanced (spread ${spreadMv} mV)`;
  return finish(ctx, {
    cells,
    reasons,
    excess,
    candidate,
    startLatched,
    remainingMah,
    restEvaluated,
    label: cfg.strategy === "voltage" ? `spread ${spreadMv} mV` : "SOC excess from rest",
    idleNote: note,
  });
}

interface Decision {
  readonly cells: readonly number[];
  readonly reasons: BalanceCellReason[];
  readonly excess: readonly number[];
  readonly candidate: readonly boolean[];
  readonly startLatched: boolean;
  readonly remainingMah: readonly number[];
  readonly restEvaluated: boolean;
  readonly label: string;
  readonly idleNote?: string;
}

function finish(ctx: PlanCtx, d: Decision): PlannerResult {
  const { input, memory, cfg, caps, pack, scratch } = ctx;
  const v = input.cellVoltagesMv;
  const n = v.length;
  const now = input.nowMs;
  const wasBleeding = memory.selected.length > 0;
  const bleeding = d.cells.length > 0;
  const ohm = bleedResistorOhm(caps, cfg);
  const duty = bleedDuty(caps, cfg, pack);
  const bleedMa = scratch.bleedMa;
  let totalExcess = 0;
  for (let k = 0; k < n; k++) {
    bleedMa[k] = (v[k]! / ohm) * duty;
    totalExcess += d.excess[k]!;
  }
  let currentMa = 0;
  let powerMw = 0;
  for (const c of d.cells) {
    currentMa += v[c]! / ohm;
    powerMw += (v[c]! * v[c]!) / ohm / 1000;
  }
  const tS = bleeding ? timeToBalanceS(d.excess, bleedMa.subarray(0, n), selectLimits(caps, cfg)) : null;
  const reason = bleeding
    ? `bleeding ${d.cells.length} cell${d.cells.length === 1 ? "" : "s"}: ${d.label}`
    : (d.idleNote ?? "idle: nothing to balance");
  return {
    view: {
      cells: d.cells,
      reason,
      timeToBalanceS: tS,
      state: bleeding ? "bleeding" : "idle",
      cellReasons: d.reasons,
      cellExcessMah: d.excess,
      chargeToRemoveMah: totalExcess,
      bleedCurrentMa: currentMa,
      bleedPowerMw: powerMw,
    },
    memory: {
      candidate: d.candidate,
      selected: d.cells,
      startLatched: d.startLatched,
      tempBlocked: false,
      offSinceMs: wasBleeding && !bleeding ? now : memory.offSinceMs,
      bleedSinceMs: bleeding && !wasBleeding ? now : memory.bleedSinceMs,
      remainingMah: d.remainingMah,
      restEvaluated: d.restEvaluated,
      lastReasons: d.reasons,
      lastExcessMah: d.excess,
    },
  };
}
