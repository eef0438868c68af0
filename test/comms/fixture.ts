/** A hand-built BmsSnapshot for register-map tests, and a fake source that records requests. */
import type { BmsConfig } from "../../src/config/schema.js";
import { parseConfig } from "../../src/config/schema.js";
import type { BmsRequest } from "../../src/core/requests.js";
import type { BmsSnapshot } from "../../src/core/snapshot.js";
import type { ActiveFault, RemoteSetpoints } from "../../src/protection/types.js";

export function testConfig(over: { pack?: Record<string, unknown>; [k: string]: unknown } = {}): BmsConfig {
  return parseConfig({ ...over, pack: { cellsInSeries: 16, serialNumber: "SN-TEST-1", ...over.pack } });
}

export interface FixtureOptions {
  readonly seq?: number;
  readonly timestampMs?: number;
  readonly cellsMv?: readonly number[];
  readonly currentMa?: number;
  readonly socPct?: number;
  readonly faults?: readonly ActiveFault[];
  readonly remoteMode?: boolean;
  readonly lastHeartbeatMs?: number | null;
  /** Protection's applied remote set-points (`protection.remote`); omitted = none, never heard. */
  readonly remote?: Partial<RemoteSetpoints>;
  readonly balancing?: readonly number[];
  readonly temps?: readonly (number | null)[];
}

export function fixtureSnapshot(config: BmsConfig, o: FixtureOptions = {}): BmsSnapshot {
  const n = config.pack.cellsInSeries;
  const cells = o.cellsMv ?? Array.from({ length: n }, (_, i) => 3300 + i);
  let minI = 0;
  let maxI = 0;
  cells.forEach((v, i) => {
    if (v < cells[minI]!) minI = i;
    if (v > cells[maxI]!) maxI = i;
  });
  const sum = cells.reduce((a, b) => a + b, 0);
  const currentMa = o.currentMa ?? -12_345;
  const temps = o.temps ?? [251, 262, 243, 255];
  const valid = temps.filter((t): t is number => t !== null);
  const faults = o.faults ?? [];
  return Object.freeze({
    seq: o.seq ?? 7,
    timestampMs: o.timestampMs ?? 123_456,
    measurements: {
      timestampMs: o.timestampMs ?? 123_456,
      valid: true,
      sampleAgeMs: 0,
      cellVoltagesMv: cells,
      cells: {
        minMv: cells[minI]!,
        minIndex: minI,
        maxMv: cells[maxI]!,
        maxIndex: maxI,
        meanMv: sum / cells.length,
        deltaMv: cells[maxI]! - cells[minI]!,
      },
      packVoltageMv: sum,
      packCurrentMa: currentMa,
      packPowerW: (sum / 1000) * (currentMa / 1000),
      temperaturesDeciC: temps,
      minTempDeciC: Math.min(...valid),
      minTempIndex: temps.indexOf(Math.min(...valid)),
      maxTempDeciC: Math.max(...valid),
      maxTempIndex: temps.indexOf(Math.max(...valid)),
      boardTempDeciC: 301,
      sensorFaults: [{ channel: "cell:3", kind: "stuck", detail: "x" }],
      hardwareFaults: [],
      fets: { chg: true, dsg: true },
      balancingCells: o.balancing ?? [2, 17],
    },
    estimates: {
      socPct: o.socPct ?? 87.5,
      reportedSocPct: o.socPct ?? 87.5,
      sohPct: 96.3,
      capacityAh: 100,
      remainingAh: 87.5,
      remainingWh: 4480,
      runtimeS: 5400,
      timeToFullS: null,
      fullConfirmed: false,
      estimator: "coulomb",
      counters: { chargeInAh: 1, chargeOutAh: 2, energyInWh: 3, energyOutWh: 4, equivalentCycles: 70_000.7 },
    },
    protection: {
      state: "discharging",
      fets: { chg: true, dsg: true },
      faults,
      limits: {
        cvlMv: 55_200,
        cclMa: 20_000,
        dclMa: 100_000,
        cvlBinding: "config",
        cclBinding: "config",
        dclBinding: "config",
      },
      chargeAllowed: true,
      dischargeAllowed: true,
      remote: {
        cclMa: null,
        dclMa: null,
        socReservePct: null,
        heartbeatAgeMs: 0,
        heard: false,
        expired: false,
        ...o.remote,
      },
    },
    balance: { cells: o.balancing ?? [2], reason: "test", timeToBalanceS: null },
    driver: {
      capabilities: {
        model: "fixture",
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
    loop: {
      ticks: 7,
      overruns: 0,
      tickErrors: 0,
      actuationErrors: 0,
      periodMs: 250,
      lastTickMs: 1,
      maxTickMs: 2,
    },
    remote: {
      remoteMode: o.remoteMode ?? true,
      disconnectRequested: false,
      lastHeartbeatMs: o.lastHeartbeatMs === undefined ? null : o.lastHeartbeatMs,
    },
  }) as BmsSnapshot;
}

export function fault(code: ActiveFault["code"], level: ActiveFault["level"], latched = false): ActiveFault {
  return {
    code,
    level,
    latched,
    sinceMs: 0,
    value: 1,
    limit: 1,
    blocksCharge: false,
    blocksDischarge: false,
  };
}

/** A source like `Bms`: a settable snapshot and a recorded request queue. */
export class FakeSource {
  snapshot: BmsSnapshot | null;
  readonly requests: BmsRequest[] = [];
  capacity = Number.POSITIVE_INFINITY;
  constructor(snap: BmsSnapshot | null) {
    this.snapshot = snap;
  }
  requestAll(rs: readonly BmsRequest[]): boolean {
    if (this.requests.length + rs.length > this.capacity) return false;
    this.requests.push(...rs);
    return true;
  }

  request(r: BmsRequest): boolean {
    if (this.requests.length >= this.capacity) return false;
    this.requests.push(r);
    return true;
  }
}

/** Builds request PDUs. */
export const pdu = {
  read: (fc: number, addr: number, qty: number) =>
    Uint8Array.of(fc, addr >> 8, addr & 0xff, qty >> 8, qty & 0xff),
  write1: (addr: number, v: number) => Uint8Array.of(6, addr >> 8, addr & 0xff, v >> 8, v & 0xff),
  writeN: (addr: number, values: readonly number[]) =>
    Uint8Array.of(
      16,
      addr >> 8,
      addr & 0xff,
      values.length >> 8,
      values.length & 0xff,
      values.length * 2,
      ...values.flatMap((v) => [v >> 8, v & 0xff]),
    ),
};

export function regsOf(reply: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 2; i + 1 < reply.length; i += 2) out.push((reply[i]! << 8) | reply[i + 1]!);
  return out;
}
