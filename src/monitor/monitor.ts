/**
 * The monitor stage: validates each sample (sensor faults per channel, the first-valid
 * gate), computes statistics and counters, and runs the estimators (SOC, SOH, runtime).
 * Time comes only from the input; nothing here reads the wall clock.
 */
import { CELL_PRESETS, socFromOcvPct } from "../config/cells.js";
import type { BmsConfig } from "../config/schema.js";
import type { BmsEvent, EstimateChange } from "../core/events.js";
import type { SensorFault } from "../core/faults.js";
import type { Logger } from "../core/logger.js";
import type { MonitorInput, MonitorOutput, MonitorStage } from "../core/stages.js";
import type { Sample } from "../hal/afe.js";
import { createCellModel } from "./model.js";
import { type PersistedState, persistedStateSchema, STATE_VERSION, type StateSink } from "./persist.js";
import { simulateRuntimeS } from "./runtime.js";
import { type AnchorHit, SocEstimator } from "./soc.js";
import { createSohState, onAnchor, onCurrentStep, type SohState } from "./soh.js";
import {
  addToCounters,
  cellStats,
  countersView,
  createCounters,
  type MutableCounters,
  tempStats,
} from "./stats.js";
import type { Estimates, Measurements } from "./types.js";
import { checkChannels, createStuckTracker } from "./validate.js";

export { cellStats } from "./stats.js";

export interface MonitorOptions {
  /** State saved by a previous run (file or recorder); validated, ignored with a warning if unusable. */
  readonly restoredState?: unknown;
  /** Receives the state every `monitor.persistEveryMs` of sample time and after each anchor. */
  readonly stateSink?: StateSink;
  readonly logger?: Logger;
  /** Overrides config.monitor.estimator (the replay tool). */
  readonly estimator?: "coulomb" | "ekf";
  /** Starting SOC when there is no restored state (otherwise it comes from the first valid voltage). */
  readonly initialSocPct?: number;
}

/** Runtime is not searched beyond this, s. */
const RUNTIME_MAX_S = 7 * 86_400;
const POWER_TAU_S = 20;
/** The learnt offset creeps every sample while the FETs are open; report it only once it has moved this much, mA. */
const OFFSET_REPORT_MIN_MA = 5;
/** Shared by every quiet tick: the loop only iterates it, so one frozen array serves all. */
const NO_EVENTS: readonly BmsEvent[] = Object.freeze([]);
const ANCHOR_CHANGE: Record<AnchorHit["kind"], EstimateChange> = {
  full: "full-anchor",
  empty: "empty-anchor",
  ocv: "ocv-correction",
};

function gatesFirstSample(f: SensorFault): boolean {
  return f.channel === "afe" || f.channel === "current" || f.channel.startsWith("cell:");
}

