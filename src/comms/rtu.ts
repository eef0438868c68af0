/**
 * Modbus RTU on a serial link: frames found by their function-code length and verified by CRC,
 * with the 3.5-character silence used to resynchronise after noise, foreign traffic or a bad
 * CRC. Frames for other units are ignored, broadcasts (unit 0) executed without a reply.
 */
import type { Logger } from "../core/logger.js";
import type { SerialLink, SerialLinkFactory, SerialLinkOptions } from "../hal/serial.js";
import { crcOk, withCrc } from "./crc.js";
import type { ModbusEngine } from "./pdu.js";

/** 3.5 character times (11-bit characters); fixed 1.75 ms above 19200 baud (serial-line spec). */
export function t35Ms(baudRate: number): number {
  return baudRate > 19200 ? 1.75 : (38.5 / baudRate) * 1000;
}

/** Length of a request frame from its first bytes; 0 = need more bytes; -1 = unknown function. */
export function requestLength(buf: Uint8Array, len: number): number {
  if (len < 2) return 0;
  const fc = buf[1]!;
  switch (fc) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x08:
      return 8;
    case 0x07:
    case 0x0b:
    case 0x0c:
    case 0x11:
      return 4;
    case 0x0f:
    case 0x10:
      return len < 7 ? 0 : 9 + buf[6]!;
    case 0x2b:
      if (len < 3) return 0;
      return buf[2] === 0x0e ? 7 : -1;
    default:
      return -1;
  }
}

export interface RtuFramerStats {
  frames: number;
  crcErrors: number;
  resyncs: number;
}

/** Byte-level framer, independent of the port so it can be driven with explicit timestamps. */
export class RtuFramer {
  readonly stats: RtuFramerStats = { frames: 0, crcErrors: 0, resyncs: 0 };
  private buf = new Uint8Array(512);
  private len = 0;
  private lastRxMs = Number.NEGATIVE_INFINITY;
  private skipping = false;
  private readonly gapMs: number;
  private readonly staleMs: number;
  private readonly onFrame: (frame: Uint8Array) => void;

  /**
   * `gapMs`: the 3.5-character silence that ends a skip. `staleMs`: a partial frame older than
   * this is dropped (longer than the gap because user-space timestamps jitter under load).
   */
  constructor(options: { gapMs: number; staleMs: number }, onFrame: (frame: Uint8Array) => void) {
    this.gapMs = options.gapMs;
    this.staleMs = options.staleMs;
    this.onFrame = onFrame;
  }

  /** Ignore everything until the line has been silent for 3.5 characters. */
  skipUntilGap(): void {
    this.skipping = true;
    this.len = 0;
  }

  push(chunk: Uint8Array, nowMs: number): void {
    const silentMs = nowMs - this.lastRxMs;
    this.lastRxMs = nowMs;
    if (this.skipping) {
      if (silentMs < this.gapMs) return;
      this.skipping = false;
    }
    if (this.len > 0 && silentMs > this.staleMs) {
      this.stats.resyncs++;
      this.len = 0;
    }
    if (this.len + chunk.length > this.buf.length) {
      // Longer than any RTU frame (256 bytes): noise. Start over at the next silence.
      this.stats.resyncs++;
      this.skipUntilGap();
      return;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    this.parse();
  }

  private parse(): void {
    while (this.len >= 2 && !this.skipping) {
      const need = requestLength(this.buf, this.len);
      if (need === 0) return;
      if (need === -1) {
        // Unknown function: accept the buffer as a frame once it carries a valid CRC.
        if (this.len >= 4 && crcOk(this.buf, this.len)) this.emit(this.len);
        return;
      }
      if (need > 256) {
        this.stats.resyncs++;
        this.skipUntilGap();
        return;
      }
      if (this.len < need) return;
      if (!crcOk(this.buf, need)) {
        this.stats.crcErrors++;
        this.skipUntilGap();
        return;
      }
      this.emit(need);
    }
  }

  private emit(n: number): void {
    const frame = this.buf.slice(0, n);
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.stats.frames++;
    this.onFrame(frame);
  }
}

export interface RtuOptions extends SerialLinkOptions {
  readonly unitId: number;
  readonly allowWrites: boolean;
}

export interface RtuStats extends RtuFramerStats {
  otherUnit: number;
  broadcasts: number;
  replies: number;
}

export interface RtuServer {
  readonly path: string;
  readonly stats: RtuStats;
  close(): Promise<void>;
}

export async function startRtu(
  engine: ModbusEngine,
  options: RtuOptions,
  openLink: SerialLinkFactory,
  logger: Logger,
  nowMs: () => number = () => performance.now(),
): Promise<RtuServer> {
  const link: SerialLink = await openLink({
    path: options.path,
    baudRate: options.baudRate,
    dataBits: 8,
    parity: options.parity ?? "none",
    stopBits: options.stopBits ?? 1,
  });
  const gapMs = t35Ms(options.baudRate);
  const stats: RtuStats = { frames: 0, crcErrors: 0, resyncs: 0, otherUnit: 0, broadcasts: 0, replies: 0 };
  let writing: Promise<void> = Promise.resolve();
  const caller = { source: `modbus-rtu:${options.path}`, writeAllowed: options.allowWrites };
  const broadcastCaller = { ...caller, broadcast: true };
  const framer = new RtuFramer({ gapMs, staleMs: Math.max(20, 10 * gapMs) }, (frame) => {
    const unit = frame[0]!;
    if (unit !== 0 && unit !== options.unitId) {
      stats.otherUnit++;
      // Another slave's reply follows on a shared bus: don't try to parse it as a request.
      framer.skipUntilGap();
      return;
    }
    if (unit === 0) stats.broadcasts++;
    const reply = engine.handle(frame.subarray(1, frame.length - 2), unit === 0 ? broadcastCaller : caller);
    if (!reply) return;
    const adu = new Uint8Array(reply.length + 1);
    adu[0] = unit;
    adu.set(reply, 1);
    const out = withCrc(adu);
    stats.replies++;
    writing = writing
      .then(() => link.write(out))
      .catch((err: Error) => logger.warn(`modbus rtu: write failed: ${err.message}`));
  });
  const sync = () => {
    stats.frames = framer.stats.frames;
    stats.crcErrors = framer.stats.crcErrors;
    stats.resyncs = framer.stats.resyncs;
  };
  const offData = link.onData((chunk) => {
    framer.push(chunk, nowMs());
    sync();
  });
  const offClose = link.onClose((err) => {
    if (err) logger.error(`modbus rtu: ${options.path} closed: ${err.message}`);
  });
  logger.info(
    `modbus rtu: serving unit ${options.unitId} on ${options.path} at ${options.baudRate} baud, parity ${options.parity ?? "none"}`,
  );
  return {
    path: options.path,
    stats,
    close: async () => {
      offData();
      offClose();
      await writing;
      await link.close();
    },
  };
}
