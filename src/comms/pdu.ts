/**
 * Our Modbus PDU engine: FC 03/04/06/16 and 43/14 over the register map, with exceptions as
 * libmodbus' reference server does (quantity and format 0x03 first, then address 0x02, then
 * unsupported 0x01). Transports (TCP, RTU) only frame bytes and call `handle`.
 * The engine never changes BMS state: accepted writes become queued `BmsRequest`s.
 */
import type { Logger } from "../core/logger.js";
import type { BmsRequest } from "../core/requests.js";
import type { BmsSnapshot } from "../core/snapshot.js";
import { patchImage, type RegisterImage, type RegisterMap, readRegisters, renderImage } from "./map.js";
import { newServerState, type ServerState, type WritePlan } from "./points.js";
import { MANUFACTURER, packageVersion } from "./sunspec.js";

export const EXC = {
  ILLEGAL_FUNCTION: 0x01,
  ILLEGAL_DATA_ADDRESS: 0x02,
  ILLEGAL_DATA_VALUE: 0x03,
  SERVER_DEVICE_FAILURE: 0x04,
  SERVER_BUSY: 0x06,
} as const;

export const FC = {
  READ_HOLDING: 0x03,
  READ_INPUT: 0x04,
  WRITE_SINGLE: 0x06,
  WRITE_MULTIPLE: 0x10,
  MEI: 0x2b,
} as const;

export const MAX_READ_QTY = 125;
export const MAX_WRITE_QTY = 123;

/** What the engine reads from and queues to: the `Bms` fits this shape. */
export interface BmsSource {
  readonly snapshot: BmsSnapshot | null;
  request(r: BmsRequest): boolean;
  /** All or nothing (FC16 is atomic): false and nothing queued when they do not all fit. */
  requestAll(rs: readonly BmsRequest[]): boolean;
}

export interface Caller {
  /** For logs and request sources, e.g. `modbus-tcp:192.0.2.4` or `modbus-rtu`. */
  readonly source: string;
  /** The transport allows this caller to write (TCP allow-list, RTU allowWrites). */
  readonly writeAllowed: boolean;
  /** RTU unit 0: execute writes, never reply. */
  readonly broadcast?: boolean;
}

export interface EngineStats {
  requests: number;
  exceptions: number;
  acceptedWrites: number;
  rejectedWrites: number;
  queued: number;
  /** Register images rendered (one per snapshot that was read or pre-rendered). */
  renders: number;
}

const COUNTER_POINTS: ReadonlySet<string> = new Set(["AcceptedWrites", "RejectedWrites"]);

const exception = (fc: number, code: number): Uint8Array => Uint8Array.of((fc | 0x80) & 0xff, code);

export class ModbusEngine {
  readonly map: RegisterMap;
  readonly server: ServerState = newServerState();
  readonly stats: EngineStats = {
    requests: 0,
    exceptions: 0,
    acceptedWrites: 0,
    rejectedWrites: 0,
    queued: 0,
    renders: 0,
  };
  private readonly source: BmsSource;
  private readonly log: Logger;
  private cached: RegisterImage | null = null;
  private cachedVersion = -1;
  private version = 0;
  private countersPatched = 0;
  private counters = 0;

  constructor(map: RegisterMap, source: BmsSource, logger: Logger) {
    this.map = map;
    this.source = source;
    this.log = logger;
  }

  /** The image of the latest snapshot; rebuilt only when the snapshot or the server state changes. */
  image(): RegisterImage {
    const snap = this.source.snapshot;
    if (this.cached === null || this.cached.snapshot !== snap || this.cachedVersion !== this.version) {
      this.cached = renderImage(this.map, snap, this.server);
      this.stats.renders++;
      this.cachedVersion = this.version;
      this.countersPatched = this.counters;
    } else if (this.countersPatched !== this.counters) {
      // Counters move on every refused write; re-rendering everything for them would let a
      // misbehaving client burn CPU, so only their registers are refreshed.
      patchImage(this.map, this.cached, this.server, COUNTER_POINTS);
      this.countersPatched = this.counters;
    }
    return this.cached;
  }

