/**
 * Requests from outside the loop (Modbus, CLI). They are queued and taken at the start of
 * the next tick, so nothing outside the loop changes state directly.
 */
export type BmsRequest =
  | { readonly kind: "alarm_reset"; readonly source: string }
  | { readonly kind: "remote_connect"; readonly connect: boolean; readonly source: string }
  | { readonly kind: "heartbeat"; readonly value: number; readonly source: string }
  | {
      readonly kind: "set_limits";
      readonly source: string;
      /** Remote set-points; undefined keeps the value in force. They expire with the heartbeat. */
      readonly cclMa?: number;
      readonly dclMa?: number;
      readonly socReservePct?: number;
    };

export class RequestQueue {
  private items: BmsRequest[] = [];
  private readonly maxLength: number;

  constructor(maxLength = 256) {
    this.maxLength = maxLength;
  }

  /** Returns false (and drops the request) when the queue is full. */
  push(r: BmsRequest): boolean {
    if (this.items.length >= this.maxLength) return false;
    this.items.push(r);
    return true;
  }

  /** All or nothing: false (and nothing queued) when they do not all fit. */
  pushAll(rs: readonly BmsRequest[]): boolean {
    if (this.items.length + rs.length > this.maxLength) return false;
    this.items.push(...rs);
    return true;
  }

  drain(): BmsRequest[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  get length(): number {
    return this.items.length;
  }
}
