/**
 * Synthetic snapshots and a stand-in event source, for benchmarks, the crash-test writer and
 * tests that exercise the recorder without running the full loop.
 */
import type { BmsEvent } from "../core/events.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { cellStats } from "../monitor/monitor.js";
import type { ActiveFault, BmsState } from "../protection/types.js";
import type { RecordableBms } from "./types.js";

export interface SyntheticOptions {
  readonly cells?: number;
  readonly socPct?: number;
  readonly currentMa?: number;
  readonly state?: BmsState;
  readonly faults?: readonly ActiveFault[];
  readonly tempsDeciC?: readonly (number | null)[];
  /** Added to every cell voltage, mV (e.g. to push a cell over a limit). */
  readonly offsetMv?: number;
}

export function syntheticSnapshot(seq: number, tMs: number, o: SyntheticOptions = {}): BmsSnapshot {
  const n = o.cells ?? 16;
  const soc = o.socPct ?? 50 + 40 * Math.sin(seq / 5000);
  const base = 3200 + soc * 1.5 + (o.offsetMv ?? 0);
  const cellsMv = Array.from({ length: n }, (_, i) => Math.round(base + ((seq + i * 7) % 11) - 5));
  const stats = cellStats(cellsMv);
  const currentMa = o.currentMa ?? Math.round(20_000 * Math.sin(seq / 300));
  const temps = o.tempsDeciC ?? [250 + (seq % 7), 260, null];
  const numeric = temps.filter((t): t is number => t !== null);
  const packMv = cellsMv.reduce((a, b) => a + b, 0);
  const faults = o.faults ?? [];
  const snap: BmsSnapshot = {
    seq,
    timestampMs: tMs,
    measurements: {
      timestampMs: tMs,
      valid: true,
      sampleAgeMs: 0,
      cellVoltagesMv: cellsMv,
      cells: stats,
      packVoltageMv: packMv,
      packCurrentMa: currentMa,
      packPowerW: (packMv / 1000) * (currentMa / 1000),
      temperaturesDeciC: temps,
      minTempDeciC: numeric.length ? Math.min(...numeric) : null,
      minTempIndex: 0,
      maxTempDeciC: numeric.length ? Math.max(...numeric) : null,
      maxTempIndex: 1,
      boardTempDeciC: 300,
      sensorFaults: [],
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: [],
    },
    estimates: {
      socPct: soc,
      reportedSocPct: soc,
      sohPct: 100,
      capacityAh: 100,
      remainingAh: soc,
      remainingWh: soc * 51.2,
      runtimeS: null,
      timeToFullS: null,
      fullConfirmed: false,
      estimator: "coulomb" as const,
      counters: {
        chargeInAh: seq / 1000,
        chargeOutAh: seq / 2000,
        energyInWh: seq / 20,
        energyOutWh: seq / 40,
        equivalentCycles: seq / 200_000,
      },
    },
    protection: {
      state: o.state ?? (currentMa > 0 ? "charging" : currentMa < 0 ? "discharging" : "standby"),
      fets: { chg: faults.length === 0, dsg: true },
      faults,
      limits: {
        cvlMv: 57_600,
        cclMa: 50_000,
        dclMa: 100_000,
        cvlBinding: "config",
        cclBinding: "config",
        dclBinding: "config",
      },
      chargeAllowed: faults.length === 0,
      dischargeAllowed: true,
    },
    balance: { cells: [], reason: "idle", timeToBalanceS: null },
    driver: {
      capabilities: {
        model: "synthetic",
        cellCount: n,
        temperatureSensorCount: temps.length,
        measuresCurrent: true,
        measuresPackVoltage: true,
        measuresBoardTemp: true,
        balancing: null,
        hardwareProtections: [],
        controlsFets: true,
      },
      appliedLimits: null,
    },
    loop: { ticks: seq, overruns: 0, tickErrors: 0, periodMs: 250, lastTickMs: 0.1, maxTickMs: 0.2 },
    remote: { remoteMode: false, disconnectRequested: false, lastHeartbeatMs: null },
  };
  return Object.freeze(snap);
}