export function createMonitor(config: BmsConfig, options: MonitorOptions = {}): MonitorStage {
  const mc = config.monitor;
  const pl = mc.plausibility;
  const log = options.logger?.child("monitor");
  const ratedAh = config.pack.capacityAh;
  const nCells = config.pack.cellsInSeries;
  const preset = CELL_PRESETS[config.pack.cellPreset];
  const model = createCellModel(preset);
  const estimatorKind = options.estimator ?? mc.estimator;
  const fullTargetPct = Math.min(100, socFromOcvPct(preset.ocv, config.protection.charge.chargeVoltageMv));

  let restored: PersistedState | null = null;
  if (options.restoredState !== undefined && options.restoredState !== null) {
    const r = persistedStateSchema.safeParse(options.restoredState);
    if (r.success) restored = r.data;
    else log?.warn(`ignoring unusable estimator state: ${r.error.issues[0]?.message ?? "invalid"}`);
  }

  const soh: SohState = restored ? { ...restored.soh } : createSohState(ratedAh);
  const counters: MutableCounters = restored ? { ...restored.counters } : createCounters();
  let learnedOffsetMa = restored?.learnedOffsetMa ?? 0;
  let soc: SocEstimator | null = null;
  const makeSoc = (socPct: number, sigmaPct: number): SocEstimator =>
    new SocEstimator(
      mc,
      model,
      estimatorKind === "ekf",
      soh.capacityAh,
      soh.rScale,
      SocEstimator.initialState(socPct, sigmaPct),
    );
  if (restored) {
    soc = makeSoc(restored.socPct, restored.uncertaintyPct);
    soc.restoreFull(restored.fullConfirmed);
    Object.assign(soc.st.pol, restored.pol);
    Object.assign(soc.st.ekf, restored.ekf);
  } else if (options.initialSocPct !== undefined) {
    soc = makeSoc(options.initialSocPct, 20);
  }

  const stuck = pl.stuckAfterMs > 0 ? createStuckTracker(nCells + 64) : null;
  let last: Sample | null = null;
  let everValid = false;
  let lastSampleTs: number | null = null;
  let prevMeanMv = Number.NaN;
  let prevCurrentA = Number.NaN;
  let prevCellsOk = false;
  let powerW = 0;
  let runtimeS: number | null = null;
  let runtimeAtMs = 0;
  let lastPersistMs: number | null = null;
  let lastAnchor: { kind: AnchorHit["kind"]; tMs: number } | null = null;
  let lastTMs = 0;
  let wasOpen = false;
  let modelMv = Number.NaN;
  let reportedOffsetMa = learnedOffsetMa;
  const offsetReportMa = Math.max(OFFSET_REPORT_MIN_MA, mc.currentDeadbandMa / 2);
  /** A restore happens before the first tick; its event goes out with the first update. */
  let pendingStart: { what: EstimateChange; detail: string } | null = restored
    ? {
        what: "restored",
        detail: `estimator state restored: SOC ${restored.socPct.toFixed(1)} % (±${restored.uncertaintyPct.toFixed(1)} %), capacity ${restored.soh.capacityAh.toFixed(2)} Ah${restored.fullConfirmed ? ", full confirmed" : ""}`,
      }
    : null;

  const exportState = (): PersistedState => ({
    version: STATE_VERSION,
    tMs: lastTMs,
    socPct: soc ? soc.st.socPct : 0,
    fullConfirmed: soc?.st.fullConfirmed ?? false,
    uncertaintyPct: soc ? soc.st.uncertaintyPct : 100,
    pol: soc ? { ...soc.st.pol } : { v1: 0, v2: 0, h: 0 },
    ekf: soc ? { ...soc.st.ekf } : { pSs: 400, pSv: 0, pVv: 1e-4 },
    soh: { ...soh },
    counters: { ...counters },
    learnedOffsetMa,
  });

  // This tick's estimate events: allocated only on a tick where the estimator state changed.
  // They replace the info log lines: the loop's listeners (run CLI, recorder, sim) report them.
  let events: BmsEvent[] | null = null;
  const emit = (tMs: number, what: EstimateChange, deltaPct: number, detail: string): void => {
    const e: BmsEvent = { type: "estimate", tMs, what, socPct: soc ? soc.st.socPct : 0, deltaPct, detail };
    if (events) events.push(e);
    else events = [e];
  };

  const update = (input: MonitorInput): MonitorOutput => {
    const nowMs = input.nowMs;
    events = null;
    if (pendingStart && soc) {
      emit(nowMs, pendingStart.what, 0, pendingStart.detail);
      pendingStart = null;
    }
    const fresh = input.sample;
    if (fresh) last = fresh;
    const s = last;
    const faults: SensorFault[] = [];
    const ageMs = s ? nowMs - s.timestampMs : Number.POSITIVE_INFINITY;
    if (input.readError) faults.push({ channel: "afe", kind: "driver", detail: input.readError.message });
    let current = fresh !== null && ageMs <= mc.staleAfterMs;
    if (!s) faults.push({ channel: "afe", kind: "missing", detail: "no sample yet" });
    else if (ageMs > mc.staleAfterMs)
      faults.push({ channel: "afe", kind: "stale", detail: `sample is ${ageMs} ms old` });
    else if (!fresh && !input.readError)
      faults.push({ channel: "afe", kind: "missing", detail: "no sample this tick" });
    if (s && s.cellVoltagesMv.length !== nCells) {
      faults.push({
        channel: "afe",
        kind: "missing",
        detail: `expected ${nCells} cells, sample has ${s.cellVoltagesMv.length}`,
      });
      current = false;
    }
    let cellsOk = false;
    let currentOk = false;
    if (s) {
      const chk = checkChannels(s, pl, current ? stuck : null, faults);
      cellsOk = chk.cellsOk;
      currentOk = chk.currentOk;
    }
    // The gate opens on what the cell protections need: the link, every cell and the current.
    // A dead thermistor or a pack-voltage mismatch stays a per-channel flag for protection to
    // act on; holding the gate shut for it would leave the cells unprotected (no decisions
    // are made before the first valid sample).
    if (current && !everValid && !faults.some(gatesFirstSample)) {
      everValid = true;
      log?.info("first valid sample: measurements trusted from now on");
    }
    const valid = current && everValid;

    const cells = s?.cellVoltagesMv ?? [];
    const stats = cellStats(cells);
    const temps = s?.temperaturesDeciC ?? [];
    const ts = tempStats(temps, pl.tempMinDeciC, pl.tempMaxDeciC);
    const offsetMa = mc.currentOffsetMa + learnedOffsetMa;
    const rawMa = s?.packCurrentMa ?? Number.NaN;
    const currentMa = rawMa - offsetMa;
    const sumMv = stats.meanMv * (Number.isFinite(stats.meanMv) ? cells.length : 0);
    const packMv = s?.packVoltageMv ?? sumMv;
    const tempC = ts.meanDeciC === null ? 25 : ts.meanDeciC / 10;

    if (valid && s) {
      lastTMs = s.timestampMs;
      let dtS = lastSampleTs === null ? 0 : (s.timestampMs - lastSampleTs) / 1000;
      if (dtS > mc.staleAfterMs / 1000) dtS = mc.staleAfterMs / 1000;
      if (dtS > 0 || lastSampleTs === null) lastSampleTs = s.timestampMs;
      const iRawA = currentOk ? currentMa / 1000 : 0;
      const iA = Math.abs(currentMa) < mc.currentDeadbandMa ? 0 : iRawA;

      // Both FETs open (and already open last sample): no current can flow, so what the sensor
      // reads is its offset. Small readings only, so a transient at the switching edge cannot skew it.
      const open = !s.fets.chg && !s.fets.dsg;
      if (mc.autoZeroCurrent && currentOk && open && wasOpen && Math.abs(currentMa) < 0.01 * ratedAh * 1000)
        learnedOffsetMa += 0.01 * (rawMa - offsetMa);
      wasOpen = open;

      if (!soc) {
        // Cold start without saved state: the voltage is the only evidence we have.
        const v0 = cellsOk ? stats.meanMv - iA * model.r0Ohm(50, tempC) * 1000 : Number.NaN;
        const s0 = Number.isFinite(v0) ? socFromOcvPct(preset.ocv, v0) : 50;
        const slope = Math.max(model.slopeMvPerPct(s0), 0.05);
        const sigma = Math.min(30, Math.max(2, (5 + preset.hysteresisMv) / slope));
        soc = makeSoc(s0, sigma);
        const why = `no saved estimator state: SOC ${s0.toFixed(1)} % from cell voltage (±${sigma.toFixed(1)} %)`;
        log?.debug(why);
        emit(s.timestampMs, "cold-start", 0, why);
      }
      soc.capacityAh = soh.capacityAh;
      soc.rScale = soh.rScale;
      if (Math.abs(learnedOffsetMa - reportedOffsetMa) >= offsetReportMa) {
        const wasMa = reportedOffsetMa;
        reportedOffsetMa = learnedOffsetMa;
        emit(
          s.timestampMs,
          "offset-zeroed",
          0,
          `current offset auto-zeroed with FETs open: learnt ${wasMa.toFixed(0)} -> ${learnedOffsetMa.toFixed(0)} mA (total ${(mc.currentOffsetMa + learnedOffsetMa).toFixed(0)} mA)`,
        );
      }

      if (dtS > 0) {
        if (currentOk) addToCounters(counters, iA, packMv / 1000, dtS);
        const wasFull = soc.st.fullConfirmed;
        const hit = soc.step({
          dtS,
          currentA: iA,
          currentOk,
          meanCellMv: stats.meanMv,
          minCellMv: stats.minMv,
          cellsOk,
          tempC,
          tMs: s.timestampMs,
        });
        if (currentOk) soh.ahSinceAnchor += (iA * (iA > 0 ? preset.coulombicEfficiency : 1) * dtS) / 3600;
        if (hit) {
          if (hit.applied) {
            lastAnchor = { kind: hit.kind, tMs: s.timestampMs };
            emit(
              s.timestampMs,
              ANCHOR_CHANGE[hit.kind],
              hit.deltaPct,
              `${hit.kind} anchor: voltage says ${hit.socPct.toFixed(1)} % (±${hit.sigmaPct.toFixed(1)} %), SOC ${(soc.st.socPct - hit.deltaPct).toFixed(1)} -> ${soc.st.socPct.toFixed(1)} %${hit.kind === "empty" && wasFull ? ", full cleared" : ""}`,
            );
          }
          const capWasAh = soh.capacityAh;
          if (onAnchor(soh, hit, tempC, ratedAh)) {
            const why = `capacity learnt: ${capWasAh.toFixed(2)} -> ${soh.capacityAh.toFixed(2)} Ah (SOH ${((100 * soh.capacityAh) / ratedAh).toFixed(1)} %) from the ${hit.kind} anchor`;
            log?.debug(why);
            emit(s.timestampMs, "capacity-learnt", 0, why);
          }
          log?.debug(`${hit.kind} anchor: SOC ${hit.socPct.toFixed(1)} %`);
          lastPersistMs = null;
        }
        if (wasFull && !soc.st.fullConfirmed && hit?.kind !== "empty")
          emit(
            s.timestampMs,
            "full-cleared",
            0,
            `full no longer confirmed: discharged to ${soc.st.socPct.toFixed(1)} %`,
          );
        // Resistance from a current step between consecutive samples.
        if (
          cellsOk &&
          prevCellsOk &&
          currentOk &&
          dtS <= 1.5 &&
          Math.abs(iRawA - prevCurrentA) >= 0.2 * ratedAh
        )
          onCurrentStep(
            soh,
            stats.meanMv - prevMeanMv,
            iRawA - prevCurrentA,
            model.r0Ohm(soc.st.socPct, tempC),
          );
      }
      prevMeanMv = stats.meanMv;
      prevCurrentA = iRawA;
      prevCellsOk = cellsOk && currentOk;
      modelMv = soc.terminalMv(soc.st.socPct, iA, tempC);

      // Runtime: constant-power forward simulation, refreshed every runtimeEveryMs.
      const pNowW = currentOk ? -(packMv / 1000) * iA : 0;
      if (dtS > 0) {
        const k = 1 - Math.exp(-dtS / POWER_TAU_S);
        powerW =
          Math.abs(pNowW - powerW) > 0.25 * Math.max(Math.abs(powerW), 1)
            ? pNowW
            : powerW + k * (pNowW - powerW);
      }
      const discharging = currentOk && currentMa < -mc.rest.currentMa && powerW > 0;
      if (!discharging) runtimeS = null;
      else if (runtimeS === null || s.timestampMs - runtimeAtMs >= mc.runtimeEveryMs) {
        const tMinC = ts.minDeciC === null ? tempC : ts.minDeciC / 10;
        runtimeS = simulateRuntimeS(model, {
          socPct: soc.st.socPct,
          v1: soc.st.pol.v1,
          v2: soc.st.pol.v2,
          hystMv: soc.hystMv(),
          powerW,
          cellCount: nCells,
          minCellOffsetMv: cellsOk ? stats.minMv - stats.meanMv : 0,
          tempC: tMinC,
          capacityAh: soh.capacityAh * model.capacityFactor(tMinC),
          rScale: soh.rScale,
          cutoffMv: mc.runtimeCutoffMv,
          maxS: RUNTIME_MAX_S,
        });
        runtimeAtMs = s.timestampMs;
      }

      if (
        options.stateSink &&
        (lastPersistMs === null || s.timestampMs - lastPersistMs >= mc.persistEveryMs)
      ) {
        lastPersistMs = s.timestampMs;
        options.stateSink.save(exportState());
      }
    }

    const measurements: Measurements = {
      timestampMs: nowMs,
      valid,
      sampleAgeMs: ageMs,
      cellVoltagesMv: cells,
      cells: stats,
      packVoltageMv: packMv,
      packCurrentMa: currentMa,
      packPowerW: (packMv / 1000) * (currentMa / 1000),
      temperaturesDeciC: temps,
      minTempDeciC: ts.minDeciC,
      minTempIndex: ts.minIndex,
      maxTempDeciC: ts.maxDeciC,
      maxTempIndex: ts.maxIndex,
      boardTempDeciC: s?.boardTempDeciC ?? null,
      sensorFaults: faults,
      hardwareFaults: s?.hardwareFaults ?? [],
      fets: s?.fets ?? { chg: false, dsg: false },
      balancingCells: s?.balancingCells ?? [],
    };
    const socPct = soc ? soc.st.socPct : 0;
    const capAh = soh.capacityAh;
    const sc = mc.reportedScale;
    const reported = Math.min(100, Math.max(0, ((socPct - sc.minPct) / (sc.maxPct - sc.minPct)) * 100));
    const remainingAh = (socPct / 100) * capAh;
    const charging = valid && currentOk && currentMa > mc.rest.currentMa;
    const runtimeNow =
      runtimeS === null || !valid ? null : Math.max(0, runtimeS - (lastTMs - runtimeAtMs) / 1000);
    const estimates: Estimates = {
      socPct,
      reportedSocPct: reported,
      sohPct: (100 * capAh) / ratedAh,
      capacityAh: capAh,
      remainingAh,
      remainingWh: remainingAh * (Number.isFinite(packMv) ? packMv / 1000 : 0),
      runtimeS: runtimeNow,
      timeToFullS: !charging
        ? null
        : soc?.st.fullConfirmed
          ? 0
          : ((Math.max(0, fullTargetPct - socPct) / 100) * capAh * 3600) / (currentMa / 1000),
      fullConfirmed: soc?.st.fullConfirmed ?? false,
      estimator: estimatorKind,
      counters: countersView(counters, ratedAh),
      ready: soc !== null && everValid,
      // The filter trusts its model; nobody should read a SOC as better than half a percent.
      socUncertaintyPct: soc ? Math.max(0.5, soc.st.uncertaintyPct) : 100,
      resistancePct: 100 * soh.rScale,
      lastAnchor,
      modelCellVoltageMv: modelMv,
      currentOffsetMa: offsetMa,
    };
    const tickEvents = events ?? NO_EVENTS;
    events = null;
    return { measurements, estimates, events: tickEvents };
  };

  return { update, exportState };
}
