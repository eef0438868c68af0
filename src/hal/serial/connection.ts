/**
 * Owns the SerialLink: opens it through the injected factory, frames incoming bytes into
 * lines, and reopens the port after it vanishes (USB adapter unplugged) on the injected
 * clock, without the process restarting. Recovery time is at most `reconnectMs` after the
 * device is back, plus one open.
 */
import { BmsError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Clock } from "../../time/clock.js";
import type { SerialLink } from "../serial.js";
import { FRAME_START_BYTES } from "./codec.js";
import { LineFramer } from "./framer.js";

export interface ConnectionOptions {
  readonly open: () => Promise<SerialLink>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reconnectMs: number;
  readonly maxLineBytes: number;
  readonly onLine: (line: string) => void;
  readonly onDisconnect: (err?: Error) => void;
  readonly onReconnect: () => void;
}

export interface ConnectionCounters {
  bytesReceived: number;
  disconnects: number;
  reconnects: number;
  failedReopens: number;
  writeErrors: number;
  /** Clock time from the last disconnect to the reopen that ended it, ms. */
  lastOutageMs: number | null;
}

export class SerialConnection {
  private link: SerialLink | null = null;
  private unsubscribe: (() => void)[] = [];
  private closed = false;
  private reconnecting = false;
  private disconnectedAtMs: number | null = null;
  readonly framer: LineFramer;
  readonly counters: ConnectionCounters = {
    bytesReceived: 0,
    disconnects: 0,
    reconnects: 0,
    failedReopens: 0,
    writeErrors: 0,
    lastOutageMs: null,
  };

  constructor(private readonly opts: ConnectionOptions) {
    this.framer = new LineFramer(opts.maxLineBytes, opts.onLine, FRAME_START_BYTES);
  }

  get connected(): boolean {
    return this.link?.isOpen ?? false;
  }

  /** Clock time the link went down, or null while it is up. */
  get downSinceMs(): number | null {
    return this.disconnectedAtMs;
  }

  async start(): Promise<void> {
    this.attach(await this.opts.open());
  }

  async write(text: string): Promise<void> {
    const link = this.link;
    if (!link) throw new BmsError("AFE_COMMS", "serial link is down");
    try {
      await link.write(text);
    } catch (err) {
      this.counters.writeErrors++;
      throw new BmsError("AFE_COMMS", `serial write failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const link = this.link;
    this.detach();
    if (link) await link.close();
  }

  private attach(link: SerialLink): void {
    this.link = link;
    this.disconnectedAtMs = null;
    this.unsubscribe = [
      link.onData((chunk) => {
        this.counters.bytesReceived += chunk.length;
        this.framer.push(chunk);
      }),
      link.onClose((err) => this.handleClose(link, err)),
    ];
  }

  private detach(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.link = null;
  }

  private handleClose(link: SerialLink, err?: Error): void {
    if (this.link !== link) return;
    this.detach();
    this.framer.reset();
    if (this.closed) return;
    this.counters.disconnects++;
    this.disconnectedAtMs = this.opts.clock.nowMs();
    this.opts.logger.warn(
      `serial port closed${err ? `: ${err.message}` : ""}; reopening every ${this.opts.reconnectMs} ms`,
    );
    this.opts.onDisconnect(err);
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      while (!this.closed && !this.link) {
        await this.opts.clock.sleepUntil(this.opts.clock.nowMs() + this.opts.reconnectMs);
        if (this.closed) break;
        let link: SerialLink;
        try {
          link = await this.opts.open();
        } catch (err) {
          this.counters.failedReopens++;
          this.opts.logger.debug(() => `reopen failed: ${(err as Error).message}`);
          continue;
        }
        if (this.closed) {
          await link.close();
          break;
        }
        const downSince = this.disconnectedAtMs;
        this.attach(link);
        this.counters.reconnects++;
        this.counters.lastOutageMs = downSince === null ? null : this.opts.clock.nowMs() - downSince;
        this.opts.logger.info(`serial port reopened after ${this.counters.lastOutageMs} ms`);
        this.opts.onReconnect();
      }
    } finally {
      this.reconnecting = false;
    }
  }
}
