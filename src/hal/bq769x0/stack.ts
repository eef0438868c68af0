/**
 * Several AFE chips in one series string (e.g. three bq76940 for 45 cells), seen as one
 * driver: cell and sensor indices are offset chip by chip, bottom chip first.
 */
import { BmsError } from "../../core/errors.js";
import type { FaultCode } from "../../core/faults.js";
import type { FetState } from "../../core/fets.js";
import type {
  AfeCapabilities,
  AfeDriver,
  AppliedHardwareLimits,
  HardwareLimits,
  ReadFlags,
  Sample,
} from "../afe.js";
import type { PackPort } from "../pack.js";

/** Upper limits are guaranteed only up to the weakest chip; lower limits down to the lowest. */
const LOWER_IS_WEAKER: ReadonlySet<keyof HardwareLimits> = new Set(["cellUvMv"]);

/** Bus counters, for drivers that keep them (the bq769x0 and bq76952 drivers do). */
export type BusCounters = Readonly<
  Record<"transactions" | "retries" | "crcErrors" | "nacks" | "timeouts" | "failures", number>
>;

/** The bus counters of a driver, summed over stacked chips; null when it keeps none. */
export function busStatsOf(driver: AfeDriver): BusCounters | null {
  const stats = (driver as { busStats?: BusCounters }).busStats;
  return stats ? { ...stats } : null;
}

export function createStackDriver(
  chips: readonly AfeDriver[],
): AfeDriver & { readonly busStats?: BusCounters } {
  const first = chips[0];
  if (!first) throw new BmsError("INTERNAL", "a stack needs at least one chip");
  if (chips.length === 1) return first;
  const offsets: number[] = [];
  let total = 0;
  for (const c of chips) {
    offsets.push(total);
    total += c.capabilities.cellCount;
  }
  const caps = chips.map((c) => c.capabilities);
  const bal = caps.every((c) => c.balancing !== null) ? caps.map((c) => c.balancing!) : null;
  // One group size for the whole string only if every chip's groups tile its cells evenly.
  const g = bal?.[0]?.groupSize ?? 1;
  const tiled = !!bal?.every((b, i) => b.groupSize === g && (caps[i]?.cellCount ?? 0) % g === 0);
  const capabilities: AfeCapabilities = {
    model: `${chips.length}× ${first.capabilities.model}`,
    cellCount: total,
    temperatureSensorCount: caps.reduce((s, c) => s + c.temperatureSensorCount, 0),
    measuresCurrent: first.capabilities.measuresCurrent,
    measuresPackVoltage: caps.every((c) => c.measuresPackVoltage),
    measuresBoardTemp: first.capabilities.measuresBoardTemp,
    balancing:
      bal === null
        ? null
        : {
            groupSize: tiled ? g : total,
            adjacentAllowed: bal.every((b) => b.adjacentAllowed),
            maxSimultaneous: bal.reduce((s, b) => s + b.maxSimultaneous, 0),
            maxPerGroup: Math.min(...bal.map((b) => b.maxPerGroup)),
            measurementPauseMs: Math.max(...bal.map((b) => b.measurementPauseMs)),
            bleedResistorOhm: bal[0]?.bleedResistorOhm ?? 0,
          },
    hardwareProtections: first.capabilities.hardwareProtections.filter((p) =>
      caps.every((c) => c.hardwareProtections.includes(p)),
    ),
    controlsFets: caps.every((c) => c.controlsFets),
  };

  return {
    capabilities,
    get busStats(): BusCounters | undefined {
      const all = chips.map(busStatsOf).filter((x): x is BusCounters => x !== null);
      if (all.length === 0) return undefined;
      const sum = (k: keyof BusCounters) => all.reduce((a, b) => a + b[k], 0);
      return {
        transactions: sum("transactions"),
        retries: sum("retries"),
        crcErrors: sum("crcErrors"),
        nacks: sum("nacks"),
        timeouts: sum("timeouts"),
        failures: sum("failures"),
      };
    },
    async configure(limits: HardwareLimits): Promise<AppliedHardwareLimits> {
      const results: AppliedHardwareLimits[] = [];
      for (const c of chips) results.push(await c.configure(limits));
      const applied: Partial<Record<keyof HardwareLimits, number>> = {};
      for (const r of results)
        for (const [k, v] of Object.entries(r.applied) as [keyof HardwareLimits, number][]) {
          const prev = applied[k];
          applied[k] =
            prev === undefined ? v : LOWER_IS_WEAKER.has(k) ? Math.min(prev, v) : Math.max(prev, v);
        }
      const notes = results.flatMap((r, i) => r.notes.map((n) => `chip ${i}: ${n}`));
      return { applied, notes };
    },
    async read(flags?: ReadFlags): Promise<Sample> {
      const samples: Sample[] = [];
      for (const c of chips) samples.push(await c.read(flags));
      const base = samples[0]!;
      const packs = samples.map((s) => s.packVoltageMv);
      return {
        timestampMs: base.timestampMs,
        cellVoltagesMv: samples.flatMap((s) => s.cellVoltagesMv),
        packVoltageMv: packs.every((p) => p !== null)
          ? packs.reduce((a: number, b) => a + (b ?? 0), 0)
          : null,
        // One shunt, measured by the bottom chip.
        packCurrentMa: base.packCurrentMa,
        temperaturesDeciC: samples.flatMap((s) => s.temperaturesDeciC),
        boardTempDeciC: base.boardTempDeciC,
        hardwareFaults: samples.flatMap((s, i) =>
          s.hardwareFaults.map((f) => ({ code: f.code, source: `chip${i}.${f.source}` })),
        ),
        // The chips' FETs are in series: a path conducts only if every chip has it closed.
        fets: { chg: samples.every((s) => s.fets.chg), dsg: samples.every((s) => s.fets.dsg) },
        balancingCells: samples.flatMap((s, i) => s.balancingCells.map((c) => c + (offsets[i] ?? 0))),
      };
    },
    async setFets(fets: FetState): Promise<void> {
      for (const c of chips) await c.setFets(fets);
    },
    async setBalancing(cells: readonly number[]): Promise<void> {
      for (const [i, c] of chips.entries()) {
        const lo = offsets[i] ?? 0;
        const hi = lo + c.capabilities.cellCount;
        await c.setBalancing(cells.filter((x) => x >= lo && x < hi).map((x) => x - lo));
      }
    },
    async clearFaults(codes: readonly FaultCode[]): Promise<void> {
      for (const c of chips) await c.clearFaults(codes);
    },
    async close(): Promise<void> {
      for (const c of chips) await c.close();
    },
  };
}