  /** Answers one request PDU; null means "send nothing" (broadcast, empty or reply-less input). */
  handle(pdu: Uint8Array, caller: Caller): Uint8Array | null {
    if (pdu.length === 0) return null;
    const fc = pdu[0]!;
    // A function code with the exception bit is a reply, not a request: never answer it.
    if (fc & 0x80) return null;
    this.stats.requests++;
    let reply: Uint8Array | null;
    try {
      reply = this.dispatch(fc, pdu, caller);
    } catch (err) {
      this.log.error(`modbus: request FC${fc} failed: ${(err as Error).message}`);
      reply = exception(fc, EXC.SERVER_DEVICE_FAILURE);
    }
    if (caller.broadcast) return null;
    if (reply && reply[0]! & 0x80) this.stats.exceptions++;
    return reply;
  }

  private dispatch(fc: number, pdu: Uint8Array, caller: Caller): Uint8Array | null {
    switch (fc) {
      case FC.READ_HOLDING:
      case FC.READ_INPUT:
        return caller.broadcast ? null : this.read(fc, pdu);
      case FC.WRITE_SINGLE:
        return this.writeSingle(pdu, caller);
      case FC.WRITE_MULTIPLE:
        return this.writeMultiple(pdu, caller);
      case FC.MEI:
        return caller.broadcast ? null : this.deviceId(pdu);
      default:
        return exception(fc, EXC.ILLEGAL_FUNCTION);
    }
  }

  private read(fc: number, pdu: Uint8Array): Uint8Array {
    if (pdu.length !== 5) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const addr = (pdu[1]! << 8) | pdu[2]!;
    const qty = (pdu[3]! << 8) | pdu[4]!;
    if (qty < 1 || qty > MAX_READ_QTY) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const regs = readRegisters(this.image(), addr, qty);
    if (!regs) return exception(fc, EXC.ILLEGAL_DATA_ADDRESS);
    const out = new Uint8Array(2 + 2 * qty);
    out[0] = fc;
    out[1] = 2 * qty;
    for (let i = 0; i < qty; i++) {
      const v = regs[i]!;
      out[2 + 2 * i] = v >>> 8;
      out[3 + 2 * i] = v & 0xff;
    }
    return out;
  }

  private writeSingle(pdu: Uint8Array, caller: Caller): Uint8Array {
    const fc = FC.WRITE_SINGLE;
    if (pdu.length !== 5) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const addr = (pdu[1]! << 8) | pdu[2]!;
    const value = (pdu[3]! << 8) | pdu[4]!;
    const code = this.applyWrite(addr, [value], caller);
    return code === 0 ? pdu.slice(0, 5) : exception(fc, code);
  }

  private writeMultiple(pdu: Uint8Array, caller: Caller): Uint8Array {
    const fc = FC.WRITE_MULTIPLE;
    if (pdu.length < 6) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const addr = (pdu[1]! << 8) | pdu[2]!;
    const qty = (pdu[3]! << 8) | pdu[4]!;
    const byteCount = pdu[5]!;
    if (qty < 1 || qty > MAX_WRITE_QTY || byteCount !== 2 * qty || pdu.length !== 6 + byteCount)
      return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const values: number[] = [];
    for (let i = 0; i < qty; i++) values.push((pdu[6 + 2 * i]! << 8) | pdu[7 + 2 * i]!);
    const code = this.applyWrite(addr, values, caller);
    return code === 0 ? pdu.slice(0, 5) : exception(fc, code);
  }

  private reject(caller: Caller, what: string, code: number): number {
    this.stats.rejectedWrites++;
    this.server.rejectedWrites++;
    this.counters++;
    this.log.warn(`modbus: write refused from ${caller.source}: ${what} (exception 0x0${code.toString(16)})`);
    return code;
  }

