/**
 * AfeDriver for external cell-monitor boards speaking protocol v1 (docs/serial-protocol.md)
 * over one SerialLink, several boards addressed on one RS-485 line. The controller is the only
 * master: it polls each board in turn and accepts exactly one reply per request, matched by
 * address and sequence number. Everything else is counted in `diagnostics()` and dropped.
 */
import type { FaultCode } from "../../core/faults.js";
import { BmsError } from "../../core/errors.js";
import type { FetState } from "../../core/fets.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { AfeCapabilities, AfeDriver, AppliedHardwareLimits, HardwareLimits, Sample } from "../afe.js";
import type { SerialLink } from "../serial.js";
import {
  DEFAULT_MAX_LINE_BYTES,
  type Frame,
  PROTOCOL_VERSION,
  SEQ_MODULO,
  decodeLine,
  encodeFrame,
} from "./codec.js";
import { capabilitiesFromInfo } from "./capabilities.js";
import { SerialConnection } from "./connection.js";
import {
  type SerialBoardDiagnostics,
  type SerialDiagnostics,
  type SerialErrorCounters,
  emptyErrorCounters,
} from "./diagnostics.js";
import { assembleSample } from "./sample.js";
import {
  type BoardInfo,
  type BoardMeasurement,
  type CommandType,
  FAULT_BITS,
  REPLY_TYPES,
  type ReplyType,
  maskOf,
  parseInfo,
  parseMeasurement,
  toHex,
} from "./messages.js";

export type { SerialBoardDiagnostics, SerialDiagnostics, SerialErrorCounters };

export interface SerialBoardConfig {
  readonly address: number;
  readonly cells: number;
}

export interface SerialAfeDriverOptions {
  /** Port name for messages and diagnostics. */
  readonly port: string;
  readonly boards: readonly SerialBoardConfig[];
  /** Opens (and reopens) the link: `openSerialLink` for hardware, an in-memory pair in tests. */
  readonly openLink: () => Promise<SerialLink>;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How long to wait for each reply, on the injected clock. */
  readonly replyTimeoutMs: number;
  readonly reconnectMs?: number;
  readonly maxLineBytes?: number;
  /** INFO requests per board at start before giving up. */
  readonly startupAttempts?: number;
  /** After 3 missed replies a board is polled only this often, so it does not stall every tick. */
  readonly probeIntervalMs?: number;
  /** Asks boards to sample at this period (CFG rate); null leaves the firmware default. */
  readonly sampleIntervalMs?: number | null;
}

interface Board {
  readonly address: number;
  readonly cells: number;
  readonly cellOffset: number;
  tempOffset: number;
  info: BoardInfo | null;
  lastGoodMs: number | null;
  lastPollMs: number | null;
  misses: number;
  meas: BoardMeasurement | null;
  lastNak: string | null;
  commandedMask: number;
}

interface Pending {
  readonly address: number;
  readonly seq: number;
  frame: Frame | null;
  done: boolean;
  resolve: () => void;
}

const SILENT_AFTER_MISSES = 3;
const RECENT_SEQS = 16;

