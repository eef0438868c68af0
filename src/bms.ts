/**
 * The control loop: read → validate/estimate (monitor) → protect → balance → actuate →
 * publish, on absolute deadlines. The loop owns no safety logic of its own; it sequences
 * the stages, contains failures and executes their decisions.
 */
import type { BmsConfig } from "./config/schema.js";
import { BmsError, toBmsError } from "./core/errors.js";
import type { BmsEvent } from "./core/events.js";
import type { ExternalFaultCode } from "./core/faults.js";
import type { FetState } from "./core/fets.js";
import type { Logger } from "./core/logger.js";
import { type BmsRequest, RequestQueue } from "./core/requests.js";
import type { BmsSnapshot, LoopStats } from "./core/snapshot.js";
import type { BalanceStage, MonitorStage, ProtectionStage } from "./core/stages.js";
import type { AfeDriver, AppliedHardwareLimits, HardwareLimits, Sample } from "./hal/afe.js";
import type { ActiveFault, ProtectionView } from "./protection/types.js";
import type { Clock } from "./time/clock.js";

/** After this many consecutive failed ticks the loop opens both FETs (≈2 s at 250 ms). */
export const MAX_CONSECUTIVE_TICK_ERRORS = 8;

export interface BmsOptions {
  readonly config: BmsConfig;
  readonly driver: AfeDriver;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly monitor: MonitorStage;
  readonly protection: ProtectionStage;
  readonly balance: BalanceStage;
  /** CPU time source for tick-duration statistics (defaults to performance.now). */
  readonly cpuNowMs?: () => number;
}

export type SnapshotListener = (s: BmsSnapshot) => void;
export type EventListener = (e: BmsEvent) => void;

/** What the pack is left in when the loop stops or keeps failing: no bleeding, both paths open. */
export const SAFE_STATE: { readonly fets: FetState; readonly balancing: readonly number[] } = {
  fets: { chg: false, dsg: false },
  balancing: [],
};

/** The thresholds the AFE enforces in hardware, from the same config levels protection uses. */
export function hardwareLimitsFromConfig(config: BmsConfig): HardwareLimits {
  const p = config.protection;
  // The config schema requires these trip levels (checkProtection).
  const ov = p.cellOv.trip!;
  const uv = p.cellUv.trip!;
  const ocd = p.ocDischarge.trip!;
  const occ = p.ocCharge.trip!;
  return {
    cellOvMv: ov.limit,
    cellOvDelayMs: ov.delayMs,
    cellUvMv: uv.limit,
    cellUvDelayMs: uv.delayMs,
    ocDischargeMa: ocd.limit,
    ocDischargeDelayMs: ocd.delayMs,
    shortCircuitMa: p.shortCircuit.limitMa,
    shortCircuitDelayUs: p.shortCircuit.delayUs,
    ocChargeMa: occ.limit,
    ocChargeDelayMs: occ.delayMs,
  };
}

const sameCells = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

export class Bms {
  readonly config: BmsConfig;
  readonly requests = new RequestQueue();
  private readonly driver: AfeDriver;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly monitor: MonitorStage;
  private readonly protection: ProtectionStage;
  private readonly balance: BalanceStage;
  private readonly cpuNowMs: () => number;
  private readonly snapshotListeners = new Set<SnapshotListener>();
  private readonly eventListeners = new Set<EventListener>();

  private latest: BmsSnapshot | null = null;
  private applied: AppliedHardwareLimits | null = null;
  private commandedFets: FetState | null = null;
  /** Null when unknown (after a failed command): the next plan is sent whatever it is. */
  private commandedBalancing: readonly number[] | null = [];
  private lastTickMs: number | null = null;
  private stopRequested = false;
  private running: Promise<void> | null = null;
  private consecutiveErrors = 0;
  /** Problems outside the pack (the recorder cannot write, …): reported, applied on the next tick. */
  private readonly externalPending = new Map<ExternalFaultCode, { active: boolean; detail: string }>();
  private readonly externalActive = new Map<ExternalFaultCode, ActiveFault>();
  private actuationFailing = false;
  private remoteDisconnect = false;
  private lastHeartbeatMs: number | null = null;
  private stats = {
    ticks: 0,
    overruns: 0,
    skippedTicks: 0,
    tickErrors: 0,
    actuationErrors: 0,
    lastTickMs: 0,
    maxTickMs: 0,
  };