  /** All-or-nothing: every register is checked before anything is queued. Returns 0 or an exception code. */
  private applyWrite(addr: number, values: readonly number[], caller: Caller): number {
    const what = `${values.length} register(s) at ${addr}`;
    if (addr + values.length > 0x10000)
      return this.reject(caller, `${what}: past the address space`, EXC.ILLEGAL_DATA_ADDRESS);
    for (let i = 0; i < values.length; i++) {
      if (!this.map.writable.has(addr + i))
        return this.reject(caller, `${what}: register ${addr + i} is not writable`, EXC.ILLEGAL_DATA_ADDRESS);
    }
    const remoteMode = this.source.snapshot?.remote.remoteMode ?? this.map.config.modbus.remoteMode;
    // Spec text for 0x01 covers "the server is in the wrong state to process a request of this type".
    if (!remoteMode) return this.reject(caller, `${what}: local mode`, EXC.ILLEGAL_FUNCTION);
    if (!caller.writeAllowed)
      return this.reject(caller, `${what}: client not allowed to write`, EXC.ILLEGAL_FUNCTION);
    const plan: WritePlan = { alarmReset: false, connect: null, heartbeat: null, commit: [] };
    const cfg = this.map.config;
    for (let i = 0; i < values.length; i++) {
      const reg = this.map.writable.get(addr + i)!;
      const rule = reg.point.write!;
      const v = values[i]!;
      if (!rule.valid(v, cfg))
        return this.reject(
          caller,
          `${reg.point.name} = ${v} out of range (${rule.range})`,
          EXC.ILLEGAL_DATA_VALUE,
        );
      rule.plan(v, plan, cfg);
    }
    const source = caller.source;
    const requests: BmsRequest[] = [];
    if (plan.heartbeat !== null) requests.push({ kind: "heartbeat", value: plan.heartbeat, source });
    if (plan.cclMa !== undefined || plan.dclMa !== undefined || plan.socReservePct !== undefined)
      requests.push({
        kind: "set_limits",
        source,
        ...(plan.cclMa !== undefined ? { cclMa: plan.cclMa } : {}),
        ...(plan.dclMa !== undefined ? { dclMa: plan.dclMa } : {}),
        ...(plan.socReservePct !== undefined ? { socReservePct: plan.socReservePct } : {}),
      });
    if (plan.connect !== null) requests.push({ kind: "remote_connect", connect: plan.connect, source });
    if (plan.alarmReset) requests.push({ kind: "alarm_reset", source });
    if (requests.length > 0 && !this.source.requestAll(requests))
      return this.reject(caller, `${what}: request queue full`, EXC.SERVER_BUSY);
    this.stats.queued += requests.length;
    const atMs = this.source.snapshot?.timestampMs ?? 0;
    for (const c of plan.commit) c(this.server, atMs);
    this.stats.acceptedWrites++;
    this.server.acceptedWrites++;
    this.version++;
    const kinds = requests.map((r) => r.kind).join(", ") || "no-op";
    if (requests.length === 1 && requests[0]!.kind === "heartbeat")
      this.log.debug(() => `modbus: heartbeat ${plan.heartbeat} from ${source}`);
    else this.log.info(`modbus: write accepted from ${source}: ${what} → ${kinds}`);
    return 0;
  }

  /** FC43 / MEI 14 Read Device Identification (basic and regular objects). */
  private deviceId(pdu: Uint8Array): Uint8Array {
    const fc = FC.MEI;
    if (pdu.length < 2) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    if (pdu[1] !== 0x0e) return exception(fc, EXC.ILLEGAL_FUNCTION);
    if (pdu.length !== 4) return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const code = pdu[2]!;
    const objectId = pdu[3]!;
    const cfg = this.map.config;
    const objects = new Map<number, string>([
      [0x00, MANUFACTURER],
      [0x01, cfg.pack.name],
      [0x02, packageVersion()],
      [0x04, "ups-bms battery management system"],
      [0x05, `${cfg.pack.name} ${cfg.pack.chemistry.toUpperCase()} ${cfg.pack.cellsInSeries}S`],
    ]);
    let ids: number[];
    if (code === 4) {
      if (!objects.has(objectId)) return exception(fc, EXC.ILLEGAL_DATA_ADDRESS);
      ids = [objectId];
    } else if (code >= 1 && code <= 3) {
      const all = [...objects.keys()].filter((id) => (code === 1 ? id <= 2 : true));
      // An unknown start object restarts the stream at the first object (spec 6.21).
      ids = all.includes(objectId) ? all.filter((id) => id >= objectId) : all;
    } else return exception(fc, EXC.ILLEGAL_DATA_VALUE);
    const parts: number[] = [fc, 0x0e, code, 0x82, 0x00, 0x00, ids.length];
    for (const id of ids) {
      const bytes = Buffer.from(objects.get(id)!, "latin1").subarray(0, 64);
      parts.push(id, bytes.length, ...bytes);
    }
    return Uint8Array.from(parts);
  }
}