/**
 * Splits one pack into per-chip views (for stacked emulators). Each view sees its own cells
 * and thermistors; bleeders merge across views; the FETs conduct only when every chip's are closed.
 */
export function splitPack(
  pack: PackPort,
  parts: readonly { readonly cells: number; readonly thermistors: number }[],
): PackPort[] {
  const bleeders = parts.map(() => [] as number[]);
  const fets = parts.map(() => pack.fets());
  let cellOffset = 0;
  let tempOffset = 0;
  return parts.map((part, k) => {
    const c0 = cellOffset;
    const t0 = tempOffset;
    cellOffset += part.cells;
    tempOffset += part.thermistors;
    return {
      cellCount: part.cells,
      temperatureSensorCount: Math.max(0, Math.min(part.thermistors, pack.temperatureSensorCount - t0)),
      advanceTo: (nowMs) => pack.advanceTo(nowMs),
      senseVoltagesMv: () => pack.senseVoltagesMv().slice(c0, c0 + part.cells),
      currentMa: () => pack.currentMa(),
      thermistorDeciC: (i) => pack.thermistorDeciC(t0 + i),
      dieTempDeciC: () => pack.dieTempDeciC(),
      commsAvailable: () => pack.commsAvailable(),
      setFets(f) {
        fets[k] = f;
        pack.setFets({ chg: fets.every((x) => x.chg), dsg: fets.every((x) => x.dsg) });
      },
      fets: () => fets[k] ?? pack.fets(),
      setBleeders(cells) {
        bleeders[k] = cells.map((c) => c + c0);
        pack.setBleeders(bleeders.flat());
      },
    };
  });
}