  constructor(options: BmsOptions) {
    this.config = options.config;
    this.driver = options.driver;
    this.clock = options.clock;
    this.log = options.logger.child("loop");
    this.monitor = options.monitor;
    this.protection = options.protection;
    this.balance = options.balance;
    this.cpuNowMs = options.cpuNowMs ?? (() => performance.now());
  }

  get snapshot(): BmsSnapshot | null {
    return this.latest;
  }

  get loopStats(): LoopStats & { readonly skippedTicks: number } {
    return { ...this.stats, periodMs: this.config.loop.periodMs };
  }

  get appliedLimits(): AppliedHardwareLimits | null {
    return this.applied;
  }

  /** The stages' JSON-serialisable state (estimator, latched faults) for the recorder to persist. */
  exportState(): { readonly monitor: unknown; readonly protection: unknown } {
    return { monitor: this.monitor.exportState(), protection: this.protection.exportState() };
  }

  onSnapshot(listener: SnapshotListener): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * Reports (or clears) a warning-level fault from outside the pack, e.g. `recording` when the
   * database cannot be written. It shows in the snapshot, the events and Modbus, and never
   * blocks a path: it says nothing about the cells.
   */
  setExternalFault(code: ExternalFaultCode, active: boolean, detail = ""): void {
    this.externalPending.set(code, { active, detail });
  }

  private applyExternalFaults(view: ProtectionView, nowMs: number): ProtectionView {
    for (const [code, { active, detail }] of this.externalPending) {
      const had = this.externalActive.get(code);
      if (active && !had) {
        const f: ActiveFault = {
          code,
          level: "warning",
          latched: false,
          sinceMs: nowMs,
          value: 1,
          limit: 0,
          blocksCharge: false,
          blocksDischarge: false,
          detail,
        };
        this.externalActive.set(code, f);
        this.emit({
          type: "fault",
          tMs: nowMs,
          code,
          level: "warning",
          action: "raised",
          value: 1,
          limit: 0,
          detail,
        });
      } else if (!active && had) {
        this.externalActive.delete(code);
        this.emit({
          type: "fault",
          tMs: nowMs,
          code,
          level: "warning",
          action: "cleared",
          value: 0,
          limit: 0,
          detail,
        });
      }
    }
    this.externalPending.clear();
    if (this.externalActive.size === 0) return view;
    return { ...view, faults: [...view.faults, ...this.externalActive.values()] };
  }

  /** Queues an external request for the next tick; false when the queue is full. */
  request(r: BmsRequest): boolean {
    return this.requests.push(r);
  }

  /** Queues several requests that belong together (one Modbus write): all or none. */
  requestAll(rs: readonly BmsRequest[]): boolean {
    return this.requests.pushAll(rs);
  }