/** A minimal event source with the Bms's listener API and a settable exported state. */
export class SyntheticSource implements RecordableBms {
  private readonly snapshotListeners = new Set<(s: BmsSnapshot) => void>();
  private readonly eventListeners = new Set<(e: BmsEvent) => void>();
  state: { monitor: unknown; protection: unknown } = { monitor: null, protection: null };

  onSnapshot(listener: (s: BmsSnapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  onEvent(listener: (e: BmsEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  exportState(): { monitor: unknown; protection: unknown } {
    return this.state;
  }

  publish(s: BmsSnapshot): void {
    for (const l of this.snapshotListeners) l(s);
  }

  emit(e: BmsEvent): void {
    for (const l of this.eventListeners) l(e);
  }
}

export interface HistoryFeed {
  readonly days: number;
  readonly cells?: number;
  /** The last day is fed at one snapshot per second (the per-second window); earlier days per minute. */
  readonly perSecondDays?: number;
  /** Simulated time between commits: per-minute stretches (default 1 h) and per-second ones (60 s). */
  readonly commitEveryMs?: number;
  readonly perSecondCommitEveryMs?: number;
  /** Called after every commit of a per-minute stretch, e.g. to sample the file size. */
  readonly onHour?: (hour: number) => void;
}

/**
 * Feeds a recorder a long stretch of history fast: one snapshot per minute (what the minute
 * aggregates keep), one per second for the final `perSecondDays`, a few events a day, and a
 * commit per simulated hour. The clock must be the recorder's ManualClock.
 */
export function feedHistory(
  src: SyntheticSource,
  recorder: { flush(): boolean },
  clock: { nowMs(): number; advance(ms: number): void },
  feed: HistoryFeed,
): { snapshots: number; events: number } {
  const cells = feed.cells ?? 16;
  const perSecondFromMs = clock.nowMs() + (feed.days - (feed.perSecondDays ?? 1)) * 86_400_000;
  const endMs = clock.nowMs() + feed.days * 86_400_000;
  let seq = 0;
  let events = 0;
  const commitMs = feed.commitEveryMs ?? 3_600_000;
  const perSecondCommitMs = feed.perSecondCommitEveryMs ?? 60_000;
  let nextHourMs = clock.nowMs() + commitMs;
  let hour = 0;
  while (clock.nowMs() < endMs) {
    const t = clock.nowMs();
    const stepMs = t >= perSecondFromMs ? 1000 : 60_000;
    seq++;
    src.publish(syntheticSnapshot(seq, t, { cells }));
    // A mains cycle every 6 h: a state change and an under-voltage warning that comes and goes.
    if (t % 21_600_000 < stepMs) {
      src.emit({ type: "state", tMs: t, from: "charging", to: "discharging", reason: "mains lost" });
      src.emit({
        type: "fault",
        tMs: t,
        code: "cell_uv",
        level: "warning",
        action: "raised",
        value: 2950,
        limit: 3000,
      });
      src.emit({
        type: "fault",
        tMs: t,
        code: "cell_uv",
        level: "warning",
        action: "cleared",
        value: 3050,
        limit: 3000,
      });
      events += 3;
    }
    if (t % 86_400_000 < stepMs) {
      src.emit({
        type: "command",
        tMs: t,
        source: "modbus",
        command: `self-test ${seq}`,
        accepted: true,
        detail: "",
      });
      events++;
    }
    clock.advance(stepMs);
    // Per-second stretches commit more often (the real recorder commits every second).
    if (stepMs === 1000 && clock.nowMs() % perSecondCommitMs === 0) recorder.flush();
    if (clock.nowMs() >= nextHourMs) {
      recorder.flush();
      nextHourMs += commitMs;
      feed.onHour?.(hour++);
    }
  }
  recorder.flush();
  return { snapshots: seq, events };
}
