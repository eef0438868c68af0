/**
 * Protection state: immutable, structurally shared between ticks. Only latched faults are
 * exported for persistence; everything else is rebuilt from measurements after a restart.
 */
import type { FetState } from "../core/fets.js";
import { IDLE, type LevelState } from "./level.js";
import { PROTECTED_CODES, type ProtectedCode, TRIP } from "./rules.js";
import type { ActiveFault, BmsState, RemoteSetpoints } from "./types.js";

export interface SlotState {
  /** warning, alarm, trip. */
  readonly levels: readonly LevelState[];
  /** The chip reports this fault latched. */
  readonly hw: boolean;
  /** Needs an acknowledged reset. */
  readonly latched: boolean;
  /** Trips within the current over-current window. */
  readonly trips: number;
  readonly windowMs: number;
  readonly retryWaitMs: number;
  /** Time until the chip may be asked again to clear its flag. */
  readonly hwClearWaitMs: number;
  /** Time a policy fault (sensor, comms) has been active, ms. */
  readonly holdMs: number;
  /** Paths blocked: bit 1 charge, bit 2 discharge. */
  readonly blocks: number;
  readonly detail: string | undefined;
}

export interface RampState {
  readonly value: number;
  /** Time since the last reduction, ms. */
  readonly holdMs: number;
  /** The constraint that set the value (kept while held or ramping back up). */
  readonly binding: string;
}

export interface ProtectionState {
  readonly phase: BmsState;
  readonly seenValid: boolean;
  readonly slots: readonly SlotState[];
  readonly cvl: RampState | null;
  readonly ccl: RampState | null;
  readonly dcl: RampState | null;
  /** Extremes of the last tick whose every cell channel was healthy (NaN before). */
  readonly lastGoodMinMv: number;
  readonly lastGoodMaxMv: number;
  readonly remoteCclMa: number | null;
  readonly remoteDclMa: number | null;
  /** Remote SOC reserve (SunSpec SoCRsvMin): discharge stops at or below it. Expires with the heartbeat. */
  readonly socReservePct: number | null;
  readonly heartbeatAgeMs: number;
  /** A heartbeat or accepted set-point has arrived since start. */
  readonly heartbeatHeard: boolean;
  /** Last published remote view, reused while nothing in it changes. */
  readonly remote: RemoteSetpoints;
  readonly fets: FetState;
  /** FETs the ideal-diode logic holds closed although their path is blocked (its hysteresis). */
  readonly diode: FetState;
  readonly faults: readonly ActiveFault[];
  /** Latched faults restored from storage, announced on the first step. */
  readonly restored: readonly ProtectedCode[];
}

export const IDLE_SLOT: SlotState = Object.freeze({
  levels: Object.freeze([IDLE, IDLE, IDLE]),
  hw: false,
  latched: false,
  trips: 0,
  windowMs: 0,
  retryWaitMs: 0,
  hwClearWaitMs: 0,
  holdMs: 0,
  blocks: 0,
  detail: undefined,
});

const NO_REMOTE: RemoteSetpoints = Object.freeze({
  cclMa: null,
  dclMa: null,
  socReservePct: null,
  heartbeatAgeMs: 0,
  heard: false,
  expired: false,
});

const OPEN: FetState = Object.freeze({ chg: false, dsg: false });

export function initialState(): ProtectionState {
  return {
    phase: "init",
    seenValid: false,
    slots: PROTECTED_CODES.map(() => IDLE_SLOT),
    cvl: null,
    ccl: null,
    dcl: null,
    lastGoodMinMv: Number.NaN,
    lastGoodMaxMv: Number.NaN,
    remoteCclMa: null,
    remoteDclMa: null,
    socReservePct: null,
    heartbeatAgeMs: 0,
    heartbeatHeard: false,
    remote: NO_REMOTE,
    fets: OPEN,
    diode: OPEN,
    faults: [],
    restored: [],
  };
}

export interface PersistedLatch {
  readonly code: ProtectedCode;
  readonly value: number;
  readonly limit: number;
  readonly sinceMs: number;
  readonly hw: boolean;
  readonly detail?: string;
}

export interface PersistedProtection {
  readonly version: 1;
  readonly latched: readonly PersistedLatch[];
}

export function exportLatched(state: ProtectionState): PersistedProtection {
  const latched: PersistedLatch[] = [];
  state.slots.forEach((s, i) => {
    if (!s.latched) return;
    const t = s.levels[TRIP]!;
    const entry: PersistedLatch = {
      code: PROTECTED_CODES[i]!,
      value: t.value,
      limit: t.limit,
      sinceMs: t.sinceMs,
      hw: s.hw,
    };
    latched.push(s.detail === undefined ? entry : { ...entry, detail: s.detail });
  });
  return { version: 1, latched };
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Restores latched faults from what exportLatched wrote. Anything unreadable is ignored
 * rather than trusted: the live measurements will raise whatever is still wrong.
 */
export function restoreState(saved: unknown): ProtectionState {
  const base = initialState();
  if (typeof saved !== "object" || saved === null) return base;
  const list = (saved as { latched?: unknown }).latched;
  if (!Array.isArray(list)) return base;
  const slots = [...base.slots];
  const restored: ProtectedCode[] = [];
  for (const item of list) {
    if (typeof item !== "object" || item === null) continue;
    const it = item as Record<string, unknown>;
    const idx = PROTECTED_CODES.indexOf(it.code as ProtectedCode);
    if (idx < 0 || !isNum(it.value) || !isNum(it.limit)) continue;
    const trip: LevelState = {
      active: true,
      run: false,
      timerMs: 0,
      sinceMs: isNum(it.sinceMs) ? it.sinceMs : 0,
      value: it.value,
      limit: it.limit,
    };
    slots[idx] = {
      ...IDLE_SLOT,
      levels: [IDLE, IDLE, trip],
      latched: true,
      detail: typeof it.detail === "string" ? it.detail : undefined,
    };
    restored.push(PROTECTED_CODES[idx]!);
  }
  return { ...base, slots, restored };
}