  private emit(e: BmsEvent): void {
    for (const l of this.eventListeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error(`event listener failed: ${(err as Error).message}`);
      }
    }
  }

  /** Writes the hardware protection thresholds and starts with bleeders off. */
  async start(): Promise<void> {
    this.applied = await this.driver.configure(hardwareLimitsFromConfig(this.config));
    for (const note of this.applied.notes) this.log.info(`hardware limit: ${note}`);
    await this.driver.setBalancing([]);
    this.commandedBalancing = [];
    this.emit({
      type: "lifecycle",
      tMs: this.clock.nowMs(),
      what: "start",
      detail: `${this.driver.capabilities.model}, ${this.config.pack.cellsInSeries} cells, period ${this.config.loop.periodMs} ms`,
    });
  }

  /** One full tick. Never throws: failures are counted and the pack is driven to a safe state. */
  async tick(): Promise<BmsSnapshot | null> {
    const cpu0 = this.cpuNowMs();
    try {
      const snap = await this.runTick();
      this.consecutiveErrors = 0;
      return snap;
    } catch (err) {
      const e = toBmsError(err);
      this.stats.tickErrors++;
      this.consecutiveErrors++;
      this.log.error(`tick failed (${e.code}): ${e.message}`);
      this.emit({ type: "error", tMs: this.clock.nowMs(), where: "tick", code: e.code, message: e.message });
      await this.failSafe();
      return null;
    } finally {
      const dt = this.cpuNowMs() - cpu0;
      this.stats.ticks++;
      this.stats.lastTickMs = dt;
      if (dt > this.stats.maxTickMs) this.stats.maxTickMs = dt;
    }
  }

  private async runTick(): Promise<BmsSnapshot> {
    const nowMs = this.clock.nowMs();
    const elapsedMs = this.lastTickMs === null ? 0 : nowMs - this.lastTickMs;
    this.lastTickMs = nowMs;
    const requests = this.requests.drain();
    for (const r of requests) this.takeRequest(r, nowMs);

    let sample: Sample | null = null;
    let readError: BmsError | null = null;
    try {
      sample = await this.driver.read();
    } catch (err) {
      readError = toBmsError(err, "AFE_COMMS");
    }

    const mon = this.monitor.update({ nowMs, sample, readError });
    for (const e of mon.events) this.emit(e);
    const prot = this.protection.step({
      nowMs,
      elapsedMs,
      measurements: mon.measurements,
      estimates: mon.estimates,
      requests,
    });
    for (const e of prot.events) this.emit(e);
    const plan = this.balance.plan({
      nowMs,
      elapsedMs,
      measurements: mon.measurements,
      estimates: mon.estimates,
      protection: prot.view,
    });

    // Actuate: maintenance disconnect overrides the verdict only towards safety (open).
    const fets: FetState = this.remoteDisconnect ? { chg: false, dsg: false } : prot.view.fets;
    // A chip that opened a FET by itself (hardware trip) is told again once the verdict allows.
    const hw = mon.measurements.fets;
    const drifted = sample !== null && (hw.chg !== fets.chg || hw.dsg !== fets.dsg);
    // Before any reading the FETs' state is unknown: send nothing rather than a guess, so a
    // controller restart with a failing first read never drops the UPS load (the AFE's
    // hardware protections guard the cells meanwhile).
    const fetsUnknown = prot.view.state === "init" && sample === null && !this.remoteDisconnect;
    try {
      if (prot.clearHardwareFaults.length > 0) await this.driver.clearFaults(prot.clearHardwareFaults);
      if (!fetsUnknown)
        await this.applyFets(
          fets,
          nowMs,
          this.remoteDisconnect
            ? "remote disconnect"
            : `protection: ${prot.view.state}${prot.view.fetReason === undefined ? "" : `; ${prot.view.fetReason}`}`,
          drifted,
        );
      await this.applyBalancing(plan.cells, nowMs, plan.reason);
      if (this.actuationFailing) this.log.info("driver takes commands again");
      this.actuationFailing = false;
    } catch (err) {
      // The chip did not take the command (bus down): that is the comms policy's business
      // (protection sees the failing reads), not a software failure of the tick. Forget what
      // the chip holds so that every command is sent again once it answers.
      const e = toBmsError(err, "AFE_COMMS");
      this.stats.actuationErrors++;
      this.commandedFets = null;
      this.commandedBalancing = null;
      // One event per outage, not one per tick; the count is in the loop stats.
      if (!this.actuationFailing)
        this.emit({ type: "error", tMs: nowMs, where: "actuate", code: e.code, message: e.message });
      this.actuationFailing = true;
    }

    const snap: BmsSnapshot = Object.freeze({
      seq: this.stats.ticks + 1,
      timestampMs: nowMs,
      measurements: mon.measurements,
      estimates: mon.estimates,
      protection: this.applyExternalFaults(prot.view, nowMs),
      balance: plan,
      driver: { capabilities: this.driver.capabilities, appliedLimits: this.applied },
      loop: { ...this.stats, periodMs: this.config.loop.periodMs },
      remote: {
        remoteMode: this.config.modbus.remoteMode,
        disconnectRequested: this.remoteDisconnect,
        lastHeartbeatMs: this.lastHeartbeatMs,
      },
    });
    this.latest = snap;
    for (const l of this.snapshotListeners) {
      try {
        l(snap);
      } catch (err) {
        this.log.error(`snapshot listener failed: ${(err as Error).message}`);
      }
    }
    return snap;
  }

  private takeRequest(r: BmsRequest, nowMs: number): void {
    let detail = "";
    switch (r.kind) {
      case "remote_connect":
        this.remoteDisconnect = !r.connect;
        detail = r.connect ? "connect" : "disconnect (maintenance)";
        break;
      case "heartbeat":
        this.lastHeartbeatMs = nowMs;
        detail = String(r.value);
        break;
      case "alarm_reset":
        detail = "acknowledge latched faults whose condition is gone";
        break;
      case "set_limits":
        detail = JSON.stringify({ cclMa: r.cclMa, dclMa: r.dclMa, socReservePct: r.socReservePct });
        break;
    }
    // Heartbeats are frequent and carry no decision; everything else is an event.
    if (r.kind !== "heartbeat")
      this.emit({ type: "command", tMs: nowMs, source: r.source, command: r.kind, accepted: true, detail });
  }

  private async applyFets(fets: FetState, nowMs: number, reason: string, resend = false): Promise<void> {
    const prev = this.commandedFets;
    const same = prev !== null && prev.chg === fets.chg && prev.dsg === fets.dsg;
    if (same && !resend) return;
    await this.driver.setFets(fets);
    this.commandedFets = fets;
    if (same) return;
    this.emit({ type: "fets", tMs: nowMs, chg: fets.chg, dsg: fets.dsg, reason });
  }

  private async applyBalancing(cells: readonly number[], nowMs: number, reason: string): Promise<void> {
    if (this.commandedBalancing !== null && sameCells(cells, this.commandedBalancing)) return;
    await this.driver.setBalancing(cells);
    this.commandedBalancing = [...cells];
    this.emit({ type: "balance", tMs: nowMs, cells: [...cells], reason });
  }

  /**
   * After a failed tick: bleeders off and charging stopped at once; the discharge path stays
   * as it was (the UPS load must not drop for one glitch) until failures persist, then opens.
   * The AFE's own hardware protections keep guarding the cells meanwhile.
   */
  private async failSafe(): Promise<void> {
    const nowMs = this.clock.nowMs();
    const persistent = this.consecutiveErrors >= MAX_CONSECUTIVE_TICK_ERRORS;
    const fets: FetState = { chg: false, dsg: persistent ? false : (this.commandedFets?.dsg ?? false) };
    try {
      await this.applyBalancing([], nowMs, "tick failed");
      await this.applyFets(fets, nowMs, persistent ? "repeated tick failures" : "tick failed");
    } catch (err) {
      this.log.error(`could not reach safe state: ${(err as Error).message}`);
    }
  }

  /**
   * Runs ticks on absolute deadlines until stop() (or `maxTicks`). A tick that overruns its
   * period is counted and the missed slots are skipped, so the schedule never drifts.
   */
  run(options: { maxTicks?: number } = {}): Promise<void> {
    if (this.running) throw new BmsError("INTERNAL", "Bms.run called twice");
    this.stopRequested = false;
    const periodMs = this.config.loop.periodMs;
    const loop = async (): Promise<void> => {
      let next = this.clock.nowMs();
      let done = 0;
      while (!this.stopRequested && (options.maxTicks === undefined || done < options.maxTicks)) {
        await this.tick();
        done++;
        next += periodMs;
        const now = this.clock.nowMs();
        if (now > next) {
          const missed = Math.ceil((now - next) / periodMs);
          this.stats.overruns++;
          this.stats.skippedTicks += missed;
          next += missed * periodMs;
          this.log.warn(() => `tick overran its period by ${(now - next + missed * periodMs).toFixed(1)} ms`);
        }
        if (this.stopRequested || (options.maxTicks !== undefined && done >= options.maxTicks)) break;
        await this.clock.sleepUntil(next);
      }
    };
    this.running = loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Asks the loop to finish its current tick and return. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Stops the loop, leaves the pack in SAFE_STATE and closes the driver. */
  async shutdown(reason = "shutdown"): Promise<void> {
    this.stop();
    if (this.running) await this.running;
    const nowMs = this.clock.nowMs();
    try {
      await this.applyBalancing(SAFE_STATE.balancing, nowMs, reason);
      await this.applyFets(SAFE_STATE.fets, nowMs, reason);
    } finally {
      this.emit({ type: "lifecycle", tMs: nowMs, what: "stop", detail: reason });
      await this.driver.close();
    }
  }
}
