/**
 * Simulated cell-monitor boards: the firmware side of protocol v1, reading the simulated
 * pack's pins (PackPort) and answering over a SerialLink. Several boards share one link
 * like boards on one RS-485 line; each answers only its own address.
 */
import type { FaultCode } from "../../core/faults.js";
import type { Logger } from "../../core/logger.js";
import { silentLogger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import { Prng } from "../sim/prng.js";
import type { PackPort } from "../pack.js";
import type { SerialLink } from "../serial.js";
import {
  DEFAULT_MAX_LINE_BYTES,
  FRAME_START_BYTES,
  type Frame,
  PROTOCOL_VERSION,
  decodeLine,
  encodeFrame,
} from "./codec.js";
import { LineFramer } from "./framer.js";
import {
  type BoardInfo,
  COMMAND_TYPES,
  STATUS_WATCHDOG,
  cellsOf,
  encodeInfo,
  encodeMeasurement,
  maskOf,
} from "./messages.js";

export const SIM_BOARD_FIRMWARE = "sim-1.0.0";

export interface SimBoardSpec {
  readonly address: number;
  readonly cells: number;
}

export interface SimulatedBoardsOptions {
  readonly link: SerialLink;
  readonly pack: PackPort;
  readonly clock: Clock;
  readonly boards: readonly SimBoardSpec[];
  readonly logger?: Logger;
  /** Bleeders drop when no valid command arrived for this long. */
  readonly watchdogMs?: number;
  readonly maxBalancing?: number;
  readonly bleedResistorOhm?: number;
  readonly hardwareProtections?: readonly FaultCode[];
  readonly maxLineBytes?: number;
  /** ADC white noise per reading (seeded, per board); absent: readings are the pins' truth, rounded. */
  readonly noise?: SimBoardNoise;
}

export interface SimBoardNoise {
  readonly seed: number;
  readonly cellMv: number;
  readonly currentMa: number;
  readonly tempDeciC: number;
}

export interface SimBoardCounters {
  lines: number;
  badLines: number;
  ignoredOtherAddress: number;
  commands: number;
  naks: number;
}

export interface SimulatedBoards {
  /** Makes one board stop answering (a dead board) or answer again. */
  setSilent(address: number, silent: boolean): void;
  /** Latches a hardware fault flag bit (messages.ts FAULT_BITS) on a board. */
  latchFault(address: number, bit: number): void;
  readonly counters: SimBoardCounters;
  /** Re-attaches to a new link (the bench tool after its port came back). */
  attach(link: SerialLink): void;
  close(): void;
}

interface Reply {
  readonly type: string;
  readonly fields?: Record<string, string>;
}

interface BoardState {
  readonly spec: SimBoardSpec;
  readonly cellOffset: number;
  readonly temps: readonly number[];
  readonly info: BoardInfo;
  bleed: number;
  faults: number;
  silent: boolean;
  lastCmdMs: number;
  status: number;
  sampleMs: number;
  readonly rng: Prng | null;
}

export function createSimulatedBoards(opts: SimulatedBoardsOptions): SimulatedBoards {
  const { pack, clock } = opts;
  const log = opts.logger ?? silentLogger;
  const watchdogMs = opts.watchdogMs ?? 5000;
  const totalCells = opts.boards.reduce((s, b) => s + b.cells, 0);
  if (totalCells !== pack.cellCount)
    throw new RangeError(`boards cover ${totalCells} cells but the pack has ${pack.cellCount}`);
  const counters: SimBoardCounters = { lines: 0, badLines: 0, ignoredOtherAddress: 0, commands: 0, naks: 0 };
  const nBoards = opts.boards.length;
  const tempsOf = (i: number): number[] => {
    const out: number[] = [];
    // Thermistors spread along the string, each wired to the board over its cells.
    for (let t = 0; t < pack.temperatureSensorCount; t++)
      if (Math.floor((t * nBoards) / pack.temperatureSensorCount) === i) out.push(t);
    return out;
  };
  let offset = 0;
  const boards: BoardState[] = opts.boards.map((spec, i) => {
    const temps = tempsOf(i);
    const b: BoardState = {
      spec,
      cellOffset: offset,
      temps,
      info: {
        firmware: SIM_BOARD_FIRMWARE,
        protocol: PROTOCOL_VERSION,
        cells: spec.cells,
        temps: temps.length,
        // The first board carries the shunt and the FET driver, like a master board in a string.
        measuresCurrent: i === 0,
        controlsFets: i === 0,
        balancing: true,
        bleedResistorOhm: opts.bleedResistorOhm ?? 33,
        maxBalancing: Math.min(spec.cells, opts.maxBalancing ?? 8),
        hardwareProtections: opts.hardwareProtections ?? [],
      },
      bleed: 0,
      faults: 0,
      silent: false,
      lastCmdMs: clock.nowMs(),
      status: 0,
      sampleMs: 100,
      rng: opts.noise ? Prng.derive(opts.noise.seed, 40 + spec.address) : null,
    };
    offset += spec.cells;
    return b;
  });

  let link = opts.link;
  let unsub: (() => void)[] = [];

  const applyBleeders = (): void => {
    const all: number[] = [];
    for (const b of boards) for (const c of cellsOf(b.bleed, b.spec.cells)) all.push(b.cellOffset + c);
    pack.setBleeders(all);
  };

  const watchdog = (now: number): void => {
    // Checked when traffic arrives: with no timers here the pack may bleed up to one poll longer.
    for (const b of boards) {
      if (b.bleed !== 0 && now - b.lastCmdMs > watchdogMs) {
        b.bleed = 0;
        b.status |= STATUS_WATCHDOG;
        applyBleeders();
        log.warn(`sim board ${b.spec.address}: watchdog, bleeders off`);
      }
    }
  };

  const reply = (b: BoardState, req: Frame, type: string, fields: Record<string, string> = {}): void => {
    if (type === "NAK") counters.naks++;
    const line = encodeFrame({ dir: "from_board", address: b.spec.address, seq: req.seq, type, fields });
    link
      .write(line)
      .catch((err: unknown) => log.debug(() => `sim board write failed: ${(err as Error).message}`));
  };

  const answer = (b: BoardState, f: Frame, now: number): Reply => {
    counters.commands++;
    b.lastCmdMs = now;
    switch (f.type) {
      case "INFO":
        return { type: "INFO", fields: encodeInfo(b.info) };
      case "READ": {
        pack.advanceTo(now);
        const v = pack.senseVoltagesMv().slice(b.cellOffset, b.cellOffset + b.spec.cells);
        const fets = pack.fets();
        const n = opts.noise;
        const jitter = (sd: number): number => (b.rng && sd > 0 ? b.rng.truncatedNormal(sd) : 0);
        const fields = encodeMeasurement({
          cellVoltagesMv: v.map((x) => Math.max(0, Math.round(x + jitter(n?.cellMv ?? 0)))),
          temperaturesDeciC: b.temps.map((t) =>
            Math.round(pack.thermistorDeciC(t) + jitter(n?.tempDeciC ?? 0)),
          ),
          currentMa: b.info.measuresCurrent ? Math.round(pack.currentMa() + jitter(n?.currentMa ?? 0)) : null,
          boardTempDeciC: pack.dieTempDeciC(),
          faultFlags: b.faults,
          fets: b.info.controlsFets ? fets : null,
          balancingMask: b.bleed,
          status: b.status,
        });
        b.status &= ~STATUS_WATCHDOG;
        return { type: "MEAS", fields: fields };
      }
      case "BAL": {
        const m = f.fields.m;
        if (m === undefined || !/^[0-9A-F]{1,8}$/.test(m)) return { type: "NAK", fields: { r: "bad_field" } };
        const mask = Number.parseInt(m, 16);
        const cells = cellsOf(mask, 32);
        if (cells.some((c) => c >= b.spec.cells)) return { type: "NAK", fields: { r: "no_such_cell" } };
        if (cells.length > b.info.maxBalancing) return { type: "NAK", fields: { r: "too_many" } };
        b.bleed = maskOf(cells);
        pack.advanceTo(now);
        applyBleeders();
        return { type: "ACK" };
      }
      case "FET": {
        if (!b.info.controlsFets) return { type: "NAK", fields: { r: "no_fets" } };
        const c = f.fields.c;
        const d = f.fields.d;
        if ((c !== "0" && c !== "1") || (d !== "0" && d !== "1"))
          return { type: "NAK", fields: { r: "bad_field" } };
        pack.advanceTo(now);
        pack.setFets({ chg: c === "1", dsg: d === "1" });
        return { type: "ACK" };
      }
      case "HB":
        return { type: "ACK" };
      case "CFG": {
        const rate = Number(f.fields.rate);
        if (!Number.isInteger(rate) || rate < 10 || rate > 60_000)
          return { type: "NAK", fields: { r: "bad_rate" } };
        b.sampleMs = rate;
        return { type: "ACK" };
      }
      case "CLR": {
        const m = f.fields.f;
        if (m === undefined || !/^[0-9A-F]{1,8}$/.test(m)) return { type: "NAK", fields: { r: "bad_field" } };
        b.faults &= ~Number.parseInt(m, 16);
        return { type: "ACK" };
      }
      default:
        return { type: "NAK", fields: { r: "unknown_type" } };
    }
  };

  const framer = new LineFramer(
    opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    (line) => {
      counters.lines++;
      const r = decodeLine(line);
      if (!r.ok || r.frame.dir !== "to_board") {
        // Bad lines and other boards' replies are not answered: the master times out and retries.
        if (!r.ok) counters.badLines++;
        return;
      }
      const b = boards.find((x) => x.spec.address === r.frame.address);
      if (!b) {
        counters.ignoredOtherAddress++;
        return;
      }
      const now = clock.nowMs();
      watchdog(now);
      if (b.silent || !pack.commsAvailable()) return;
      if (!(COMMAND_TYPES as readonly string[]).includes(r.frame.type)) {
        counters.commands++;
        reply(b, r.frame, "NAK", { r: "unknown_type" });
        return;
      }
      const a = answer(b, r.frame, now);
      reply(b, r.frame, a.type, a.fields);
    },
    FRAME_START_BYTES,
  );

  const attach = (l: SerialLink): void => {
    for (const u of unsub) u();
    link = l;
    framer.reset();
    unsub = [link.onData((chunk) => framer.push(chunk))];
  };
  attach(link);

  const byAddress = (address: number): BoardState => {
    const b = boards.find((x) => x.spec.address === address);
    if (!b) throw new RangeError(`no simulated board at address ${address}`);
    return b;
  };

  return {
    counters,
    setSilent: (address, silent) => {
      byAddress(address).silent = silent;
    },
    latchFault: (address, bitNo) => {
      byAddress(address).faults |= 1 << bitNo;
    },
    attach,
    close: () => {
      for (const u of unsub) u();
      unsub = [];
    },
  };
}