export class SerialAfeDriver implements AfeDriver {
  private readonly boards: Board[];
  private readonly conn: SerialConnection;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly replyTimeoutMs: number;
  private readonly probeIntervalMs: number;
  private readonly startMs: number;
  private caps: AfeCapabilities | null = null;
  private seq = 0;
  private pending: Pending | null = null;
  private readonly recentSeqs: number[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private commandedFets: FetState = { chg: false, dsg: false };
  private needsResync = false;
  private linesReceived = 0;
  private repliesAccepted = 0;
  private readonly errors: SerialErrorCounters = emptyErrorCounters();

  private constructor(private readonly opts: SerialAfeDriverOptions) {
    if (opts.boards.length === 0)
      throw new BmsError("CONFIG_INVALID", "serial driver needs at least one board");
    const addrs = new Set(opts.boards.map((b) => b.address));
    if (addrs.size !== opts.boards.length)
      throw new BmsError("CONFIG_INVALID", "serial board addresses must be unique", { path: "afe.boards" });
    this.clock = opts.clock;
    this.log = opts.logger ?? silentLogger;
    this.replyTimeoutMs = opts.replyTimeoutMs;
    this.probeIntervalMs = opts.probeIntervalMs ?? 1000;
    this.startMs = opts.clock.nowMs();
    let offset = 0;
    this.boards = opts.boards.map((b) => {
      const board: Board = {
        address: b.address,
        cells: b.cells,
        cellOffset: offset,
        tempOffset: 0,
        info: null,
        lastGoodMs: null,
        lastPollMs: null,
        misses: 0,
        meas: null,
        lastNak: null,
        commandedMask: 0,
      };
      offset += b.cells;
      return board;
    });
    this.conn = new SerialConnection({
      open: opts.openLink,
      clock: opts.clock,
      logger: this.log,
      reconnectMs: opts.reconnectMs ?? 500,
      maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      onLine: (line) => this.onLine(line),
      onDisconnect: () => {
        const p = this.pending;
        if (p && !p.done) {
          p.done = true;
          p.resolve();
        }
      },
      onReconnect: () => {
        this.needsResync = true;
      },
    });
  }

  /** Opens the link and asks every board for its INFO; capabilities come from those reports. */
  static async create(opts: SerialAfeDriverOptions): Promise<SerialAfeDriver> {
    const d = new SerialAfeDriver(opts);
    await d.conn.start();
    try {
      await d.handshake();
    } catch (err) {
      await d.conn.close();
      throw err;
    }
    return d;
  }

  get capabilities(): AfeCapabilities {
    if (!this.caps) throw new BmsError("INTERNAL", "serial driver used before its handshake");
    return this.caps;
  }

  private async handshake(): Promise<void> {
    const attempts = this.opts.startupAttempts ?? 3;
    const missing: number[] = [];
    let tempOffset = 0;
    for (const [i, b] of this.boards.entries()) {
      for (let a = 0; a < attempts && !b.info; a++) {
        const f = await this.exchange(b, "INFO", {});
        if (f?.type !== "INFO") continue;
        const info = parseInfo(f.fields);
        if (!info) {
          this.errors.badPayload++;
          continue;
        }
        if (info.protocol !== PROTOCOL_VERSION)
          throw new BmsError(
            "PROTOCOL",
            `board ${b.address} speaks protocol v${info.protocol}; this driver speaks v${PROTOCOL_VERSION}`,
          );
        if (info.cells !== b.cells)
          throw new BmsError(
            "CONFIG_INVALID",
            `board ${b.address} reports ${info.cells} cells but the config says ${b.cells}`,
            { path: `afe.boards.${i}.cells` },
          );
        b.info = info;
        b.lastGoodMs = this.clock.nowMs();
      }
      if (!b.info) missing.push(b.address);
      b.tempOffset = tempOffset;
      tempOffset += b.info?.temps ?? 0;
    }
    if (missing.length > 0)
      throw new BmsError(
        "AFE_COMMS",
        `no INFO from board ${missing.join(", ")} on ${this.opts.port} after ${attempts} tries`,
        { details: { missing } },
      );
    const rate = this.opts.sampleIntervalMs;
    if (rate !== undefined && rate !== null) {
      for (const b of this.boards) {
        const f = await this.exchange(b, "CFG", { rate: String(rate) });
        if (f?.type !== "ACK")
          this.log.warn(`board ${b.address} did not accept sample rate ${rate} ms (${this.describe(f)})`);
      }
    }
    this.caps = capabilitiesFromInfo(this.boards.map((b) => b.info!));
    this.log.info(
      `${this.boards.length} board(s) on ${this.opts.port}: ${this.boards
        .map((b) => `#${b.address} fw ${b.info?.firmware} ${b.cells} cells`)
        .join(", ")}`,
    );
  }

  /** Runs driver operations one at a time: the line has one master and one outstanding request. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % SEQ_MODULO;
    return this.seq;
  }

  /** One request, one reply: null on timeout, write failure or disconnect. */
  private async exchange(b: Board, type: CommandType, fields: Record<string, string>): Promise<Frame | null> {
    if (!this.conn.connected) return null;
    const seq = this.nextSeq();
    let resolve = () => {};
    const arrived = new Promise<void>((r) => {
      resolve = r;
    });
    const p: Pending = { address: b.address, seq, frame: null, done: false, resolve };
    this.pending = p;
    try {
      await this.conn.write(encodeFrame({ dir: "to_board", address: b.address, seq, type, fields }));
      // An in-memory board answers during write; only a missing reply starts the clock.
      if (!p.done)
        await Promise.race([arrived, this.clock.sleepUntil(this.clock.nowMs() + this.replyTimeoutMs)]);
    } catch (err) {
      this.log.debug(() => `request ${type} to board ${b.address} failed: ${(err as Error).message}`);
    } finally {
      p.done = true;
      if (this.pending === p) this.pending = null;
      this.recentSeqs.push(seq);
      if (this.recentSeqs.length > RECENT_SEQS) this.recentSeqs.shift();
    }
    if (!p.frame) {
      if (this.conn.connected) this.errors.timeouts++;
      return null;
    }
    this.repliesAccepted++;
    if (p.frame.type === "NAK") {
      this.errors.naks++;
      b.lastNak = `${type}: ${p.frame.fields.r ?? "no reason"}`;
      this.log.warn(`board ${b.address} rejected ${type}: ${p.frame.fields.r ?? "no reason"}`);
    }
    return p.frame;
  }

  private onLine(line: string): void {
    this.linesReceived++;
    const r = decodeLine(line);
    if (!r.ok) {
      this.errors[r.error]++;
      return;
    }
    const f = r.frame;
    if (f.dir === "to_board") {
      this.errors.echo++;
      return;
    }
    if (!(REPLY_TYPES as readonly string[]).includes(f.type)) {
      this.errors.unknownType++;
      return;
    }
    const p = this.pending;
    if (!p || p.done) {
      if (this.recentSeqs.includes(f.seq) || p?.seq === f.seq) this.errors.duplicate++;
      else this.errors.unsolicited++;
      return;
    }
    if (f.address !== p.address) {
      this.errors.wrongAddress++;
      return;
    }
    if (f.seq !== p.seq) {
      if (this.recentSeqs.includes(f.seq)) this.errors.duplicate++;
      else this.errors.outOfOrder++;
      return;
    }
    p.frame = f;
    p.done = true;
    p.resolve();
  }

  private describe(f: Frame | null): string {
    if (!f) return "no reply";
    if (f.type === "NAK") return `NAK ${f.fields.r ?? ""}`.trim();
    return f.type;
  }

  private expect(f: Frame | null, type: ReplyType): boolean {
    if (!f || f.type === "NAK") return false;
    if (f.type !== type) {
      this.errors.unexpectedType++;
      return false;
    }
    return true;
  }

  private silentReason(b: Board, nowMs: number): string {
    const since = b.lastGoodMs ?? this.startMs;
    const why = this.conn.connected ? "silent" : "unreachable (port down)";
    return `board ${b.address} ${why} ${Math.round(nowMs - since)} ms`;
  }

  async configure(_limits: HardwareLimits): Promise<AppliedHardwareLimits> {
    const prot = this.capabilities.hardwareProtections;
    return {
      applied: {},
      notes: [
        `serial boards keep their own hardware thresholds (protocol v${PROTOCOL_VERSION} has no limit command)${
          prot.length > 0 ? `; board firmware enforces ${prot.join(", ")}` : ""
        }`,
      ],
    };
  }

  read(): Promise<Sample> {
    return this.serialize(() => this.readLocked());
  }

  private async readLocked(): Promise<Sample> {
    if (!this.conn.connected) {
      const down = this.conn.downSinceMs;
      throw new BmsError(
        "AFE_COMMS",
        `serial port ${this.opts.port} is down${down === null ? "" : ` for ${Math.round(this.clock.nowMs() - down)} ms`}; reopening`,
      );
    }
    if (this.needsResync) await this.resync();
    // Silent boards are probed at most one per read, oldest probe first, so several dead
    // boards cost one reply timeout per tick, not one each.
    const silent = this.boards.filter((b) => b.misses >= SILENT_AFTER_MISSES);
    const due = silent
      .filter((b) => b.lastPollMs === null || this.clock.nowMs() - b.lastPollMs >= this.probeIntervalMs)
      .sort((x, y) => (x.lastPollMs ?? 0) - (y.lastPollMs ?? 0))[0];
    for (const b of this.boards) {
      if (b.misses >= SILENT_AFTER_MISSES && b !== due) b.meas = null;
      else await this.poll(b);
    }
    const nowMs = this.clock.nowMs();
    const answered = this.boards.filter((b) => b.meas !== null);
    if (answered.length === 0)
      throw new BmsError(
        "AFE_COMMS",
        `no board answered on ${this.opts.port}: ${this.boards.map((b) => this.silentReason(b, nowMs)).join("; ")}`,
      );
    return this.buildSample(nowMs);
  }

  private async poll(b: Board): Promise<void> {
    b.lastPollMs = this.clock.nowMs();
    const f = await this.exchange(b, "READ", {});
    let meas: BoardMeasurement | null = null;
    if (this.expect(f, "MEAS")) {
      meas = parseMeasurement(f!.fields, b.info!);
      if (!meas) this.errors.badPayload++;
    }
    b.meas = meas;
    if (!meas) {
      b.misses++;
      if (b.misses === SILENT_AFTER_MISSES)
        this.log.warn(
          `${this.silentReason(b, this.clock.nowMs())}; polling it every ${this.probeIntervalMs} ms`,
        );
      return;
    }
    if (b.misses >= SILENT_AFTER_MISSES) this.log.info(`board ${b.address} answers again`);
    b.misses = 0;
    b.lastGoodMs = this.clock.nowMs();
    // A board back from silence may have dropped its bleeders (watchdog): command them again.
    if (b.info!.balancing && meas.balancingMask !== b.commandedMask) await this.sendBalancing(b);
  }

  private buildSample(nowMs: number): Sample {
    return assembleSample(
      this.boards.map((b) => ({
        address: b.address,
        cells: b.cells,
        cellOffset: b.cellOffset,
        tempOffset: b.tempOffset,
        info: b.info!,
        meas: b.meas,
        silentReason: b.meas ? "" : this.silentReason(b, nowMs),
      })),
      { nowMs, measuresCurrent: this.capabilities.measuresCurrent, commandedFets: this.commandedFets },
    );
  }

  /** After a reopen: boards may have reset, so the commanded state is sent again (best effort). */
  private async resync(): Promise<void> {
    this.needsResync = false;
    for (const b of this.boards) if (b.info?.balancing) await this.sendBalancing(b);
    try {
      await this.sendFets();
    } catch (err) {
      // The loop re-sends FETs itself when the reported state drifts from the commanded one.
      this.log.warn(`FET state not restored after reopen: ${(err as Error).message}`);
    }
  }

  private async sendBalancing(b: Board): Promise<boolean> {
    const f = await this.exchange(b, "BAL", { m: toHex(b.commandedMask) });
    return this.expect(f, "ACK");
  }

  setBalancing(cells: readonly number[]): Promise<void> {
    return this.serialize(async () => {
      const caps = this.capabilities;
      const masks = new Map<Board, number[]>(this.boards.map((b) => [b, []]));
      for (const c of cells) {
        const b = this.boards.find((x) => c >= x.cellOffset && c < x.cellOffset + x.cells);
        if (!Number.isInteger(c) || !b) throw new BmsError("INTERNAL", `balancing cell ${c} out of range`);
        masks.get(b)!.push(c - b.cellOffset);
      }
      if (!caps.balancing && cells.length > 0)
        throw new BmsError("NOT_SUPPORTED", "these serial boards cannot balance");
      const refused: string[] = [];
      for (const b of this.boards) {
        if (!b.info?.balancing) continue;
        b.commandedMask = maskOf(masks.get(b)!);
        if (!this.conn.connected) continue;
        const f = await this.exchange(b, "BAL", { m: toHex(b.commandedMask) });
        if (f?.type === "NAK") {
          refused.push(`board ${b.address}: ${f.fields.r ?? "no reason"}`);
          // The board kept its old bleeders; do not keep re-sending a command it refuses.
          b.commandedMask = b.meas?.balancingMask ?? 0;
        }
        // A silent board is reported by read(); its watchdog drops the bleeders by itself.
      }
      if (refused.length > 0) throw new BmsError("PROTOCOL", `balancing refused (${refused.join("; ")})`);
    });
  }

  setFets(fets: FetState): Promise<void> {
    return this.serialize(async () => {
      this.commandedFets = { chg: fets.chg, dsg: fets.dsg };
      await this.sendFets();
    });
  }

  private async sendFets(): Promise<void> {
    const failed: string[] = [];
    for (const b of this.boards) {
      if (!b.info?.controlsFets) continue;
      const f = await this.exchange(b, "FET", {
        c: this.commandedFets.chg ? "1" : "0",
        d: this.commandedFets.dsg ? "1" : "0",
      });
      if (!this.expect(f, "ACK")) failed.push(`board ${b.address}: ${this.describe(f)}`);
    }
    if (failed.length > 0)
      throw new BmsError("AFE_COMMS", `FET command not acknowledged (${failed.join("; ")})`);
  }

  clearFaults(codes: readonly FaultCode[]): Promise<void> {
    return this.serialize(async () => {
      let mask = 0;
      for (const fb of FAULT_BITS) if (codes.includes(fb.code)) mask |= 1 << fb.bit;
      if (mask === 0) return;
      for (const b of this.boards) {
        if (!b.meas || (b.meas.faultFlags & mask) === 0) continue;
        await this.exchange(b, "CLR", { f: toHex(mask) });
      }
    });
  }

  /** Sends a heartbeat to every board (for callers that poll less often than the board watchdog). */
  heartbeat(): Promise<number> {
    return this.serialize(async () => {
      let acked = 0;
      for (const b of this.boards) if (this.expect(await this.exchange(b, "HB", {}), "ACK")) acked++;
      return acked;
    });
  }

  diagnostics(): SerialDiagnostics {
    const c = this.conn.counters;
    const fc = this.conn.framer.counters;
    const nowMs = this.clock.nowMs();
    return {
      port: this.opts.port,
      connected: this.conn.connected,
      linesReceived: this.linesReceived,
      repliesAccepted: this.repliesAccepted,
      bytesReceived: c.bytesReceived,
      disconnects: c.disconnects,
      reconnects: c.reconnects,
      failedReopens: c.failedReopens,
      writeErrors: c.writeErrors,
      lastOutageMs: c.lastOutageMs,
      errors: {
        ...this.errors,
        overlong: fc.overlong,
        nonAscii: fc.nonAscii,
        resynced: fc.resynced,
        truncatedAtDisconnect: fc.truncated,
      },
      boards: this.boards.map((b) => ({
        address: b.address,
        firmware: b.info?.firmware ?? "",
        state: b.misses > 0 || !this.conn.connected ? "silent" : "ok",
        lastGoodMs: b.lastGoodMs,
        consecutiveMisses: b.misses,
        lastNak: b.lastNak,
        status: b.meas?.status ?? 0,
        silentForMs: b.lastGoodMs === null ? null : nowMs - b.lastGoodMs,
      })),
    };
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.conn.close();
  }
}

export function createSerialAfeDriver(opts: SerialAfeDriverOptions): Promise<SerialAfeDriver> {
  return SerialAfeDriver.create(opts);
}
