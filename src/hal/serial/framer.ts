/**
 * A bounded line splitter. Memory is one fixed buffer of `maxLineBytes`: a sender that never
 * sends a newline costs a counter, not RAM. A line that overflows is dropped up to its next
 * newline, because its tail alone could look like a valid message.
 */
export interface FramerCounters {
  /** Lines dropped because they exceeded the maximum length. */
  overlong: number;
  /** Lines containing bytes outside printable ASCII. */
  nonAscii: number;
  /** Partial lines thrown away by `reset()` (e.g. half a line when the port vanished). */
  truncated: number;
  /** Unterminated garbage dropped because a start byte began a new frame. */
  resynced: number;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  private readonly buf: Uint8Array;
  private len = 0;
  private discarding = false;
  private binary = false;
  readonly counters: FramerCounters = { overlong: 0, nonAscii: 0, truncated: 0, resynced: 0 };

  /**
   * `startBytes`: bytes that only ever open a frame (`<` and `>` in protocol v1). Seeing one
   * mid-line means the line before it was garbage without a newline: drop it and resync, so
   * noise just before a reply does not also cost the reply.
   */
  constructor(
    readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly startBytes: readonly number[] = [],
  ) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 16)
      throw new RangeError(`maxLineBytes must be an integer >= 16, got ${maxLineBytes}`);
    this.buf = new Uint8Array(maxLineBytes);
  }

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        this.endLine();
        continue;
      }
      if (this.startBytes.includes(b) && (this.len > 0 || this.discarding)) {
        this.counters.resynced++;
        this.discarding = false;
        this.len = 0;
        this.binary = false;
      }
      if (this.discarding) continue;
      if (b === CR) continue;
      if (this.len >= this.buf.length) {
        this.counters.overlong++;
        this.discarding = true;
        this.len = 0;
        this.binary = false;
        continue;
      }
      if (b < 0x20 || b > 0x7e) this.binary = true;
      this.buf[this.len++] = b;
    }
  }

  /** Forgets a partial line (port closed mid-line); returns whether one was pending. */
  reset(): boolean {
    const had = this.len > 0 || this.discarding;
    if (this.len > 0) this.counters.truncated++;
    this.len = 0;
    this.discarding = false;
    this.binary = false;
    return had;
  }

  private endLine(): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const len = this.len;
    const binary = this.binary;
    this.len = 0;
    this.binary = false;
    if (len === 0) return;
    if (binary) {
      this.counters.nonAscii++;
      return;
    }
    this.onLine(String.fromCharCode(...this.buf.subarray(0, len)));
  }
}
