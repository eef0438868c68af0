/**
 * The balance stage: a thin shell around the pure planner. It keeps what must survive
 * between ticks (rest time, hysteresis and pause memory, the SOC strategy's remaining
 * charge) and adapts the loop's measurements to the planner's input. Time comes only from
 * the tick input; nothing here reads a clock.
 */
import { CELL_PRESETS } from "../config/cells.js";
import type { BmsConfig } from "../config/schema.js";
import type { BalancingCapabilities } from "../core/capabilities.js";
import type { BalanceInput, BalanceStage } from "../core/stages.js";
import {
  bleedDuty,
  bleedResistorOhm,
  createPlannerScratch,
  initialMemory,
  type PlannerInput,
  type PlannerMemory,
  type PlannerPack,
  planBalance,
} from "./planner.js";
import type { BalanceView } from "./types.js";

export interface Balancer extends BalanceStage {
  /** The planner's memory after the last tick (for tests and diagnostics). */
  readonly memory: PlannerMemory;
  /** Time |I| has stayed below the rest threshold, ms. */
  readonly restMs: number;
}

const NO_FAULTED: readonly number[] = Object.freeze([]);

export function createBalancer(config: BmsConfig, capabilities: BalancingCapabilities | null): Balancer {
  const cfg = config.balance;
  const n = config.pack.cellsInSeries;
  const pack: PlannerPack = {
    ocv: CELL_PRESETS[config.pack.cellPreset].ocv,
    capacityAh: config.pack.capacityAh,
    periodMs: config.loop.periodMs,
  };
  const scratch = createPlannerScratch(n);
  const ohm = capabilities ? bleedResistorOhm(capabilities, cfg) : cfg.bleedResistorOhm;
  const duty = capabilities ? bleedDuty(capabilities, cfg, pack) : 0;
  let memory = initialMemory(n);
  let restMs = 0;
  // Decisions follow a low-passed voltage so sensor noise near a threshold does not toggle
  // bleeders; safety checks keep the raw readings.
  const filtered = new Float64Array(n);
  let filterLength = 0;
  const filter = (
    voltagesMv: readonly number[],
    valid: boolean,
    elapsedMs: number,
  ): Float64Array | undefined => {
    if (cfg.filterTimeMs <= 0) return undefined;
    const len = voltagesMv.length;
    let finite = valid && len === n;
    for (let i = 0; finite && i < len; i++) finite = Number.isFinite(voltagesMv[i]);
    if (!finite) {
      filterLength = 0;
      return undefined;
    }
    const alpha = filterLength === n ? 1 - Math.exp(-elapsedMs / cfg.filterTimeMs) : 1;
    for (let i = 0; i < n; i++) filtered[i] = filtered[i]! + alpha * (voltagesMv[i]! - filtered[i]!);
    filterLength = n;
    return filtered;
  };

  /** SOC strategy: the charge the bleeders removed since the last tick comes off the books. */
  const bookBleed = (voltagesMv: readonly number[], elapsedMs: number): void => {
    if (cfg.strategy !== "soc" || memory.selected.length === 0 || elapsedMs <= 0) return;
    const remaining = [...memory.remainingMah];
    for (const c of memory.selected) {
      const vMv = voltagesMv[c];
      const bledMah = ((Number.isFinite(vMv) ? vMv! : 0) / ohm) * duty * (elapsedMs / 3_600_000);
      remaining[c] = Math.max(0, (remaining[c] ?? 0) - bledMah);
    }
    memory = { ...memory, remainingMah: remaining };
  };

  return {
    get memory() {
      return memory;
    },
    get restMs() {
      return restMs;
    },
    plan(input: BalanceInput): BalanceView {
      const m = input.measurements;
      const elapsedMs = Math.max(0, input.elapsedMs);
      const faults = m.sensorFaults;
      let faultedCells = NO_FAULTED;
      let temps = m.temperaturesDeciC;
      let board = m.boardTempDeciC;
      let currentValid = true;
      if (faults.length > 0) {
        const cells: number[] = [];
        const badTemps = new Set<number>();
        for (const f of faults) {
          const [kind, idx] = f.channel.split(":");
          if (kind === "cell") cells.push(Number(idx));
          else if (kind === "temp") badTemps.add(Number(idx));
          else if (kind === "board_temp") board = null;
          else if (kind === "current") currentValid = false;
        }
        faultedCells = cells;
        if (badTemps.size > 0) temps = temps.map((t, k) => (badTemps.has(k) ? null : t));
      }

      bookBleed(m.cellVoltagesMv, elapsedMs);
      restMs =
        currentValid && m.valid && Math.abs(m.packCurrentMa) < cfg.restCurrentMa ? restMs + elapsedMs : 0;

      const plannerInput: PlannerInput = {
        nowMs: input.nowMs,
        valid: m.valid,
        cellVoltagesMv: m.cellVoltagesMv,
        decisionVoltagesMv: filter(m.cellVoltagesMv, m.valid && faultedCells.length === 0, elapsedMs),
        faultedCells,
        temperaturesDeciC: temps,
        boardTempDeciC: board,
        packCurrentMa: m.packCurrentMa,
        currentValid,
        restMs,
        socPct: input.estimates.socPct,
        bledDuringSample: m.balancingCells.length > 0,
        faults: input.protection.faults,
        protectionState: input.protection.state,
      };
      const result = planBalance(plannerInput, memory, capabilities, cfg, pack, scratch);
      memory = result.memory;
      return result.view;
    },
  };
}
